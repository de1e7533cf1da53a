import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../serving/transport/frame-codec.ts';

const infer = (id: number, n: number) => ({
  type: 'vigil:infer',
  id,
  deadline: 123,
  traceparent: '00-abc-def-01',
  inputs: [
    { name: 'x', datatype: 'FP32', shape: [1, n], data: Float32Array.from({ length: n }, (_, i) => i * 0.5 + id) },
    { name: 'ids', datatype: 'INT64', shape: [2], data: BigInt64Array.from([BigInt(id), -7n]) },
    { name: 's', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
    { name: 'b', datatype: 'UINT8', shape: [3], data: Uint8Array.from([1, 2, 3]) },
  ],
});

describe('binary frames between primary and replicas', () => {
  it('round-trips messages with tensors of several types, however the stream is split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 20 }),
        (sizes, cuts) => {
          const msgs = sizes.map((n, i) => infer(i, n));
          const stream = Buffer.concat(msgs.flatMap((m) => encodeFrame(m)));
          const decoder = new FrameDecoder();
          const got: Array<Record<string, unknown>> = [];
          let pos = 0;
          let c = 0;
          while (pos < stream.length) {
            const len = cuts[c++ % cuts.length]!;
            got.push(...decoder.push(stream.subarray(pos, pos + len)));
            pos += len;
          }
          expect(got).toHaveLength(msgs.length);
          got.forEach((g, i) => {
            const m = msgs[i]!;
            expect(g).toMatchObject({ type: 'vigil:infer', id: m.id, deadline: 123, traceparent: '00-abc-def-01' });
            const inputs = g.inputs as Array<{ name: string; shape: number[]; data: unknown }>;
            expect(inputs.map((t) => t.name)).toEqual(['x', 'ids', 's', 'b']);
            expect(Array.from(inputs[0]!.data as Float32Array)).toEqual(Array.from(m.inputs[0]!.data as Float32Array));
            expect(inputs[0]!.data).toBeInstanceOf(Float32Array);
            expect(Array.from(inputs[1]!.data as BigInt64Array)).toEqual([BigInt(i), -7n]);
            expect(inputs[2]!.data).toEqual(['héllo', '']);
            expect(Array.from(inputs[3]!.data as Uint8Array)).toEqual([1, 2, 3]);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('views large tensors in place instead of copying them when the frame arrives whole', () => {
    const n = 27648;
    const [msg] = new FrameDecoder().push(Buffer.concat(encodeFrame(infer(1, n))));
    const x = (msg!.inputs as Array<{ data: Float32Array }>)[0]!.data;
    expect(x.length).toBe(n);
    expect(x.byteOffset % 8).toBe(0);
    expect(x[n - 1]).toBe((n - 1) * 0.5 + 1);
  });

  it('passes messages without tensors through unchanged', () => {
    const [msg] = new FrameDecoder().push(
      Buffer.concat(encodeFrame({ type: 'vigil:result', id: 9, ok: false, code: 'VIGIL_ERR_INTERNAL', message: 'x' })),
    );
    expect(msg).toEqual({ type: 'vigil:result', id: 9, ok: false, code: 'VIGIL_ERR_INTERNAL', message: 'x' });
  });
});
