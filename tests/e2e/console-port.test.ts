import { mkdtempSync, readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLS_MODEL, startVigil, waitFor, type RunningVigil } from '../helpers/vigil-process.ts';

const config = (consolePort: number) => ({
  console: { port: consolePort },
  deployments: [{ name: 'cls', model: CLS_MODEL, execution_provider: 'cpu', num_replicas: 1 }],
});

/**
 * Issue 19: two nodes both asked for the console's port. A port from the config gives way to a
 * free one, which is logged and recorded for the CLI; a port asked for on the command line or in
 * the environment is not silently changed: the console stays off and says why.
 */
describe('the web console on a busy port', () => {
  let holder: Server;
  let busy: number;
  const nodes: RunningVigil[] = [];
  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    busy = (holder.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    holder.close();
  });

  const consoleLine = (node: RunningVigil, pattern: RegExp) =>
    node.lines
      .map((l) => (JSON.parse(l.startsWith('{') ? l : '{}') as { msg?: string }).msg ?? '')
      .find((m) => pattern.test(m));

  it('moves to a free port when the config’s port is taken, and records where', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-console-port-'));
    const node = await startVigil(config(busy), { dataDir, env: { VIGIL_CONSOLE: '1' } });
    nodes.push(node);
    // The first start may build the console; that takes a while on a small machine.
    await waitFor(() => consoleLine(node, /^web console listening on /) !== undefined, 240_000, 'the console');
    const url = consoleLine(node, /^web console listening on /)!.replace('web console listening on ', '');
    expect(
      consoleLine(node, new RegExp(`127\\.0\\.0\\.1:${busy} is in use, so the web console takes a free port`)),
    ).toBeDefined();
    expect(new URL(url).port).not.toBe(String(busy));
    expect((await fetch(`${url}/login`)).status).toBe(200);
    const record = JSON.parse(readFileSync(join(dataDir, 'node.json'), 'utf8')) as { url: string; console_url: string };
    expect(record).toMatchObject({ url: node.url, console_url: url });
  }, 300_000);

  it('stays off with one clear error when the port named by VIGIL_CONSOLE_PORT is taken', async () => {
    const node = await startVigil(config(0), { env: { VIGIL_CONSOLE: '1', VIGIL_CONSOLE_PORT: String(busy) } });
    nodes.push(node);
    const error = new RegExp(`^the web console cannot listen on 127\\.0\\.0\\.1:${busy} \\(EADDRINUSE\\); it is off`);
    await waitFor(() => consoleLine(node, error) !== undefined, 240_000, 'the console error');
    expect(consoleLine(node, /^web console listening on /)).toBeUndefined();
    // The node itself serves on.
    expect((await fetch(`${node.url}/v2/health/ready`)).status).toBe(200);
  }, 300_000);
});
