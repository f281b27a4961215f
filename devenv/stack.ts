// The one-machine stack behind `ferrite dev up` and `ferrite scenario run`: each component
// (API server, Ironic, BMC emulator, the host controllers, the cluster controllers, the dashboard)
// is its own `ferrite` process with its log in
// the data directory, recorded in dev.json so `dev status`, `dev down` and a scenario's
// "restart" step (kill -9, then start again with the same flags) can find it.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../lib/dir-lock.js';

export const COMPONENTS = ['apiserver', 'ironic', 'bmc', 'controllers', 'cluster-api', 'dashboard'] as const;
export type ComponentName = (typeof COMPONENTS)[number];

export interface ComponentState {
  pid: number;
  args: string[];
  log: string;
  startedAt: string;
  /** an HTTP(S) URL answering below 500 when the component is up, or `log:<text>` once its log says so */
  health: string;
  /** the log's size when this run started: a `log:` health check reads only what follows */
  logOffset?: number;
}

export interface StackState {
  dataDir: string;
  kubeconfig: string;
  /** true when the API server is Ferrite's embedded one (started here) */
  embedded: boolean;
  /** true when the API server is a real kube-apiserver started here (`dev up --kube real`) */
  realKube?: boolean;
  ironicUrl: string;
  ironicHttpUrl: string;
  redfishUrl: string;
  /** `ferrite dashboard`, when dev up started it */
  dashboardUrl?: string;
  namespace: string;
  components: Partial<Record<ComponentName, ComponentState>>;
}

export class StackError extends Error {
  constructor(
    readonly reason: 'AlreadyRunning' | 'NotRunning' | 'ComponentFailed' | 'Timeout' | 'PortInUse' | 'StaleState',
    message: string,
  ) {
    super(message);
    this.name = 'StackError';
  }
}

const here = fileURLToPath(import.meta.url);
/** The ferrite CLI entry beside this module (dist/cli/main.js when built, cli/main.ts under tsx). */
const CLI = resolve(here, '..', '..', 'cli', here.endsWith('.ts') ? 'main.ts' : 'main.js');
/** The checkout this module runs from (dist/ sits one level deeper than the sources). */
export const CHECKOUT = resolve(here, '..', '..', ...(here.endsWith('.ts') ? [] : ['..']));

export const stateFile = (dir: string) => join(dir, 'dev.json');

export function readState(dir: string): StackState | null {
  const f = stateFile(dir);
  if (!existsSync(f)) return null;
  return JSON.parse(readFileSync(f, 'utf8')) as StackState;
}

/** Written whole to a temp file and renamed: a crash never leaves half a state file. */
export function writeState(s: StackState): void {
  const f = stateFile(s.dataDir);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${f}.tmp`, f);
}

export const alive = processAlive;

/**
 * Whether `pid` is still this environment's component `name`: alive, and started by launch() (its
 * environment names the component). A pid the kernel gave to another process since is not ours —
 * `dev down` must not signal it, nor `dev up` take it for a running environment.
 */
export function componentAlive(name: string, pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`FERRITE_COMPONENT=${name}`);
  } catch {
    return true; // no /proc (or not ours to read): trust the pid
  }
}

// Ports handed out are bound later, often by another process (a workload cluster's API server
// binds its endpoint minutes later, inside the emulator). They come from below the kernel's
// ephemeral range, so no listen(0) or outgoing connection anywhere can take them meanwhile, and
// one is never handed out twice by this process.
const issuedPorts = new Set<number>();

// Processes on one machine (test files run three at a time, each with its own stack) could each
// find the same port free before either binds it, so a port handed out is also reserved
// machine-wide: a file per port under <tmpdir>/ferrite-ports holding the pid, exclusive to create,
// taken over once that process is gone, removed when this one exits.
export const RESERVED_DIR = join(tmpdir(), 'ferrite-ports');
const reservedHere: string[] = [];

export function reservePort(port: number): boolean {
  const f = join(RESERVED_DIR, `tcp-${port}`);
  const claim = () => {
    writeFileSync(f, String(process.pid), { flag: 'wx' });
    if (reservedHere.length === 0)
      process.once('exit', () => {
        for (const r of reservedHere) rmSync(r, { force: true });
      });
    reservedHere.push(f);
    return true;
  };
  try {
    mkdirSync(RESERVED_DIR, { recursive: true });
    return claim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no shared temp dir: this process's own bookkeeping only
  }
  try {
    const owner = Number(readFileSync(f, 'utf8'));
    // an empty file is a reservation being written this moment
    if (!Number.isInteger(owner) || owner <= 0 || processAlive(owner)) return false;
    rmSync(f, { force: true });
    return claim(); // a second process taking the same stale file over loses the exclusive create
  } catch {
    return false;
  }
}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo > 0 && hi >= lo) return [lo, hi];
  } catch {
    // not Linux: IANA's dynamic range
  }
  return [49152, 65535];
}

export function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, host, () => s.close(() => res(true)));
  });
}

export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const [lo] = ephemeralRange();
  const [min, max] = lo > 12000 ? [10000, lo - 1] : [ephemeralRange()[1] + 1, 65535];
  for (let tries = 0; tries < 200; tries++) {
    const p = min + Math.floor(Math.random() * (max - min + 1));
    if (issuedPorts.has(p) || !(await tcpFree(p, host)) || !reservePort(p)) continue;
    issuedPorts.add(p);
    return p;
  }
  throw new StackError('ComponentFailed', `no free TCP port found on ${host} between ${min} and ${max}`);
}

export function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((res) => {
    const s = createSocket('udp4');
    s.once('error', () => res(false));
    s.bind(port, host, () => s.close(() => res(true)));
  });
}

/** A run of n free UDP ports for the fleet's IPMI BMCs (machine i gets base + i). */
export async function freeUdpRange(n: number, host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20000 + Math.floor(Math.random() * (40000 - n));
    let ok = true;
    for (let i = 0; i < n && ok; i++) ok = await udpFree(base + i, host);
    if (ok) return base;
  }
  throw new StackError('ComponentFailed', `no run of ${n} free UDP ports found for the IPMI BMCs`);
}

/** Starts `ferrite <args>` detached, logging to <dataDir>/logs/<name>.log. */
export function launch(dataDir: string, name: ComponentName, args: string[]): { child: ChildProcess; log: string } {
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const log = join(logs, `${name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(process.execPath, [...process.execArgv, CLI, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, FERRITE_COMPONENT: name },
  });
  child.unref();
  return { child, log };
}

