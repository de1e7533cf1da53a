/**
 * Plain pixel-buffer operations for the OCR pipeline: no image library, no decoding.
 * Sampling follows OpenCV's conventions (pixel centres on integer coordinates, half-pixel
 * aligned bilinear resize, replicated borders) because PaddleOCR's models were tuned on
 * images prepared by OpenCV.
 */
import { homography, type Point } from './geometry.ts';

/** A row-major, channel-interleaved 8-bit image. Channels are R,G,B(,A). */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array;
}

/** An axis-aligned integer rectangle. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A new image of the given size, every byte set to `fill`. */
export function createImage(width: number, height: number, channels: 3 | 4 = 3, fill = 0): RgbImage {
  return { width, height, channels, data: new Uint8Array(width * height * channels).fill(fill) };
}

function assertImage(img: RgbImage): void {
  if (img.width <= 0 || img.height <= 0) throw new Error(`image has no pixels (${img.width}x${img.height})`);
  if (img.data.length < img.width * img.height * img.channels) {
    throw new Error(`image data holds ${img.data.length} bytes, ${img.width}x${img.height}x${img.channels} needs more`);
  }
}

const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : Math.min(v, hi));

/**
 * Bilinear sample at a real-valued position with replicated borders, written to `out` at `outOff`.
 */
function sampleBilinear(img: RgbImage, sx: number, sy: number, out: Uint8Array, outOff: number): void {
  const { width: w, height: h, channels: ch, data } = img;
  sx = clamp(sx, 0, w - 1);
  sy = clamp(sy, 0, h - 1);
  const x0 = Math.floor(sx),
    y0 = Math.floor(sy);
  const x1 = Math.min(x0 + 1, w - 1),
    y1 = Math.min(y0 + 1, h - 1);
  const fx = sx - x0,
    fy = sy - y0;
  const i00 = (y0 * w + x0) * ch,
    i01 = (y0 * w + x1) * ch;
  const i10 = (y1 * w + x0) * ch,
    i11 = (y1 * w + x1) * ch;
  for (let c = 0; c < ch; c++) {
    const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * fx;
    const bottom = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * fx;
    out[outOff + c] = Math.round(top + (bottom - top) * fy);
  }
}

/** Resize to w x h with bilinear interpolation, pixel centres aligned as in cv2.resize(INTER_LINEAR). */
export function resizeBilinear(img: RgbImage, w: number, h: number): RgbImage {
  assertImage(img);
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0)
    throw new Error(`resize target must be positive integers, got ${w}x${h}`);
  const out = createImage(w, h, img.channels);
  const scaleX = img.width / w,
    scaleY = img.height / h;
  for (let y = 0; y < h; y++) {
    const sy = (y + 0.5) * scaleY - 0.5;
    for (let x = 0; x < w; x++) {
      sampleBilinear(img, (x + 0.5) * scaleX - 0.5, sy, out.data, (y * w + x) * img.channels);
    }
  }
  return out;
}

/** Copy out an axis-aligned region; the box is clipped to the image and must keep at least one pixel. */
export function crop(img: RgbImage, box: Box): RgbImage {
  assertImage(img);
  const x0 = clamp(Math.floor(box.x), 0, img.width),
    y0 = clamp(Math.floor(box.y), 0, img.height);
  const x1 = clamp(Math.floor(box.x + box.width), 0, img.width),
    y1 = clamp(Math.floor(box.y + box.height), 0, img.height);
  if (x1 <= x0 || y1 <= y0)
    throw new Error(`crop box ${JSON.stringify(box)} lies outside the ${img.width}x${img.height} image`);
  const w = x1 - x0,
    h = y1 - y0,
    ch = img.channels;
  const out = createImage(w, h, ch);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * img.width + x0) * ch;
    out.data.set(img.data.subarray(src, src + w * ch), y * w * ch);
  }
  return out;
}

/** Rotate by 180 degrees (what the direction classifier's '180' label asks for). */
export function rotate180(img: RgbImage): RgbImage {
  assertImage(img);
  const { width: w, height: h, channels: ch } = img;
  const out = createImage(w, h, ch);
  const n = w * h;
  for (let i = 0; i < n; i++) {
    const src = i * ch,
      dst = (n - 1 - i) * ch;
    for (let c = 0; c < ch; c++) out.data[dst + c] = img.data[src + c]!;
  }
  return out;
}

