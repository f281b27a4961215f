// The whole node lifecycle driven by python-ironicclient's `baremetal` CLI against Ferrite's
// Ironic, for each BMC protocol: enroll, port, manage (credentials checked), inspect (the agent's
// inventory), provide (cleaning runs), deploy with an image and a config drive (the machine boots
// its disk and reads the drive), undeploy (cleaning again), delete. Ground truth comes from the
// emulated machines, not from Ironic's word.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { readIso } from '../lib/iso9660.js';
import { startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { BAREMETAL, baremetal, driverArgs, haveBaremetal, ok, startTestIronic } from './helpers/ironic.js';

const image = Buffer.alloc(4 * 1024 * 1024, 7);
const imageSha = createHash('sha256').update(image).digest('hex');

// the three protocols run side by side: one Ironic, three machines, concurrent conductor work
describe('baremetal CLI: full lifecycle on emulated machines', {
  concurrency: 3,
  skip: haveBaremetal ? false : `run scripts/install-peers.sh first (${BAREMETAL})`,
}, () => {
  let fleet: TestFleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  const bm = (args: string[]) => baremetal(ironic.url, args);
  const show = async (node: string) =>
    JSON.parse(ok(await bm(['node', 'show', node, '-f', 'json']), 'node show')) as Record<string, unknown>;

  before(async () => {
    files = await startFileServer({
      '/ipa.kernel': Buffer.from('agent kernel'),
      '/ipa.initramfs': Buffer.from('agent initramfs'),
      '/disk.img': image,
    });
    fleet = await startTestFleet(3, { tls: true });
    ironic = await startTestIronic();
    fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
  });
  after(async () => {
    await ironic?.close();
    await fleet?.close();
    await files?.close();
  });

  const protocols = ['redfish', 'ipmi', 'redfish-virtual-media'] as const;
  protocols.forEach((protocol, i) => {
    it(`${protocol}: enroll → manage → inspect → provide → deploy → undeploy → delete`, async () => {
      const a = fleet.addrs[i];
      const machine = fleet.fleet.machines[i];
      const name = `node-${protocol}`;
      const uuid = ok(
        await bm([
          'node',
          'create',
          '--name',
          name,
          ...driverArgs(a, fleet.url, protocol),
          '--driver-info',
          `deploy_kernel=${files.url}/ipa.kernel`,
          '--driver-info',
          `deploy_ramdisk=${files.url}/ipa.initramfs`,
          '-f',
          'value',
          '-c',
          'uuid',
        ]),
        'node create',
      ).trim();
      assert.match(uuid, /^[0-9a-f-]{36}$/);
      assert.equal((await show(name)).provision_state, 'enroll');
      ok(await bm(['port', 'create', a.bootMac, '--node', uuid]), 'port create');

      ok(await bm(['node', 'manage', name, '--wait', '60']), 'manage');
      let n = await show(name);
      assert.equal(n.provision_state, 'manageable');
      assert.equal(n.power_state, machine.poweredOn ? 'power on' : 'power off', 'power state read from the BMC');
      assert.equal((n.driver_info as Record<string, unknown>)[protocol === 'ipmi' ? 'ipmi_password' : 'redfish_password'], '******');

      ok(await bm(['node', 'inspect', name, '--wait', '120']), 'inspect');
      n = await show(name);
      assert.equal(n.provision_state, 'manageable');
      const props = n.properties as Record<string, unknown>;
      const spec = machine.spec;
      assert.equal(props.cpus, spec.cpu.sockets * spec.cpu.coresPerSocket * spec.cpu.threadsPerCore);
      assert.equal(props.memory_mb, spec.memory.dimms * spec.memory.dimmGiB * 1024);
      assert.equal(props.cpu_arch, 'x86_64');
      assert.ok(Number(props.local_gb) > 0);
      const inv = JSON.parse(ok(await bm(['node', 'inventory', 'save', name]), 'inventory save')) as {
        inventory: {
          interfaces: Array<{ mac_address: string }>;
          disks: Array<{ serial: string }>;
          system_vendor: { serial_number: string };
        };
      };
      assert.deepEqual(
        inv.inventory.interfaces.map((x) => x.mac_address),
        spec.nics.map((x) => x.mac),
      );
      assert.deepEqual(
        inv.inventory.disks.map((d) => d.serial),
        spec.disks.map((d) => d.serial),
      );
      assert.equal(inv.inventory.system_vendor.serial_number, spec.serial);
      assert.equal(machine.state.power, 'Off', 'inspection ends with the machine off');

      const bootsBefore = machine.state.bootCount;
      ok(await bm(['node', 'provide', name, '--wait', '120']), 'provide');
      n = await show(name);
      assert.equal(n.provision_state, 'available');
      assert.ok(machine.state.bootCount > bootsBefore, 'cleaning booted the agent');
      assert.ok(
        machine.state.console.some((l) => l.includes('clean step deploy.erase_devices_metadata done')),
        'the agent erased disk metadata',
      );

      ok(
        await bm([
          'node',
          'set',
          name,
          '--instance-info',
          `image_source=${files.url}/disk.img`,
          '--instance-info',
          'image_os_hash_algo=sha256',
          '--instance-info',
          `image_os_hash_value=${imageSha}`,
        ]),
        'node set instance_info',
      );
      const cd = JSON.stringify({
        meta_data: { hostname: `${name}.example` },
        user_data: '#cloud-config\nruncmd: [true]\n',
        network_data: { links: [], networks: [], services: [] },
      });
      ok(await bm(['node', 'deploy', name, '--config-drive', cd, '--wait', '120']), 'deploy');
      n = await show(name);
      assert.equal(n.provision_state, 'active');
      assert.equal(n.power_state, 'power on');
      assert.equal((n.instance_info as Record<string, unknown>).configdrive, '******', 'the stored config drive is never shown');
      // the machine itself: image on its disk, booted from it, config drive readable
      assert.equal(machine.state.installedImage?.url, `${files.url}/disk.img`);
      assert.equal(machine.state.installedImage?.bytes, image.length);
      await machine.settled();
      assert.equal(machine.state.lastBoot?.device, 'Hdd', 'the machine booted its disk');
      const drive = machine.configDrive();
      assert.ok(drive, 'a config drive partition was written');
      const iso = readIso(drive);
      assert.equal(iso.label, 'config-2');
      const meta = JSON.parse(iso.read('openstack/latest/meta_data.json')?.toString() ?? '{}');
      assert.equal(meta.hostname, `${name}.example`);
      assert.equal(meta.uuid, uuid, 'Ironic defaults the uuid into meta_data');
      assert.equal(iso.read('openstack/latest/user_data')?.toString(), '#cloud-config\nruncmd: [true]\n');
      assert.ok(
        machine.state.console.some((l) => l.includes(`hostname ${name}.example`)),
        'the installed OS read its config drive',
      );

      ok(await bm(['node', 'undeploy', name, '--wait', '120']), 'undeploy');
      n = await show(name);
      assert.equal(n.provision_state, 'available');
      assert.deepEqual(n.instance_info, {});
      assert.equal(machine.state.installedImage, null, 'cleaning erased the disk');
      assert.equal(machine.state.power, 'Off');

      ok(await bm(['node', 'delete', name]), 'delete');
      assert.equal((await bm(['node', 'show', name])).code, 1);
      const ports = JSON.parse(ok(await bm(['port', 'list', '--address', a.bootMac, '-f', 'json']), 'port list'));
      assert.deepEqual(ports, [], 'ports go with their node');
    });
  });
});
