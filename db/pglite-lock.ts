// One process per PGlite data directory. Postgres refuses a second postmaster on a data
// directory (postmaster.pid); PGlite takes no such lock, and two processes writing one
// directory leave it unreadable. This is the same idea, kept beside the directory.
import { open, readFile, unlink } from 'node:fs/promises';

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
        await file.writeFile(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      return async () => {
        // Only remove it if it is still ours.
        if ((await readPid(path)) === process.pid) await unlink(path).catch(() => {});
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = await readPid(path);
      if (pid !== undefined && isAlive(pid)) {
        throw new Error(
          `PGlite data directory ${dir} is in use by process ${pid} (see ${path}). ` +
            'PGlite allows one process per directory: stop that process, or use Postgres ' +
            'to share a database between processes.',
        );
      }
      await unlink(path).catch(() => {}); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${path}`);
}

async function readPid(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}
