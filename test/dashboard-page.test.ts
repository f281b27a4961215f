// The dashboard page in Chromium against a still fleet (an embedded API server with three
// BareMetalHosts and no controllers): nothing changes after the page loads, so what it shows
// comes from the snapshot alone. Preact runs effects after paint, and on a loaded machine the
// snapshot can arrive before the page has subscribed to the store; the page must still show it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Browser } from 'playwright-core';
import { installCrds } from '../cli/crds.js';
import { type Dashboard, startDashboard } from '../dashboard/server.js';
import { KubeClient } from '../provider/kube/client.js';
import { cleanup, eventually, startTestServer } from './helpers/apiserver.js';
import { launchBrowser } from './helpers/browser.js';

const host = (name: string) => ({
  apiVersion: 'metal3.io/v1alpha1',
  kind: 'BareMetalHost',
  metadata: { namespace: 'default', name },
  spec: { online: false, bmc: { address: 'ipmi://127.0.0.1:6230', credentialsName: 'bmc' }, bootMACAddress: '52:54:00:00:00:01' },
});

// Holds every timer and animation frame the page asks for in its first 1.5 s until 2 s have
// passed: Preact's effects (and so the store's subscriptions) then run after the live feed's
// snapshot has arrived — what a busy CI machine did by chance.
const SLOW_START = `(() => {
  const t0 = performance.now();
  const late = (f) => (cb, ms, ...a) => performance.now() - t0 < 1500 ? f(cb, Math.max(ms ?? 0, 2000), ...a) : f(cb, ms, ...a);
  window.setTimeout = late(window.setTimeout.bind(window));
  const raf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = (cb) => performance.now() - t0 < 1500 ? window.setTimeout(() => raf(cb), 2000) : raf(cb);
})();`;

describe('dashboard page on a still fleet', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  let client: KubeClient;
  let d: Dashboard;
  let browser: Browser;

  before(async () => {
    srv = await startTestServer({ log: pino({ level: 'silent' }) });
    await installCrds(srv.core);
    client = KubeClient.fromFile(srv.kubeconfigPath);
    for (const n of ['node-0', 'node-1', 'node-2']) await client.create(host(n));
    d = await startDashboard({ client, address: '127.0.0.1', port: 0, readBmc: false });
    await eventually(
      async () => ((await (await fetch(`${d.url}api/snapshot`)).json()) as { hosts: unknown[] }).hosts.length === 3,
      'the dashboard lists the three hosts',
      20_000,
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await d?.close();
    client?.close();
    await srv?.close();
    if (srv) cleanup(srv.dir);
  });

  it('shows the snapshot that arrived before the page subscribed, with no later change to wake it', async () => {
    const page = await browser.newPage();
    await page.addInitScript(SLOW_START);
    await page.goto(d.url);
    await page.waitForSelector('[data-testid=connection]:has-text("live · 3 hosts")', { timeout: 15_000 });
    assert.equal(await page.locator('[data-testid=grid] [data-host]').count(), 3);
    assert.equal(await page.getAttribute('[data-testid=counts] .chip', 'data-count'), '3');
    await page.close();
  });
});
