// PreprovisioningImages (--build-preprov-image): each host gets one, owned by it; the default image
// provider answers with the configured agent kernel and ramdisk (per architecture when one is
// configured for it); the host boots what the image says (Ironic's driver_info follows it); a
// missing network data Secret is an error on the image and on the host until it appears; the
// image goes when its host does.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { buildIso } from '../lib/iso9660.js';
import { PPI, type PreprovisioningImage } from '../provider/bmo/preprovisioningimage-controller.js';
import { getOrNull } from '../provider/kube/read.js';
import { eventually } from './helpers/apiserver.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('PreprovisioningImage', { concurrency: 1, timeout: 600_000 }, () => {
  let s: BmoStack;
  const saved = process.env.DEPLOY_RAMDISK_BY_ARCH;
  const ppi = (name: string) => getOrNull<PreprovisioningImage>(s.client, PPI, 'default', name);
  const cond = (p: PreprovisioningImage | null, t: string) => p?.status?.conditions?.find((c) => c.type === t);

  before(async () => {
    s = await startBmoStack({
      machines: 2,
      buildPreprovImage: true,
      pollMs: 200,
      files: { '/ipa-x86.initramfs': Buffer.from('agent initramfs for x86_64') },
    });
    // read by the image provider at build time, as upstream reads its environment
    process.env.DEPLOY_RAMDISK_BY_ARCH = `aarch64:${s.files.url}/ipa-arm.initramfs,x86_64:${s.files.url}/ipa-x86.initramfs`;
    const docs = [
      ...YAML.parseAllDocuments(fleetManifests([s.fleet.addrs[0]], { protocol: 'redfish-virtualmedia' })),
      ...YAML.parseAllDocuments(fleetManifests([s.fleet.addrs[1]], { protocol: 'ipmi' })),
    ].map((d) => YAML.stringify(d.toJS()));
    const r = await s.k(['apply', '-f', '-'], docs.join('---\n'));
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    if (saved === undefined) delete process.env.DEPLOY_RAMDISK_BY_ARCH;
    else process.env.DEPLOY_RAMDISK_BY_ARCH = saved;
    await s?.close();
  });

  it('gives every host an image from the configured agent, for its architecture, and Ironic boots what it names', async () => {
    for (const a of s.fleet.addrs) {
      const h = await s.waitFor(a.name, (x) => x.status?.provisioning?.state === 'available', 'available', 180_000);
      const p = await eventually(
        async () => {
          const x = await ppi(a.name);
          return x?.status?.architecture === 'x86_64' && cond(x, 'Ready')?.status === 'True' ? x : null;
        },
        `${a.name}'s image for x86_64`,
        60_000,
      );
      assert.deepEqual(
        p.spec?.acceptFormats,
        a.name === s.fleet.addrs[0].name ? ['iso', 'initrd'] : ['initrd'],
        'an ISO only where the BMC boots one',
      );
      assert.equal(p.status?.format, 'initrd', 'no agent ISO is configured');
      assert.equal(p.status?.kernelUrl, `${s.files.url}/ipa.kernel`);
      assert.equal(p.status?.imageUrl, `${s.files.url}/ipa-x86.initramfs`, 'the ramdisk configured for x86_64');
      assert.equal(cond(p, 'Ready')?.reason, 'ImageSuccess');
      assert.equal(cond(p, 'Ready')?.message, 'Generated image');
      assert.equal(cond(p, 'Error')?.status, 'False');
      assert.deepEqual(
        p.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller]),
        [['BareMetalHost', a.name, true]],
      );
      assert.ok(p.metadata.finalizers?.includes('baremetalhost.metal3.io/preprovisioningImage'));
      assert.ok(p.metadata.finalizers?.includes('preprovisioningimage.metal3.io'));
      const node = s.ironic.conductor.store.node(String(h.status?.provisioning?.ID));
      assert.equal(node?.driver_info.deploy_kernel, p.status?.kernelUrl);
      assert.equal(node?.driver_info.deploy_ramdisk, p.status?.imageUrl, "the node boots the image's ramdisk");
    }
  });

  it('a missing network data Secret fails the image and the host until it exists', async () => {
    const name = s.fleet.addrs[1].name;
    assert.equal(
      (await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', '{"spec":{"preprovisioningNetworkDataName":"prov-net"}}'])).code,
      0,
    );
    const p = await eventually(
      async () => {
        const x = await ppi(name);
        return cond(x, 'Error')?.status === 'True' ? x : null;
      },
      'Error on the image',
      60_000,
    );
    assert.equal(cond(p, 'Error')?.reason, 'MissingNetworkData');
    assert.equal(cond(p, 'Error')?.message, 'NetworkData secret not found');
    const h = await s.waitFor(name, (x) => x.status?.errorType === 'registration error', 'registration error', 60_000);
    assert.match(String(h.status?.errorMessage), /NetworkData secret not found/);
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'prov-net', namespace: 'default' },
      stringData: { nmstate: 'interfaces: []' },
    };
    assert.equal((await s.k(['apply', '-f', '-'], JSON.stringify(secret))).code, 0);
    const fixed = await eventually(
      async () => {
        const x = await ppi(name);
        return cond(x, 'Ready')?.status === 'True' && x?.status?.networkData?.name === 'prov-net' ? x : null;
      },
      'the image rebuilt with the network data',
      90_000,
    );
    assert.ok(fixed.status?.networkData?.version, 'the Secret version it was built with');
    await s.waitFor(name, (x) => !x.status?.errorType && x.status?.provisioning?.state === 'available', 'the host recovered', 120_000);
  });

  it('the image goes with its host', async () => {
    const name = s.fleet.addrs[0].name;
    assert.equal((await s.k(['delete', 'bmh', name, '--timeout=120s'])).code, 0);
    await eventually(async () => (await ppi(name)) === null, 'the image deleted', 60_000);
  });
});

