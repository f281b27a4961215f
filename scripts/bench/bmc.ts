// BMC emulator benchmark, side by side with the upstream emulators it replaces:
//  - Redfish: GET of a ComputerSystem (what Ironic polls most) from N keep-alive clients against
//    `ferrite bmc serve` and sushy-tools' sushy-emulator (fake driver): requests/s and p50/p99.
//  - IPMI: Get Chassis Status round trips (`ipmitool power status`) over S concurrent lanplus
//    sessions (cipher suite 3) against Ferrite and pyghmi's fakebmc: round trips/s and p99.
//  - IPMI sessions as Ironic's ipmitool driver makes them: a real `ipmitool -I lanplus … power
//    status` per command (Get Channel Auth Capabilities, cipher suites, RAKP 1–4, privilege, the
//    command, Close Session), 4 at a time, against Ferrite and pyghmi: server CPU per session.
//  - Ironic's power sync at N BMCs (--sync-bmcs, default 1000): `ferrite bmc serve --machines N`,
//    every BMC asked `power status` once per round by 8 workers (Ironic's sync_power_state_workers),
//    with the emulator's idle CPU before it, CPU per session, round time and RSS. Ferrite only:
//    pyghmi's fakebmc is one process per BMC.
// Each server runs in its own process; the load generator is the same for both. Prints the ratios
// and writes bench-results/bmc.json (or --out FILE). Needs scripts/install-peers.sh first.
import type { ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { IpmiClient } from '../../lib/ipmi/client.js';
import { ipmitool as runIpmitool } from '../../test/helpers/bmc.js';
import { arg, cpuSeconds, freePort, launch, ROOT, stop, waitFor } from './common.js';

const SECONDS = Number(arg('--seconds', '8'));
const CONCURRENCY = Number(arg('--concurrency', '16'));
const SESSIONS = Number(arg('--sessions', '8'));
const IPMITOOL_SESSIONS = Number(arg('--ipmitool-sessions', '300'));
const SYNC_BMCS = Number(arg('--sync-bmcs', '1000'));
const SYNC_ROUNDS = Number(arg('--sync-rounds', '2'));
const OUT = arg('--out', join(ROOT, 'bench-results', 'bmc.json'));
const VENV = join(ROOT, '.peers', 'venv', 'bin');

if (!existsSync(join(VENV, 'sushy-emulator'))) {
  console.error('bench: run `bash scripts/install-peers.sh` first (needs sushy-tools and pyghmi in .peers/venv)');
  process.exit(1);
}

function get(agent: Agent, port: number, path: string, auth?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: auth ? { authorization: auth } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Result {
  ops: number;
  /** server process CPU time per operation, µs (from /proc) */
  serverCpuUsPerOp?: number;
  perSecond: number;
  p50ms: number;
  p99ms: number;
  errors: number;
}

/** utime+stime of a process in ms (Linux /proc; NaN elsewhere). */
const cpuMs = (pid: number | undefined) => cpuSeconds(pid) * 1000;

async function measured(server: ChildProcess, load: () => Promise<Result>): Promise<Result> {
  const c0 = cpuMs(server.pid);
  const r = await load();
  r.serverCpuUsPerOp = +(((cpuMs(server.pid) - c0) * 1000) / Math.max(1, r.ops)).toFixed(1);
  return r;
}

function summarize(lat: number[], errors: number, secs: number): Result {
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))] ?? Number.NaN;
  return { ops: lat.length, perSecond: Math.round(lat.length / secs), p50ms: +q(0.5).toFixed(3), p99ms: +q(0.99).toFixed(3), errors };
}

async function loadRedfish(port: number, path: string, auth?: string): Promise<Result> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  for (let i = 0; i < 200; i++) await get(agent, port, path, auth); // warm-up
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          const r = await get(agent, port, path, auth);
          if (r.status !== 200) errors++;
          else lat.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  return summarize(lat, errors, SECONDS);
}

