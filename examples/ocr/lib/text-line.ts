/**
 * Shared input preparation for the two text-line models (direction classifier and recogniser):
 * resize to a fixed height keeping the aspect ratio, normalise to [-1, 1] and zero-pad on the
 * right, as PaddleOCR's resize_norm_img does.
 */
import { resizeBilinear, writeNormalizedChw, type ChannelOrder, type RgbImage } from './image.ts';

/** A batch of text lines in NCHW layout. */
export interface LineTensor {
  tensor: Float32Array;
  shape: [number, 3, number, number];
}

/** (v / 255 - 0.5) / 0.5 on every channel. */
export const LINE_MEAN = [0.5, 0.5, 0.5] as const;
export const LINE_STD = [0.5, 0.5, 0.5] as const;

/** Width a patch takes at `height` with its aspect ratio kept, never more than `maxWidth`. */
export function lineContentWidth(patch: { width: number; height: number }, height: number, maxWidth: number): number {
  return Math.max(1, Math.min(Math.ceil((height * patch.width) / patch.height), maxWidth));
}

/**
 * Write one patch into item `index` of an [N,3,height,planeW] tensor: resized to `height`
 * (width kept in proportion, at most planeW), normalised, the rest of the row left as 0.
 */
export function writeLine(
  patch: RgbImage,
  out: Float32Array,
  index: number,
  height: number,
  planeW: number,
  order: ChannelOrder,
): void {
  const w = lineContentWidth(patch, height, planeW);
  const resized = patch.width === w && patch.height === height ? patch : resizeBilinear(patch, w, height);
  writeNormalizedChw(resized, out, index * 3 * height * planeW, planeW, height, LINE_MEAN, LINE_STD, order);
}
