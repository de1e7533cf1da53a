// One process per PGlite data directory. Postgres refuses a second postmaster on a data
// directory (postmaster.pid); PGlite takes no such lock, and two processes writing one
// directory leave it unreadable. This is the same idea, kept beside the directory.
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';

/** Directories this process holds, so a second open in the same process is refused too. */
const held = new Set<string>();

/**
 * The process's start time as the kernel records it (Linux), so that a recycled pid (a
 * container restarted on the same volume often gets the same pid) is not mistaken for the
 * holder. Undefined where /proc is not available.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Takes `<dir>.lock` for this process and returns the function that releases it. Throws when
 * a live process (this one included) holds it; a lock left by a dead process is taken over.
 * Best effort: two processes taking over the same stale lock at the same instant can both
 * win, which is far rarer than the mistake it catches (starting vigil twice in one folder).
 */
export async function lockPgliteDir(dir: string): Promise<() => Promise<void>> {
  const path = `${dir}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(`${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
      } finally {
        await file.close();
      }
      held.add(path);
      return async () => {
        held.delete(path);
        // Only remove it if it is still ours.
        if ((await readLock(path)).pid === process.pid) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const { pid, startTime } = await readLock(path);
      const sameProcess =
        pid !== undefined &&
        isAlive(pid) &&
        (pid !== process.pid || held.has(path)) &&
        (startTime === undefined || startTimeOf(pid) === undefined || startTimeOf(pid) === startTime);
      if (sameProcess) {
        throw new Error(
          `PGlite data directory ${dir} is in use by process ${pid} (see ${path}). ` +
            'PGlite allows one process per directory: stop that process, or use Postgres ' +
            'to share a database between processes. If it is a running vigil, reach it through its ' +
            'API instead (vigil status, rollout, weights, user: --url URL or --port P), or give this ' +
            'command another VIGIL_DATA_DIR.',
        );
      }
      await unlink(path).catch(() => {}); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${path}`);
}

async function readLock(path: string): Promise<{ pid?: number; startTime?: string }> {
  const [pidText, startTime] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
  const pid = Number.parseInt(pidText ?? '', 10);
  return { pid: Number.isInteger(pid) && pid > 0 ? pid : undefined, startTime: startTime || undefined };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
