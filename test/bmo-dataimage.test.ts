// DataImage through kubectl: on a provisioned host, the image goes into the BMC's virtual CD
// before the host powers on (seen in the emulated machine's media slot and in the DataImage
// status), and deleting the DataImage ejects it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const disk = Buffer.alloc(1024 * 1024, 3);
const iso = Buffer.alloc(64 * 1024, 5);

describe('DataImage', { concurrency: 1 }, () => {
  let s: BmoStack;
  const cdInserted = () => s.fleet.fleet.machines[0].state.media.find((m) => m.inserted)?.image ?? null;

  before(async () => {
    s = await startBmoStack({ machines: 1, pollMs: 200, files: { '/disk.img': disk, '/data.iso': iso } });
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    const name = s.fleet.addrs[0].name;
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available');
    const sha = createHash('sha256').update(disk).digest('hex');
    const p = JSON.stringify({ spec: { image: { url: `${s.files.url}/disk.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', p])).code, 0);
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'provisioned' && h.status.poweredOn === true, 'provisioned and on');
  });
  after(async () => s?.close());

  it('is attached as a virtual CD when the provisioned host powers on', async () => {
    const name = s.fleet.addrs[0].name;
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', '{"spec":{"online":false}}'])).code, 0);
    await s.waitFor(name, (h) => h.status?.poweredOn === false, 'powered off');
    const m = `apiVersion: metal3.io/v1alpha1\nkind: DataImage\nmetadata: {name: ${name}}\nspec: {url: "${s.files.url}/data.iso"}\n`;
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', '{"spec":{"online":true}}'])).code, 0);
    await s.waitFor(name, (h) => h.status?.poweredOn === true, 'powered on');
    assert.equal(cdInserted(), `${s.files.url}/data.iso`, 'the BMC has the image in its virtual CD');
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await s.k(['get', 'dataimage', name, '-o', 'jsonpath={.status.attachedImage.url}']);
      if (r.stdout === `${s.files.url}/data.iso`) break;
      assert.ok(Date.now() < end, `DataImage status never showed the attached image: ${r.stdout}`);
      await sleep(200);
    }
    const fin = await s.k(['get', 'dataimage', name, '-o', 'jsonpath={.metadata.finalizers}']);
    assert.match(fin.stdout, /dataimage\.metal3\.io/);
  });

  it('deleting the DataImage ejects it', async () => {
    const name = s.fleet.addrs[0].name;
    const r = await s.k(['delete', 'dataimage', name], undefined);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(cdInserted(), null, 'the virtual CD is empty');
  });
});
