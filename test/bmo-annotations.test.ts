// The annotations BareMetalHost users rely on, through kubectl against the operator and Ferrite's
// Ironic, with the emulated machines as ground truth: paused, reboot.metal3.io (one-shot and
// held), inspect.metal3.io (re-inspection), inspect.metal3.io/hardwaredetails with inspection
// disabled, detached (and re-attach), and the status annotation restoring a host's status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('BareMetalHost annotations', { concurrency: 1 }, () => {
  const machine = (i: number) => s.fleet.fleet.machines[i];
  async function machineOn(i: number, on: boolean, timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    while (machine(i).poweredOn !== on) {
      assert.ok(Date.now() < end, `machine ${i} did not power ${on ? 'on' : 'off'}`);
      await sleep(50);
    }
  }
  let s: BmoStack;
  before(async () => {
    s = await startBmoStack({ machines: 4, pollMs: 200 });
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs.slice(0, 2), { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    for (const a of s.fleet.addrs.slice(0, 2))
      await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available', 90_000);
  });
  after(async () => s?.close());

  it('an available, online host is powered on; the suffixless reboot annotation (force) power-cycles it once', async () => {
    const name = s.fleet.addrs[0].name;
    await s.waitFor(name, (h) => h.status?.poweredOn === true, 'powered on');
    await machineOn(0, true);
    const boots = JSON.stringify(machine(0).state.lastBoot);
    assert.equal((await s.k(['annotate', 'bmh', name, 'reboot.metal3.io={"force":true}'])).code, 0);
    await s.waitFor(name, (h) => !h.metadata.annotations?.['reboot.metal3.io'], 'the one-shot annotation removed');
    await machineOn(0, true);
    await s.waitFor(name, (h) => h.status?.poweredOn === true, 'powered on again');
    const end = Date.now() + 30_000;
    while (JSON.stringify(machine(0).state.lastBoot) === boots && Date.now() < end) await sleep(50);
    assert.notEqual(JSON.stringify(machine(0).state.lastBoot), boots, 'the machine booted again: it was power-cycled');
  });

  it('reboot.metal3.io/<key> holds the host off until removed', async () => {
    const name = s.fleet.addrs[0].name;
    assert.equal((await s.k(['annotate', 'bmh', name, 'reboot.metal3.io/maintenance={"force":true,"mode":"hard"}'])).code, 0);
    await s.waitFor(name, (h) => h.status?.poweredOn === false, 'powered off');
    await machineOn(0, false);
    await sleep(1000);
    assert.equal(machine(0).poweredOn, false, 'stays off while the annotation is there');
    assert.equal((await s.k(['annotate', 'bmh', name, 'reboot.metal3.io/maintenance-'])).code, 0);
    await s.waitFor(name, (h) => h.status?.poweredOn === true, 'powered on after removal');
    await machineOn(0, true);
  });

  it('paused: changes are not acted on until the annotation goes', async () => {
    const name = s.fleet.addrs[1].name;
    assert.equal((await s.k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/paused=true'])).code, 0);
    const before = (await s.host(name)).status?.lastUpdated;
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', '{"spec":{"online":false}}'])).code, 0);
    await sleep(1500);
    const h = await s.host(name);
    assert.equal(h.status?.poweredOn, true, 'still on: the paused host was not reconciled');
    assert.equal(h.status?.lastUpdated, before);
    assert.equal((await s.k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/paused-'])).code, 0);
    await s.waitFor(name, (h) => h.status?.poweredOn === false, 'powered off once unpaused');
    await machineOn(1, false);
  });

  it('inspect.metal3.io re-inspects an available host and is removed when inspection starts', async () => {
    const name = s.fleet.addrs[1].name;
    const first = (await s.host(name)).status?.operationHistory?.inspect?.end;
    assert.equal((await s.k(['annotate', 'bmh', name, 'inspect.metal3.io='])).code, 0);
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'inspecting', 'inspecting');
    const h = await s.waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available again');
    assert.equal(h.metadata.annotations?.['inspect.metal3.io'], undefined);
    assert.notEqual(h.status?.operationHistory?.inspect?.end, first, 'a new inspection ran');
    assert.ok((h.status?.hardware?.cpu?.count ?? 0) > 0);
  });

  it('hardwaredetails with inspection disabled fill status.hardware without inspecting', async () => {
    const a = s.fleet.addrs[2];
    const hw = { cpu: { arch: 'x86_64', model: 'Given CPU', count: 64, clockMegahertz: 2000 }, ramMebibytes: 4096, hostname: 'given' };
    const m = fleetManifests([a], { protocol: 'redfish-virtualmedia' }).replace(
      `name: ${a.name}\nspec:`,
      `name: ${a.name}\n  annotations:\n    inspect.metal3.io: disabled\n    inspect.metal3.io/hardwaredetails: '${JSON.stringify(hw)}'\nspec:`,
    );
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const h = await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available');
    assert.equal(h.status?.hardware?.cpu?.model, 'Given CPU');
    assert.equal(h.status?.hardware?.hostname, 'given');
    assert.equal(h.metadata.annotations?.['inspect.metal3.io/hardwaredetails'], undefined, 'the annotation is consumed');
    assert.equal(h.status?.operationHistory?.inspect?.start, undefined, 'no inspection ran');
    const hd = await s.k(['get', 'hardwaredata', a.name, '-o', 'jsonpath={.spec.hardware.cpu.model}']);
    assert.equal(hd.stdout, 'Given CPU');
  });

  it('detached: the Ironic node goes, the host keeps its status; removing it registers the host again', async () => {
    const name = s.fleet.addrs[1].name;
    const id = (await s.host(name)).status?.provisioning?.ID;
    assert.ok(id && s.ironic.store.node(id), 'the host has an Ironic node');
    assert.equal((await s.k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/detached={"deleteAction":"delay"}'])).code, 0);
    const h = await s.waitFor(name, (h) => h.status?.operationalStatus === 'detached', 'detached');
    assert.equal(h.status?.provisioning?.state, 'available', 'the state is kept');
    assert.equal(s.ironic.store.node(String(id)), undefined, 'the Ironic node was deleted');
    assert.equal((await s.k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/detached-'])).code, 0);
    // the host may read OK with its old node's ID for a moment before the new node is recorded
    const back = await s.waitFor(
      name,
      (h) => h.status?.operationalStatus === 'OK' && Boolean(h.status?.provisioning?.ID) && h.status?.provisioning?.ID !== id,
      're-registered with a new Ironic node',
    );
    assert.ok(back.status?.provisioning?.ID && s.ironic.store.node(back.status.provisioning.ID), 'a new Ironic node exists');
  });

  it('the status annotation restores a saved status onto a new host object', async () => {
    const a = s.fleet.addrs[3];
    const saved = {
      operationalStatus: 'OK',
      provisioning: { state: 'externally provisioned', ID: '' },
      hardware: { hostname: 'restored-host', ramMebibytes: 1024 },
      poweredOn: true,
    };
    const m = fleetManifests([a], { protocol: 'redfish-virtualmedia' }).replace(
      `name: ${a.name}\nspec:`,
      `name: ${a.name}\n  annotations:\n    baremetalhost.metal3.io/status: '${JSON.stringify(saved)}'\nspec:\n  externallyProvisioned: true`,
    );
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const h = await s.waitFor(
      a.name,
      (h) => h.metadata.annotations?.['baremetalhost.metal3.io/status'] === undefined && Boolean(h.status?.provisioning?.ID),
      'status restored and registered',
    );
    assert.equal(h.status?.hardware?.hostname, 'restored-host', 'the saved hardware details came back, no inspection');
    assert.equal(h.status?.provisioning?.state, 'externally provisioned');
    const node = s.ironic.store.node(String(h.status?.provisioning?.ID));
    await s.waitFor(
      a.name,
      () => s.ironic.store.node(String(h.status?.provisioning?.ID))?.provision_state === 'active',
      'adopted (Ironic active)',
    );
    assert.ok(node);
  });
});
