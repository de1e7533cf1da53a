import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonDepthGuard } from '../../serving/protocol/json-depth-guard.ts';

/** Feeds `text` to a guard in chunks of `size` bytes; returns the error code thrown, if any. */
function scan(text: string, max: number, size = 7, jsonBytes?: number): string | undefined {
  const guard = new JsonDepthGuard(max, jsonBytes);
  const bytes = Buffer.from(text);
  try {
    for (let i = 0; i < bytes.length; i += size) guard.push(bytes.subarray(i, i + size));
  } catch (err) {
    return (err as { code: string }).code;
  }
  return undefined;
}

function depthOf(value: unknown): number {
  if (Array.isArray(value)) return 1 + Math.max(0, ...value.map(depthOf));
  if (value && typeof value === 'object') return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  return 0;
}

describe('JsonDepthGuard', () => {
  it('refuses nesting past the limit, whatever the chunking', () => {
    expect(scan('[[[1]]]', 3)).toBeUndefined();
    expect(scan('[[[[1]]]]', 3)).toBe('VIGIL_ERR_INVALID_REQUEST');
    expect(scan(`${'['.repeat(100_000)}`, 24, 65536)).toBe('VIGIL_ERR_INVALID_REQUEST');
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    expect(scan('{"a":"[[[[[[\\"[[[[[["}', 1, 1)).toBeUndefined();
    expect(scan('{"a":"\\\\"}', 1, 1)).toBeUndefined();
    expect(scan('{"a":"\\\\",[[1]]}', 2, 1)).toBe('VIGIL_ERR_INVALID_REQUEST');
  });

  it('scans only the JSON part of a binary-extension body', () => {
    const header = '{"inputs":[]}';
    expect(scan(`${header}${'['.repeat(50)}`, 2, 5, header.length)).toBeUndefined();
  });

  it('agrees with the real depth of any JSON document', () => {
    fc.assert(
      fc.property(fc.json(), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 5 }), (text, max, size) => {
        const refused = scan(text, max, size) !== undefined;
        expect(refused).toBe(depthOf(JSON.parse(text)) > max);
      }),
    );
  });
});
