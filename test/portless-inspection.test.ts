// A BareMetalHost behind IPMI with no bootMACAddress: Ironic enrolls a node without ports, so
// it has no iPXE script to hand that machine; the machine falls through Ironic's boot.ipxe to
// inspector.ipxe (unmanaged inspection), the agent posts its inventory with the BMC's address,
// Ironic finds the node by it and makes the port — and the host then deploys like any other. Two
// such hosts inspect at once: the emulator's BMCs share 127.0.0.1, and the port tells them apart.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('inspection of a host without bootMACAddress', { concurrency: 1, timeout: 600_000 }, () => {
  let s: BmoStack;
  const disk = Buffer.alloc(1024 * 1024, 7);
  const sha = createHash('sha256').update(disk).digest('hex');

  before(async () => {
    s = await startBmoStack({
      machines: {
        machines: [
          { name: 'portless', protocols: ['ipmi'] },
          { name: 'portless-b', protocols: ['ipmi'] },
        ],
      },
      pollMs: 200,
      files: { '/disk.img': disk },
    });
    const docs = YAML.parseAllDocuments(fleetManifests(s.fleet.addrs, { protocol: 'ipmi' })).map((d) => d.toJS());
    for (const bmh of docs.filter((d) => d.kind === 'BareMetalHost')) delete bmh.spec.bootMACAddress;
    const r = await s.k(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'));
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => s?.close());

  it('is inspected through unmanaged inspection, found by its BMC address, and reaches available', async () => {
    const h = await s.waitFor('portless', (x) => x.status?.provisioning?.state === 'available', 'available', 180_000);
    await s.waitFor('portless-b', (x) => x.status?.provisioning?.state === 'available', 'available', 180_000);
    const m = s.fleet.fleet.machines.find((x) => x.spec.name === 'portless');
    assert.ok(m);
    const mac = m.spec.nics[0].mac.toLowerCase();
    const node = s.ironic.conductor.store.node(String(h.status?.provisioning?.ID));
    assert.ok(node, 'the host has its Ironic node');
    const ports = [...s.ironic.conductor.store.allPorts()].filter((p) => p.node_uuid === node.uuid).map((p) => p.address);
    assert.deepEqual(ports, [mac], 'inspection created the port for the NIC the machine booted from');
    assert.ok(
      m.state.console.some((l) => l.includes(`No script for ${mac}: booting the agent for unmanaged inspection`)),
      'the machine had no script of its own (it fell through to inspector.ipxe)',
    );
    const hw = await s.client.get<{ spec: { hardware: { nics: Array<{ mac: string }> } } }>(
      'metal3.io/v1alpha1',
      'HardwareData',
      'default',
      'portless',
    );
    assert.ok(
      hw?.spec.hardware.nics.some((n) => n.mac.toLowerCase() === mac),
      'HardwareData lists the NIC',
    );
  });

  it('then provisions over PXE through the port inspection made', async () => {
    const p = JSON.stringify({ spec: { image: { url: `${s.files.url}/disk.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', 'portless', '--type', 'merge', '-p', p])).code, 0);
    await s.waitFor('portless', (x) => x.status?.provisioning?.state === 'provisioned', 'provisioned', 180_000);
    assert.equal(s.fleet.fleet.machines.find((m) => m.spec.name === 'portless')?.state.installedImage?.url, `${s.files.url}/disk.img`);
  });
});
