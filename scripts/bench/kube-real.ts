// `ferrite dev up` on the embedded API server (the baseline) beside `dev up --kube real` (etcd +
// kube-apiserver + kube-controller-manager from scripts/install-kube.sh): the time to all hosts
// available (and, with --cluster, a Running cluster), the CPU each component used to get there,
// and the CPU each uses over an idle window after. Printed side by side with ratios; writes
// bench-results/kube-real.json (or --out FILE). Measures; asserts no speed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { arg, ROOT } from './common.js';

const HOSTS = Number(arg('--hosts', '3'));
const IDLE_S = Number(arg('--idle', '60'));
const CLUSTER = arg('--cluster', 'yes') !== 'no';
const OUT = arg('--out', join(ROOT, 'bench-results', 'kube-real.json'));
const TICKS = 100; // USER_HZ on Linux

interface Run {
  kube: 'embedded' | 'real';
  wallS: number;
  /** CPU seconds per component (with its child processes) from start to all up */
  upCpuS: Record<string, number>;
  /** CPU seconds per component over the idle window */
  idleCpuS: Record<string, number>;
}

/** CPU seconds (user + system) of pid and every process below it. */
function treeCpuS(root: number): number {
  const parent = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      cpu.set(Number(d), (Number(f[11]) + Number(f[12])) / TICKS);
    } catch {
      // gone meanwhile
    }
  }
  let sum = 0;
  for (const [pid, s] of cpu) {
    let p: number | undefined = pid;
    while (p && p !== root) p = parent.get(p);
    if (p === root) sum += s;
  }
  return sum;
}

function components(dir: string): Record<string, number> {
  const state = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as { components: Record<string, { pid: number }> };
  return Object.fromEntries(Object.entries(state.components).map(([n, c]) => [n, c.pid]));
}

async function once(kube: 'embedded' | 'real'): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `ferrite-bench-kube-${kube}-`));
  const cli = [join(ROOT, 'dist', 'cli', 'main.js')];
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      ...cli,
      'dev',
      'up',
      '--kube',
      kube,
      '--hosts',
      String(HOSTS),
      ...(CLUSTER ? [] : ['--no-cluster']),
      '--no-dashboard',
      '--port',
      '0',
      '--data-dir',
      dir,
    ],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const wallS = (Date.now() - started) / 1000;
  try {
    if (r.status !== 0) {
      console.error(r.stdout.split('\n').slice(-15).join('\n'), r.stderr);
      throw new Error(`dev up --kube ${kube} failed (exit ${r.status})`);
    }
    const pids = components(dir);
    const upCpuS = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, treeCpuS(p)]));
    await new Promise((res) => setTimeout(res, IDLE_S * 1000));
    const idleCpuS = Object.fromEntries(Object.entries(pids).map(([n, p]) => [n, treeCpuS(p) - upCpuS[n]]));
    return { kube, wallS, upCpuS, idleCpuS };
  } finally {
    spawnSync(process.execPath, [...cli, 'dev', 'down', '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
  }
}

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const base = await once('embedded');
const real = await once('real');
const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : 'n/a');
const what = CLUSTER ? `${HOSTS} hosts available and a cluster Running` : `${HOSTS} hosts available`;
const rows: Array<[string, string, string, string]> = [
  ['', 'embedded (baseline)', 'real kube-apiserver', 'ratio'],
  [`dev up: ${what} (s)`, base.wallS.toFixed(1), real.wallS.toFixed(1), ratio(real.wallS, base.wallS)],
];
for (const c of Object.keys(real.upCpuS))
  rows.push([
    `CPU to get there: ${c} (s)`,
    (base.upCpuS[c] ?? 0).toFixed(1),
    real.upCpuS[c].toFixed(1),
    ratio(real.upCpuS[c], base.upCpuS[c] ?? 0),
  ]);
for (const c of Object.keys(real.idleCpuS))
  rows.push([
    `CPU idle ${IDLE_S} s: ${c} (s)`,
    (base.idleCpuS[c] ?? 0).toFixed(2),
    real.idleCpuS[c].toFixed(2),
    ratio(real.idleCpuS[c], base.idleCpuS[c] ?? 0),
  ]);
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
console.log('(apiserver: the embedded server, or etcd + kube-apiserver + kube-controller-manager under `kube serve`)');
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify({ benchmark: 'kube-real', date: new Date().toISOString(), hosts: HOSTS, cluster: CLUSTER, idleS: IDLE_S, baseline: base, run: real }, null, 2)}\n`,
);
console.log(`wrote ${OUT}`);
