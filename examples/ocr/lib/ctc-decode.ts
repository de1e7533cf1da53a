/**
 * CTC greedy decoding for PaddleOCR's recogniser. Its classes are: 0 the CTC blank, then one
 * character per line of the dictionary file (ppocr_keys_v1.txt has 6623), then ' ' when the
 * model was trained with use_space_char (the PP-OCRv4 Chinese model was: 1 + 6623 + 1 = 6625).
 */

export const CTC_BLANK = 0;

/**
 * Class index -> character. Index 0 (the blank) is ''. Lines are split on \n or \r\n; a final
 * newline does not add an empty entry; other lines are kept as they are, even a lone space.
 */
export function loadDictionary(text: string, useSpaceChar = true): string[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ...(useSpaceChar ? [' '] : [])];
}

export interface CtcResult {
  text: string;
  /** Mean of the winning probabilities of the kept steps; 0 when nothing was kept. */
  confidence: number;
}

/**
 * Greedy CTC decoding of one [T,C] probability matrix (row-major, starting at `offset`):
 * take the best class per step, merge runs of the same class, drop blanks.
 */
export function ctcGreedyDecode(
  probs: Float32Array,
  T: number,
  C: number,
  dict: readonly string[],
  offset = 0,
): CtcResult {
  if (dict.length !== C) throw new Error(`dictionary has ${dict.length} classes, the model output has ${C}`);
  if (offset + T * C > probs.length)
    throw new Error(`probabilities hold ${probs.length} values, ${T}x${C} from ${offset} needs more`);
  let text = '';
  let sum = 0,
    kept = 0,
    prev = -1;
  for (let t = 0; t < T; t++) {
    const row = offset + t * C;
    let best = 0,
      bestP = probs[row]!;
    for (let c = 1; c < C; c++) {
      const p = probs[row + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== CTC_BLANK && best !== prev) {
      text += dict[best];
      sum += bestP;
      kept++;
    }
    prev = best;
  }
  return { text, confidence: kept === 0 ? 0 : sum / kept };
}

/** Decode every item of an [N,T,C] output. */
export function ctcGreedyDecodeBatch(
  probs: Float32Array,
  N: number,
  T: number,
  C: number,
  dict: readonly string[],
): CtcResult[] {
  return Array.from({ length: N }, (_, i) => ctcGreedyDecode(probs, T, C, dict, i * T * C));
}
