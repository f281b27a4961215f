// Ironic benchmark, side by side with OpenStack Ironic (pip; all-in-one `ironic` process, SQLite,
// fake-hardware, noauth): both get the same requests from the same load generator.
//  - node list latency with N nodes (default 1,000): GET /v1/nodes (what `baremetal node list`
//    asks) and GET /v1/nodes/detail, sequentially, p50/p99;
//  - enroll→available throughput: manage then provide every node, until all are available;
//  - available→active throughput: deploy every node, until all are active.
// Prints ratios and writes bench-results/ironic.json (or --out FILE). Needs
// `bash scripts/bench/install-ironic.sh` (OpenStack Ironic in .peers/ironic).
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { arg, freePort, launch, ROOT, stop, waitFor } from './common.js';
import { openstackIronicConf } from './openstack-ironic.js';

const NODES = Number(arg('--nodes', '1000'));
const FLOW_NODES = Number(arg('--flow-nodes', '200'));
const LIST_ITERATIONS = Number(arg('--list-iterations', '30'));
const CONCURRENCY = Number(arg('--concurrency', '16'));
const OUT = arg('--out', join(ROOT, 'bench-results', 'ironic.json'));
const VENV = arg('--ironic-venv', join(ROOT, '.peers', 'ironic', 'bin'));
const VERSION = '1.110';

if (!existsSync(join(VENV, 'ironic'))) {
  console.error(`bench: OpenStack Ironic not found in ${VENV}; run \`bash scripts/bench/install-ironic.sh\` first`);
  process.exit(1);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * One request. A keep-alive socket the server closed while idle fails with ECONNRESET / "socket
 * hang up" before any answer (OpenStack Ironic's WSGI server does this under load): such a request
 * is sent again on a fresh socket, up to 3 times.
 */
async function call(
  port: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await callOnce(port, method, path, body);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt >= 3 || (code !== 'ECONNRESET' && code !== 'EPIPE')) throw e;
    }
  }
}

function callOnce(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          'X-OpenStack-Ironic-API-Version': VERSION,
          Accept: 'application/json',
          ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const t = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            json = t ? JSON.parse(t) : {};
          } catch {}
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

interface Target {
  name: string;
  port: number;
}

interface Result {
  createPerSecond: number;
  listP50ms: number;
  listP99ms: number;
  listDetailP50ms: number;
  listDetailP99ms: number;
  enrollToAvailablePerSecond: number;
  availableToActivePerSecond: number;
  errors: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))].toFixed(2);
};