async function loadIpmi(port: number): Promise<Result> {
  const clients = Array.from(
    { length: SESSIONS },
    () => new IpmiClient({ host: '127.0.0.1', port, username: 'admin', password: 'password', cipherSuite: 3, timeoutMs: 3000 }),
  );
  for (const c of clients) await c.open();
  for (const c of clients) for (let i = 0; i < 20; i++) await c.command(0x00, 0x01); // warm-up
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await c.command(0x00, 0x01);
          lat.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  for (const c of clients) await c.close();
  return summarize(lat, errors, SECONDS);
}

/** One `ipmitool -I lanplus -C 3 … power status`: a whole session, as Ironic's ipmitool driver runs each command. */
async function ipmitool(port: number): Promise<boolean> {
  const r = await runIpmitool(port, ['power', 'status'], { cipher: 3 });
  return r.code === 0 && r.stdout.includes('Chassis Power is');
}

/** `total` ipmitool sessions spread over `ports`, `workers` at a time: per-session latency. */
async function ipmitoolSessions(ports: number[], total: number, workers: number): Promise<Result> {
  const lat: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) {
        const port = ports[next++ % ports.length];
        const s = performance.now();
        if (await ipmitool(port)) lat.push(performance.now() - s);
        else errors++;
      }
    }),
  );
  return summarize(lat, errors, (performance.now() - t0) / 1000);
}

