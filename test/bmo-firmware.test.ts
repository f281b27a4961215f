// HostFirmwareSettings and FirmwareSchema through kubectl: the operator mirrors the BIOS settings
// Ironic reads from the emulated BMC, publishes their registry, refuses invalid requests with
// Valid=False, and applies a valid change by manual cleaning (bios.apply_configuration) — seen
// on the emulated machine's BIOS, not only in the status.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

type Hfs = {
  metadata: { generation?: number };
  spec?: { settings?: Record<string, unknown> };
  status?: {
    settings?: Record<string, string>;
    schema?: { name: string };
    conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number }>;
  };
};

const DISK = Buffer.alloc(1024 * 1024, 9);

describe('HostFirmwareSettings', { concurrency: 1 }, () => {
  let s: BmoStack;
  const hfs = (name: string) =>
    s.client.get<Hfs & { metadata: Record<string, unknown> }>('metal3.io/v1alpha1', 'HostFirmwareSettings', 'default', name);
  async function waitHfs(name: string, pred: (h: Hfs) => boolean, what: string, timeoutMs = 60_000): Promise<Hfs> {
    const end = Date.now() + timeoutMs;
    let last: Hfs | undefined;
    while (Date.now() < end) {
      try {
        last = await hfs(name);
        if (pred(last)) return last;
      } catch {
        // not created yet
      }
      await sleep(150);
    }
    throw new Error(`${name}: timed out waiting for ${what}; last ${JSON.stringify(last?.status)}`);
  }
  const cond = (h: Hfs, t: string) => h.status?.conditions?.find((c) => c.type === t);

  before(async () => {
    s = await startBmoStack({
      machines: 1,
      pollMs: 200,
      files: { '/bios-2.5.0.bin': Buffer.alloc(64 * 1024, 1), '/disk.img': DISK },
    });
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    await s.waitFor(s.fleet.addrs[0].name, (h) => h.status?.provisioning?.state === 'available', 'available');
  });
  after(async () => s?.close());

  it('mirrors the BMC BIOS settings and publishes their schema', async () => {
    const name = s.fleet.addrs[0].name;
    const h = await waitHfs(name, (h) => Boolean(h.status?.settings && Object.keys(h.status.settings).length), 'settings');
    const machineBios = s.fleet.fleet.machines[0].state.bios.attributes;
    for (const [k, v] of Object.entries(machineBios)) assert.equal(h.status?.settings?.[k], String(v), `${k} as the BMC has it`);
    assert.match(h.status?.schema?.name ?? '', /^schema-[0-9a-f]{8}$/);
    const fs = await s.k([
      'get',
      'firmwareschema',
      String(h.status?.schema?.name),
      '-o',
      'jsonpath={.spec.schema.ProcVirtualization.attribute_type}',
    ]);
    assert.equal(fs.code, 0, fs.stderr);
    assert.equal(fs.stdout, 'Enumeration');
    assert.equal(cond(h, 'ChangeDetected')?.status, 'False');
    assert.equal(cond(h, 'Valid')?.status, 'True');
  });

  it('an invalid value is refused with Valid=False and never applied', async () => {
    const name = s.fleet.addrs[0].name;
    assert.equal(
      (await s.k(['patch', 'hfs', name, '--type', 'merge', '-p', '{"spec":{"settings":{"ProcVirtualization":"Sideways"}}}'])).code,
      0,
    );
    const h = await waitHfs(
      name,
      (h) => cond(h, 'Valid')?.status === 'False' && cond(h, 'Valid')?.observedGeneration === h.metadata.generation,
      'Valid=False',
    );
    assert.equal(cond(h, 'Valid')?.reason, 'ConfigurationError');
    assert.equal(cond(h, 'ChangeDetected')?.status, 'True');
    const ev = await s.k([
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name},reason=ValidationFailed`,
      '-o',
      'jsonpath={.items[*].message}',
    ]);
    assert.match(ev.stdout, /Invalid BIOS setting: unknown enumeration value - Sideways/);
    await sleep(1500);
    assert.equal((await s.host(name)).status?.provisioning?.state, 'available', 'the host did not prepare an invalid change');
    assert.equal(s.fleet.fleet.machines[0].state.bios.attributes.ProcVirtualization, 'Enabled');
  });

  it('a valid change is applied by preparing the host; the BIOS and the status then agree', async () => {
    const name = s.fleet.addrs[0].name;
    assert.equal(
      (await s.k(['patch', 'hfs', name, '--type', 'merge', '-p', '{"spec":{"settings":{"ProcVirtualization":"Disabled"}}}'])).code,
      0,
    );
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'preparing', 'preparing');
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available again', 90_000);
    const end = Date.now() + 30_000;
    while (s.fleet.fleet.machines[0].state.bios.attributes.ProcVirtualization !== 'Disabled') {
      assert.ok(Date.now() < end, 'the BMC BIOS setting changed');
      await sleep(100);
    }
    const h = await waitHfs(
      name,
      (h) => h.status?.settings?.ProcVirtualization === 'Disabled' && cond(h, 'ChangeDetected')?.status === 'False',
      'status caught up',
    );
    assert.equal(cond(h, 'Valid')?.status, 'True');
  });

  type Hfc = {
    metadata: { generation?: number };
    status?: {
      updates?: Array<{ component: string; url: string }>;
      components?: Array<{ component: string; initialVersion: string; currentVersion?: string }>;
      conditions?: Array<{ type: string; status: string; reason: string; observedGeneration?: number }>;
    };
  };
  async function waitHfc(name: string, pred: (h: Hfc) => boolean, what: string): Promise<Hfc> {
    const end = Date.now() + 90_000;
    let last: Hfc | undefined;
    while (Date.now() < end) {
      try {
        last = await s.client.get<Hfc & { metadata: Record<string, unknown> }>(
          'metal3.io/v1alpha1',
          'HostFirmwareComponents',
          'default',
          name,
        );
        if (pred(last)) return last;
      } catch {
        // not created yet
      }
      await sleep(150);
    }
    throw new Error(`${name}: timed out waiting for ${what}; last ${JSON.stringify(last?.status)}`);
  }
  const hcond = (h: Hfc, t: string) => h.status?.conditions?.find((c) => c.type === t);

  it('HostFirmwareComponents reports the BMC firmware versions', async () => {
    const name = s.fleet.addrs[0].name;
    const h = await waitHfc(name, (h) => (h.status?.components?.length ?? 0) > 0, 'components');
    const names = (h.status?.components ?? []).map((c) => c.component).sort();
    assert.ok(names.includes('bios') && names.includes('bmc'), `components: ${names.join(', ')}`);
  });

  it('an update for an unknown component is refused (Valid=False, InvalidComponent)', async () => {
    const name = s.fleet.addrs[0].name;
    const bad = JSON.stringify({ spec: { updates: [{ component: 'raid-controller', url: `${s.files.url}/bios-2.5.0.bin` }] } });
    assert.equal((await s.k(['patch', 'hostfirmwarecomponents', name, '--type', 'merge', '-p', bad])).code, 0);
    const h = await waitHfc(
      name,
      (h) => hcond(h, 'Valid')?.status === 'False' && hcond(h, 'Valid')?.observedGeneration === h.metadata.generation,
      'Valid=False',
    );
    assert.equal(hcond(h, 'Valid')?.reason, 'InvalidComponent');
    await sleep(1000);
    assert.equal((await s.host(name)).status?.provisioning?.state, 'available', 'nothing was flashed');
  });

  it('a BIOS update is flashed while preparing; the BMC then reports the new version', async () => {
    const name = s.fleet.addrs[0].name;
    const updates = [{ component: 'bios', url: `${s.files.url}/bios-2.5.0.bin` }];
    assert.equal(
      (await s.k(['patch', 'hostfirmwarecomponents', name, '--type', 'merge', '-p', JSON.stringify({ spec: { updates } })])).code,
      0,
    );
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'preparing', 'preparing');
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available again', 120_000);
    const h = await waitHfc(
      name,
      (h) =>
        h.status?.components?.find((c) => c.component === 'bios')?.currentVersion === '2.5.0' &&
        hcond(h, 'ChangeDetected')?.status === 'False',
      'bios at 2.5.0',
    );
    assert.deepEqual(h.status?.updates, updates);
    const fw = s.fleet.fleet.machines[0].state.firmware.find((f) => /bios/i.test(f.id));
    assert.equal(fw?.version, '2.5.0', 'the emulated BIOS firmware was flashed');
  });

  it('a provisioned host with a HostUpdatePolicy (onReboot) gets a BIOS change through servicing when rebooted', async () => {
    const name = s.fleet.addrs[0].name;
    const image = { url: `${s.files.url}/disk.img`, checksum: createHash('sha256').update(DISK).digest('hex'), checksumType: 'sha256' };
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', JSON.stringify({ spec: { image } })])).code, 0);
    await s.waitFor(
      name,
      (h) => h.status?.provisioning?.state === 'provisioned' && h.status.poweredOn === true,
      'provisioned and on',
      180_000,
    );
    const hup = {
      apiVersion: 'metal3.io/v1alpha1',
      kind: 'HostUpdatePolicy',
      metadata: { name, namespace: 'default' },
      spec: { firmwareSettings: 'onReboot' },
    };
    assert.equal((await s.k(['apply', '-f', '-'], JSON.stringify(hup))).code, 0);
    assert.equal(
      (await s.k(['patch', 'hfs', name, '--type', 'merge', '-p', '{"spec":{"settings":{"ProcVirtualization":"Enabled"}}}'])).code,
      0,
    );
    await waitHfs(
      name,
      (h) => cond(h, 'ChangeDetected')?.status === 'True' && cond(h, 'Valid')?.status === 'True',
      'a valid change detected',
    );
    await sleep(1500);
    assert.equal(s.fleet.fleet.machines[0].state.bios.attributes.ProcVirtualization, 'Disabled', 'nothing applies while the host runs');
    assert.equal((await s.k(['annotate', 'bmh', name, 'reboot.metal3.io='])).code, 0);
    await s.waitFor(name, (h) => h.status?.operationalStatus === 'servicing', 'servicing', 60_000);
    const after = await s.waitFor(
      name,
      (h) =>
        h.status?.operationalStatus === 'OK' && h.status.poweredOn === true && !('reboot.metal3.io' in (h.metadata?.annotations ?? {})),
      'serviced and back on',
      120_000,
    );
    assert.equal(after.status?.provisioning?.state, 'provisioned');
    assert.equal(s.fleet.fleet.machines[0].state.bios.attributes.ProcVirtualization, 'Enabled', 'the BMC BIOS setting changed');
    const owners = (
      await s.k(['get', 'hostupdatepolicy', name, '-o', 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'])
    ).stdout;
    assert.equal(owners, `BareMetalHost/${name}`);
  });
});
