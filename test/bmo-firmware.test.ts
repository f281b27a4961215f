// HostFirmwareSettings and FirmwareSchema through kubectl: the operator mirrors the BIOS settings
// Ironic reads from the emulated BMC, publishes their registry, refuses invalid requests with
// Valid=False, and applies a valid change by manual cleaning (bios.apply_configuration) — seen
// on the emulated machine's BIOS, not only in the status.
import assert from 'node:assert/strict';
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
    s = await startBmoStack({ machines: 1, pollMs: 200 });
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
});