/** A base port with `n` free UDP ports after it (bound and released one by one to check). */
async function freeUdpRange(n: number): Promise<number> {
  const free = (p: number) =>
    new Promise<boolean>((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind(p, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  for (let base = 20000 + Math.floor(Math.random() * 20) * 1000; base < 60000; base += 1000 + n) {
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await free(p);
    if (ok) return base;
  }
  throw new Error(`no ${n} consecutive free UDP ports`);
}

const rssMiB = (pid: number | undefined) => {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);
  } catch {
    return Number.NaN;
  }
};

interface SyncResult {
  bmcs: number;
  startS: number;
  idleCpuMsPerBmcMinute: number;
  rounds: Array<Result & { wallS: number }>;
  serverCpuUsPerSession: number;
  rssMiB: number;
}

/** Ironic's power-sync pattern against one emulator with `n` BMCs. */
async function powerSync(dir: string, n: number): Promise<SyncResult> {
  const base = await freeUdpRange(n);
  const rf = await freePort();
  const t0 = performance.now();
  const bmc = launch(process.execPath, [
    join(ROOT, 'dist', 'cli', 'main.js'),
    'bmc',
    'serve',
    '--machines',
    String(n),
    '--data-dir',
    join(dir, 'sync'),
    '--no-tls',
    '--port',
    String(rf),
    '--ipmi-base-port',
    String(base),
    '--log-level',
    'error',
  ]);
  try {
    const ports = Array.from({ length: n }, (_, i) => base + i);
    await waitFor(() => ipmitool(ports[n - 1]), `ferrite bmc serve --machines ${n}`, 300_000);
    const startS = +((performance.now() - t0) / 1000).toFixed(1);
    // idle: nothing asks the BMCs anything for 10 s
    await new Promise((r) => setTimeout(r, 2000));
    const i0 = cpuMs(bmc.pid);
    await new Promise((r) => setTimeout(r, 10_000));
    const idleCpuMsPerBmcMinute = +(((cpuMs(bmc.pid) - i0) * 6) / n).toFixed(3);
    const rounds: SyncResult['rounds'] = [];
    const c0 = cpuMs(bmc.pid);
    for (let r = 0; r < SYNC_ROUNDS; r++) {
      const w0 = performance.now();
      const res = await ipmitoolSessions(ports, n, 8);
      rounds.push({ ...res, wallS: +((performance.now() - w0) / 1000).toFixed(1) });
    }
    const sessions = rounds.reduce((a, r) => a + r.ops, 0);
    return {
      bmcs: n,
      startS,
      idleCpuMsPerBmcMinute,
      rounds,
      serverCpuUsPerSession: +(((cpuMs(bmc.pid) - c0) * 1000) / Math.max(1, sessions)).toFixed(1),
      rssMiB: rssMiB(bmc.pid),
    };
  } finally {
    await stop(bmc);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-bench-bmc-'));
  const [ferriteRf, sushyRf, ferriteIpmi, pyghmiIpmi] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const basic = `Basic ${Buffer.from('admin:password').toString('base64')}`;
  const results: Record<string, Result> = {};
  let sync: SyncResult | null = null;
  const children: ChildProcess[] = [];
  try {
    // Ferrite: one machine, plain HTTP like sushy-emulator's default, Basic auth on (sushy-emulator has none)
    const ferrite = launch(process.execPath, [
      '--import',
      'tsx',
      join(ROOT, 'cli', 'main.ts'),
      'bmc',
      'serve',
      '--machines',
      '1',
      '--data-dir',
      join(dir, 'ferrite'),
      '--no-tls',
      '--port',
      String(ferriteRf),
      '--ipmi-base-port',
      String(ferriteIpmi),
      '--log-level',
      'error',
    ]);
    children.push(ferrite);
    const agent = new Agent({ keepAlive: false });
    let ferriteSystem = '';
    await waitFor(async () => {
      const r = await get(agent, ferriteRf, '/redfish/v1/Systems', basic);
      ferriteSystem = (JSON.parse(r.body) as { Members: { '@odata.id': string }[] }).Members[0]['@odata.id'];
      return r.status === 200;
    }, 'ferrite bmc serve');
    const sushy = launch(join(VENV, 'sushy-emulator'), ['--fake', '--interface', '127.0.0.1', '--port', String(sushyRf)]);
    children.push(sushy);
    let sushySystem = '';
    await waitFor(async () => {
      const r = await get(agent, sushyRf, '/redfish/v1/Systems');
      sushySystem = (JSON.parse(r.body) as { Members: { '@odata.id': string }[] }).Members[0]['@odata.id'];
      return r.status === 200;
    }, 'sushy-emulator');
    const pyghmi = launch(join(VENV, 'fakebmc'), ['--port', String(pyghmiIpmi)]);
    children.push(pyghmi);
    await waitFor(async () => {
      const c = new IpmiClient({ host: '127.0.0.1', port: pyghmiIpmi, username: 'admin', password: 'password', timeoutMs: 1000 });
      await c.open();
      await c.close();
      return true;
    }, 'pyghmi fakebmc');

    process.stdout.write(`Redfish GET ${ferriteSystem}: ${CONCURRENCY} keep-alive clients, ${SECONDS} s each\n`);
    results.redfishFerrite = await measured(ferrite, () => loadRedfish(ferriteRf, ferriteSystem, basic));
    results.redfishSushyTools = await measured(sushy, () => loadRedfish(sushyRf, sushySystem));
    process.stdout.write(`IPMI Get Chassis Status: ${SESSIONS} lanplus sessions (cipher suite 3), ${SECONDS} s each\n`);
    results.ipmiFerrite = await measured(ferrite, () => loadIpmi(ferriteIpmi));
    results.ipmiPyghmi = await measured(pyghmi, () => loadIpmi(pyghmiIpmi));
    process.stdout.write(`IPMI sessions: ${IPMITOOL_SESSIONS} × ipmitool -I lanplus -C 3 power status, 4 at a time\n`);
    for (const _ of [1, 2, 3, 4]) await ipmitool(ferriteIpmi); // warm-up
    results.ipmitoolFerrite = await measured(ferrite, () => ipmitoolSessions([ferriteIpmi], IPMITOOL_SESSIONS, 4));
    results.ipmitoolPyghmi = await measured(pyghmi, () => ipmitoolSessions([pyghmiIpmi], IPMITOOL_SESSIONS, 4));
    await Promise.all(children.splice(0).map(stop));
    if (SYNC_BMCS > 0) {
      process.stdout.write(`Ironic's power sync: ${SYNC_BMCS} BMCs in one emulator, ${SYNC_ROUNDS} rounds of 8 workers\n`);
      sync = await powerSync(dir, SYNC_BMCS);
    }
  } finally {
    await Promise.all(children.map(stop));
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = (a: number, b: number) => +(a / b).toFixed(2);
  const summary = {
    redfishThroughputRatio: ratio(results.redfishFerrite.perSecond, results.redfishSushyTools.perSecond),
    redfishP99Ratio: ratio(results.redfishSushyTools.p99ms, results.redfishFerrite.p99ms),
    ipmiThroughputRatio: ratio(results.ipmiFerrite.perSecond, results.ipmiPyghmi.perSecond),
    ipmiP99Ratio: ratio(results.ipmiPyghmi.p99ms, results.ipmiFerrite.p99ms),
    redfishServerCpuRatio: ratio(
      results.redfishSushyTools.serverCpuUsPerOp ?? Number.NaN,
      results.redfishFerrite.serverCpuUsPerOp ?? Number.NaN,
    ),
    ipmiServerCpuRatio: ratio(results.ipmiPyghmi.serverCpuUsPerOp ?? Number.NaN, results.ipmiFerrite.serverCpuUsPerOp ?? Number.NaN),
    ipmiSessionCpuRatio: ratio(
      results.ipmitoolPyghmi.serverCpuUsPerOp ?? Number.NaN,
      results.ipmitoolFerrite.serverCpuUsPerOp ?? Number.NaN,
    ),
    ipmiSessionToCommandCpu: ratio(
      results.ipmitoolFerrite.serverCpuUsPerOp ?? Number.NaN,
      results.ipmiFerrite.serverCpuUsPerOp ?? Number.NaN,
    ),
  };
  const row = (name: string, r: Result) =>
    `  ${name.padEnd(26)} ${String(r.perSecond).padStart(8)}/s   p50 ${r.p50ms.toFixed(2).padStart(7)} ms   p99 ${r.p99ms.toFixed(2).padStart(7)} ms   server CPU ${String(r.serverCpuUsPerOp).padStart(6)} µs/op   errors ${r.errors}`;
  process.stdout.write(
    [
      row('Redfish  Ferrite', results.redfishFerrite),
      row('Redfish  sushy-tools', results.redfishSushyTools),
      row('IPMI     Ferrite', results.ipmiFerrite),
      row('IPMI     pyghmi fakebmc', results.ipmiPyghmi),
      row('ipmitool Ferrite', results.ipmitoolFerrite),
      row('ipmitool pyghmi fakebmc', results.ipmitoolPyghmi),
      '',
      `Redfish requests/s: ${summary.redfishThroughputRatio}× sushy-tools; p99 latency ${summary.redfishP99Ratio}× lower; server CPU per request ${summary.redfishServerCpuRatio}× less`,
      `IPMI round trips/s: ${summary.ipmiThroughputRatio}× pyghmi; p99 latency ${summary.ipmiP99Ratio}× lower; server CPU per round trip ${summary.ipmiServerCpuRatio}× less`,
      `IPMI sessions (ipmitool): server CPU per session ${summary.ipmiSessionCpuRatio}× less than pyghmi; a session costs ${summary.ipmiSessionToCommandCpu}× one in-session command`,
      `target ≥ 10× sushy-tools (Redfish requests/s): ${summary.redfishThroughputRatio >= 10 ? 'met' : 'NOT met'}`,
      `target ≥ 10× less CPU per ipmitool session than pyghmi: ${summary.ipmiSessionCpuRatio >= 10 ? 'met' : 'NOT met'}`,
      ...(sync
        ? [
            `power sync, ${sync.bmcs} BMCs: up in ${sync.startS} s, idle ${sync.idleCpuMsPerBmcMinute} CPU-ms per BMC-minute, ` +
              `rounds ${sync.rounds.map((r) => `${r.wallS} s (${r.errors} errors)`).join(', ')}, ${sync.serverCpuUsPerSession} µs CPU per session, RSS ${sync.rssMiB} MiB`,
          ]
        : []),
      '',
    ].join('\n'),
  );
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds: SECONDS, concurrency: CONCURRENCY, sessions: SESSIONS, ipmitoolSessions: IPMITOOL_SESSIONS, results, powerSync: sync, summary }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${OUT}\n`);
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
