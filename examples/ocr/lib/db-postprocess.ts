/**
 * DB (Differentiable Binarization) post-processing: turn the detector's text probability map
 * into scored, ordered text quads. Follows PaddleOCR's DBPostProcess with box_type 'quad' and
 * score_mode 'fast', with connected components standing in for cv2.findContours.
 */
import { minAreaRect, orderClockwise, rectCorners, type Point, type Quad, type RotatedRect } from './geometry.ts';

export interface DbPostprocessOptions {
  /** Probability above which a pixel counts as text. */
  thresh?: number;
  /** Boxes whose mean probability is below this are dropped. */
  boxThresh?: number;
  /** How far to grow each shrunk text kernel back: distance = area * ratio / perimeter. */
  unclipRatio?: number;
  /** Boxes with a shorter side below this (map pixels) are dropped; after unclipping the limit is minSize + 2. */
  minSize?: number;
  /** At most this many components are considered, in scan order. */
  maxCandidates?: number;
  /** 8 joins diagonal neighbours (like OpenCV's contour tracing); 4 does not. */
  connectivity?: 4 | 8;
  /** Boxes whose top-left corners are within this many original pixels vertically count as one line when sorting. */
  lineTolerance?: number;
  /** Size of the original image, for clipping; defaults to round(width * scaleX) x round(height * scaleY). */
  originalWidth?: number;
  originalHeight?: number;
}

export interface TextBox {
  /** Corners in original-image pixels, top-left, top-right, bottom-right, bottom-left. */
  quad: Quad;
  /** Mean probability inside the (un-grown) box. */
  score: number;
}

export interface Component {
  /** Pixel count. */
  area: number;
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
  /** For each covered row, its leftmost and rightmost pixel centres; their hull is the component's hull. */
  extremes: Point[];
}

const DEFAULTS = {
  thresh: 0.3,
  boxThresh: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxCandidates: 1000,
  connectivity: 8 as 4 | 8,
  lineTolerance: 10,
};

/** Label the non-zero pixels of a bitmap into connected components by iterative flood fill. */
export function connectedComponents(
  bitmap: Uint8Array,
  width: number,
  height: number,
  connectivity: 4 | 8 = 8,
  maxComponents = Infinity,
): Component[] {
  if (bitmap.length < width * height)
    throw new Error(`bitmap holds ${bitmap.length} pixels, ${width}x${height} needs more`);
  const seen = new Uint8Array(width * height);
  const stack = new Int32Array(width * height);
  const pixels = new Int32Array(width * height);
  const rowMin = new Int32Array(height);
  const rowMax = new Int32Array(height);
  const out: Component[] = [];
  for (let start = 0; start < width * height && out.length < maxComponents; start++) {
    if (!bitmap[start] || seen[start]) continue;
    let sp = 0,
      count = 0;
    stack[sp++] = start;
    seen[start] = 1;
    while (sp > 0) {
      const p = stack[--sp]!;
      pixels[count++] = p;
      const x = p % width,
        y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          if (connectivity === 4 && dx !== 0 && dy !== 0) continue;
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (bitmap[q] && !seen[q]) {
            seen[q] = 1;
            stack[sp++] = q;
          }
        }
      }
    }
    let minX = width,
      minY = height,
      maxX = -1,
      maxY = -1;
    for (let i = 0; i < count; i++) {
      const p = pixels[i]!;
      const x = p % width,
        y = (p - x) / width;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
    }
    rowMin.fill(width, minY, maxY + 1);
    rowMax.fill(-1, minY, maxY + 1);
    for (let i = 0; i < count; i++) {
      const p = pixels[i]!;
      const x = p % width,
        y = (p - x) / width;
      if (x < rowMin[y]!) rowMin[y] = x;
      if (x > rowMax[y]!) rowMax[y] = x;
    }
    // A connected component covers every row between its top and bottom.
    const extremes: Point[] = [];
    for (let y = minY; y <= maxY; y++) {
      extremes.push([rowMin[y]!, y]);
      if (rowMax[y] !== rowMin[y]) extremes.push([rowMax[y]!, y]);
    }
    out.push({ area: count, minX, minY, maxX, maxY, extremes });
  }
  return out;
}

/**
 * Grow a rectangle outwards by area * ratio / perimeter on every side. This is what PaddleOCR's
 * pyclipper offset followed by a fresh minimum-area rectangle amounts to for a rectangle.
 */
export function unclipRect(rect: RotatedRect, ratio: number): RotatedRect {
  const perimeter = 2 * (rect.width + rect.height);
  if (perimeter === 0) return { ...rect };
  const distance = (rect.width * rect.height * ratio) / perimeter;
  return { ...rect, width: rect.width + 2 * distance, height: rect.height + 2 * distance };
}

/**
 * Mean of `prob` over the pixels inside the quad, as PaddleOCR's box_score_fast does it:
 * corners truncated to integers, then every pixel inside or on the polygon counts.
 */
