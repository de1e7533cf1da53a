import { VigilError } from '../errors.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/**
 * Checks the nesting of a JSON body as its chunks arrive, so a body nested too deeply is refused
 * before JSON.parse ever sees it. JSON.parse of a 3.6 MiB body of nested arrays held an event
 * loop for 1.6 s (issue 16): every other request on it, and the liveness probe, waited. The scan
 * costs a byte comparison or two per byte, spread over the chunks as they come.
 *
 * Only the first `jsonBytes` bytes are JSON (the rest, with the binary tensor extension, is raw
 * tensor data, which is not scanned).
 */
export class JsonDepthGuard {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private seen = 0;

  constructor(
    private readonly maxDepth: number,
    private readonly jsonBytes = Number.POSITIVE_INFINITY,
  ) {}

  /** Throws VIGIL_ERR_INVALID_REQUEST as soon as the nesting passes the limit. */
  push(chunk: Buffer): void {
    const end = Math.min(chunk.length, this.jsonBytes - this.seen);
    this.seen += chunk.length;
    let { depth, inString, escaped } = this;
    for (let i = 0; i < end; i++) {
      const c = chunk[i]!;
      if (inString) {
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
      } else if (c === QUOTE) inString = true;
      else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++depth > this.maxDepth)
          throw new VigilError(
            'VIGIL_ERR_INVALID_REQUEST',
            `the JSON body is nested deeper than ${this.maxDepth} levels`,
          );
      } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
  }
}
