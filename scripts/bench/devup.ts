// `ferrite dev up` at scale: the whole stack (API server, Ironic, BMC emulator, controllers —
// each its own process) brings a fleet of hosts from nothing to `available`. A baseline run with
// --baseline-hosts (default 10) runs first and the big one (--hosts, default 100) is printed
// beside it: wall time, time per host, and each component's peak RSS (VmHWM), with ratios.
// Writes bench-results/devup.json (or --out FILE). Measures; asserts no speed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { arg, ROOT } from './common.js';

const HOSTS = Number(arg('--hosts', '100'));
const BASELINE = Number(arg('--baseline-hosts', '10'));
const OUT = arg('--out', join(ROOT, 'bench-results', 'devup.json'));
const TIMEOUT = Number(arg('--timeout', '1500'));

interface Run {
  hosts: number;
  wallS: number;
  perHostS: number;
  peakRssMiB: Record<string, number>;
  totalPeakRssMiB: number;
}

function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function once(hosts: number): Run {
  const dir = mkdtempSync(join(tmpdir(), `ferrite-bench-devup-${hosts}-`));
  const cli = [join(ROOT, 'dist', 'cli', 'main.js')];
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [
      ...cli,
      'dev',
      'up',
      '--hosts',
      String(hosts),
      '--no-cluster',
      '--no-dashboard',
      '--port',
      '0',
      '--data-dir',
      dir,
      '--timeout',
      String(TIMEOUT),
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const wallS = (Date.now() - started) / 1000;
  const peak: Record<string, number> = {};
  try {
    const state = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as { components: Record<string, { pid: number }> };
    for (const [name, c] of Object.entries(state.components)) peak[name] = peakRssMiB(c.pid);
  } catch {
    // no state: the run failed before any component started; reported below
  }
  spawnSync(process.execPath, [...cli, 'dev', 'down', '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(r.stdout.split('\n').slice(-15).join('\n'), r.stderr);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`dev up with ${hosts} hosts failed (exit ${r.status})`);
  }
  rmSync(dir, { recursive: true, force: true });
  const total = Object.values(peak).reduce((a, b) => a + b, 0);
  return { hosts, wallS, perHostS: wallS / hosts, peakRssMiB: peak, totalPeakRssMiB: total };
}

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const base = once(BASELINE);
const big = once(HOSTS);
const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : 'n/a');
const rows: Array<[string, string, string, string]> = [
  ['', `${BASELINE} hosts (baseline)`, `${HOSTS} hosts`, 'ratio'],
  ['wall time to all available (s)', base.wallS.toFixed(1), big.wallS.toFixed(1), ratio(big.wallS, base.wallS)],
  ['wall time per host (s)', base.perHostS.toFixed(2), big.perHostS.toFixed(2), ratio(big.perHostS, base.perHostS)],
  ...Object.keys(big.peakRssMiB).map(
    (c) =>
      [
        `peak RSS ${c} (MiB)`,
        String(base.peakRssMiB[c] ?? 0),
        String(big.peakRssMiB[c]),
        ratio(big.peakRssMiB[c], base.peakRssMiB[c] ?? 0),
      ] as [string, string, string, string],
  ),
  ['peak RSS total (MiB)', String(base.totalPeakRssMiB), String(big.totalPeakRssMiB), ratio(big.totalPeakRssMiB, base.totalPeakRssMiB)],
];
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ benchmark: 'dev-up', date: new Date().toISOString(), baseline: base, run: big }, null, 2)}\n`);
console.log(`wrote ${OUT}`);
