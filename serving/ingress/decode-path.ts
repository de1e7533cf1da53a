import { VigilError } from '../errors.ts';

/**
 * Percent-decodes one path segment. Bad encoding (`%zz`, a lone `%`, invalid UTF-8) is the
 * client's mistake: a 400 with a stable code, never a URIError that surfaces as a 500.
 */
export function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new VigilError('VIGIL_ERR_BAD_URL', `bad percent-encoding in "${segment.slice(0, 80)}"`);
  }
}
