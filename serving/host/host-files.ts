import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The machine's files, read under a root folder: `/` in production, VIGIL_HOST_ROOT in tests and
 * game days, so a folder of real-format files can stand in for /sys and /proc. Nothing here
 * throws: a missing or unreadable file is `undefined`, and callers say so rather than guess.
 */
export class HostFiles {
  constructor(readonly root = '/') {}

  text(path: string): string | undefined {
    try {
      return readFileSync(join(this.root, path), 'utf8');
    } catch {
      return undefined;
    }
  }

  /** A file holding one number (e.g. a temperature in millidegrees); undefined for garbage. */
  number(path: string): number | undefined {
    const t = this.text(path)?.trim();
    if (t === undefined || !/^-?\d+(\.\d+)?$/.test(t)) return undefined;
    return Number(t);
  }

  /** Entries of a folder whose names match, sorted; empty when it cannot be read. */
  list(path: string, match: RegExp): string[] {
    try {
      return readdirSync(join(this.root, path))
        .filter((n) => match.test(n))
        .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    } catch {
      return [];
    }
  }
}
