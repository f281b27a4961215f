// API server benchmark: small-object writes/s, write latency p50/p99, watch events/s delivered
// to 10 watchers (and whether every event arrived), and server RSS per 10,000 objects.
// Each metric is measured on the default durable configuration (--sync full: fsync per group
// commit) and, side by side, on a baseline run with --sync normal (no fsync), and printed as
// ratios. Results go to bench-results/apiserver.json (or --out FILE).
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { dirname, join } from 'node:path';
import { arg, cpuSeconds, ROOT, spawnApiServer } from './common.js';

const WRITES = Number(arg('--writes', '10000'));
const CONCURRENCY = Number(arg('--concurrency', '16'));
const WATCHERS = 10;
const OUT = arg('--out', join(ROOT, 'bench-results', 'apiserver.json'));

interface Server {
  child: ChildProcess;
  url: string;
  ca: string;
  token: string;
  agent: Agent;
  dir: string;
}

async function launch(sync: 'full' | 'normal'): Promise<Server> {
  const { child, url, dir } = await spawnApiServer(sync);
  return {
    child,
    url,
    dir,
    ca: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
    token: readFileSync(join(dir, 'pki', 'token'), 'utf8').trim(),
    agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY + 4 }),
  };
}

function call(s: Server, method: string, path: string, body?: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      new URL(path, s.url),
      {
        method,
        agent: s.agent,
        ca: s.ca,
        headers: {
          authorization: `Bearer ${s.token}`,
          'content-type': 'application/json',
          ...(data ? { 'content-length': Buffer.byteLength(data) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function openWatch(s: Server, onEvent: (type: string, name: string) => void): () => void {
  const req = request(new URL('/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=' + '0', s.url), {
    ca: s.ca,
    headers: { authorization: `Bearer ${s.token}` },
  });
  req.on('response', (res) => {
    let buf = '';
    res.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line) {
          const ev = JSON.parse(line) as { type: string; object: { metadata: { name: string } } };
          onEvent(ev.type, ev.object.metadata.name);
        }
        i = buf.indexOf('\n');
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** CPU seconds (user + system) the process has used: fields 14 and 15 of /proc/PID/stat. */
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(sync: 'full' | 'normal') {
  const s = await launch(sync);
  try {
    // warm up (JIT, connections)
    for (let i = 0; i < 200; i++)
      await call(s, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: `warm-${i}` }, data: { a: 'b' } });
    await new Promise((r) => setTimeout(r, 300));
    const rssBefore = rssKiB(s.child.pid as number);
    const received = Array.from({ length: WATCHERS }, () => new Set<string>());
    const closers = received.map((set) => openWatch(s, (type, name) => type === 'ADDED' && name.startsWith('obj-') && set.add(name)));
    await new Promise((r) => setTimeout(r, 300));
    const latencies: number[] = [];
    let next = 0;
    let failed = 0;
    let rssMid = 0;
    const cpu0 = cpuSeconds(s.child.pid as number);
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const i = next++;
          if (i >= WRITES) return;
          if (i === WRITES / 2) rssMid = rssKiB(s.child.pid as number);
          const st = performance.now();
          const r = await call(s, 'POST', '/api/v1/namespaces/default/configmaps', {
            metadata: { name: `obj-${i}`, labels: { app: 'bench', shard: String(i % 16) } },
            data: { key: `value-${i}`, other: 'x'.repeat(64) },
          });
          latencies.push(performance.now() - st);
          if (r.status !== 201) failed++;
        }
      }),
    );
    const writeSecs = (performance.now() - t0) / 1000;
    const serverCpu = cpuSeconds(s.child.pid as number) - cpu0;
    // wait for fan-out to finish
    const deadline = Date.now() + 30_000;
    while (received.some((x) => x.size < WRITES) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const deliverSecs = (performance.now() - t0) / 1000;
    for (const c of closers) c();
    await new Promise((r) => setTimeout(r, 500));
    const rssAfter = rssKiB(s.child.pid as number);
    latencies.sort((a, b) => a - b);
    const delivered = received.reduce((a, x) => a + x.size, 0);
    return {
      sync,
      writes: WRITES,
      failedWrites: failed,
      writesPerSec: WRITES / writeSecs,
      // the client shares the machine's 2 cores: server CPU per write says what one core sustains
      serverCpuMsPerWrite: (serverCpu * 1000) / WRITES,
      writesPerServerCoreSecond: WRITES / serverCpu,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      watchers: WATCHERS,
      watchEventsDelivered: delivered,
      watchEventsExpected: WRITES * WATCHERS,
      watchEventsPerSec: delivered / deliverSecs,
      // the slope over the second half excludes one-off heap growth (young generation, JIT)
      rssBytesPerObject: ((rssAfter - rssMid) * 1024) / (WRITES / 2),
      rssKiBPer10kObjects: ((rssAfter - rssMid) * 10_000) / (WRITES / 2),
      rssGrowthKiBTotal: rssAfter - rssBefore,
    };
  } finally {
    s.child.kill('SIGKILL');
    s.agent.destroy();
    rmSync(s.dir, { recursive: true, force: true });
  }
}

const baseline = await run('normal');
const durable = await run('full');
const row = (name: string, key: keyof typeof durable, unit: string, higherBetter: boolean) => {
  const d = Number(durable[key]);
  const b = Number(baseline[key]);
  const ratio = b === 0 ? Number.NaN : d / b;
  console.log(
    `${name.padEnd(28)} ${d.toFixed(2).padStart(12)} ${unit.padEnd(8)} baseline ${b.toFixed(2).padStart(12)}   ratio ${ratio.toFixed(2)}${higherBetter ? '' : ' (lower is better)'}`,
  );
};
console.log(`Ferrite API server benchmark: ${WRITES} small ConfigMap creates, ${CONCURRENCY} concurrent clients, ${WATCHERS} watchers`);
console.log('durable = --sync full (fsync per group commit); baseline = --sync normal (no fsync)\n');
row('writes/s', 'writesPerSec', '/s', true);
row('server CPU per write', 'serverCpuMsPerWrite', 'ms', false);
row('writes per server core-second', 'writesPerServerCoreSecond', '/s', true);
row('write latency p50', 'p50Ms', 'ms', false);
row('write latency p99', 'p99Ms', 'ms', false);
row('watch events/s (10 watchers)', 'watchEventsPerSec', '/s', true);
row('RSS per 10,000 objects', 'rssKiBPer10kObjects', 'KiB', false);
const targets = {
  writesPerSec: { target: 2000, met: durable.writesPerSec >= 2000 },
  writesPerServerCoreSecond: { target: 2000, met: durable.writesPerServerCoreSecond >= 2000 },
  rssBytesPerObject: { target: 5120, met: durable.rssBytesPerObject <= 5120 },
  everyWatchEventDelivered: { met: durable.watchEventsDelivered === durable.watchEventsExpected },
};
console.log(
  `\ntargets: writes/s >= 2000: ${targets.writesPerSec.met ? 'met' : 'MISSED'} (server alone, per core: ${targets.writesPerServerCoreSecond.met ? 'met' : 'MISSED'}); RSS <= 5 KB/object: ${targets.rssBytesPerObject.met ? 'met' : 'MISSED'}; every watch event delivered: ${targets.everyWatchEventDelivered.met ? 'yes' : `NO (${durable.watchEventsDelivered}/${durable.watchEventsExpected})`}`,
);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify({ date: new Date().toISOString(), node: process.version, durable, baseline, targets }, null, 2)}\n`);
console.log(`wrote ${OUT}`);
