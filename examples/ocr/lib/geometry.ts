/**
 * Plane geometry for the OCR pipeline: convex hull, minimum-area rotated rectangle, corner
 * ordering and the homography used to warp a text quad into an upright patch.
 * Coordinates are image coordinates: x to the right, y down, pixel centres on integers.
 */

export type Point = [number, number];
/** Four corners, in the order top-left, top-right, bottom-right, bottom-left once ordered. */
export type Quad = [Point, Point, Point, Point];

/** A rotated rectangle: centre, side lengths along its own axes, and the direction of the `width` axis. */
export interface RotatedRect {
  cx: number;
  cy: number;
  width: number;
  height: number;
  /** Unit vector along the `width` side. The `height` side is (-uy, ux). */
  ux: number;
  uy: number;
}

const cross = (o: Point, a: Point, b: Point): number => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Convex hull by Andrew's monotone chain; collinear points are dropped. Counter-clockwise in y-up terms. */
export function convexHull(points: readonly Point[]): Point[] {
  const pts = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const unique: Point[] = [];
  for (const p of pts) {
    const last = unique[unique.length - 1];
    if (!last || last[0] !== p[0] || last[1] !== p[1]) unique.push(p);
  }
  if (unique.length <= 2) return unique;
  const lower: Point[] = [];
  for (const p of unique) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper: Point[] = [];
  for (let i = unique.length - 1; i >= 0; i--) {
    const p = unique[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, p) <= 0) upper.pop();
    upper.push(p);
  }
  lower.pop();
  upper.pop();
  return lower.concat(upper);
}

/**
 * Minimum-area enclosing rectangle of a point set. The optimal rectangle has a side collinear
 * with a hull edge, so trying each edge's direction (rotating calipers, done naively in O(h^2),
 * fine for the few hundred hull points a text region has) finds it.
 */
export function minAreaRect(points: readonly Point[]): RotatedRect {
  const hull = convexHull(points);
  if (hull.length === 0) return { cx: 0, cy: 0, width: 0, height: 0, ux: 1, uy: 0 };
  if (hull.length === 1) return { cx: hull[0]![0], cy: hull[0]![1], width: 0, height: 0, ux: 1, uy: 0 };
  let best: RotatedRect | undefined;
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len === 0) continue;
    const ux = (b[0] - a[0]) / len;
    const uy = (b[1] - a[1]) / len;
    let minU = Infinity,
      maxU = -Infinity,
      minV = Infinity,
      maxV = -Infinity;
    for (const p of hull) {
      const u = p[0] * ux + p[1] * uy;
      const v = -p[0] * uy + p[1] * ux;
      if (u < minU) minU = u;
      if (u > maxU) maxU = u;
      if (v < minV) minV = v;
      if (v > maxV) maxV = v;
    }
    const area = (maxU - minU) * (maxV - minV);
    // Ties (a segment, or an axis-aligned box seen from two edges) keep the first; the small
    // tolerance stops float noise from choosing a 1e-12-smaller tilted twin of an upright box.
    if (area < bestArea - 1e-9) {
      bestArea = area;
      const cu = (minU + maxU) / 2;
      const cv = (minV + maxV) / 2;
      best = { cx: cu * ux - cv * uy, cy: cu * uy + cv * ux, width: maxU - minU, height: maxV - minV, ux, uy };
    }
  }
  return best!;
}

/** The four corners of a rotated rectangle, unordered. */
export function rectCorners(r: RotatedRect): Quad {
  const hw = r.width / 2,
    hh = r.height / 2;
  const vx = -r.uy,
    vy = r.ux;
  const at = (su: number, sv: number): Point => [
    r.cx + su * hw * r.ux + sv * hh * vx,
    r.cy + su * hw * r.uy + sv * hh * vy,
  ];
  return [at(-1, -1), at(1, -1), at(1, 1), at(-1, 1)];
}

/**
 * Order four corners as top-left, top-right, bottom-right, bottom-left (clockwise on screen):
 * the two leftmost points are the left side, the upper of them is top-left; likewise on the right.
 * This is the rule PaddleOCR uses, so a box tilted by exactly 45 degrees is ordered as it would be there.
 */
export function orderClockwise(quad: readonly Point[]): Quad {
  const byX = [...quad].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const [l0, l1, r0, r1] = byX as [Point, Point, Point, Point];
  const [tl, bl] = l0[1] <= l1[1] ? [l0, l1] : [l1, l0];
  const [tr, br] = r0[1] <= r1[1] ? [r0, r1] : [r1, r0];
  return [tl, tr, br, bl];
}

/** Shoelace area of a polygon (absolute value). */
export function polygonArea(poly: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!,
      b = poly[(i + 1) % poly.length]!;
    s += a[0] * b[1] - b[0] * a[1];
  }
  return Math.abs(s) / 2;
}

/** Perimeter of a closed polygon. */
export function polygonPerimeter(poly: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < poly.length; i++) {
    const a = poly[i]!,
      b = poly[(i + 1) % poly.length]!;
    s += Math.hypot(b[0] - a[0], b[1] - a[1]);
  }
  return s;
}

/**
 * The 3x3 homography (row-major, h33 = 1) taking each `from[i]` to `to[i]`.
 * Solves the standard 8x8 linear system by Gaussian elimination with partial pivoting.
 */
export function homography(from: readonly Point[], to: readonly Point[]): Float64Array {
  const a: number[][] = [];
  for (let i = 0; i < 4; i++) {
    const [x, y] = from[i]!;
    const [u, v] = to[i]!;
    a.push([x, y, 1, 0, 0, 0, -u * x, -u * y, u]);
    a.push([0, 0, 0, x, y, 1, -v * x, -v * y, v]);
  }
  for (let col = 0; col < 8; col++) {
    let pivot = col;
    for (let r = col + 1; r < 8; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    if (Math.abs(a[pivot]![col]!) < 1e-12) throw new Error('homography: degenerate quad (three corners collinear)');
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const rowC = a[col]!;
    for (let r = 0; r < 8; r++) {
      if (r === col) continue;
      const row = a[r]!;
      const f = row[col]! / rowC[col]!;
      if (f === 0) continue;
      for (let k = col; k < 9; k++) row[k]! -= f * rowC[k]!;
    }
  }
  const h = new Float64Array(9);
  for (let i = 0; i < 8; i++) h[i] = a[i]![8]! / a[i]![i]!;
  h[8] = 1;
  return h;
}
