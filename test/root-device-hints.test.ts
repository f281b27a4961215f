// Root device hints through the whole path (BareMetalHost → BMO → Ironic instance_info → the
// agent): a hint that selects the second disk installs onto that disk (the emulator's machine
// records where the image went), and a hint that matches no disk fails the deploy with IPA's
// message instead of writing somewhere else.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('root device hints', { concurrency: 1, timeout: 600_000 }, () => {
  let s: BmoStack;
  const disk = Buffer.alloc(2 * 1024 * 1024, 3);
  const sha = createHash('sha256').update(disk).digest('hex');
  const machine = (name: string) => s.fleet.fleet.machines.find((m) => m.spec.name === name);

  before(async () => {
    // medium machines: a 480 GB SSD and a 2 TB HDD
    s = await startBmoStack({
      machines: {
        machines: [
          { name: 'hinted', profile: 'medium' },
          { name: 'nomatch', profile: 'medium' },
        ],
      },
      pollMs: 200,
      files: { '/disk.img': disk },
    });
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    for (const n of ['hinted', 'nomatch']) await s.waitFor(n, (h) => h.status?.provisioning?.state === 'available', 'available');
  });
  after(() => s?.close());

  it('a hint selecting the spinning 2 TB disk installs the image there, not on the first disk', async () => {
    const m = machine('hinted');
    assert.ok(m);
    const hdd = m.spec.disks.find((d) => d.rotational);
    assert.ok(hdd && m.spec.disks[0] !== hdd, 'the rotational disk is not the first one');
    const p = JSON.stringify({
      spec: {
        rootDeviceHints: { rotational: true, minSizeGigabytes: 1000 },
        image: { url: `${s.files.url}/disk.img`, checksum: sha, checksumType: 'sha256' },
      },
    });
    assert.equal((await s.k(['patch', 'bmh', 'hinted', '--type', 'merge', '-p', p])).code, 0);
    await s.waitFor('hinted', (h) => h.status?.provisioning?.state === 'provisioned', 'provisioned', 180_000);
    const installed = m.state.installedImage;
    assert.equal(installed?.url, `${s.files.url}/disk.img`);
    assert.equal(installed?.disk, hdd.name.startsWith('/dev/') ? hdd.name : `/dev/${hdd.name}`, 'written to the hinted disk');
  });

  it('a hint that matches no disk fails the deploy with a message saying so', async () => {
    const p = JSON.stringify({
      spec: {
        rootDeviceHints: { serialNumber: 'NO-SUCH-SERIAL' },
        image: { url: `${s.files.url}/disk.img`, checksum: sha, checksumType: 'sha256' },
      },
    });
    assert.equal((await s.k(['patch', 'bmh', 'nomatch', '--type', 'merge', '-p', p])).code, 0);
    const h = await s.waitFor('nomatch', (x) => x.status?.errorType === 'provisioning error', 'provisioning error', 180_000);
    assert.match(
      String(h.status?.errorMessage),
      /No suitable device was found for deployment using these hints \{'serial': 's== NO-SUCH-SERIAL'\}/,
    );
    assert.equal(machine('nomatch')?.state.installedImage ?? null, null, 'nothing was written');
  });
});