/** Rotate by 90 degrees counter-clockwise (numpy's rot90): the top row becomes the left column, read upwards. */
export function rotate90Ccw(img: RgbImage): RgbImage {
  assertImage(img);
  const { width: w, height: h, channels: ch } = img;
  const out = createImage(h, w, ch);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < h; x++) {
      const src = (x * w + (w - 1 - y)) * ch,
        dst = (y * h + x) * ch;
      for (let c = 0; c < ch; c++) out.data[dst + c] = img.data[src + c]!;
    }
  }
  return out;
}

/**
 * Warp the quadrilateral `quad` (top-left, top-right, bottom-right, bottom-left) onto an upright
 * outW x outH patch with a perspective transform and bilinear sampling. As in cv2.warpPerspective,
 * the quad's corners map to (0,0), (outW,0), (outW,outH), (0,outH) and borders are replicated.
 */
export function cropQuad(img: RgbImage, quad: readonly Point[], outW: number, outH: number): RgbImage {
  assertImage(img);
  if (quad.length !== 4) throw new Error(`cropQuad needs 4 corners, got ${quad.length}`);
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW <= 0 || outH <= 0)
    throw new Error(`cropQuad output must be positive integers, got ${outW}x${outH}`);
  const dst: Point[] = [
    [0, 0],
    [outW, 0],
    [outW, outH],
    [0, outH],
  ];
  const m = homography(dst, quad);
  const out = createImage(outW, outH, img.channels);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const d = m[6]! * x + m[7]! * y + m[8]!;
      const sx = (m[0]! * x + m[1]! * y + m[2]!) / d;
      const sy = (m[3]! * x + m[4]! * y + m[5]!) / d;
      sampleBilinear(img, sx, sy, out.data, (y * outW + x) * img.channels);
    }
  }
  return out;
}

/**
 * Cut a detected text quad out as an upright patch, the way PaddleOCR's get_rotate_crop_image
 * does: the patch is as wide and tall as the quad's longer opposite sides, and a patch at least
 * 1.5 times taller than wide is taken to be vertical text and turned 90 degrees counter-clockwise.
 */
export function cropTextPatch(img: RgbImage, quad: readonly Point[]): RgbImage {
  if (quad.length !== 4) throw new Error(`cropTextPatch needs 4 corners, got ${quad.length}`);
  const [p0, p1, p2, p3] = quad as [Point, Point, Point, Point];
  const dist = (a: Point, b: Point) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const w = Math.max(1, Math.trunc(Math.max(dist(p0, p1), dist(p2, p3))));
  const h = Math.max(1, Math.trunc(Math.max(dist(p0, p3), dist(p1, p2))));
  const patch = cropQuad(img, quad, w, h);
  return h / w >= 1.5 ? rotate90Ccw(patch) : patch;
}

/** Which colour goes into tensor channel 0. PaddleOCR's models were trained on OpenCV's BGR order. */
export type ChannelOrder = 'bgr' | 'rgb';

/**
 * Write `img` normalised as ((v / 255) - mean[c]) / std[c] into the top-left corner of one CHW
 * tensor item whose planes are `planeW` x `planeH`, starting at `offset` in `out`. Pixels of the
 * plane outside the image are left as they are (the caller's padding). Alpha is ignored.
 */
export function writeNormalizedChw(
  img: RgbImage,
  out: Float32Array,
  offset: number,
  planeW: number,
  planeH: number,
  mean: readonly [number, number, number],
  std: readonly [number, number, number],
  order: ChannelOrder,
): void {
  assertImage(img);
  if (img.width > planeW || img.height > planeH)
    throw new Error(`image ${img.width}x${img.height} does not fit a ${planeW}x${planeH} plane`);
  if (offset + 3 * planeW * planeH > out.length) throw new Error('tensor buffer too small');
  const { width: w, height: h, channels: ch, data } = img;
  const plane = planeW * planeH;
  for (let c = 0; c < 3; c++) {
    const src = order === 'bgr' ? 2 - c : c;
    const scale = 1 / (255 * std[c]!);
    const shift = mean[c]! / std[c]!;
    const base = offset + c * plane;
    for (let y = 0; y < h; y++) {
      let si = y * w * ch + src;
      const row = base + y * planeW;
      for (let x = 0; x < w; x++, si += ch) out[row + x] = data[si]! * scale - shift;
    }
  }
}
