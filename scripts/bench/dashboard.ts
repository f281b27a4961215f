// The dashboard at fleet scale: `dev up --hosts N` (default 1,000) with its dashboard, then the
// same workload three times — page closed, page open in headless Chromium, closed again — while
// each component's CPU is measured. The closed windows are the baseline the open one is printed
// beside. Also recorded: the page's first render (navigation start → the grid drawn with every
// host) and how long after the API server a host's new state shows on the page.
// Writes bench-results/dashboard.json (or --out FILE). Measures; asserts no speed.
//
//   npm run bench:dashboard -- [--hosts 1000] [--toggle 50] [--window 30] [--settle 10] [--out FILE]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Browser, chromium, type Page } from 'playwright-core';
import { KubeClient, type KubeObject } from '../../provider/kube/client.js';
import { Informer } from '../../provider/kube/informer.js';
import { arg, cpuSeconds, ROOT } from './common.js';

const HOSTS = Number(arg('--hosts', '1000'));
/** hosts powered off and on again in each window: the work the controllers do while measured */
const TOGGLE = Number(arg('--toggle', '50'));
const SETTLE_S = Number(arg('--settle', '10'));
/** each window lasts at least this long, so the stack's periodic work weighs the same in each */
const WINDOW_S = Number(arg('--window', '30'));
const OUT = arg('--out', join(ROOT, 'bench-results', 'dashboard.json'));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const NS = 'metal3';

type Bmh = KubeObject & { spec?: { online?: boolean }; status?: { poweredOn?: boolean } };

interface Window {
  page: 'closed' | 'open';
  wallS: number;
  cpuS: Record<string, number>;
}

const cli = [join(ROOT, 'dist', 'cli', 'main.js')];
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : Number.NaN;
};

/** Powers `names` off and on again through the API (spec.online), as a user would, waiting for each. */
async function toggle(client: KubeClient, inf: Informer<Bmh>, names: string[]): Promise<void> {
  for (const online of [false, true]) {
    for (const n of names)
      await client.patch({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', namespace: NS, name: n }, 'merge', {
        spec: { online },
      });
    const end = Date.now() + 600_000;
    while (!names.every((n) => inf.get(NS, n)?.status?.poweredOn === online)) {
      if (Date.now() > end) throw new Error(`hosts did not power ${online ? 'on' : 'off'} within 10 minutes`);
      await sleep(200);
    }
  }
}

async function measure(page: Window['page'], pids: Record<string, number>, work: () => Promise<void>): Promise<Window> {
  const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, cpuSeconds(p)]));
  const t0 = Date.now();
  await work();
  const left = WINDOW_S * 1000 - (Date.now() - t0);
  if (left > 0) await sleep(left);
  const cpuS = Object.fromEntries(Object.entries(pids).map(([k, p]) => [k, +(cpuSeconds(p) - cpu0[k]).toFixed(2)]));
  return { page, wallS: (Date.now() - t0) / 1000, cpuS };
}

