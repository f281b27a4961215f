// A failed provisioning as an operator sees it: `provisioning error` on the host through every
// retry (provisioning → deprovisioning → available → provisioning), errorCount and the backoff
// growing between attempts, recovery by itself once the cause is fixed, and — after
// --max-provisioning-retries failures of one image — a host that stays available saying why,
// until a new image starts over at once.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import type { KubeObject } from '../provider/kube/client.js';
import { Informer } from '../provider/kube/informer.js';
import { type BmoStack, type HostView, startBmoStack } from './helpers/bmo.js';

const image = Buffer.alloc(1024 * 1024, 7);
const sha = createHash('sha256').update(image).digest('hex');

/**
 * Every status change of a host until `stop`, from a watch: a state that lasts a few milliseconds
 * (available between a retry's deprovisioning and provisioning) is seen as surely as a long one.
 */
async function watchHost(s: BmoStack, name: string) {
  type Row = { t: number; state: string; errorType: string; errorCount: number; failCount: number; message: string };
  const seen: Row[] = [];
  const record = (h: HostView & KubeObject) => {
    if (h.metadata?.name !== name) return;
    const row: Row = {
      t: Date.now(),
      state: h.status?.provisioning?.state ?? '',
      errorType: h.status?.errorType ?? '',
      errorCount: h.status?.errorCount ?? 0,
      failCount: h.status?.provisioningFailCount ?? 0,
      message: h.status?.errorMessage ?? '',
    };
    const last = seen.at(-1);
    if (!last || (['state', 'errorType', 'errorCount', 'failCount'] as const).some((k) => last[k] !== row[k])) seen.push(row);
  };
  const inf = new Informer<HostView & KubeObject>(s.client, 'metal3.io/v1alpha1', 'BareMetalHost', { namespace: 'default' });
  inf.on('add', record).on('update', record);
  await inf.start();
  return {
    seen,
    async stop() {
      // the watch may deliver the state the caller waited for a moment after a GET showed it
      const want = ((await s.host(name)) as KubeObject).metadata?.resourceVersion;
      const end = Date.now() + 5_000;
      while (inf.get('default', name)?.metadata?.resourceVersion !== want && Date.now() < end) await sleep(20);
      inf.stop();
    },
  };
}

describe('BareMetalHost provisioning retries', { concurrency: 1 }, () => {
  let s: BmoStack;
  before(async () => {
    s = await startBmoStack({ machines: 2, maxProvisioningRetries: 3 });
    const m = fleetManifests(s.fleet.addrs, { protocol: 'redfish' });
    const r = await s.k(['apply', '-f', '-'], m);
    assert.equal(r.code, 0, r.stderr);
    for (const a of s.fleet.addrs) await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available', 180_000);
  });
  after(async () => s?.close());

  it('shows provisioning error through its retries with a growing backoff, and recovers when the image appears', {
    timeout: 240_000,
  }, async () => {
    const name = s.fleet.addrs[0].name;
    const w = await watchHost(s, name);
    const p = JSON.stringify({ spec: { image: { url: `${s.files.url}/late.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', p])).code, 0);
    // two failed attempts: the second failure comes after a full deprovision/provision cycle
    const h = await s.waitFor(name, (x) => (x.status?.errorCount ?? 0) >= 2, 'a second failed attempt', 120_000);
    assert.equal(h.status?.errorType, 'provisioning error');
    assert.match(
      String(h.status?.errorMessage),
      new RegExp(`^Image provisioning failed \\(url: ${s.files.url}/late\\.img, checksum: ${sha}\\): `),
    );
    assert.equal(h.status?.provisioningFailCount, 1, 'one attempt was undone and retried');
    s.files.put('/late.img', image);
    await s.waitFor(name, (x) => x.status?.provisioning?.state === 'provisioned', 'provisioned once the image exists', 120_000);
    await w.stop();
    const after = await s.host(name);
    assert.equal(after.status?.errorType ?? '', '', 'success clears the error');
    assert.equal(after.status?.errorCount ?? 0, 0);
    assert.equal(after.status?.provisioningFailCount ?? 0, 0);
    assert.equal(s.fleet.fleet.machines[0].state.installedImage?.url, `${s.files.url}/late.img`, 'the disk holds the image');

    const firstError = w.seen.findIndex((r) => r.errorType !== '');
    const success = w.seen.findIndex((r) => r.state === 'provisioned');
    assert.ok(firstError >= 0 && success > firstError, JSON.stringify(w.seen));
    const between = w.seen.slice(firstError, success);
    const states = new Set(between.map((r) => r.state));
    for (const st of ['provisioning', 'deprovisioning', 'available'])
      assert.ok(states.has(st), `the retry went through ${st}: ${JSON.stringify(w.seen)}`);
    for (const r of between)
      assert.equal(r.errorType, 'provisioning error', `the error stays visible while retrying: ${JSON.stringify(r)}`);
    // the failure is shown for its backoff before the retry undoes it: 2^errorCount × base × (0.5…1)
    const firstFail = between[0];
    const leave = between.find((r) => r.state === 'deprovisioning');
    assert.ok(
      leave && leave.t - firstFail.t >= 900,
      `the first retry waited its backoff (≥ 1 s), not ${leave && leave.t - firstFail.t} ms`,
    );
  });

  it('stops after --max-provisioning-retries failures of one image, saying so; a new image starts over at once', {
    timeout: 300_000,
  }, async () => {
    const name = s.fleet.addrs[1].name;
    const bad = JSON.stringify({ spec: { image: { url: `${s.files.url}/never.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', bad])).code, 0);
    const h = await s.waitFor(
      name,
      (x) => x.status?.provisioning?.state === 'available' && /retry limit/.test(String(x.status?.errorMessage)),
      'the retry limit',
      240_000,
    );
    assert.equal(h.status?.errorType, 'provisioning error');
    assert.equal(
      h.status?.errorMessage,
      'provisioning failed 3 times, retry limit (3) reached; change image or reset provisioningFailCount to retry',
    );
    assert.equal(h.status?.provisioningFailCount, 3);
    assert.equal(h.status?.lastAttemptedImage?.url, `${s.files.url}/never.img`);
    await sleep(3000);
    assert.equal((await s.host(name)).status?.provisioning?.state, 'available', 'it does not try the same image again');
    s.files.put('/good.img', image);
    const good = JSON.stringify({ spec: { image: { url: `${s.files.url}/good.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', good])).code, 0);
    const fresh = await s.waitFor(name, (x) => x.status?.provisioning?.state === 'provisioned', 'provisioned with the new image', 120_000);
    assert.equal(fresh.status?.errorType ?? '', '');
    assert.equal(fresh.status?.provisioningFailCount ?? 0, 0);
  });
});
