// Where a component's CPU went: reads V8 .cpuprofile files (from `bench:clusters --cpu-prof DIR`
// or `node --cpu-prof`) and prints the functions with the most self time, and the files and
// packages they live in. Usage: tsx scripts/bench/profile-top.ts FILE.cpuprofile... [--top N]
// Hand-written: a profile is a node tree with sample counts; no package summarises it headless.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { arg } from './common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const TOP = Number(arg('--top', '15'));
// only the profile's last S seconds: the steady state after a run, not the run
const LAST_S = Number(arg('--last', '0'));
const files = process.argv.slice(2).filter((a, i, all) => a.endsWith('.cpuprofile') && !['--top', '--last'].includes(all[i - 1]));
if (files.length === 0) {
  console.error('usage: tsx scripts/bench/profile-top.ts FILE.cpuprofile... [--top N] [--last SECONDS]');
  process.exit(2);
}

/** Where code lives, coarsely: a package under node_modules, a file of ours, or V8/Node's own. */
function place(url: string): string {
  if (!url) return '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url;
  const ours = /\/(dist|src)?\/?((?:provider|emulator|lib|cli|devenv|scenarios)\/.*)$/.exec(url);
  return ours ? ours[2] : url;
}

for (const f of files) {
  const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  // self time per node: each sample's time delta belongs to the node it hit
  const self = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // sample i was taken at startTime + the sum of deltas up to i
  let t = p.startTime;
  const from = LAST_S > 0 ? p.endTime - LAST_S * 1e6 : Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) {
    t += deltas[i] ?? 0;
    if (t >= from) self.set(samples[i], (self.get(samples[i]) ?? 0) + (deltas[i] ?? 0));
  }
  const byFn = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const n of p.nodes) {
    const us = self.get(n.id) ?? 0;
    const { functionName, url, lineNumber } = n.callFrame;
    if (functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const key = `${functionName || '(anonymous)'} ${place(url)}${url ? `:${lineNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    byPlace.set(place(url), (byPlace.get(place(url)) ?? 0) + us);
  }
  // a library's or Node's time charged to the nearest caller of ours: which of our code asked for it
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const ours = (n: ProfileNode) =>
    /\/(provider|emulator|lib|cli|devenv|scenarios|dashboard)\//.test(n.callFrame.url) && !n.callFrame.url.includes('node_modules');
  const byCaller = new Map<string, number>();
  for (const [id, us] of self) {
    let n = byId.get(id);
    if (!n || n.callFrame.functionName === '(idle)') continue;
    while (n && !ours(n)) n = byId.get(parent.get(n.id) ?? -1);
    const key = n
      ? `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`
      : '(no caller of ours)';
    byCaller.set(key, (byCaller.get(key) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5)} %`;
  const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  const window = LAST_S > 0 ? ` in the last ${LAST_S} s` : '';
  console.log(`\n${basename(f)}: ${(busy / 1e6).toFixed(1)} s busy, ${(idle / 1e6).toFixed(1)} s idle${window}`);
  console.log('  self time by function');
  for (const [k, us] of top(byFn)) console.log(`  ${pct(us)}  ${k}`);
  console.log('  self time by file or package');
  for (const [k, us] of top(byPlace)) console.log(`  ${pct(us)}  ${k}`);
  console.log('  time by the nearest function of ours on the stack');
  for (const [k, us] of top(byCaller)) console.log(`  ${pct(us)}  ${k}`);
}