export function boxScore(prob: Float32Array, width: number, height: number, quad: readonly Point[]): number {
  const xs = quad.map((p) => p[0]),
    ys = quad.map((p) => p[1]);
  const clampI = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const xmin = clampI(Math.floor(Math.min(...xs)), width - 1),
    xmax = clampI(Math.ceil(Math.max(...xs)), width - 1);
  const ymin = clampI(Math.floor(Math.min(...ys)), height - 1),
    ymax = clampI(Math.ceil(Math.max(...ys)), height - 1);
  const poly = quad.map((p): Point => [Math.trunc(p[0]), Math.trunc(p[1])]);
  let sum = 0,
    n = 0;
  for (let y = ymin; y <= ymax; y++) {
    for (let x = xmin; x <= xmax; x++) {
      if (!insideConvex(poly, x, y)) continue;
      sum += prob[y * width + x]!;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/** Inside-or-on test for a convex polygon of either winding. */
function insideConvex(poly: readonly Point[], x: number, y: number): boolean {
  let pos = false,
    neg = false;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!,
      b = poly[(i + 1) % poly.length]!;
    const c = (b[0] - a[0]) * (y - a[1]) - (b[1] - a[1]) * (x - a[0]);
    if (c > 1e-9) pos = true;
    else if (c < -1e-9) neg = true;
    if (pos && neg) return false;
  }
  if (pos || neg) return true;
  // Degenerate polygon (all corners on one line): count only points between its extremes.
  const xs = poly.map((p) => p[0]),
    ys = poly.map((p) => p[1]);
  return x >= Math.min(...xs) && x <= Math.max(...xs) && y >= Math.min(...ys) && y <= Math.max(...ys);
}

/**
 * PaddleOCR's reading order: sort by the top-left corner's (y, x), then let a box move ahead of
 * its predecessors while they sit on the same line (|dy| < tolerance) and start to its right.
 */
export function sortReadingOrder<T extends { quad: readonly Point[] }>(boxes: readonly T[], lineTolerance = 10): T[] {
  const out = [...boxes].sort((a, b) => a.quad[0]![1] - b.quad[0]![1] || a.quad[0]![0] - b.quad[0]![0]);
  for (let i = 0; i < out.length - 1; i++) {
    for (let j = i; j >= 0; j--) {
      const a = out[j]!.quad[0]!,
        b = out[j + 1]!.quad[0]!;
      if (Math.abs(b[1] - a[1]) < lineTolerance && b[0] < a[0]) [out[j], out[j + 1]] = [out[j + 1]!, out[j]!];
      else break;
    }
  }
  return out;
}

/**
 * Text boxes from the detector's probability map (one [H,W] plane, row-major).
 * `scaleX`/`scaleY` take map coordinates to original-image coordinates (see detInput).
 * Corners are rounded to whole pixels and clipped to the image, as PaddleOCR does.
 */
export function boxesFromProbabilityMap(
  prob: Float32Array,
  width: number,
  height: number,
  scaleX: number,
  scaleY: number,
  opts: DbPostprocessOptions = {},
): TextBox[] {
  if (prob.length < width * height)
    throw new Error(`probability map holds ${prob.length} values, ${width}x${height} needs more`);
  const o = { ...DEFAULTS, ...stripUndefined(opts) };
  const destW = opts.originalWidth ?? Math.round(width * scaleX);
  const destH = opts.originalHeight ?? Math.round(height * scaleY);

  const bitmap = new Uint8Array(width * height);
  for (let i = 0; i < width * height; i++) bitmap[i] = prob[i]! > o.thresh ? 1 : 0;

  const boxes: TextBox[] = [];
  for (const comp of connectedComponents(bitmap, width, height, o.connectivity, o.maxCandidates)) {
    // The rotated rectangle can be no wider than the bounding box in either direction.
    if (Math.min(comp.maxX - comp.minX, comp.maxY - comp.minY) < o.minSize) continue;
    const rect = minAreaRect(comp.extremes);
    if (Math.min(rect.width, rect.height) < o.minSize) continue;
    const score = boxScore(prob, width, height, orderClockwise(rectCorners(rect)));
    if (score < o.boxThresh) continue;
    const grown = unclipRect(rect, o.unclipRatio);
    if (Math.min(grown.width, grown.height) < o.minSize + 2) continue;
    const mapped = rectCorners(grown).map(
      (p): Point => [
        Math.min(Math.max(Math.round(p[0] * scaleX), 0), destW - 1),
        Math.min(Math.max(Math.round(p[1] * scaleY), 0), destH - 1),
      ],
    );
    const quad = orderClockwise(mapped);
    const side = (a: Point, b: Point) => Math.trunc(Math.hypot(a[0] - b[0], a[1] - b[1]));
    if (side(quad[0], quad[1]) <= o.minSize || side(quad[0], quad[3]) <= o.minSize) continue;
    boxes.push({ quad, score });
  }
  return sortReadingOrder(boxes, o.lineTolerance);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
