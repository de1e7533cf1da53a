/**
 * Input preparation for the DBNet text detector (ch_PP-OCRv4_det_infer.onnx, input 'x'
 * [N,3,H,W] float32, H and W free). Mirrors PaddleOCR's DetResizeForTest (limit_type 'max',
 * limit_side_len 960) followed by NormalizeImage with ImageNet statistics.
 */
import { resizeBilinear, writeNormalizedChw, type ChannelOrder, type RgbImage } from './image.ts';

/** ImageNet mean and std, applied per tensor channel after scaling pixels to [0,1]. */
export const DET_MEAN = [0.485, 0.456, 0.406] as const;
export const DET_STD = [0.229, 0.224, 0.225] as const;

export interface DetInputOptions {
  /**
   * 'max' (PaddleOCR's inference default): shrink so the longer side is at most limitSideLen.
   * 'min': enlarge so the shorter side is at least limitSideLen.
   */
  limitType?: 'max' | 'min';
  /**
   * Channel order of the tensor. PaddleOCR reads images with OpenCV (BGR) and applies the mean
   * and std positionally, so the models saw B in channel 0 normalised with 0.485/0.229.
   */
  channelOrder?: ChannelOrder;
}

export interface DetInput {
  tensor: Float32Array;
  /** [1, 3, height, width]. */
  shape: [1, 3, number, number];
  width: number;
  height: number;
  /** Multiply a probability-map x by this to get an x in the original image (original width / tensor width). */
  scaleX: number;
  /** Multiply a probability-map y by this to get a y in the original image. */
  scaleY: number;
  originalWidth: number;
  originalHeight: number;
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const diff = v - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The tensor size PaddleOCR resizes an image to: scaled by the side limit, then each side rounded to a multiple of 32 (at least 32). */
export function detInputSize(
  width: number,
  height: number,
  limitSideLen = 960,
  limitType: 'max' | 'min' = 'max',
): { width: number; height: number } {
  let ratio = 1;
  if (limitType === 'max') {
    const longSide = Math.max(width, height);
    if (longSide > limitSideLen) ratio = limitSideLen / longSide;
  } else {
    const shortSide = Math.min(width, height);
    if (shortSide < limitSideLen) ratio = limitSideLen / shortSide;
  }
  const w = Math.trunc(width * ratio),
    h = Math.trunc(height * ratio);
  return { width: Math.max(roundHalfEven(w / 32) * 32, 32), height: Math.max(roundHalfEven(h / 32) * 32, 32) };
}

/** Resize and normalise an image into the detector's [1,3,H,W] input, H and W multiples of 32. */
export function detInput(img: RgbImage, limitSideLen = 960, opts: DetInputOptions = {}): DetInput {
  if (!(limitSideLen > 0)) throw new Error(`limitSideLen must be positive, got ${limitSideLen}`);
  const { width, height } = detInputSize(img.width, img.height, limitSideLen, opts.limitType ?? 'max');
  const resized = width === img.width && height === img.height ? img : resizeBilinear(img, width, height);
  const tensor = new Float32Array(3 * width * height);
  writeNormalizedChw(resized, tensor, 0, width, height, DET_MEAN, DET_STD, opts.channelOrder ?? 'bgr');
  return {
    tensor,
    shape: [1, 3, height, width],
    width,
    height,
    scaleX: img.width / width,
    scaleY: img.height / height,
    originalWidth: img.width,
    originalHeight: img.height,
  };
}
