import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSamples, sampleValue } from '../helpers/metrics-text.ts';
import { clsInput, jsonInferBody } from '../helpers/tensors.ts';
import {
  clsDeployment,
  REPO_ROOT,
  type RunningVigil,
  startVigil,
  VIGIL_BIN,
  writeConfig,
} from '../helpers/vigil-process.ts';

/** This machine's first IPv4 address that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

const outside = outsideAddress();

/**
 * The control listener (config `control`, decision 0014): the primary serves the control API and
 * /metrics on its own TCP port, so the console's reads never pass through a replica.
 */
describe('the control listener', () => {
  let vigil: RunningVigil;
  let controlUrl: string;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-control-'));
    // Every address, so that a caller from outside loopback can be tried below.
    vigil = await startVigil({ control: { host: '0.0.0.0' }, deployments: [clsDeployment()] }, { dataDir });
    controlUrl = (JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { control_url: string }).control_url;
  });
  afterAll(async () => {
    await vigil?.stop();
  });

  it('is named in the node record and the log, on a port of its own', () => {
    expect(controlUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(new URL(controlUrl).port).not.toBe(String(vigil.port));
    expect(vigil.lines.some((l) => l.includes(`also on ${controlUrl}`))).toBe(true);
  });

  it('answers the control API and /metrics as the main port does, counts included', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${vigil.url}/v2/models/cls/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: jsonInferBody(clsInput(i)),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const direct = (await (await fetch(`${controlUrl}/api/v1/status`)).json()) as { deployments: { name: string }[] };
    const proxied = (await (await fetch(`${vigil.url}/api/v1/status`)).json()) as typeof direct;
    expect(direct.deployments.map((d) => d.name)).toEqual(['cls']);
    expect(direct.deployments.map((d) => d.name)).toEqual(proxied.deployments.map((d) => d.name));
    // A read sees every response sent before it, here as through the main port.
    const samples = parseSamples(await (await fetch(`${controlUrl}/metrics`)).text());
    expect(sampleValue(samples, 'vigil_requests_total', { deployment: 'cls', code: '200' })).toBe(3);
  });

  it('is not a second data plane: inference is answered on the main port only', async () => {
    const res = await fetch(`${controlUrl}/v2/models/cls/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: jsonInferBody(clsInput(9)),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { code: string }).code).toBe('VIGIL_ERR_NOT_FOUND');
  });

  it.skipIf(outside === undefined)(
    'believes the socket, not a client-address header: a caller from outside loopback stays outside',
    async () => {
      const port = new URL(controlUrl).port;
      const headers = { 'x-vigil-peer-address': '127.0.0.1' };
      // No token exists yet, so loopback callers are served and others refused.
      expect((await fetch(`http://127.0.0.1:${port}/api/v1/slos`, { headers })).status).toBe(200);
      const res = await fetch(`http://${outside}:${port}/api/v1/slos`, { headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { code: string }).code).toBe('VIGIL_ERR_UNAUTHORIZED');
    },
  );
  if (outside === undefined) console.log('skipped the outside-caller check: this machine has no non-loopback IPv4');
});

describe('a control port that is taken', () => {
  it('stops `vigil start` with one line that names control.port', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const file = writeConfig({ control: { port: taken }, deployments: [clsDeployment()] });
      const child = spawn(process.execPath, [VIGIL_BIN, 'start', '-c', file, '--port', '0', '--host', '127.0.0.1'], {
        cwd: REPO_ROOT,
        env: { ...process.env, VIGIL_CONSOLE: '0', VIGIL_DATA_DIR: mkdtempSync(join(tmpdir(), 'vigil-control-')) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      expect(code).toBe(1);
      expect(stderr).toContain(`cannot listen on 127.0.0.1:${taken} (control.port)`);
      expect(stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });
});