async function probe(url: string, ca?: string): Promise<boolean> {
  const { request } = await import(url.startsWith('https:') ? 'node:https' : 'node:http');
  return new Promise((res) => {
    const req = request(url, { timeout: 2000, rejectUnauthorized: false, ca }, (r: import('node:http').IncomingMessage) => {
      r.resume();
      // 401 counts as up: the server answered and only wants credentials
      res((r.statusCode ?? 500) < 500);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Waits until the component answers its health URL; fails at once if the process exits. */
export async function waitHealthy(name: string, c: ComponentState, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (!alive(c.pid))
      throw new StackError('ComponentFailed', `${name} exited during start: ${exitReason(c.log, c.logOffset ?? 0)} (log: ${c.log})`);
    if (c.health.startsWith('log:') ? logSays(c.log, c.logOffset ?? 0, c.health.slice(4)) : await probe(c.health)) return;
    await sleep(150);
  }
  throw new StackError('Timeout', `${name} did not become healthy at ${c.health} within ${timeoutMs / 1000}s; see ${c.log}`);
}

function logSays(file: string, offset: number, text: string): boolean {
  try {
    return readFileSync(file).subarray(offset).toString('utf8').includes(text);
  } catch {
    return false;
  }
}

/**
 * Why a component exited, from what it logged during this start: its CLI error line, else the
 * last error-level log event, else its last line.
 */
export function exitReason(file: string, offset = 0): string {
  let lines: string[];
  try {
    lines = readFileSync(file).subarray(offset).toString('utf8').trimEnd().split('\n').filter(Boolean);
  } catch {
    return 'it wrote no log';
  }
  const cli = lines.findLast((l) => l.startsWith('ferrite: error: '));
  if (cli) return cli.slice('ferrite: error: '.length);
  const err = lines.findLast((l) => /\b(ERROR|FATAL|error|fatal)\b/.test(l));
  return (err ?? lines.at(-1) ?? 'it wrote nothing to its log').trim();
}

export async function startComponent(
  s: StackState,
  name: ComponentName,
  args: string[],
  health: string,
  timeoutMs = 60_000,
): Promise<ComponentState> {
  const logFile = join(s.dataDir, 'logs', `${name}.log`);
  const logOffset = existsSync(logFile) ? statSync(logFile).size : 0;
  const { child, log } = launch(s.dataDir, name, args);
  const c: ComponentState = { pid: child.pid ?? -1, args, log, startedAt: new Date().toISOString(), health, logOffset };
  s.components[name] = c;
  writeState(s);
  await waitHealthy(name, c, timeoutMs);
  return c;
}

/** kill -9 (or SIGTERM) a component, then start it again with the flags it had. */
export async function restartComponent(
  s: StackState,
  name: ComponentName,
  signal: 'SIGKILL' | 'SIGTERM' = 'SIGKILL',
  downForMs = 0,
  say: (what: string) => void = () => {},
): Promise<void> {
  const c = s.components[name];
  if (!c) throw new StackError('NotRunning', `${name} is not part of this environment`);
  await stopPid(c.pid, signal);
  if (downForMs > 0) {
    say(`${name} stopped; down for ${downForMs / 1000}s`);
    await sleep(downForMs);
  }
  await startComponent(s, name, c.args, c.health, name === 'apiserver' && s.realKube ? 180_000 : 60_000);
}

/**
 * Stops a component. SIGKILL takes its whole process group (launch() makes each component a group
 * leader), as a crash would: `kube serve`'s etcd and kube-apiserver go with it. SIGTERM goes to the
 * component alone, which stops its own children; whatever is left after the grace time is killed.
 */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 10_000): Promise<void> {
  if (!alive(pid)) return;
  const killGroup = () => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // not a group leader (or its group is gone)
    }
  };
  try {
    if (signal === 'SIGKILL') killGroup();
    process.kill(pid, signal);
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (alive(pid) && Date.now() < end) await sleep(50);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await sleep(50);
  killGroup();
}

/** Stops every component, controllers first (they must not act on a half-stopped stack). */
export async function stopStack(s: StackState): Promise<void> {
  for (const name of [...COMPONENTS].reverse()) {
    const c = s.components[name];
    if (c && componentAlive(name, c.pid)) await stopPid(c.pid);
  }
}
