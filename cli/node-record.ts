import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What `vigil start` writes into its data directory while it runs, so that every other command
 * finds the node of the same config without --url or --port (issue 19): where it listens, where
 * its console is, and its pid, which tells a live record from one left by a crash.
 */
export interface NodeRecord {
  url: string;
  /** The control listener (config `control`): the control API and /metrics, off the data plane. */
  control_url: string;
  console_url: string | null;
  pid: number;
  config: string;
  started_at: string;
}

const FILE = 'node.json';

/** Writes the record whole (a reader never sees half of it). */
export function writeNodeRecord(dataDir: string, record: NodeRecord): void {
  mkdirSync(dataDir, { recursive: true });
  const tmp = join(dataDir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(tmp, join(dataDir, FILE));
}

/** The record of a node that is still running, or undefined. */
export function readNodeRecord(dataDir: string): NodeRecord | undefined {
  let record: NodeRecord;
  try {
    record = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as NodeRecord;
  } catch {
    return undefined;
  }
  return typeof record.url === 'string' && isAlive(record.pid) ? record : undefined;
}

/** Removes the record if it is this process's own. */
export function removeNodeRecord(dataDir: string): void {
  try {
    const record = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as NodeRecord;
    if (record.pid === process.pid) rmSync(join(dataDir, FILE), { force: true });
  } catch {
    // No record, or not one we can read: nothing of ours to remove.
  }
}

function isAlive(pid: unknown): boolean {
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
