// Long-running `ferrite` commands in tests, as a user runs them: each in its own process group
// (so etcd and kube-apiserver under `kube serve` go with it), its output kept in a log file, ready
// when a line matches, and always stopped (SIGTERM, then SIGKILL) by stop().
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './apiserver.js';

export interface FerriteProcess {
  child: ChildProcess;
  log: string;
  output(): string;
  stop(): Promise<void>;
}

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
/** what the container images run (their entrypoint is `node /app/dist/cli/main.js`) */
const BUILT = join(ROOT, 'dist', 'cli', 'main.js');

export async function startFerrite(
  args: string[],
  o: { log: string; ready: RegExp; env?: NodeJS.ProcessEnv; timeoutMs?: number; built?: boolean },
): Promise<FerriteProcess> {
  if (o.built && !existsSync(BUILT)) throw new Error(`${BUILT} is missing: run npm run build`);
  const fd = openSync(o.log, 'a');
  const child = spawn(process.execPath, o.built ? [BUILT, ...args] : [...CLI, ...args], {
    cwd: ROOT,
    env: o.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true,
  });
  closeSync(fd);
  const output = () => {
    try {
      return readFileSync(o.log, 'utf8');
    } catch {
      return '';
    }
  };
  let exited: number | null = null;
  child.on('exit', (code) => {
    exited = code ?? -1;
  });
  const stop = async () => {
    if (exited !== null || child.pid === undefined) return;
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    await gone;
    clearTimeout(t);
  };
  const end = Date.now() + (o.timeoutMs ?? 120_000);
  while (!o.ready.test(output())) {
    if (exited !== null) throw new Error(`ferrite ${args.slice(0, 2).join(' ')} exited with ${exited}:\n${output().slice(-3000)}`);
    if (Date.now() > end) {
      await stop();
      throw new Error(`ferrite ${args.slice(0, 2).join(' ')} was not ready in time:\n${output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, log: o.log, output, stop };
}