async function main(): Promise<void> {
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('build failed');
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), `ferrite-bench-dashboard-${HOSTS}-`));
  let browser: Browser | undefined;
  const started = Date.now();
  try {
    const up = spawnSync(
      process.execPath,
      [
        ...cli,
        'dev',
        'up',
        '--hosts',
        String(HOSTS),
        '--no-cluster',
        '--port',
        '0',
        '--dashboard-port',
        '0',
        '--data-dir',
        dir,
        '--timeout',
        '3000',
      ],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    if (up.status !== 0) throw new Error(`dev up --hosts ${HOSTS} failed:\n${up.stdout.split('\n').slice(-15).join('\n')}\n${up.stderr}`);
    const upS = (Date.now() - started) / 1000;
    const state = JSON.parse(readFileSync(join(dir, 'dev.json'), 'utf8')) as {
      kubeconfig: string;
      dashboardUrl: string;
      components: Record<string, { pid: number }>;
    };
    const pids = Object.fromEntries(Object.entries(state.components).map(([k, c]) => [k, c.pid]));
    const client = KubeClient.fromFile(state.kubeconfig);
    const inf = new Informer<Bmh>(client, 'metal3.io/v1alpha1', 'BareMetalHost', { namespace: NS });
    await inf.start();
    await sleep(SETTLE_S * 1000);
    const group = (i: number) => Array.from({ length: TOGGLE }, (_, k) => `node-${(i * TOGGLE + k) % HOSTS}`);

    const windows: Window[] = [];
    windows.push(await measure('closed', pids, () => toggle(client, inf, group(0))));

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(state.dashboardUrl);
    await page.waitForFunction((n) => (window as unknown as { __ferrite?: { hosts: number } }).__ferrite?.hosts === n, HOSTS, {
      timeout: 120_000,
    });
    const firstRenderMs = await page.evaluate(() => (window as unknown as { __ferrite: { firstRender: number } }).__ferrite.firstRender);
    const cells = await page.locator('[data-host]').count();
    const snapshotBytes = (await (await fetch(`${state.dashboardUrl}api/snapshot`)).arrayBuffer()).byteLength;
    // when each toggled host's power mark changed on the page, against when our watch saw it
    await page.evaluate(() => {
      const w = window as unknown as { __changes: Array<[string, boolean, number]> };
      w.__changes = [];
      new MutationObserver((ms) => {
        for (const m of ms) {
          const el = m.target as Element;
          const key = el.getAttribute?.('data-host');
          if (key && m.attributeName === 'class')
            w.__changes.push([key, el.classList.contains('on'), performance.timeOrigin + performance.now()]);
        }
      }).observe(document.querySelector('[data-testid=grid]') as Element, { attributes: true, subtree: true, attributeFilter: ['class'] });
    });
    const watched: Array<[string, boolean, number]> = [];
    let recording = true;
    const note = (h: Bmh, old?: Bmh) => {
      if (recording && old && h.status?.poweredOn !== old.status?.poweredOn)
        watched.push([`${NS}/${h.metadata?.name}`, h.status?.poweredOn === true, Date.now()]);
    };
    inf.on('update', note);
    windows.push(await measure('open', pids, () => toggle(client, inf, group(1))));
    recording = false;
    const changes = await page.evaluate(() => (window as unknown as { __changes: Array<[string, boolean, number]> }).__changes);
    await page.screenshot({ path: join(dirname(OUT), `dashboard-${HOSTS}.png`) });
    await browser.close();
    browser = undefined;
    const latencies = watched
      .map(([key, on, t]) => {
        const seen = changes.find(([k, o, pt]) => k === key && o === on && pt >= t - 50);
        return seen ? seen[2] - t : Number.NaN;
      })
      .filter((x) => !Number.isNaN(x));
    windows.push(await measure('closed', pids, () => toggle(client, inf, group(2))));
    inf.stop();
    client.close();

    const closed = windows.filter((w) => w.page === 'closed');
    const open = windows.find((w) => w.page === 'open') as Window;
    const mean = (k: string) => closed.reduce((a, w) => a + (w.cpuS[k] ?? 0), 0) / closed.length;
    const components = Object.keys(pids);
    const result = {
      benchmark: 'dashboard',
      hosts: HOSTS,
      toggledPerWindow: TOGGLE,
      windowS: WINDOW_S,
      devUpS: +upS.toFixed(1),
      firstRenderMs: Math.round(firstRenderMs),
      firstRenderTargetMs: 1000,
      cellsRendered: cells,
      snapshotBytes,
      pageLatencyMs: {
        samples: latencies.length,
        expected: watched.length,
        p50: Math.round(pct(latencies, 50)),
        p95: Math.round(pct(latencies, 95)),
        max: Math.round(Math.max(...latencies)),
        targetMs: 2000,
      },
      windows,
      controllersCpuOpenVsClosed: +(
        (open.cpuS.controllers + (open.cpuS['cluster-api'] ?? 0)) /
        (mean('controllers') + mean('cluster-api'))
      ).toFixed(3),
      controllersCpuTargetRatio: 1.05,
      loadavg: { start: loadStart.map((x) => +x.toFixed(2)), end: loadavg().map((x) => +x.toFixed(2)) },
      machine: { cores: cpus().length },
      at: new Date().toISOString(),
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
    const row = (k: string) =>
      `${k.padEnd(12)} ${mean(k).toFixed(2).padStart(14)} ${open.cpuS[k].toFixed(2).padStart(12)} ${(open.cpuS[k] / mean(k)).toFixed(2).padStart(8)}×`;
    console.log(
      [
        `dashboard at ${HOSTS} hosts (dev up ${upS.toFixed(0)} s; load ${result.loadavg.start[0]} → ${result.loadavg.end[0]})`,
        `first render: ${result.firstRenderMs} ms for ${cells} cells (target < 1000 ms); snapshot ${(snapshotBytes / 1024).toFixed(0)} KiB`,
        `state change API server → page: p50 ${result.pageLatencyMs.p50} ms, p95 ${result.pageLatencyMs.p95} ms, max ${result.pageLatencyMs.max} ms (${latencies.length}/${watched.length} seen; target 2000 ms)`,
        `CPU-seconds while ${TOGGLE} hosts power off and on (baseline: page closed, mean of the windows before and after)`,
        `${'component'.padEnd(12)} ${'page closed'.padStart(14)} ${'page open'.padStart(12)} ${'ratio'.padStart(9)}`,
        ...components.map(row),
        `controllers with the page open: ${result.controllersCpuOpenVsClosed}× (target ≤ 1.05×)`,
        `wrote ${OUT}`,
      ].join('\n'),
    );
  } finally {
    await browser?.close();
    spawnSync(process.execPath, [...cli, 'dev', 'down', '--data-dir', dir], { cwd: ROOT, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
