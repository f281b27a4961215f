// Ferrite's Bare Metal Operator against OpenStack Ironic (PyPI, .peers/ironic), which drives an
// emulated machine through sushy over Redfish: the operator registers the host (Ironic verifies
// the credentials against the BMC), takes it to available with hardware details from the
// annotation (inspection disabled), powers it on, and deletes the node — only Ironic's REST API
// in between, as upstream's operator would use it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { installCrds } from '../cli/crds.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type RunningControllers, startControllers } from '../provider/controllers.js';
import { KubeClient } from '../provider/kube/client.js';
import { openstackIronicConf } from '../scripts/bench/openstack-ironic.js';
import { cleanup, kubectl, ROOT, startTestServer, tempDir } from './helpers/apiserver.js';
import { startTestFleet, type TestFleet } from './helpers/bmc.js';

const VENV = join(ROOT, '.peers', 'ironic', 'bin');
const have = existsSync(join(VENV, 'ironic'));

function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

describe('BMO against OpenStack Ironic', {
  concurrency: 1,
  skip: have ? false : 'run scripts/bench/install-ironic.sh first (.peers/ironic)',
}, () => {
  let api: Awaited<ReturnType<typeof startTestServer>>;
  let fleet: TestFleet;
  let op: RunningControllers;
  let client: KubeClient;
  let ironic: ReturnType<typeof spawn> | undefined;
  let ironicUrl = '';
  const dir = tempDir('ferrite-os-ironic-');
  let ironicLog = '';

  before(async () => {
    const port = await freePort();
    ironicUrl = `http://127.0.0.1:${port}`;
    const conf = join(dir, 'ironic.conf');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      conf,
      openstackIronicConf({
        dir,
        port,
        hardwareTypes: ['redfish'],
        interfaces: {
          boot: ['redfish-virtual-media'],
          deploy: ['direct', 'ramdisk', 'custom-agent'],
          inspect: ['agent', 'redfish', 'no-inspect'],
          management: ['redfish'],
          power: ['redfish'],
          raid: ['redfish', 'agent', 'no-raid'],
          firmware: ['redfish', 'no-firmware'],
          bios: ['redfish', 'no-bios'],
          vendor: ['redfish', 'no-vendor'],
          console: ['no-console'],
          rescue: ['no-rescue'],
        },
        syncPowerStateInterval: 5,
      }),
    );
    const sync = spawnSync(join(VENV, 'ironic-dbsync'), ['--config-file', conf, 'create_schema'], { encoding: 'utf8' });
    assert.equal(sync.status, 0, sync.stderr);
    ironic = spawn(join(VENV, 'ironic'), ['--config-file', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    ironic.stderr?.on('data', (d: Buffer) => {
      ironicLog = (ironicLog + d.toString()).slice(-20_000);
    });
    const end = Date.now() + 120_000;
    for (;;) {
      try {
        if ((await fetch(`${ironicUrl}/v1`)).ok) break;
      } catch {
        // still starting
      }
      assert.ok(Date.now() < end, `OpenStack Ironic did not start:\n${ironicLog}`);
      await sleep(250);
    }
    api = await startTestServer({ inMemory: true });
    await installCrds(api.core);
    fleet = await startTestFleet(1, { tls: true });
    client = KubeClient.fromFile(api.kubeconfigPath);
    op = await startControllers({
      client,
      ironic: { endpoint: `${ironicUrl}/v1/` },
      log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
      pollMs: 500,
      errorBackoffBaseMs: 1000,
    });
  });
  after(async () => {
    await op?.stop();
    ironic?.kill('SIGTERM');
    await fleet?.close();
    await api?.close();
    if (api) cleanup(api.dir);
    cleanup(dir);
  });

  it('registers, reaches available, powers on and deletes through OpenStack Ironic', async () => {
    const a = fleet.addrs[0];
    const hw = { cpu: { arch: 'x86_64', count: 4 }, ramMebibytes: 8192, hostname: a.name };
    const m = fleetManifests([a], { protocol: 'redfish-virtualmedia' }).replace(
      `name: ${a.name}\nspec:`,
      `name: ${a.name}\n  annotations:\n    inspect.metal3.io: disabled\n    inspect.metal3.io/hardwaredetails: '${JSON.stringify(hw)}'\nspec:\n  automatedCleaningMode: disabled`,
    );
    const r = await kubectl(api.kubeconfigPath, ['apply', '-f', '-'], { input: m });
    assert.equal(r.code, 0, r.stderr);
    const get = () =>
      client.get<{ status?: { provisioning?: { state?: string; ID?: string }; poweredOn?: boolean; errorMessage?: string } }>(
        'metal3.io/v1alpha1',
        'BareMetalHost',
        'default',
        a.name,
      );
    let h = await get();
    const end = Date.now() + 120_000;
    while (!(h.status?.provisioning?.state === 'available' && h.status.poweredOn === true)) {
      assert.ok(Date.now() < end, `host did not become available and powered on: ${JSON.stringify(h.status)}\n${ironicLog.slice(-3000)}`);
      await sleep(500);
      h = await get();
    }
    const node = (await (
      await fetch(`${ironicUrl}/v1/nodes/default~${a.name}`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } })
    ).json()) as Record<string, unknown>;
    assert.equal(node.driver, 'redfish');
    assert.equal(node.boot_interface, 'redfish-virtual-media');
    assert.equal(node.power_state, 'power on');
    assert.equal(fleet.fleet.machines[0].poweredOn, true, 'the emulated machine is really on');
    const del = await kubectl(api.kubeconfigPath, ['delete', 'bmh', a.name], { timeoutMs: 120_000 });
    assert.equal(del.code, 0, del.stderr);
    const gone = await fetch(`${ironicUrl}/v1/nodes/default~${a.name}`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } });
    assert.equal(gone.status, 404, 'the node was deleted from OpenStack Ironic');
  });
});
