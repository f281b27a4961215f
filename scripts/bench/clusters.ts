// Many single-node clusters at once, the shape of CAPM3's scalability test (one cluster per
// namespace, one control plane machine, no workers) and of the metal3.io "1000 clusters" runs
// (about 48 hours for 1000 on 24 cores: ~21 clusters/hour). The whole stack runs as `ferrite dev up`
// runs it (four processes) with the machines' clock accelerated (--time-scale, default 100); each
// cluster gets its own BareMetalHost and metal3-dev-env's templates with CONTROL_PLANE_MACHINE_COUNT=1
// and WORKER_MACHINE_COUNT=0, and counts as done when its Machine runs and its Node is Ready.
// A baseline (--baseline-clusters, default 10) runs first; the big run (--clusters, default 100)
// is printed beside it: clusters/hour, CPU-seconds per host (all four processes, user + system)
// and peak RSS per component. Then the steady state: for --steady SECONDS (default 60) after all
// are Running, each component's CPU per Running cluster per minute — what an idle cluster keeps
// costing (kubelet heartbeats, controller resyncs). Writes bench-results/clusters.json (or --out FILE).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { TEMPLATE_NETWORK, TEMPLATES_DIR } from '../../devenv/cluster.js';
import { freeTcpPort, type StackState } from '../../devenv/stack.js';
import { applyObject, ensureNamespace, fleetAddresses, IRONIC_AUTH_DIR, ironicAuthFiles } from '../../devenv/up.js';
import { fleetManifests } from '../../emulator/fleet/manifests.js';
import { KubeClient, type KubeObject } from '../../provider/kube/client.js';
import { substitute } from '../../scenarios/format.js';
import { metricSamples, requestCounts } from '../../test/helpers/apiserver.js';
import { arg, cpuSeconds, ROOT } from './common.js';

const CLUSTERS = Number(arg('--clusters', '100'));
const BASELINE = Number(arg('--baseline-clusters', '10'));
const TIME_SCALE = arg('--time-scale', '100');
const OUT = arg('--out', join(ROOT, 'bench-results', 'clusters.json'));
const TIMEOUT_S = Number(arg('--timeout', '3600'));
const STEADY_S = Number(arg('--steady', '60'));
/** a directory: the big run's components write V8 CPU profiles there, named for the component */
const CPU_PROF = arg('--cpu-prof', '');
// keep the big run's data dir (logs, databases) for a look at what was slow
const KEEP = process.argv.includes('--keep');
const CREATE_CONCURRENCY = Number(arg('--create-concurrency', '8'));
const CLI = [join(ROOT, 'dist', 'cli', 'main.js')];

interface Run {
  clusters: number;
  wallS: number;
  clustersPerHour: number;
  cpuSecondsPerHost: number;
  /** CPU-seconds per host to Running, by component */
  cpuSecondsPerHostBy: Record<string, number>;
  /** after all are Running: CPU-milliseconds per Running cluster per minute, by component */
  steadyCpuMsPerClusterMinuteBy: Record<string, number>;
  steadyCpuMsPerClusterMinute: number;
  /** what the management API server was asked per Running cluster-minute in the steady state, by verb and resource */
  steadyRequestsPerClusterMinute: Record<string, number>;
  /** management API requests while the clusters came up, and the controllers' CPU-ms per request */
  buildRequests: number;
  /** those calls per cluster, by verb and resource */
  buildRequestsPerCluster: Record<string, number>;
  controllersCpuMsPerRequest: number;
  /** seconds from the start until each cluster's Machine was Running: median, 90th, 99th percentile, max */
  timeToRunningS: { p50: number; p90: number; p99: number; max: number };
  /** the clusters that took longest, and how long */
  slowest: Array<{ namespace: string; seconds: number }>;
  /** times an emulated Node's Ready turned Unknown (its kubelet's Lease went stale) during the run */
  nodeUnknownFlaps: number;
  peakRssMiB: Record<string, number>;
  totalPeakRssMiB: number;
  /** Ironic's worker pool while the clusters came up: what held it (tasks, worker-seconds) and how often it was full */
  ironicWorkers: IronicWorkers | null;
}

