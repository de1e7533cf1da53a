/**
 * Input preparation for the CRNN/SVTR recogniser (ch_PP-OCRv4_rec_infer.onnx: input 'x'
 * [N,3,48,W], W free; output [N, W/8, 6625] softmax over the CTC classes).
 */
import type { ChannelOrder, RgbImage } from './image.ts';
import { lineContentWidth, writeLine, type LineTensor } from './text-line.ts';

export const REC_HEIGHT = 48;

export interface RecInputOptions {
  /**
   * Narrowest tensor width. PaddleOCR never feeds less than 320 (its rec_image_shape width, and
   * the width the model was trained at), padding short lines with zeros; 320 keeps that.
   */
  minWidth?: number;
  /** Widest tensor width; longer lines are squeezed to fit. */
  maxWidth?: number;
  channelOrder?: ChannelOrder;
}

export interface RecTensor extends LineTensor {
  /** Tensor width W; the model emits floor(W / 8) time steps. */
  width: number;
}

/** The tensor width for a batch: the widest patch at height 48, bounded by minWidth and maxWidth. */
export function recBatchWidth(
  patches: readonly { width: number; height: number }[],
  opts: RecInputOptions = {},
): number {
  const minWidth = opts.minWidth ?? 320,
    maxWidth = opts.maxWidth ?? 3200;
  if (!(minWidth >= 1 && maxWidth >= minWidth))
    throw new Error(`need 1 <= minWidth <= maxWidth, got ${minWidth}..${maxWidth}`);
  let w = minWidth;
  for (const p of patches) w = Math.max(w, lineContentWidth(p, REC_HEIGHT, maxWidth));
  return w;
}

/** One patch as a [1,3,48,W] input with W = ceil(48 * width / height) bounded by the options. */
export function recInput(patch: RgbImage, opts: RecInputOptions = {}): RecTensor {
  return recBatchInput([patch], opts);
}

/** Several patches as one [N,3,48,W] input, W fitting the widest; narrower ones are zero-padded on the right. */
export function recBatchInput(patches: readonly RgbImage[], opts: RecInputOptions = {}): RecTensor {
  if (patches.length === 0) throw new Error('recBatchInput needs at least one patch');
  const width = recBatchWidth(patches, opts);
  const tensor = new Float32Array(patches.length * 3 * REC_HEIGHT * width);
  patches.forEach((p, i) => writeLine(p, tensor, i, REC_HEIGHT, width, opts.channelOrder ?? 'bgr'));
  return { tensor, shape: [patches.length, 3, REC_HEIGHT, width], width };
}
