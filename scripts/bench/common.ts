// What every benchmark script shares: the repository root, `--name value` flags, free ports and
// starting/stopping the servers under test.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The value after `--name` on the command line, or `dflt`. */
export function arg(name: string, dflt: string): string {
  const args = process.argv.slice(2);
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
}

/** A TCP port nothing listens on right now (loopback). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `fn` until it answers true (errors count as not yet), for up to `timeoutMs`. */
export async function waitFor(fn: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {}
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Starts a server process from the repository root; its stderr is drained so it never blocks. */
export function launch(cmd: string, argv: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const c = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env });
  c.stderr?.resume();
  return c;
}

/** SIGTERM, then SIGKILL after 3 s. */
export async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  await new Promise<void>((r) => {
    c.once('exit', () => r());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 3000).unref();
  });
}

/**
 * CPU-seconds a process has used (utime + stime from /proc, in USER_HZ ticks of 1/100 s), with its
 * waited-for children's when `children`; NaN where /proc cannot tell (the process is gone, not Linux).
 */
export function cpuSeconds(pid: number | undefined, children = false): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name: utime is the 14th of the line, stime the 15th, then cutime, cstime
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    const own = Number(rest[11]) + Number(rest[12]);
    return (children ? own + Number(rest[13]) + Number(rest[14]) : own) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * An embedded API server in a process of its own (this tree's CLI through tsx, no CRDs) on a
 * fresh temporary data directory: resolves once it prints its URL.
 */
export async function spawnApiServer(sync: 'full' | 'normal'): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-bench-'));
  const args = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'apiserver', '--data-dir', dir, '--port', '0'];
  const child = spawn(process.execPath, [...args, '--sync', sync, '--no-crds', '--log-level', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /server: (https:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`apiserver exited (${c})`)));
  });
  return { child, url, dir };
}