interface IronicWorkers {
  pool: number;
  refusals: number;
  byTask: Record<string, { tasks: number; workerSeconds: number }>;
}

/** Ironic's conductor metrics (dev up serves them behind its Basic auth); null, with a word why, when they cannot be read. */
async function ironicWorkers(url: string, dir: string): Promise<IronicWorkers | null> {
  try {
    const auth = ironicAuthFiles(join(dir, IRONIC_AUTH_DIR));
    const r = await fetch(`${url}/metrics`, {
      headers: { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` },
    });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const text = await r.text();
    const one = (name: string) => metricSamples(text, name)[0]?.value ?? Number.NaN;
    const byTask: IronicWorkers['byTask'] = {};
    const task = (t: string) => {
      byTask[t] ??= { tasks: 0, workerSeconds: 0 };
      return byTask[t];
    };
    for (const s of metricSamples(text, 'ironic_conductor_tasks_total')) task(s.labels.task).tasks = s.value;
    for (const s of metricSamples(text, 'ironic_conductor_task_worker_seconds_total'))
      task(s.labels.task).workerSeconds = +s.value.toFixed(1);
    return { pool: one('ironic_conductor_workers'), refusals: one('ironic_conductor_worker_refusals_total'), byTask };
  } catch (e) {
    console.log(`Ironic's worker metrics could not be read at ${url}/metrics: ${(e as Error).message}`);
    return null;
  }
}

// a component's own CPU and its waited-for children's; 0 once it is gone
const componentCpuSeconds = (pid: number) => cpuSeconds(pid, true) || 0;

function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function image(): Buffer {
  const seed = createHash('sha256').update('ferrite-bench-node-image').digest();
  const b = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < b.length; i += seed.length) seed.copy(b, i);
  return b;
}

async function once(n: number, steadyS: number, profileDir = '', keep = false): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), `ferrite-bench-clusters-${n}-`));
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  // dev up starts its components with its own node flags (NODE_OPTIONS may not carry --cpu-prof):
  // each writes its profile when it exits
  const prof = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
  const up = spawnSync(
    process.execPath,
    [
      ...prof,
      ...CLI,
      'dev',
      'up',
      '--hosts',
      String(n),
      '--no-register',
      '--no-dashboard',
      '--time-scale',
      TIME_SCALE,
      '--port',
      '0',
      '--data-dir',
      dir,
      '--timeout',
      '0',
      // the operator looks at a busy Ironic node every 2 s in dev up (small fleets move on faster);
      // with more than 100 hosts busy at once it keeps upstream's 10 s, or its polls alone would
      // keep a core busy (650 busy hosts at 2 s: 325 reconciles and Ironic reads a second)
      '--poll-interval',
      String(n > 100 ? 10 : 2),
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (up.status !== 0) throw new Error(`dev up failed: ${up.stdout}\n${up.stderr}`);
  const state = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as StackState & { components: Record<string, { pid: number }> };
  const pids = Object.fromEntries(Object.entries(state.components).map(([k, c]) => [k, (c as { pid: number }).pid]));
  const cpuBy = () => Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, componentCpuSeconds(p)]));
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  const cpu0 = cpuBy();
  const client = KubeClient.fromFile(state.kubeconfig);
  const req0 = await requestCounts(client);
  const img = image();
  const imgPath = join(dir, 'ironic', 'httpboot', 'images', 'node-k8s-v1.36.0.img');
  mkdirSync(dirname(imgPath), { recursive: true });
  writeFileSync(imgPath, img);
  const sha = createHash('sha256').update(img).digest('hex');
  const { addrs } = fleetAddresses(state);
  const started = Date.now();
  // each cluster's API endpoint port, distinct even when two are picked at once
  const ports = new Set<number>();
  const endpointPort = async () => {
    for (;;) {
      const p = await freeTcpPort();
      if (!ports.has(p)) {
        ports.add(p);
        return p;
      }
    }
  };
  const createCluster = async (i: number) => {
    const ns = `bench-${String(i).padStart(3, '0')}`;
    await ensureNamespace(client, ns);
    for (const d of parseAllDocuments(fleetManifests([addrs[i]], { protocol: 'redfish-virtualmedia', namespace: ns }))) {
      await applyObject(client, d.toJS() as KubeObject);
    }
    const vars: Record<string, string> = {
      NAMESPACE: ns,
      CLUSTER_NAME: `c${i}`,
      ...TEMPLATE_NETWORK,
      CLUSTER_APIENDPOINT_PORT: String(await endpointPort()),
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '0',
      KUBERNETES_VERSION: 'v1.36.0',
      NODE_DRAIN_TIMEOUT: '0',
      SSH_PUB_KEY_CONTENT: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFerriteBenchKey ferrite@bench',
      IMAGE_URL: `${state.ironicHttpUrl}/images/node-k8s-v1.36.0.img`,
      IMAGE_CHECKSUM: sha,
      IMAGE_CHECKSUM_TYPE: 'sha256',
      IMAGE_FORMAT: 'raw',
    };
    for (const f of ['cluster.yaml', 'controlplane.yaml', 'workers.yaml']) {
      for (const d of parseAllDocuments(substitute(readFileSync(join(TEMPLATES_DIR, 'v1beta2', f), 'utf8'), vars, f))) {
        const o = d.toJS() as KubeObject | null;
        if (o) await applyObject(client, o);
      }
    }
  };
  try {
    // clusters are handed in CREATE_CONCURRENCY at a time, as a user's script or CAPM3's scale test
    // would: one at a time, the client's round trips (≈ 0.3 s a cluster) would set the pace
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(CREATE_CONCURRENCY, n) }, async () => {
        while (next < n) await createCluster(next++);
      }),
    );
    // done: every cluster's one Machine Running (its Node found by providerID, so Ready)
    const runningAt = new Map<string, number>();
    for (;;) {
      const ms = await client.list<KubeObject & { status?: { phase?: string } }>('cluster.x-k8s.io/v1beta2', 'Machine');
      for (const m of ms.items)
        if (m.status?.phase === 'Running' && !runningAt.has(String(m.metadata?.namespace)))
          runningAt.set(String(m.metadata?.namespace), (Date.now() - started) / 1000);
      const running = ms.items.filter((m) => m.status?.phase === 'Running').length;
      process.stdout.write(`\r${n} clusters: ${running} running after ${((Date.now() - started) / 1000).toFixed(0)}s   `);
      if (running >= n) break;
      if (Date.now() - started > TIMEOUT_S * 1000) throw new Error(`only ${running} of ${n} clusters came up within ${TIMEOUT_S}s`);
      await sleep(2_000);
    }
    process.stdout.write('\n');
    const wallS = (Date.now() - started) / 1000;
    const times = [...runningAt.values()].sort((a, b) => a - b);
    const pct = (q: number) => +times[Math.min(times.length - 1, Math.floor(q * times.length))].toFixed(1);
    const timeToRunningS = { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: +times[times.length - 1].toFixed(1) };
    const slowest = [...runningAt.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([namespace, seconds]) => ({ namespace, seconds: +seconds.toFixed(1) }));
    const cpu1 = cpuBy();
    const workers = await ironicWorkers(state.ironicUrl, dir);
    const reqBuilt = await requestCounts(client);
    const buildRequests = sum(reqBuilt) - sum(req0);
    const buildRequestsPerCluster = Object.fromEntries(
      Object.entries(reqBuilt)
        .map(([k, v]) => [k, +((v - (req0[k] ?? 0)) / n).toFixed(1)] as const)
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]),
    );
    const cpuTo = Object.fromEntries(Object.keys(pids).map((k) => [k, (cpu1[k] - cpu0[k]) / n]));
    const peak = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, peakRssMiB(p)]));
    let steady: Record<string, number> = {};
    let requests: Record<string, number> = {};
    if (steadyS > 0) {
      process.stdout.write(`${n} clusters Running: measuring the steady state for ${steadyS}s\n`);
      const t0 = Date.now();
      const r0 = await requestCounts(client);
      await sleep(steadyS * 1000);
      const cpu2 = cpuBy();
      const r1 = await requestCounts(client);
      const minutes = (Date.now() - t0) / 60_000;
      steady = Object.fromEntries(Object.keys(pids).map((k) => [k, ((cpu2[k] - cpu1[k]) * 1000) / n / minutes]));
      requests = Object.fromEntries(
        Object.entries(r1)
          .map(([k, v]) => [k, +((v - (r0[k] ?? 0)) / n / minutes).toFixed(2)] as const)
          .filter(([, v]) => v > 0)
          .sort((a, b) => b[1] - a[1]),
      );
    }
    return {
      clusters: n,
      wallS,
      clustersPerHour: (n / wallS) * 3600,
      cpuSecondsPerHost: sum(cpuTo),
      cpuSecondsPerHostBy: cpuTo,
      steadyCpuMsPerClusterMinuteBy: steady,
      steadyCpuMsPerClusterMinute: sum(steady),
      steadyRequestsPerClusterMinute: requests,
      timeToRunningS,
      slowest,
      nodeUnknownFlaps: unknownFlaps(dir),
      buildRequests,
      buildRequestsPerCluster,
      // both controller processes: the Bare Metal Operator's and Cluster API's
      controllersCpuMsPerRequest: +(
        ((cpu1.controllers - cpu0.controllers + (cpu1['cluster-api'] ?? 0) - (cpu0['cluster-api'] ?? 0)) * 1000) /
        Math.max(1, buildRequests)
      ).toFixed(3),
      peakRssMiB: peak,
      totalPeakRssMiB: Object.values(peak).reduce((a, b) => a + b, 0),
      ironicWorkers: workers,
    };
  } finally {
    spawnSync(process.execPath, [...CLI, 'dev', 'down', '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' });
    if (profileDir) nameProfiles(profileDir, pids);
    if (keep) console.log(`kept the run's data dir: ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** How often the emulator's node lifecycle loop turned a Node's Ready Unknown (it logs each). */
function unknownFlaps(dir: string): number {
  try {
    return readFileSync(join(dir, 'logs', 'bmc.log'), 'utf8').split('Ready=Unknown').length - 1;
  } catch {
    return Number.NaN;
  }
}

/** CPU.<date>.<time>.<pid>.<thread>.<n>.cpuprofile → <component>.cpuprofile; dev up's own (short-lived) profiles go. */
function nameProfiles(profileDir: string, pids: Record<string, number>): void {
  const byPid = new Map(Object.entries(pids).map(([k, p]) => [p, k]));
  for (const f of readdirSync(profileDir)) {
    const m = /^CPU\.\d+\.\d+\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f);
    if (!m) continue;
    const component = byPid.get(Number(m[1]));
    if (component) renameSync(join(profileDir, f), join(profileDir, `${component}.cpuprofile`));
    else rmSync(join(profileDir, f));
  }
  console.log(`CPU profiles in ${profileDir}: ${readdirSync(profileDir).join(', ') || 'none written'}`);
}

const loadStart = loadavg().map((x) => +x.toFixed(2));
const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
// the baseline's steady state is a per-minute rate too: a minute of it is enough
const base = await once(BASELINE, Math.min(STEADY_S, 60));
const big = await once(CLUSTERS, STEADY_S, CPU_PROF, KEEP);
const ratio = (a: number, b: number) => (b ? (a / b).toFixed(2) : 'n/a');
const rows: Array<[string, string, string, string]> = [
  ['', `${BASELINE} clusters (baseline)`, `${CLUSTERS} clusters`, 'ratio'],
  ['wall time to all Running (s)', base.wallS.toFixed(1), big.wallS.toFixed(1), ratio(big.wallS, base.wallS)],
  ['clusters per hour', base.clustersPerHour.toFixed(0), big.clustersPerHour.toFixed(0), ratio(big.clustersPerHour, base.clustersPerHour)],
  [
    'CPU-seconds per host',
    base.cpuSecondsPerHost.toFixed(2),
    big.cpuSecondsPerHost.toFixed(2),
    ratio(big.cpuSecondsPerHost, base.cpuSecondsPerHost),
  ],
  ...Object.keys(big.cpuSecondsPerHostBy).map(
    (c) =>
      [
        `  of which ${c}`,
        (base.cpuSecondsPerHostBy[c] ?? 0).toFixed(2),
        big.cpuSecondsPerHostBy[c].toFixed(2),
        ratio(big.cpuSecondsPerHostBy[c], base.cpuSecondsPerHostBy[c] ?? 0),
      ] as [string, string, string, string],
  ),
  ...(STEADY_S > 0
    ? [
        [
          'steady CPU-ms per cluster-minute',
          base.steadyCpuMsPerClusterMinute.toFixed(0),
          big.steadyCpuMsPerClusterMinute.toFixed(0),
          ratio(big.steadyCpuMsPerClusterMinute, base.steadyCpuMsPerClusterMinute),
        ] as [string, string, string, string],
        ...Object.keys(big.steadyCpuMsPerClusterMinuteBy).map(
          (c) =>
            [
              `  of which ${c}`,
              (base.steadyCpuMsPerClusterMinuteBy[c] ?? 0).toFixed(0),
              big.steadyCpuMsPerClusterMinuteBy[c].toFixed(0),
              ratio(big.steadyCpuMsPerClusterMinuteBy[c], base.steadyCpuMsPerClusterMinuteBy[c] ?? 0),
            ] as [string, string, string, string],
        ),
      ]
    : []),
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
  ['API requests while coming up', String(base.buildRequests), String(big.buildRequests), ratio(big.buildRequests, base.buildRequests)],
  [
    'controllers CPU-ms per API request',
    base.controllersCpuMsPerRequest.toFixed(2),
    big.controllersCpuMsPerRequest.toFixed(2),
    ratio(big.controllersCpuMsPerRequest, base.controllersCpuMsPerRequest),
  ],
  ...(['p50', 'p90', 'p99', 'max'] as const).map(
    (q) =>
      [
        `a cluster's time to Running, ${q} (s)`,
        String(base.timeToRunningS[q]),
        String(big.timeToRunningS[q]),
        ratio(big.timeToRunningS[q], base.timeToRunningS[q]),
      ] as [string, string, string, string],
  ),
  ['Nodes turned Ready=Unknown', String(base.nodeUnknownFlaps), String(big.nodeUnknownFlaps), ''],
];
const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
if (STEADY_S > 0) {
  const top = Object.entries(big.steadyRequestsPerClusterMinute).slice(0, 10);
  console.log(
    `steady state, management API server requests per Running cluster-minute (${CLUSTERS} clusters): ${top.map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`,
  );
}
console.log(
  `management API requests per cluster while coming up (${CLUSTERS} clusters): ${Object.entries(big.buildRequestsPerCluster)
    .slice(0, 12)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`,
);
if (big.ironicWorkers) {
  const w = big.ironicWorkers;
  const held = Object.entries(w.byTask).sort((a, b) => b[1].workerSeconds - a[1].workerSeconds);
  console.log(
    `Ironic's ${w.pool} workers while ${CLUSTERS} clusters came up: ${w.refusals} refusals (503 NoFreeConductorWorker); worker-seconds per host by task: ${held
      .map(([t, v]) => `${t} ${(v.workerSeconds / CLUSTERS).toFixed(1)} (${v.tasks} tasks)`)
      .join(', ')}`,
  );
}
console.log(`slowest clusters (${CLUSTERS}): ${big.slowest.map((c) => `${c.namespace} ${c.seconds}s`).join(', ')}`);
if (STEADY_S > 0)
  console.log(
    `steady state, the whole stack with ${CLUSTERS} idle clusters: ${((big.steadyCpuMsPerClusterMinute * CLUSTERS) / 600).toFixed(1)} % of one core`,
  );
const loadEnd = loadavg().map((x) => +x.toFixed(2));
console.log(`load average (1, 5, 15 min): ${loadStart.join(' ')} at the start, ${loadEnd.join(' ')} at the end (${cpus().length} cores)`);
console.log(
  `anchor: upstream's 1000-cluster run took ~48 h on 24 cores (~21 clusters/hour); this run: ${big.clustersPerHour.toFixed(0)} clusters/hour at time scale ${TIME_SCALE} on this machine`,
);
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      benchmark: 'clusters',
      date: new Date().toISOString(),
      timeScale: Number(TIME_SCALE),
      cores: cpus().length,
      loadavg: { start: loadStart, end: loadEnd },
      baseline: base,
      run: big,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${OUT}`);
