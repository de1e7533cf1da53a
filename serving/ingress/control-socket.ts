import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Where the primary's control server listens: a Unix socket in the temporary directory, made
 * by this process (so owned by its user), short enough for the ~100-byte limit on socket paths.
 * node:net removes it when the server closes.
 */
export function controlSocketPath(dir = tmpdir()): string {
  return join(dir, `vigil-${process.pid}-${randomBytes(4).toString('hex')}-control.sock`);
}