describe('a prebuilt agent ISO (deploy_iso)', { concurrency: 1, timeout: 600_000 }, () => {
  let s: BmoStack;
  const disk = Buffer.alloc(1024 * 1024, 4);
  before(async () => {
    s = await startBmoStack({
      machines: 1,
      buildPreprovImage: true,
      pollMs: 200,
      files: { '/disk.img': disk },
      // an agent ISO that knows its Ironic, as an image builder would make it
      deployIso: (ironic) =>
        buildIso('IPA_ISO', [
          { path: 'vmlinuz', data: Buffer.from('prebuilt agent kernel') },
          { path: 'initrd', data: Buffer.from('prebuilt agent initramfs') },
          {
            path: 'boot/grub/grub.cfg',
            data: Buffer.from(`menuentry "ipa" {\n  linux /vmlinuz ipa-api-url=${ironic} boot_method=vmedia\n  initrd /initrd\n}\n`),
          },
        ]),
    });
  });
  after(() => s?.close());

  it('a virtual-media host gets the ISO through its PreprovisioningImage, and Ironic boots it as it is', async () => {
    const docs = YAML.parseAllDocuments(fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' })).map((d) => d.toJS());
    const bmh = docs.find((d) => d.kind === 'BareMetalHost');
    // the prebuilt ISO carries no inspection callback: this host skips inspection
    bmh.metadata.annotations = { 'inspect.metal3.io': 'disabled' };
    assert.equal((await s.k(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'))).code, 0);
    const name = String(bmh.metadata.name);
    await s.waitFor(name, (x) => x.status?.provisioning?.state === 'available', 'available', 180_000);
    const p = await getOrNull<PreprovisioningImage>(s.client, PPI, 'default', name);
    assert.equal(p?.status?.format, 'iso');
    assert.equal(p?.status?.imageUrl, `${s.files.url}/ipa.iso`);
    const image = { url: `${s.files.url}/disk.img`, checksum: createHash('sha256').update(disk).digest('hex'), checksumType: 'sha256' };
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', JSON.stringify({ spec: { image } })])).code, 0);
    const h = await s.waitFor(name, (x) => x.status?.provisioning?.state === 'provisioned', 'provisioned', 180_000);
    const node = s.ironic.conductor.store.node(String(h.status?.provisioning?.ID));
    assert.equal(node?.driver_info.deploy_iso, `${s.files.url}/ipa.iso`);
    const m = s.fleet.fleet.machines[0];
    assert.equal(m.state.installedImage?.url, image.url, 'the agent from the prebuilt ISO wrote the image');
    assert.ok(
      m.state.console.some((l) => l.includes(`Booting virtual media`) && l.includes('ironic-python-agent')),
      'the machine booted the agent from the CD',
    );
  });
});
