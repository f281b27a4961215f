// `ferrite dashboard` in a real browser (Debian's Chromium, driven by playwright-core) against the
// dashboard `ferrite dev up --hosts 100` starts: the fleet's counts equal kubectl's, a host
// provisioned with kubectl changes colour and its timeline interleaves the BareMetalHost's and
// Ironic's states, the clusters view follows a MachineDeployment being scaled, and the page is
// read-only unless the dashboard was started with --allow-actions. Screenshots go to
// test/output/dashboard/.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type Dashboard, startDashboard } from '../dashboard/server.js';
import { KubeClient, type KubeObject } from '../provider/kube/client.js';
import { Informer } from '../provider/kube/informer.js';
import { writeLiveReport } from '../scenarios/report.js';
import { cleanup, eventually, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';
import { startFileServer } from './helpers/bmc.js';
import { launchBrowser, SCREENSHOTS } from './helpers/browser.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 300_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });
const HOSTS = 100;
const image = Buffer.alloc(1024 * 1024, 7);
const imageSha = createHash('sha256').update(image).digest('hex');

type Bmh = KubeObject & { status?: { provisioning?: { state?: string } } };

// the page is sampled every 250 ms: often enough to see a machine before it runs
const waitFor = <T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 120_000) => eventually(f, what, timeoutMs, 250);

