// The annotations BareMetalHost users rely on, through kubectl against the operator and Ferrite's
// Ironic, with the emulated machines as ground truth: paused, reboot.metal3.io (one-shot and
// held), inspect.metal3.io (re-inspection), inspect.metal3.io/hardwaredetails with inspection
// disabled, detached (and re-attach), and the status annotation restoring a host's status.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { installCrds } from '../cli/crds.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type Operator, startOperator } from '../provider/bmo/operator.js';
import { KubeClient } from '../provider/kube/client.js';
import { cleanup, kubectl, startTestServer } from './helpers/apiserver.js';
import { startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { startTestIronic } from './helpers/ironic.js';

type Bmh = {
  metadata: { annotations?: Record<string, string>; generation?: number };
  status?: {
    provisioning?: { state?: string; ID?: string };
    operationalStatus?: string;
    poweredOn?: boolean;
    errorType?: string;
    hardware?: { cpu?: { count?: number; model?: string }; hostname?: string };
    operationHistory?: { inspect?: { start?: string; end?: string | null } };
    lastUpdated?: string;
  };
};

describe('BareMetalHost annotations', { concurrency: 1 }, () => {
  let api: Awaited<ReturnType<typeof startTestServer>>;
  let fleet: TestFleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let op: Operator;
  let client: KubeClient;
  const k = (args: string[], input?: string) => kubectl(api.kubeconfigPath, args, { input });
  const host = (name: string) =>
    client.get<Bmh & { apiVersion: string; kind: string }>('metal3.io/v1alpha1', 'BareMetalHost', 'default', name);
  async function waitFor(name: string, pred: (h: Bmh) => boolean, what: string, timeoutMs = 60_000): Promise<Bmh> {
    const end = Date.now() + timeoutMs;
    let last: Bmh | undefined;
    while (Date.now() < end) {
      try {
        last = await host(name);
        if (pred(last)) return last;
      } catch {
        // not there yet
      }
      await sleep(150);
    }
    throw new Error(`${name}: timed out waiting for ${what}; last ${JSON.stringify({ a: last?.metadata.annotations, s: last?.status })}`);
  }
  const machine = (i: number) => fleet.fleet.machines[i];
  async function machineOn(i: number, on: boolean, timeoutMs = 30_000) {
    const end = Date.now() + timeoutMs;
    while (machine(i).poweredOn !== on) {
      assert.ok(Date.now() < end, `machine ${i} did not power ${on ? 'on' : 'off'}`);
      await sleep(50);
    }
  }

  before(async () => {
    api = await startTestServer({ inMemory: true });
    await installCrds(api.core);
    files = await startFileServer({ '/ipa.kernel': Buffer.from('k'), '/ipa.initramfs': Buffer.from('r') });
    fleet = await startTestFleet(4, { tls: true });
    ironic = await startTestIronic();
    fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
    client = KubeClient.fromFile(api.kubeconfigPath);
    op = await startOperator({
      client,
      ironic: { endpoint: ironic.url },
      log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
      deployKernelUrl: `${files.url}/ipa.kernel`,
      deployRamdiskUrl: `${files.url}/ipa.initramfs`,
      pollMs: 200,
      errorBackoffBaseMs: 1000,
    });
    const r = await k(['apply', '-f', '-'], fleetManifests(fleet.addrs.slice(0, 2), { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    for (const a of fleet.addrs.slice(0, 2))
      await waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available', 90_000);
  });
  after(async () => {
    await op?.stop();
    await ironic?.close();
    await fleet?.close();
    await files?.close();
    await api?.close();
    if (api) cleanup(api.dir);
  });

  it('an available, online host is powered on; the suffixless reboot annotation (force) power-cycles it once', async () => {
    const name = fleet.addrs[0].name;
    await waitFor(name, (h) => h.status?.poweredOn === true, 'powered on');
    await machineOn(0, true);
    const boots = JSON.stringify(machine(0).state.lastBoot);
    assert.equal((await k(['annotate', 'bmh', name, 'reboot.metal3.io={"force":true}'])).code, 0);
    await waitFor(name, (h) => !h.metadata.annotations?.['reboot.metal3.io'], 'the one-shot annotation removed');
    await machineOn(0, true);
    await waitFor(name, (h) => h.status?.poweredOn === true, 'powered on again');
    const end = Date.now() + 30_000;
    while (JSON.stringify(machine(0).state.lastBoot) === boots && Date.now() < end) await sleep(50);
    assert.notEqual(JSON.stringify(machine(0).state.lastBoot), boots, 'the machine booted again: it was power-cycled');
  });

  it('reboot.metal3.io/<key> holds the host off until removed', async () => {
    const name = fleet.addrs[0].name;
    assert.equal((await k(['annotate', 'bmh', name, 'reboot.metal3.io/maintenance={"force":true,"mode":"hard"}'])).code, 0);
    await waitFor(name, (h) => h.status?.poweredOn === false, 'powered off');
    await machineOn(0, false);
    await sleep(1000);
    assert.equal(machine(0).poweredOn, false, 'stays off while the annotation is there');
    assert.equal((await k(['annotate', 'bmh', name, 'reboot.metal3.io/maintenance-'])).code, 0);
    await waitFor(name, (h) => h.status?.poweredOn === true, 'powered on after removal');
    await machineOn(0, true);
  });

  it('paused: changes are not acted on until the annotation goes', async () => {
    const name = fleet.addrs[1].name;
    assert.equal((await k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/paused=true'])).code, 0);
    const before = (await host(name)).status?.lastUpdated;
    assert.equal((await k(['patch', 'bmh', name, '--type', 'merge', '-p', '{"spec":{"online":false}}'])).code, 0);
    await sleep(1500);
    const h = await host(name);
    assert.equal(h.status?.poweredOn, true, 'still on: the paused host was not reconciled');
    assert.equal(h.status?.lastUpdated, before);
    assert.equal((await k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/paused-'])).code, 0);
    await waitFor(name, (h) => h.status?.poweredOn === false, 'powered off once unpaused');
    await machineOn(1, false);
  });

  it('inspect.metal3.io re-inspects an available host and is removed when inspection starts', async () => {
    const name = fleet.addrs[1].name;
    const first = (await host(name)).status?.operationHistory?.inspect?.end;
    assert.equal((await k(['annotate', 'bmh', name, 'inspect.metal3.io='])).code, 0);
    await waitFor(name, (h) => h.status?.provisioning?.state === 'inspecting', 'inspecting');
    const h = await waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available again');
    assert.equal(h.metadata.annotations?.['inspect.metal3.io'], undefined);
    assert.notEqual(h.status?.operationHistory?.inspect?.end, first, 'a new inspection ran');
    assert.ok((h.status?.hardware?.cpu?.count ?? 0) > 0);
  });

  it('hardwaredetails with inspection disabled fill status.hardware without inspecting', async () => {
    const a = fleet.addrs[2];
    const hw = { cpu: { arch: 'x86_64', model: 'Given CPU', count: 64, clockMegahertz: 2000 }, ramMebibytes: 4096, hostname: 'given' };
    const m = fleetManifests([a], { protocol: 'redfish-virtualmedia' }).replace(
      `name: ${a.name}\nspec:`,
      `name: ${a.name}\n  annotations:\n    inspect.metal3.io: disabled\n    inspect.metal3.io/hardwaredetails: '${JSON.stringify(hw)}'\nspec:`,
    );
    assert.equal((await k(['apply', '-f', '-'], m)).code, 0);
    const h = await waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available');
    assert.equal(h.status?.hardware?.cpu?.model, 'Given CPU');
    assert.equal(h.status?.hardware?.hostname, 'given');
    assert.equal(h.metadata.annotations?.['inspect.metal3.io/hardwaredetails'], undefined, 'the annotation is consumed');
    assert.equal(h.status?.operationHistory?.inspect?.start, undefined, 'no inspection ran');
    const hd = await k(['get', 'hardwaredata', a.name, '-o', 'jsonpath={.spec.hardware.cpu.model}']);
    assert.equal(hd.stdout, 'Given CPU');
  });

  it('detached: the Ironic node goes, the host keeps its status; removing it registers the host again', async () => {
    const name = fleet.addrs[1].name;
    const id = (await host(name)).status?.provisioning?.ID;
    assert.ok(id && ironic.store.node(id), 'the host has an Ironic node');
    assert.equal((await k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/detached={"deleteAction":"delay"}'])).code, 0);
    const h = await waitFor(name, (h) => h.status?.operationalStatus === 'detached', 'detached');
    assert.equal(h.status?.provisioning?.state, 'available', 'the state is kept');
    assert.equal(ironic.store.node(String(id)), undefined, 'the Ironic node was deleted');
    assert.equal((await k(['annotate', 'bmh', name, 'baremetalhost.metal3.io/detached-'])).code, 0);
    const back = await waitFor(name, (h) => h.status?.operationalStatus === 'OK' && Boolean(h.status?.provisioning?.ID), 're-registered');
    assert.ok(back.status?.provisioning?.ID && ironic.store.node(back.status.provisioning.ID), 'a new Ironic node exists');
  });

  it('the status annotation restores a saved status onto a new host object', async () => {
    const a = fleet.addrs[3];
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
    assert.equal((await k(['apply', '-f', '-'], m)).code, 0);
    const h = await waitFor(
      a.name,
      (h) => h.metadata.annotations?.['baremetalhost.metal3.io/status'] === undefined && Boolean(h.status?.provisioning?.ID),
      'status restored and registered',
    );
    assert.equal(h.status?.hardware?.hostname, 'restored-host', 'the saved hardware details came back, no inspection');
    assert.equal(h.status?.provisioning?.state, 'externally provisioned');
    const node = ironic.store.node(String(h.status?.provisioning?.ID));
    await waitFor(
      a.name,
      () => ironic.store.node(String(h.status?.provisioning?.ID))?.provision_state === 'active',
      'adopted (Ironic active)',
    );
    assert.ok(node);
  });
});
