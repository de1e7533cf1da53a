import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { errorDefinitions, isVigilError, VigilError, type ErrorCode } from '../../serving/errors.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const codes = Object.keys(errorDefinitions) as ErrorCode[];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.tsx?$/.test(path)) out.push(path);
  }
  return out;
}

describe('error registry', () => {
  it('has codes, all named VIGIL_ERR_<UPPER_SNAKE>', () => {
    expect(codes.length).toBeGreaterThan(0);
    for (const code of codes) expect(code).toMatch(/^VIGIL_ERR_[A-Z][A-Z0-9_]*$/);
  });

  it('gives every code an HTTP 4xx or 5xx status and a non-empty message', () => {
    for (const code of codes) {
      const { status, message } = errorDefinitions[code];
      expect(Number.isInteger(status), code).toBe(true);
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThanOrEqual(599);
      expect(message.trim().length, code).toBeGreaterThan(0);
    }
  });

  it('uses distinct messages, so a client can tell errors apart without the code', () => {
    const messages = codes.map((c) => errorDefinitions[c].message);
    expect(new Set(messages).size).toBe(messages.length);
  });

  it('maps the well-known codes to the statuses clients rely on', () => {
    expect(errorDefinitions.VIGIL_ERR_MALFORMED_JSON.status).toBe(400);
    expect(errorDefinitions.VIGIL_ERR_UNKNOWN_MODEL.status).toBe(404);
    expect(errorDefinitions.VIGIL_ERR_BODY_TOO_LARGE.status).toBe(413);
    expect(errorDefinitions.VIGIL_ERR_OVERLOADED.status).toBe(503);
    expect(errorDefinitions.VIGIL_ERR_DEADLINE_EXCEEDED.status).toBe(504);
    expect(errorDefinitions.VIGIL_ERR_INTERNAL.status).toBe(500);
  });

  it('registers every VIGIL_ERR_ code that the server and the console mention', () => {
    const mentioned = new Set<string>();
    for (const file of [...sourceFiles(join(repoRoot, 'serving')), ...sourceFiles(join(repoRoot, 'app'))]) {
      for (const m of readFileSync(file, 'utf8').matchAll(/VIGIL_ERR_[A-Z0-9_]+/g)) mentioned.add(m[0]);
    }
    expect(mentioned.size).toBeGreaterThan(0);
    const unregistered = [...mentioned].filter((c) => !(c in errorDefinitions));
    expect(unregistered).toEqual([]);
  });

  it('documents every code in docs/errors.md when that file exists', () => {
    const docs = join(repoRoot, 'docs', 'errors.md');
    if (!existsSync(docs)) {
      // The documentation is written separately; until it exists there is nothing to compare.
      console.info(`docs/errors.md not found at ${docs}; only checking that every code has a message to document`);
      for (const code of codes) expect(typeof errorDefinitions[code].message).toBe('string');
      return;
    }
    const text = readFileSync(docs, 'utf8');
    const missing = codes.filter((code) => !text.includes(code));
    expect(missing).toEqual([]);
  });
});

describe('VigilError', () => {
  it('carries code, status, name and the registry message', () => {
    for (const code of codes) {
      const err = new VigilError(code);
      expect(err).toBeInstanceOf(Error);
      expect(err).toBeInstanceOf(VigilError);
      expect(err.name).toBe('VigilError');
      expect(err.code).toBe(code);
      expect(err.status).toBe(errorDefinitions[code].status);
      expect(err.message).toBe(errorDefinitions[code].message);
      expect(err.headers).toEqual({});
    }
  });

  it('recognises a VigilError made by another copy of the module (a handler beside a bundle)', async () => {
    // A second copy of errors.ts, as a handler's `vigil/handler` is beside the replica's bundle.
    vi.resetModules();
    const copy = await import('../../serving/errors.ts');
    expect(copy.VigilError).not.toBe(VigilError);
    const theirs = new copy.VigilError('VIGIL_ERR_INVALID_BODY', 'not an image');
    expect(theirs instanceof VigilError).toBe(true);
    expect(isVigilError(theirs)).toBe(true);
    expect(new Error('x') instanceof VigilError).toBe(false);
    expect({ code: 'VIGIL_ERR_INVALID_BODY' } instanceof VigilError).toBe(false);
  });

  it('appends the detail to the message', () => {
    const err = new VigilError('VIGIL_ERR_UNKNOWN_INPUT', '"foo"');
    expect(err.message).toBe('unknown input name: "foo"');
  });

  it('ignores an empty detail', () => {
    expect(new VigilError('VIGIL_ERR_INTERNAL', '').message).toBe('internal error');
  });

  it('carries extra headers such as Retry-After', () => {
    const err = new VigilError('VIGIL_ERR_OVERLOADED', 'queue full', { 'retry-after': '3' });
    expect(err.status).toBe(503);
    expect(err.headers).toEqual({ 'retry-after': '3' });
  });

  it('does not share the default headers object between instances', () => {
    const a = new VigilError('VIGIL_ERR_INTERNAL');
    const b = new VigilError('VIGIL_ERR_INTERNAL');
    expect(a.headers).not.toBe(b.headers);
  });

  it('is recognised by isVigilError, and plain errors are not', () => {
    expect(isVigilError(new VigilError('VIGIL_ERR_NOT_FOUND'))).toBe(true);
    expect(isVigilError(new Error('VIGIL_ERR_NOT_FOUND'))).toBe(false);
    expect(isVigilError({ code: 'VIGIL_ERR_NOT_FOUND', status: 404 })).toBe(false);
    expect(isVigilError(undefined)).toBe(false);
  });
});