/** state → count, as `kubectl get bmh -A` sees it */
async function kubectlCounts(kc: string): Promise<Record<string, number>> {
  const r = await kubectl(kc, ['get', 'bmh', '-A', '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const counts: Record<string, number> = {};
  for (const h of (JSON.parse(r.stdout) as { items: Bmh[] }).items) {
    const st = h.status?.provisioning?.state ?? '';
    counts[st] = (counts[st] ?? 0) + 1;
  }
  return counts;
}

/** state → count, as the page's chips show it */
const pageCounts = (page: Page) =>
  page.$$eval('[data-testid=counts] .chip', (chips) =>
    Object.fromEntries(
      chips
        .filter((c) => c.getAttribute('data-state') !== 'error')
        .map((c) => [c.getAttribute('data-state') ?? '', Number(c.getAttribute('data-count'))]),
    ),
  );

describe('ferrite dashboard in Chromium on dev up --hosts 100', { concurrency: 1 }, () => {
  const dir = tempDir('ferrite-dashboard-test-');
  const data = join(dir, 'dev');
  let kc = '';
  let url = '';
  let browser: Browser;
  let page: Page;
  let files: Awaited<ReturnType<typeof startFileServer>>;

  before(async () => {
    files = await startFileServer({ '/disk.img': image });
    const r = await ferrite(
      ['dev', 'up', '--hosts', String(HOSTS), '--workers', '1', '--port', '0', '--data-dir', data, '--timeout', '900'],
      1_200_000,
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    kc = /kubeconfig: +(\S+)/.exec(r.stdout)?.[1] ?? '';
    url = /dashboard: +(\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, `dev up prints the dashboard's URL:\n${r.stdout}`);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    after(() => assert.deepEqual(errors, [], 'the page logs no errors'));
  });
  after(async () => {
    await browser?.close();
    await files?.close();
    await ferrite(['dev', 'down', '--data-dir', data]);
    cleanup(dir);
  });

  it("the fleet shows every host, and its counts per state are kubectl's", async () => {
    await page.goto(url);
    await page.waitForSelector(`[data-testid=connection]:has-text("${HOSTS} hosts")`);
    assert.equal(await page.locator('[data-testid=grid] [data-host]').count(), HOSTS);
    const want = await kubectlCounts(kc);
    assert.deepEqual(await pageCounts(page), want);
    assert.equal(want.available, HOSTS - 2, 'dev up left 98 hosts available (2 carry the cluster)');
    // the search narrows the grid to one host by name, and by MAC
    await page.fill('[data-testid=search]', 'node-42');
    await page.waitForSelector('[data-testid=shown-count]:has-text("1 of 100")');
    const mac = await page.getAttribute('[data-host="metal3/node-42"]', 'title');
    const bootMac = /· ([0-9a-f:]{17})/.exec(mac ?? '')?.[1] ?? '';
    assert.ok(bootMac, `the cell's tooltip names the boot MAC: ${mac}`);
    await page.fill('[data-testid=search]', bootMac);
    await page.waitForSelector('[data-testid=shown-count]:has-text("1 of 100")');
    await page.fill('[data-testid=search]', '');
    // a state chip filters the grid to that state
    await page.click('.chip[data-state=provisioned]');
    await page.waitForSelector('[data-testid=shown-count]:has-text("2 of 100")');
    await page.click('.chip[data-state=provisioned]');
    await page.screenshot({ path: join(SCREENSHOTS, 'fleet-100.png') });
  });

  it('a host provisioned with kubectl changes colour as its state changes, and its timeline interleaves Ironic', async () => {
    const host = 'node-99';
    // when the page's cell turns `provisioning`, by the page's clock (same machine as ours)
    await page.evaluate((key) => {
      const w = window as unknown as { __seen: Record<string, number> };
      w.__seen = {};
      new MutationObserver(() => {
        const st = document.querySelector(`[data-host="${key}"]`)?.getAttribute('data-state') ?? '';
        w.__seen[st] ??= performance.timeOrigin + performance.now();
      }).observe(document.querySelector('[data-testid=grid]') as Element, { attributes: true, subtree: true, childList: true });
    }, `metal3/${host}`);
    // when the API server had it, by a watch of our own
    const client = KubeClient.fromFile(kc);
    const seen: Record<string, number> = {};
    const inf = new Informer<Bmh>(client, 'metal3.io/v1alpha1', 'BareMetalHost', { namespace: 'metal3' });
    const note = (h: Bmh) => {
      if (h.metadata?.name === host) seen[h.status?.provisioning?.state ?? ''] ??= Date.now();
    };
    inf.on('add', note).on('update', note);
    await inf.start();
    try {
      const patch = { spec: { image: { url: `${files.url}/disk.img`, checksum: imageSha, checksumType: 'sha256', format: 'raw' } } };
      const p = await kubectl(kc, ['patch', 'bmh', '-n', 'metal3', host, '--type', 'merge', '-p', JSON.stringify(patch)]);
      assert.equal(p.code, 0, p.stderr);
      await waitFor('the host provisioned', async () => seen.provisioned, 300_000);
      await waitFor(
        'the cell provisioned',
        async () => (await page.getAttribute(`[data-host="metal3/${host}"]`, 'data-state')) === 'provisioned',
        30_000,
      );
      const onPage = await page.evaluate(() => (window as unknown as { __seen: Record<string, number> }).__seen);
      for (const st of ['provisioning', 'provisioned']) {
        assert.ok(onPage[st], `the cell was ${st} at some point (${JSON.stringify(onPage)})`);
        // measured, not asserted: scripts/bench/dashboard.ts records this latency against the 2 s target
        process.stdout.write(`# dashboard: ${host} ${st} on the page ${Math.round(onPage[st] - seen[st])} ms after the watch saw it\n`);
      }
      const colour = await page.$eval(`[data-host="metal3/${host}"]`, (e) => getComputedStyle(e).backgroundColor);
      const available = await page.$eval('[data-host="metal3/node-98"]', (e) => getComputedStyle(e).backgroundColor);
      assert.notEqual(colour, available, 'provisioned and available hosts differ in colour');
    } finally {
      inf.stop();
      client.close();
    }

    await page.click(`[data-host="metal3/${host}"]`);
    await page.waitForSelector('[data-testid=timeline]');
    await page.waitForSelector('[data-testid=host-state]:has-text("provisioned")');
    const rows = await page.$$eval('[data-testid=timeline] tr[data-source]', (trs) =>
      trs.map((tr) => ({ source: tr.getAttribute('data-source'), what: tr.querySelector('td:last-child')?.textContent ?? '' })),
    );
    const find = (src: string, re: RegExp, from = 0) => rows.findIndex((r, i) => i >= from && r.source === src && re.test(r.what));
    const register = find('operation', /register started/);
    const inspected = find('event', /InspectionComplete/);
    const toProvisioning = find('host', /→ provisioning$/);
    const toProvisioned = find('host', /→ provisioned$/);
    const why = rows.map((r) => `${r.source}: ${r.what}`).join('\n');
    assert.ok(register >= 0 && inspected > register, `registration and inspection come first:\n${why}`);
    assert.ok(toProvisioning > inspected && toProvisioned > toProvisioning, `then provisioning, then provisioned:\n${why}`);
    const ironicBetween = rows.slice(toProvisioning + 1, toProvisioned).filter((r) => r.source === 'ironic');
    assert.ok(
      ironicBetween.some((r) => /deploying|wait call-back|active/.test(r.what)),
      `Ironic's deploy states sit between the host's provisioning and provisioned:\n${why}`,
    );
    assert.ok(
      rows.some((r) => r.source === 'bmc' && /Power state changed to On/.test(r.what)),
      `the BMC's power changes are on it:\n${why}`,
    );
    assert.match((await page.textContent('[data-testid=hardware]')) ?? '', /GiB/, 'HardwareData shows');
    assert.match((await page.textContent('[data-testid=bmc]')) ?? '', /On/, "the BMC's power state shows");
    assert.ok((await page.textContent('[data-testid=console]'))?.includes('ironic-python-agent'), 'the console tail shows');
    await page.screenshot({ path: join(SCREENSHOTS, 'host-provisioned.png'), fullPage: true });
  });

  it('the clusters view shows Cluster → machines → hosts → Nodes and follows a MachineDeployment being scaled', async () => {
    await page.goto(`${url}#/clusters`);
    const card = page.locator('[data-cluster="metal3/test1"]');
    await card.waitFor();
    await card.locator('[data-testid=control-plane]').waitFor();
    const rows = () =>
      card.locator('[data-testid=machines] tr[data-machine]').evaluateAll((trs) =>
        trs.map((tr) => ({
          name: tr.getAttribute('data-machine'),
          phase: tr.getAttribute('data-phase'),
          host: tr.getAttribute('data-host') ?? '',
          node: tr.getAttribute('data-node') ?? '',
          nodeReady: tr.getAttribute('data-node-ready'),
          link: tr.querySelector('a')?.getAttribute('href') ?? '',
        })),
      );
    const first = await rows();
    assert.equal(first.length, 2, JSON.stringify(first));
    for (const m of first) {
      assert.equal(m.phase, 'Running');
      assert.match(m.host, /^metal3\/node-\d+$/, 'each machine names its host');
      assert.equal(m.link, `#/host/${m.host}`, 'and links to its story');
      assert.ok(m.node, 'and its Node');
      assert.equal(m.nodeReady, 'True', 'Ready');
    }
    const scale = await kubectl(kc, ['scale', 'md', 'test1', '-n', 'metal3', '--replicas', '2']);
    assert.equal(scale.code, 0, scale.stderr);
    // sampled as it happens: a third machine appears, not yet Running, then Running with a Ready Node
    const phasesSeen = new Set<string>();
    await waitFor(
      'three Running machines with Ready Nodes',
      async () => {
        const r = await rows();
        const fresh = r.filter((m) => !first.some((f) => f.name === m.name));
        for (const m of fresh) phasesSeen.add(m.phase ?? '');
        return r.length === 3 && r.every((m) => m.phase === 'Running' && m.node && m.nodeReady === 'True');
      },
      420_000,
    );
    assert.ok(
      [...phasesSeen].some((p) => p !== 'Running'),
      `the new machine was seen before it ran (phases seen: ${[...phasesSeen].join(', ')})`,
    );
    assert.equal(await card.locator('tr[data-deployment=test1]').getAttribute('data-replicas'), '2');
    await page.screenshot({ path: join(SCREENSHOTS, 'clusters-scaled.png'), fullPage: true });
    // the fleet counts follow: one more host provisioned (a miss says what the page and kubectl counted)
    await page.goto(url);
    await waitFor('the fleet to count 4 hosts provisioned', async () => (await pageCounts(page)).provisioned === 4, 60_000).catch(
      async (e: Error) => {
        throw new Error(
          `${e.message}; page: ${JSON.stringify(await pageCounts(page))}; kubectl: ${JSON.stringify(await kubectlCounts(kc))}`,
        );
      },
    );
    assert.deepEqual(await pageCounts(page), await kubectlCounts(kc));
  });

  it('is read-only by default and refuses bad input with Status errors', async () => {
    const post = await fetch(`${url}api/hosts/metal3/node-0/actions/reboot`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-ferrite-dashboard': '1' },
      body: '{}',
    });
    assert.equal(post.status, 403);
    assert.equal(((await post.json()) as { reason: string }).reason, 'Disabled');
    const missing = await fetch(`${url}api/hosts/metal3/no-such-host`);
    assert.equal(missing.status, 404);
    const traversal = await fetch(`${url}api/runs/0/..%2F..%2Fpackage.json`);
    assert.ok([400, 404].includes(traversal.status), `a path outside the report folders is refused (${traversal.status})`);
    // fetch() will not send another Host header: a plain HTTP request does, as a rebinding page's would
    const rebinding = await new Promise<number>((resolve, reject) =>
      httpGet(`${url}api/snapshot`, { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject),
    );
    assert.equal(rebinding, 403, 'a request naming another host (DNS rebinding) is refused');
    const unknown = await fetch(`${url}api/nothing`);
    assert.equal(unknown.status, 404);
  });

  describe('with --allow-actions', () => {
    let d: Dashboard;
    let client: KubeClient;
    const reports = join(dir, 'reports');
    before(async () => {
      client = KubeClient.fromFile(kc);
      d = await startDashboard({ client, address: '127.0.0.1', port: 0, allowActions: true, readBmc: false, reportDirs: [reports] });
    });
    after(async () => {
      await d?.close();
      client?.close();
    });

    it('an action is the patch kubectl would send, shown beside its button; bad actions are refused', async () => {
      await page.goto(`${d.url}#/host/metal3/node-3`);
      await page.waitForSelector('[data-testid=actions] [data-action=pause]');
      assert.match(
        (await page.textContent('[data-testid=actions]')) ?? '',
        /kubectl annotate bmh -n metal3 node-3 baremetalhost\.metal3\.io\/paused= --overwrite/,
      );
      await page.click('[data-action=pause]');
      await page.waitForSelector('[data-testid=action-result]:has-text("sent: kubectl annotate")');
      const g = await kubectl(kc, ['get', 'bmh', '-n', 'metal3', 'node-3', '-o', 'jsonpath={.metadata.annotations}']);
      assert.match(g.stdout, /baremetalhost\.metal3\.io\/paused/);
      await page.click('[data-action=unpause]');
      await waitFor('the pause annotation removed', async () => {
        const x = await kubectl(kc, ['get', 'bmh', '-n', 'metal3', 'node-3', '-o', 'jsonpath={.metadata.annotations}']);
        return !/paused/.test(x.stdout);
      });
      const api = (path: string, init: RequestInit) => fetch(`${d.url}${path}`, init);
      const headers = { 'content-type': 'application/json', 'x-ferrite-dashboard': '1' };
      const noHeader = await api('api/hosts/metal3/node-3/actions/reboot', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(noHeader.status, 403, 'a cross-site form cannot send the custom header');
      const bad = await api('api/hosts/metal3/node-3/actions/format-disks', { method: 'POST', headers, body: '{}' });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { message: string }).message, /unknown action "format-disks"/);
      const proto = await api('api/hosts/metal3/node-3/actions/__proto__', { method: 'POST', headers, body: '{}' });
      assert.equal(proto.status, 400);
      const garbled = await api('api/hosts/metal3/node-3/actions/reboot', { method: 'POST', headers, body: '{"image":' });
      assert.equal(garbled.status, 400);
      const big = await api('api/hosts/metal3/node-3/actions/provision', {
        method: 'POST',
        headers,
        body: JSON.stringify({ image: { url: `http://x/${'a'.repeat(40_000)}` } }),
      });
      assert.equal(big.status, 413);
      const noUrl = await api('api/hosts/metal3/node-3/actions/provision', {
        method: 'POST',
        headers,
        body: '{"image":{"url":"ftp://x"}}',
      });
      assert.equal(noUrl.status, 400);
      const g2 = await kubectl(kc, ['get', 'bmh', '-n', 'metal3', 'node-3', '-o', 'jsonpath={.spec.image}']);
      assert.equal(g2.stdout, '', 'no refused action changed the host');
    });

    it("a scenario's live report shows its steps as they run", async () => {
      const report = {
        scenario: 'dashboard-live',
        file: 'scenarios/dashboard-live.yaml',
        status: 'running' as const,
        startedAt: new Date().toISOString(),
        durationMs: 0,
        setup: { durationMs: 1200 },
        steps: [
          { index: 0, name: 'apply the cluster', kind: 'apply', status: 'passed' as const, startedAt: 1200, durationMs: 300, timeline: [] },
          {
            index: 1,
            name: 'wait for Running',
            kind: 'wait',
            status: 'running' as const,
            startedAt: 1500,
            timeline: [{ at: 1600, what: 'Cluster test1 phase Provisioned' }],
          },
        ],
        expectations: [],
        observed: [],
      };
      writeLiveReport(reports, report);
      await page.goto(`${d.url}#/runs`);
      await page.click('a:has-text("dashboard-live")');
      await page.waitForSelector('[data-testid=run-status]:has-text("running")');
      assert.equal(await page.locator('[data-testid=scenario-report] tr[data-step]').count(), 2);
      // the runner writes the next copy; the open page picks it up
      writeLiveReport(reports, {
        ...report,
        status: 'passed',
        steps: report.steps.map((s) => ({ ...s, status: 'passed' as const, durationMs: 400 })),
      });
      await page.waitForSelector('[data-testid=run-status]:has-text("passed")', { timeout: 15_000 });
      await page.screenshot({ path: join(SCREENSHOTS, 'scenario-run.png'), fullPage: true });
      const broken = join(reports, 'broken.json');
      writeFileSync(broken, '{"half":');
      const r = await fetch(`${d.url}api/runs/0/broken.json`);
      assert.equal(r.status, 400, 'a half-written report is a clear 400');
      assert.match(readFileSync(broken, 'utf8'), /half/, 'and is left as it was');
    });
  });
});
