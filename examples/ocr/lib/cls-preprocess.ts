/**
 * Input preparation and decision for the 0/180-degree text direction classifier
 * (ch_ppocr_mobile_v2.0_cls_infer.onnx: input 'x' [N,3,H,W], used at 48x192; output [N,2]
 * softmax over the labels '0' and '180').
 */
import type { ChannelOrder, RgbImage } from './image.ts';
import { writeLine, type LineTensor } from './text-line.ts';

export const CLS_HEIGHT = 48;
export const CLS_WIDTH = 192;
/** The classifier's labels, in output order. */
export const CLS_LABELS = [0, 180] as const;

/** One patch as a [1,3,48,192] input: resized to height 48 keeping its ratio (at most 192 wide), normalised, zero-padded. */
export function clsInput(patch: RgbImage, order: ChannelOrder = 'bgr'): LineTensor {
  return clsBatchInput([patch], order);
}

/** Several patches as one [N,3,48,192] input. */
export function clsBatchInput(patches: readonly RgbImage[], order: ChannelOrder = 'bgr'): LineTensor {
  if (patches.length === 0) throw new Error('clsBatchInput needs at least one patch');
  const tensor = new Float32Array(patches.length * 3 * CLS_HEIGHT * CLS_WIDTH);
  patches.forEach((p, i) => writeLine(p, tensor, i, CLS_HEIGHT, CLS_WIDTH, order));
  return { tensor, shape: [patches.length, 3, CLS_HEIGHT, CLS_WIDTH] };
}

export interface ClsDecision {
  angle: 0 | 180;
  score: number;
  /** True when the patch should be turned by 180 degrees before recognition. */
  rotate: boolean;
}

/**
 * Read item `index` of the classifier's [N,2] output. As in PaddleOCR, a patch is only turned
 * when the '180' label wins with a probability above `threshold`.
 */
export function clsDecision(probs: Float32Array, index = 0, threshold = 0.9): ClsDecision {
  const p0 = probs[index * 2],
    p180 = probs[index * 2 + 1];
  if (p0 === undefined || p180 === undefined) throw new Error(`classifier output has no item ${index}`);
  const angle = p180 > p0 ? 180 : 0;
  const score = angle === 180 ? p180 : p0;
  return { angle, score, rotate: angle === 180 && score > threshold };
}
