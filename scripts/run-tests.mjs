#!/usr/bin/env node
// Runs every unit test (`*.test.ts` beside the code) and cross-tier test (`test/**/*.test.ts`)
// with node's test runner and prints the closing `N passed, N failed` line CI reads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(import.meta.url), '..', '..');
const skip = new Set(['node_modules', 'dist', 'coverage', '.git', '.ferrite']);

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

// Each run records how long each file took (outside the clone, so CI's fresh clone on the same
// machine has it); the next run starts the longest files first, so that with more than one file at
// a time (FERRITE_TEST_CONCURRENCY) the long ones do not end up running alone at the end.
const cacheDir = process.env.FERRITE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'ferrite');
const durationsFile = join(cacheDir, 'test-durations.json');
let known = {};
try {
  known = JSON.parse(readFileSync(durationsFile, 'utf8'));
} catch {
  // first run on this machine: alphabetical order
}
// Most test time is spent waiting (simulated machines, VMs booting, timeouts): three files at a
// time keep two cores busy without starving any (measured: 48 min at one, 20 at three, same results)
const concurrency = Math.max(1, Number(process.env.FERRITE_TEST_CONCURRENCY ?? 3) || 1);
const filter = process.argv.slice(2);
const files = find(root)
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort()
  // unknown files count as long: better started early than left for last
  .sort((a, b) => (known[b] ?? 600_000) - (known[a] ?? 600_000));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const countsDir = mkdtempSync(join(tmpdir(), 'ferrite-tests-'));
const countsFile = join(countsDir, 'counts.json');
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-force-exit',
    `--test-concurrency=${concurrency}`,
    // per test file as well as per test: the cluster scenarios file runs ~15 minutes
    '--test-timeout=1800000',
    '--test-reporter',
    join(root, 'scripts', 'test-reporter.mjs'),
    '--test-reporter-destination',
    'stdout',
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FERRITE_ROOT: root, FERRITE_TEST_COUNTS: countsFile } },
);
let counts = { passed: 0, failed: 0, skipped: 0 };
try {
  counts = JSON.parse(readFileSync(countsFile, 'utf8'));
} catch {
  // the runner died before reporting anything
}
rmSync(countsDir, { recursive: true, force: true });
const durations = Object.entries(counts.files ?? {})
  .map(([file, ms]) => [relative(root, file), ms])
  .sort((a, b) => b[1] - a[1]);
if (durations.length) {
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(durationsFile, JSON.stringify({ ...known, ...Object.fromEntries(durations) }, null, 1));
  } catch {
    // a read-only home: the next run is ordered alphabetically, nothing worse
  }
  const total = durations.reduce((t, [, ms]) => t + ms, 0);
  console.log(`\ntest file durations (top-level tests and suites, slowest first; ${(total / 1000).toFixed(0)} s in all):`);
  for (const [file, ms] of durations) console.log(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${file}`);
}
const status = r.status ?? 1;
// a crash outside any test (a file that fails to load) counts as a failure too
if (status !== 0 && counts.failed === 0) counts.failed = 1;
console.log(`\n${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`);
process.exit(status);
