// One process per data directory: a second server on the same state would interleave writes to
// the same files (two emulators each saving its own view of a machine). The lock is a pid file
// created exclusively; a lock whose process is gone (killed -9) is taken over.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DirLockedError extends Error {
  readonly reason = 'DirLocked';
  constructor(
    readonly dir: string,
    readonly pid: number,
    what: string,
  ) {
    super(`${dir} is in use by another ${what} (pid ${pid}): stop it first, or give this one another --data-dir`);
    this.name = 'DirLockedError';
  }
}

/** Whether a process with this pid exists (EPERM: it does, but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `dir`'s lock for this process (released by the returned function and at exit). */
export function lockDir(dir: string, what: string): () => void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'lock.pid');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      const release = () => {
        try {
          if (Number(readFileSync(file, 'utf8').trim()) === process.pid) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let pid = Number.NaN;
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch {
        // removed meanwhile: try again
      }
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) throw new DirLockedError(dir, pid, what);
      // a stale lock (its process died without releasing it), or a half-written one
      rmSync(file, { force: true });
    }
  }
  throw new Error(`could not take the lock ${file}`);
}
