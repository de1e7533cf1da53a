import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ARTIFACT_REF } from '../registry/artifact-ref.ts';
import { configSchema, type VigilConfig } from './schema.ts';

/** Raised when vigil.yaml cannot be used; `problems` holds one line per bad path. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(file: string, problems: string[]) {
    super(`invalid configuration in ${file}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** `deployments[0].batching.max_batch_size` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out ? `.${String(part)}` : String(part);
  return out || '(root)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part as string];
  }
  return cur;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Turns zod issues into `path: expected X, got Y` lines. */
export function formatIssues(input: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('\n  ');
    }
    if (issue.code === 'custom') return `${formatPath(issue.path)}: ${issue.message}`;
    return `${formatPath(issue.path)}: ${issue.message}, got ${describe(valueAt(input, issue.path))}`;
  });
}

/** Validates an already-parsed document; model paths are resolved against `baseDir`. */
export function validateConfig(doc: unknown, source: string, baseDir: string): VigilConfig {
  const result = configSchema.safeParse(doc);
  if (!result.success) throw new ConfigError(source, formatIssues(doc, result.error.issues));
  const config = result.data;
  const problems: string[] = [];
  config.deployments.forEach((d, i) => {
    if (d.multiplex) {
      d.multiplex.models_dir = isAbsolute(d.multiplex.models_dir)
        ? d.multiplex.models_dir
        : resolve(baseDir, d.multiplex.models_dir);
      if (!existsSync(d.multiplex.models_dir))
        problems.push(
          `deployments[${i}].multiplex.models_dir: directory not found, got ${JSON.stringify(d.multiplex.models_dir)}`,
        );
    }
    d.probes.forEach((p, j) => {
      for (const key of ['request_file', 'body_file'] as const) {
        const file = p[key];
        if (file === undefined) continue;
        p[key] = isAbsolute(file) ? file : resolve(baseDir, file);
        if (!existsSync(p[key]!))
          problems.push(`deployments[${i}].probes[${j}].${key}: file not found, got ${JSON.stringify(p[key])}`);
        else if (key === 'request_file') {
          const problem = notAnInferenceRequest(p[key]!);
          if (problem) problems.push(`deployments[${i}].probes[${j}].request_file: ${problem}`);
        }
      }
      if ('check' in p.expect) {
        const file = p.expect.check;
        p.expect.check = isAbsolute(file) ? file : resolve(baseDir, file);
        if (!existsSync(p.expect.check))
          problems.push(
            `deployments[${i}].probes[${j}].expect.check: file not found, got ${JSON.stringify(p.expect.check)}`,
          );
      }
      if (p.request !== undefined && !Array.isArray(p.request.inputs))
        problems.push(`deployments[${i}].probes[${j}].request: expected an inference request with inputs`);
    });
    const listed = (doc as { deployments?: { versions?: unknown }[] }).deployments?.[i]?.versions !== undefined;
    d.versions.forEach((v, j) => {
      for (const key of ['model', 'handler'] as const) {
        const file = v[key];
        if (file === undefined) continue;
        // `name:version` refers to a packed artifact (vigil pack), resolved from the registry at start.
        if (key === 'model' && ARTIFACT_REF.test(file) && !existsSync(resolve(baseDir, file))) continue;
        v[key] = isAbsolute(file) ? file : resolve(baseDir, file);
        const problem = unreadable(v[key]!);
        if (problem)
          problems.push(
            `deployments[${i}].${listed ? `versions[${j}].${key}` : key}: ${problem}, got ${JSON.stringify(v[key])}`,
          );
      }
    });
  });
  if (problems.length) throw new ConfigError(source, problems);
  return deepFreeze(config);
}

/** Why a probe's request file is not an inference request (OIP JSON with inputs), or undefined. */
function notAnInferenceRequest(file: string): string | undefined {
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { inputs?: unknown };
    return Array.isArray(doc?.inputs) ? undefined : 'expected an inference request with inputs';
  } catch (err) {
    return `not JSON (${(err as Error).message.split('\n')[0]})`;
  }
}

/**
 * Why a model or handler file cannot be used, or undefined: found now, before any replica is
 * spawned, rather than as a replica's load error after the others started (issue 19).
 */
function unreadable(file: string): string | undefined {
  try {
    if (!statSync(file).isFile()) return 'not a file';
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'file not found';
    if (code === 'EACCES') return 'file not readable (permission denied)';
    return `file not readable (${code ?? (err as Error).message})`;
  }
}

/** Reads, parses and validates vigil.yaml once at start. The result is frozen. */
export function loadConfig(file: string): VigilConfig {
  if (!existsSync(file)) throw new ConfigError(file, [`config file not found: ${file}`]);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(file, [`not valid YAML: ${yamlProblem(err as Error)}`]);
  }
  return validateConfig(doc, file, dirname(resolve(file)));
}

/**
 * The yaml library's message is "<what> at line L, column C:" followed by a code frame. One line
 * per problem is kept (as for every other config problem), ending on the source text the frame
 * shows rather than on a colon.
 */
function yamlProblem(err: Error): string {
  const [first = '', ...rest] = err.message.split('\n');
  const near = rest.map((l) => l.trim()).find((l) => l !== '' && !/^\^+$/.test(l));
  const what = first.replace(/:$/, '');
  return near ? `${what}, near ${JSON.stringify(near.slice(0, 80))}` : what;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