/** Fires `target` at every node, retrying 409s (a node is briefly locked), then waits for `want`. */
async function transitionAll(t: Target, uuids: string[], target: string, want: string, counter: { errors: number }): Promise<number> {
  const started = performance.now();
  await pool(uuids, CONCURRENCY, async (u) => {
    for (let attempt = 0; ; attempt++) {
      const r = await call(t.port, 'PUT', `/v1/nodes/${u}/states/provision`, { target });
      if (r.status === 202) return;
      if (r.status === 409 || r.status === 503) {
        await new Promise((res) => setTimeout(res, 20));
        continue;
      }
      counter.errors++;
      if (attempt > 3) return;
    }
  });
  const pending = new Set(uuids);
  for (;;) {
    const r = await call(t.port, 'GET', '/v1/nodes?fields=uuid,provision_state&limit=1000');
    for (const n of r.json.nodes as Array<{ uuid: string; provision_state: string }>)
      if (n.provision_state === want) pending.delete(n.uuid);
    const page = r.json.next as string | undefined;
    if (page) {
      // more than one page: follow it (NODES > 1000)
      let next: string | undefined = page;
      while (next) {
        const u = new URL(next);
        const p = await call(t.port, 'GET', `${u.pathname}${u.search}`);
        for (const n of p.json.nodes as Array<{ uuid: string; provision_state: string }>)
          if (n.provision_state === want) pending.delete(n.uuid);
        next = p.json.next as string | undefined;
      }
    }
    if (pending.size === 0) break;
    if (performance.now() - started > 600_000) throw new Error(`${t.name}: ${pending.size} nodes never reached ${want}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return +(uuids.length / ((performance.now() - started) / 1000)).toFixed(1);
}

async function run(t: Target): Promise<Result> {
  const counter = { errors: 0 };
  process.stdout.write(`${t.name}: creating ${NODES} fake-hardware nodes\n`);
  const uuids: string[] = [];
  const t0 = performance.now();
  await pool(
    Array.from({ length: NODES }, (_, i) => i),
    CONCURRENCY,
    async (i) => {
      const r = await call(t.port, 'POST', '/v1/nodes', {
        driver: 'fake-hardware',
        name: `bench-${i}`,
        properties: { cpus: 8, memory_mb: 16384 },
      });
      if (r.status === 201) uuids.push(String(r.json.uuid));
      else counter.errors++;
    },
  );
  const createPerSecond = +(NODES / ((performance.now() - t0) / 1000)).toFixed(1);
  const time = async (path: string) => {
    const lat: number[] = [];
    await call(t.port, 'GET', path);
    for (let i = 0; i < LIST_ITERATIONS; i++) {
      const s = performance.now();
      const r = await call(t.port, 'GET', path);
      lat.push(performance.now() - s);
      if (r.status !== 200 || (r.json.nodes as unknown[]).length < Math.min(NODES, 1000)) counter.errors++;
    }
    return lat;
  };
  process.stdout.write(`${t.name}: node list ×${LIST_ITERATIONS}\n`);
  const list = await time('/v1/nodes');
  const detail = await time('/v1/nodes/detail');
  const flow = uuids.slice(0, FLOW_NODES);
  process.stdout.write(`${t.name}: enroll → available for ${flow.length} nodes\n`);
  const t1 = performance.now();
  await transitionAll(t, flow, 'manage', 'manageable', counter);
  await transitionAll(t, flow, 'provide', 'available', counter);
  const enrollToAvailablePerSecond = +(flow.length / ((performance.now() - t1) / 1000)).toFixed(1);
  process.stdout.write(`${t.name}: available → active for ${flow.length} nodes\n`);
  const availableToActivePerSecond = await transitionAll(t, flow, 'active', 'active', counter);
  return {
    createPerSecond,
    listP50ms: pct(list, 50),
    listP99ms: pct(list, 99),
    listDetailP50ms: pct(detail, 50),
    listDetailP99ms: pct(detail, 99),
    enrollToAvailablePerSecond,
    availableToActivePerSecond,
    errors: counter.errors,
  };
}

function ironicConf(dir: string, port: number): string {
  const ifaces = ['bios', 'boot', 'console', 'deploy', 'firmware', 'inspect', 'management', 'power', 'raid', 'rescue', 'vendor'];
  return openstackIronicConf({
    dir,
    port,
    hardwareTypes: ['fake-hardware'],
    interfaces: Object.fromEntries(ifaces.map((k) => [k, ['fake']])),
    // the periodic power sync would otherwise compete with the measured work
    syncPowerStateInterval: -1,
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-bench-ironic-'));
  const [ferritePort, ferriteHttp, ironicPort] = [await freePort(), await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const results: Record<string, Result> = {};
  try {
    const ferrite = launch(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'cli', 'main.ts'),
      'ironic',
      '--data-dir',
      join(dir, 'ferrite'),
      '--port',
      String(ferritePort),
      '--http-port',
      String(ferriteHttp),
      '--power-sync-interval',
      '0',
      '--log-level',
      'error',
    ]);
    children.push(ferrite);
    await waitFor(async () => (await call(ferritePort, 'GET', '/v1')).status === 200, 'ferrite ironic');
    results.ferrite = await run({ name: 'Ferrite', port: ferritePort });
    await stop(ferrite);

    const odir = join(dir, 'openstack');
    mkdirSync(odir, { recursive: true });
    const conf = join(odir, 'ironic.conf');
    writeFileSync(conf, ironicConf(odir, ironicPort));
    const sync = spawnSync(join(VENV, 'ironic-dbsync'), ['--config-file', conf, 'create_schema'], { encoding: 'utf8' });
    if (sync.status !== 0) throw new Error(`ironic-dbsync failed: ${sync.stderr}`);
    const ironic = launch(join(VENV, 'ironic'), ['--config-file', conf]);
    children.push(ironic);
    await waitFor(async () => (await call(ironicPort, 'GET', '/v1')).status === 200, 'OpenStack Ironic', 120_000);
    results.openstack = await run({ name: 'OpenStack Ironic', port: ironicPort });
  } finally {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
  const f = results.ferrite;
  const o = results.openstack;
  const ratio = (a: number, b: number) => +(a / b).toFixed(1);
  const summary = {
    listLatencyRatio: ratio(o.listP50ms, f.listP50ms),
    listDetailLatencyRatio: ratio(o.listDetailP50ms, f.listDetailP50ms),
    enrollToAvailableRatio: ratio(f.enrollToAvailablePerSecond, o.enrollToAvailablePerSecond),
    availableToActiveRatio: ratio(f.availableToActivePerSecond, o.availableToActivePerSecond),
    createRatio: ratio(f.createPerSecond, o.createPerSecond),
  };
  const row = (name: string, r: Result) =>
    `  ${name.padEnd(17)} create ${String(r.createPerSecond).padStart(7)}/s   list p50 ${r.listP50ms.toFixed(1).padStart(7)} ms p99 ${r.listP99ms.toFixed(1).padStart(7)} ms   detail p50 ${r.listDetailP50ms.toFixed(1).padStart(7)} ms   enroll→available ${String(r.enrollToAvailablePerSecond).padStart(6)}/s   available→active ${String(r.availableToActivePerSecond).padStart(6)}/s   errors ${r.errors}`;
  const met = Math.min(summary.listLatencyRatio, summary.enrollToAvailableRatio, summary.availableToActiveRatio) >= 5;
  process.stdout.write(
    [
      '',
      `${NODES} nodes; flows over ${FLOW_NODES} nodes; ${CONCURRENCY} concurrent clients`,
      row('Ferrite', f),
      row('OpenStack Ironic', o),
      '',
      `node list: ${summary.listLatencyRatio}× faster (detail ${summary.listDetailLatencyRatio}×); enroll→available ${summary.enrollToAvailableRatio}×; available→active ${summary.availableToActiveRatio}×; node create ${summary.createRatio}×`,
      `target ≥ 5× OpenStack Ironic on all three: ${met ? 'met' : 'NOT met'}`,
      '',
    ].join('\n'),
  );
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, nodes: NODES, flowNodes: FLOW_NODES, concurrency: CONCURRENCY, results, summary }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${OUT}\n`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
