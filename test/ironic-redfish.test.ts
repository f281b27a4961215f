// The redfish hardware type beyond power and boot: out-of-band inspection, BIOS settings (read,
// and applied by a manual clean step), firmware components, virtual media attach/list/detach
// (1.89/1.93), boot device get/set, and event subscriptions through vendor passthru — checked
// against the emulated BMC's own state.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { ironicRequest, settledNode, startTestIronic } from './helpers/ironic.js';

const api = (base: string, method: string, path: string, body?: unknown, version = '1.110') =>
  ironicRequest(base, method, path, body, { 'X-OpenStack-Ironic-API-Version': version });

describe('Ironic redfish driver features', () => {
  let fleet: TestFleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  before(async () => {
    files = await startFileServer({ '/live.iso': Buffer.alloc(64 * 1024, 1), '/bios-2.5.0.bin': Buffer.alloc(4096, 2) });
    fleet = await startTestFleet(1, { tls: true });
    ironic = await startTestIronic();
    const a = fleet.addrs[0];
    const r = await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'rf',
      driver: 'redfish',
      inspect_interface: 'redfish',
      driver_info: { redfish_address: fleet.url, redfish_username: a.username, redfish_password: a.password, redfish_verify_ca: 'false' },
    });
    assert.equal(r.status, 201, r.text);
    await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', { target: 'manage' });
    await settledNode(ironic, 'rf', ['manageable']);
  });
  after(async () => {
    await ironic?.close();
    await fleet?.close();
    await files?.close();
  });
  const m = () => fleet.fleet.machines[0];
  const idle = () => settledNode(ironic, 'rf', () => true);

  it('fast (redfish) inspection fills properties and creates a port per NIC, without booting anything', async () => {
    const boots = m().state.bootCount;
    await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', { target: 'inspect' });
    await settledNode(ironic, 'rf', ['manageable']);
    const n = ironic.store.nodeByName('rf');
    const spec = m().spec;
    assert.equal(n?.properties.memory_mb, spec.memory.dimms * spec.memory.dimmGiB * 1024);
    assert.equal(n?.properties.cpu_arch, 'x86_64');
    const ports = (await api(ironic.url, 'GET', `/v1/ports?node=${n?.uuid}&fields=address`)).json.ports as Array<{ address: string }>;
    assert.deepEqual(ports.map((p) => p.address).sort(), spec.nics.map((x) => x.mac).sort());
    assert.equal(m().state.bootCount, boots);
  });

  it('reads BIOS settings and firmware components from the BMC', async () => {
    const bios = await api(ironic.url, 'GET', '/v1/nodes/rf/bios');
    const settings = bios.json.bios as Array<{ name: string; value: string }>;
    assert.equal(settings.find((s) => s.name === 'ProcVirtualization')?.value, String(m().state.bios.attributes.ProcVirtualization));
    const one = await api(ironic.url, 'GET', '/v1/nodes/rf/bios/ProcVirtualization');
    assert.ok(one.json.ProcVirtualization);
    const detail = await api(ironic.url, 'GET', '/v1/nodes/rf/bios?detail=true');
    assert.ok('read_only' in (detail.json.bios as Record<string, unknown>[])[0]);
    const fw = await api(ironic.url, 'GET', '/v1/nodes/rf/firmware');
    const comps = fw.json.firmware as Array<{ component: string; current_version: string }>;
    assert.deepEqual(comps.map((c) => c.component).sort(), ['bios', 'bmc']);
    assert.equal((await api(ironic.url, 'GET', '/v1/nodes/rf/firmware', undefined, '1.85')).status, 404, 'firmware appears at 1.86');
  });

  it('applies BIOS settings with the bios.apply_configuration manual clean step', async () => {
    const r = await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', {
      target: 'clean',
      clean_steps: [
        { interface: 'bios', step: 'apply_configuration', args: { settings: [{ name: 'ProcVirtualization', value: 'Disabled' }] } },
      ],
      disable_ramdisk: true,
    });
    assert.equal(r.status, 202, r.text);
    await settledNode(ironic, 'rf', ['manageable']);
    assert.equal(ironic.store.nodeByName('rf')?.last_error, null);
    assert.equal(m().state.bios.attributes.ProcVirtualization, 'Disabled', 'the setting reached the machine at its reboot');
    const s = (await api(ironic.url, 'GET', '/v1/nodes/rf/bios/ProcVirtualization')).json.ProcVirtualization as { value: string };
    assert.equal(s.value, 'Disabled');
    const bad = await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', {
      target: 'clean',
      clean_steps: [{ interface: 'firmware', step: 'nonsense' }],
    });
    assert.equal(bad.status, 400);
  });

  it('builds RAID from target_raid_config and updates firmware with manual clean steps, through BMC tasks', async () => {
    await idle();
    const raid = await api(ironic.url, 'PUT', '/v1/nodes/rf/states/raid', {
      logical_disks: [{ size_gb: 'MAX', raid_level: '1', volume_name: 'root', is_root_volume: true, number_of_physical_disks: 2 }],
    });
    assert.equal(raid.status, 204, raid.text);
    const fwUrl = `${files.url}/bios-2.5.0.bin`;
    const r = await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', {
      target: 'clean',
      disable_ramdisk: true,
      clean_steps: [
        { interface: 'raid', step: 'delete_configuration' },
        { interface: 'raid', step: 'create_configuration' },
        { interface: 'firmware', step: 'update', args: { settings: [{ component: 'bios', url: fwUrl }] } },
      ],
    });
    assert.equal(r.status, 202, r.text);
    const n = await settledNode(ironic, 'rf', ['manageable'], 60_000);
    assert.equal(n.last_error, null);
    const vols = m().state.volumes;
    assert.equal(vols.length, 1);
    assert.equal(vols[0].name, 'root');
    assert.equal(vols[0].raidType, 'RAID1');
    assert.equal((n.raid_config as { logical_disks: Array<{ raid_level: string }> }).logical_disks[0].raid_level, '1');
    assert.equal(m().state.firmware.find((f) => f.id === 'BIOS')?.version, '2.5.0');
    const fw = (await api(ironic.url, 'GET', '/v1/nodes/rf/firmware')).json.firmware as Array<{
      component: string;
      current_version: string;
      last_version_flashed: string | null;
      initial_version: string;
    }>;
    const bios = fw.find((f) => f.component === 'bios');
    assert.equal(bios?.current_version, '2.5.0');
    assert.equal(bios?.last_version_flashed, '2.5.0');
    assert.notEqual(bios?.initial_version, '2.5.0');
    // a RAID level the BMC cannot build fails the clean with the reason
    await api(ironic.url, 'PUT', '/v1/nodes/rf/states/raid', {
      logical_disks: [{ size_gb: 10, raid_level: '5', number_of_physical_disks: 3 }],
    });
    await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', {
      target: 'clean',
      disable_ramdisk: true,
      clean_steps: [{ interface: 'raid', step: 'create_configuration' }],
    });
    const failed = await settledNode(ironic, 'rf', ['clean failed']);
    assert.match(failed.last_error ?? '', /Not enough physical disks for RAID 5/);
    assert.equal(failed.maintenance, true, 'a failed clean step leaves the node in maintenance, as in Ironic');
    assert.equal(failed.fault, 'clean failure');
    // what BMO does next: unset maintenance, manage
    assert.equal((await api(ironic.url, 'DELETE', '/v1/nodes/rf/maintenance')).status, 202);
    assert.equal(ironic.store.nodeByName('rf')?.fault, null);
    await api(ironic.url, 'PUT', '/v1/nodes/rf/states/provision', { target: 'manage' });
    await settledNode(ironic, 'rf', ['manageable']);
  });

  it('attaches, lists and detaches virtual media (1.89 / 1.93)', async () => {
    await idle();
    const url = `${files.url}/live.iso`;
    assert.equal((await api(ironic.url, 'POST', '/v1/nodes/rf/vmedia', { device_type: 'cdrom', image_url: url })).status, 204);
    await m().mediaSettled('Cd');
    assert.equal(m().state.media.find((x) => x.id === 'Cd')?.image, url);
    const list = await api(ironic.url, 'GET', '/v1/nodes/rf/vmedia');
    assert.deepEqual((list.json.vmedia as Array<{ image: string; inserted: boolean }>)[0].inserted, true);
    assert.equal((await api(ironic.url, 'GET', '/v1/nodes/rf/vmedia', undefined, '1.92')).status, 404);
    assert.equal((await api(ironic.url, 'DELETE', '/v1/nodes/rf/vmedia?device_types=cdrom')).status, 204);
    assert.equal(m().state.media.find((x) => x.id === 'Cd')?.inserted, false);
  });

  it('sets and reads the boot device through the BMC', async () => {
    assert.equal(
      (await api(ironic.url, 'PUT', '/v1/nodes/rf/management/boot_device', { boot_device: 'cdrom', persistent: true })).status,
      204,
    );
    assert.equal(m().state.boot.overrideTarget, 'Cd');
    assert.equal(m().state.boot.overrideEnabled, 'Continuous');
    assert.deepEqual((await api(ironic.url, 'GET', '/v1/nodes/rf/management/boot_device')).json, {
      boot_device: 'cdrom',
      persistent: true,
    });
    const bad = await api(ironic.url, 'PUT', '/v1/nodes/rf/management/boot_device', { boot_device: 'floppy' });
    assert.equal(bad.status, 400);
  });

  it('creates, lists and deletes Redfish event subscriptions through vendor passthru', async () => {
    const got: string[] = [];
    const sink = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => {
        b += c;
      });
      req.on('end', () => {
        got.push(b);
        res.end();
      });
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', () => r()));
    try {
      const dest = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/events`;
      const created = await api(ironic.url, 'POST', '/v1/nodes/rf/vendor_passthru?method=create_subscription', {
        Destination: dest,
        Context: 'bmo',
        EventTypes: ['Alert'],
      });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.json.Destination, dest);
      assert.equal(created.json.Context, 'bmo');
      const id = String(created.json.Id);
      const all = await api(ironic.url, 'GET', '/v1/nodes/rf/vendor_passthru?method=get_all_subscriptions');
      assert.equal((all.json.Members as unknown[]).length, 1);
      const bad = await api(ironic.url, 'POST', '/v1/nodes/rf/vendor_passthru?method=create_subscription', { Destination: 'not a url' });
      assert.equal(bad.status, 400);
      const methods = await api(ironic.url, 'GET', '/v1/nodes/rf/vendor_passthru/methods');
      assert.deepEqual((methods.json.create_subscription as { http_methods: string[] }).http_methods, ['POST']);
      assert.equal((await api(ironic.url, 'DELETE', '/v1/nodes/rf/vendor_passthru?method=delete_subscription', { id })).status, 204);
      const after = await api(ironic.url, 'GET', '/v1/nodes/rf/vendor_passthru?method=get_all_subscriptions');
      assert.equal((after.json.Members as unknown[]).length, 0);
    } finally {
      sink.close();
    }
  });
});
