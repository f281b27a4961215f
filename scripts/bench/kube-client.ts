// The controllers' Kubernetes client on its own: CPU per request of provider/kube/client.ts for
// the calls a reconciler makes (a GET, a LIST by label, a merge PATCH, an Event POST, in turn;
// `--concurrency` at once, default 4, as a controller's workers), measured on this tree and, side
// by side, on a baseline tree (`--baseline-ref`, default b4fdc32 — the client issue 24 profiled,
// which opened a new TLS connection for every call). The baseline is checked out with
// `git worktree` into a temporary directory sharing this tree's node_modules, and the same load
// script (scripts/bench/kube-client-load.ts, copied in) drives its client. Each run gets a fresh
// embedded API server of this tree, so only the client differs; the server's CPU per request is
// printed too (a handshake costs both ends). Writes bench-results/kube-client.json (or --out FILE).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { arg, cpuSeconds, ROOT, spawnApiServer, stop } from './common.js';

const REQUESTS = Number(arg('--requests', '4000'));
const CONCURRENCY = Number(arg('--concurrency', '4'));
const BASELINE_REF = arg('--baseline-ref', 'b4fdc32');
const OUT = arg('--out', join(ROOT, 'bench-results', 'kube-client.json'));

interface Result {
  tree: string;
  requests: number;
  requestsPerSecond: number;
  clientCpuMsPerRequest: number;
  serverCpuMsPerRequest: number;
}

async function apiServer(): Promise<{ child: ChildProcess; kubeconfig: string; dir: string }> {
  const { child, dir } = await spawnApiServer('normal');
  return { child, dir, kubeconfig: join(dir, 'kubeconfig') };
}

/** Runs the load script of `tree` against a fresh API server; its client's and the server's CPU. */
async function measure(tree: string, label: string): Promise<Result> {
  const s = await apiServer();
  try {
    const serverPid = s.child.pid as number;
    let cpu0 = 0;
    // the server's CPU is read around the measured calls only: the load script says when it starts
    const out = await new Promise<string>((resolve, reject) => {
      const c = spawn(
        process.execPath,
        ['--import', 'tsx', join(tree, 'scripts', 'bench', 'kube-client-load.ts'), s.kubeconfig, String(REQUESTS), String(CONCURRENCY)],
        { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let text = '';
      c.stdout.on('data', (d) => {
        text += d;
        if (text.includes('measuring\n') && cpu0 === 0) cpu0 = cpuSeconds(serverPid);
      });
      c.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${label} load exited ${code}:\n${text}`))));
    });
    const serverCpuS = cpuSeconds(serverPid) - cpu0;
    const r = JSON.parse(out.trim().split('\n').pop() as string) as { requests: number; wallMs: number; cpuMs: number };
    return {
      tree: label,
      requests: r.requests,
      requestsPerSecond: Math.round((r.requests / r.wallMs) * 1000),
      clientCpuMsPerRequest: r.cpuMs / r.requests,
      serverCpuMsPerRequest: (serverCpuS * 1000) / r.requests,
    };
  } finally {
    await stop(s.child);
    rmSync(s.dir, { recursive: true, force: true });
  }
}

function baselineTree(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-baseline-'));
  try {
    execFileSync('git', ['-C', ROOT, 'worktree', 'add', '--detach', dir, BASELINE_REF], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`--baseline-ref ${BASELINE_REF} needs a git checkout that has that commit: ${(e as Error).message}`);
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  copyFileSync(join(ROOT, 'scripts', 'bench', 'kube-client-load.ts'), join(dir, 'scripts', 'bench', 'kube-client-load.ts'));
  return {
    dir,
    remove: () => {
      execFileSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const loadStart = loadavg()[0];
const base = baselineTree();
let results: Result[];
try {
  // baseline first, then this tree, so a machine that warms up does not favour this tree
  results = [await measure(base.dir, `baseline (${BASELINE_REF})`), await measure(ROOT, 'this tree')];
} finally {
  base.remove();
}
const [b, n] = results;
const fmt = (x: number) => (x >= 10 ? x.toFixed(0) : x.toFixed(3));
const rows: Array<[string, number, number]> = [
  ['requests per second', b.requestsPerSecond, n.requestsPerSecond],
  ['client CPU-ms per request', b.clientCpuMsPerRequest, n.clientCpuMsPerRequest],
  ['API server CPU-ms per request', b.serverCpuMsPerRequest, n.serverCpuMsPerRequest],
];
console.log(`${''.padEnd(32)}${b.tree.padStart(22)}${n.tree.padStart(14)}   ratio`);
for (const [k, x, y] of rows) console.log(`${k.padEnd(32)}${fmt(x).padStart(22)}${fmt(y).padStart(14)}   ${(y / x).toFixed(3)}`);
const loadEnd = loadavg()[0];
console.log(
  `${REQUESTS} requests, ${CONCURRENCY} at a time; load average ${loadStart.toFixed(2)} at start, ${loadEnd.toFixed(2)} at end (${cpus().length} cores)`,
);
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      benchmark: 'kube-client',
      date: new Date().toISOString(),
      requests: REQUESTS,
      concurrency: CONCURRENCY,
      loadAverage: { start: loadStart, end: loadEnd },
      baseline: b,
      run: n,
      ratios: {
        clientCpuPerRequest: n.clientCpuMsPerRequest / b.clientCpuMsPerRequest,
        serverCpuPerRequest: n.serverCpuMsPerRequest / b.serverCpuMsPerRequest,
      },
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${OUT}`);
