#!/usr/bin/env node
// Runs every unit test (`*.test.ts` beside the code) and cross-tier test (`test/**/*.test.ts`)
// with node's test runner and prints the closing `N passed, N failed` line CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

const filter = process.argv.slice(2);
const files = find(root)
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter', join(root, 'scripts', 'test-reporter.mjs'), '--test-reporter-destination', 'stdout', ...files],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FERRITE_ROOT: root } },
);
process.exit(r.status ?? 1);
