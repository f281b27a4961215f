// The real boot path on the libvirt backend: two QEMU VMs (TCG is enough), one behind a Redfish
// BMC booting the agent from virtual media, one behind IPMI network-booting it through iPXE.
// Ferrite's Ironic inspects them with the real agent (inventory read from the VM), cleans their
// real disks, writes a real whole-disk image plus config drive, and each VM then boots the
// installed OS from its disk, which runs the config drive's user data (its mark is read from
// the serial console); undeploying cleans and powers them off.
// Needs scripts/install-vm.sh and scripts/build-vm-images.sh (`.ci/run` runs both).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseFleet, resolveFleet } from '../emulator/fleet/config.js';
import { Fleet } from '../emulator/fleet/fleet.js';
import { vmReadiness } from '../emulator/machine/libvirt/readiness.js';
import type { Machine } from '../emulator/machine/machine.js';
import { startFileServer } from './helpers/bmc.js';
import { ironicRequest, settledNode, startTestIronic } from './helpers/ironic.js';

const IMAGES = join(import.meta.dirname, '..', '.vm-images');
const items = await vmReadiness({ uri: 'qemu:///system', images: IMAGES });
const missing = items.filter((i) => i.required && !i.ok);
const skip = missing.length
  ? `not ready for VMs (run scripts/install-vm.sh and scripts/build-vm-images.sh): ${missing.map((i) => `${i.name}: ${i.detail}`).join('; ')}`
  : false;

const api = (base: string, method: string, path: string, body?: unknown) =>
  ironicRequest(base, method, path, body, { 'X-OpenStack-Ironic-API-Version': '1.90' });

async function waitFor(ok: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function virshState(name: string): Promise<string> {
  const { stdout } = await promisify(execFile)('virsh', ['-c', 'qemu:///system', 'domstate', name]);
  return stdout.trim();
}

async function waitConsole(m: Machine, re: RegExp, ms: number): Promise<string> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const hit = m.state.console.find((l) => re.test(l));
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${m.name}: no console line matching ${re} within ${ms} ms; last lines:\n${m.state.console.slice(-25).join('\n')}`);
}

describe('real VMs: inspect, deploy, boot from disk, undeploy (libvirt backend)', { skip, timeout: 900_000 }, () => {
  let dir: string;
  let fleet: Fleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  const os = skip ? Buffer.alloc(0) : readFileSync(join(IMAGES, 'os.img'));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ferrite-vm-'));
    // QEMU runs as libvirt-qemu and must reach the VM files under here
    chmodSync(dir, 0o755);
    files = await startFileServer({ '/os.img': os });
    ironic = await startTestIronic({
      agentImages: IMAGES,
      conductor: { heartbeatTimeout: 10, powerSyncInterval: 0, pollMs: 200, bmcRetryDelayMs: 500 },
    });
    fleet = new Fleet(
      resolveFleet(
        parseFleet(`
backend: libvirt
redfish: { tls: false }
provisioning: { pxeUrl: "${ironic.httpUrl}/boot.ipxe" }
defaults:
  memoryGiB: 1
  cpu: { sockets: 1, cores: 1, threads: 1 }
  nics: [{}]
  disks: [{ sizeGB: 5 }]
machines:
  - name: ferrite-vm-rf
    protocols: [redfish, redfish-virtualmedia]
  - name: ferrite-vm-ipmi
    protocols: [ipmi]
`),
      ),
      { dataDir: join(dir, 'bmc') },
    );
    await fleet.start({ redfishPort: 0, ipmiPorts: 'ephemeral' });
  });

  after(async () => {
    if (fleet?.libvirt) await fleet.libvirt.destroy(fleet.machines.map((m) => m.spec)).catch(() => {});
    await fleet?.close();
    await ironic?.close();
    await files?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function lifecycle(name: string, driver: Record<string, unknown>, badImageFirst = false): Promise<void> {
    const m = fleet.machine(name) as Machine;
    const deploy = {
      deploy_kernel: `${ironic.httpUrl}/images/ironic-python-agent.kernel`,
      deploy_ramdisk: `${ironic.httpUrl}/images/ironic-python-agent.initramfs`,
    };
    const r = await api(ironic.url, 'POST', '/v1/nodes', {
      ...driver,
      name,
      inspect_interface: 'agent',
      driver_info: { ...(driver.driver_info as object), ...deploy },
      properties: { capabilities: 'boot_mode:bios' },
    });
    assert.equal(r.status, 201, r.text);
    // the boot NIC's port, as BMO creates it from bootMACAddress: inspection finds the node by it
    const port = await api(ironic.url, 'POST', '/v1/ports', { node_uuid: r.json.uuid, address: m.spec.nics[0].mac, pxe_enabled: true });
    assert.equal(port.status, 201, port.text);
    const go = async (target: string, want: string[], timeoutMs: number, extra: Record<string, unknown> = {}) => {
      const t = await api(ironic.url, 'PUT', `/v1/nodes/${name}/states/provision`, { target, ...extra });
      assert.equal(t.status, 202, t.text);
      const n = await settledNode(ironic, name, (x) => !x.target_provision_state || x.provision_state.endsWith('failed'), timeoutMs);
      assert.ok(
        want.includes(n.provision_state),
        `${name} ${target}: ${n.provision_state} (${n.last_error})\n${m.state.console.slice(-30).join('\n')}`,
      );
      return n;
    };
    await go('manage', ['manageable'], 60_000);

    // inspection by the real agent: what Ironic records is the VM's own hardware
    const inspected = await go('inspect', ['manageable'], 240_000);
    // Ironic's rule: whole GiB of the smallest disk, less one (5e9 bytes = 4.66 GiB)
    assert.equal(inspected.properties.local_gb, 3, 'the 5 GB virtio disk, measured by the agent in the VM');
    const mem = Number(inspected.properties.memory_mb);
    assert.ok(Number.isInteger(mem) && mem > 700 && mem <= 1024, `memory_mb ${mem}: the guest's 1 GiB less what the kernel keeps`);
    const ports = (await api(ironic.url, 'GET', `/v1/ports?node=${inspected.uuid}`)).json.ports as Array<{ address: string }>;
    assert.deepEqual(
      ports.map((p) => p.address),
      [m.spec.nics[0].mac],
    );
    assert.ok(
      m.state.console.some((l) => /ferrite-agent-ramdisk: 6\./.test(l)),
      'the agent ramdisk booted in the VM',
    );

    await go('provide', ['available'], 300_000);

    if (badImageFirst) {
      // an image URL nothing answers at: the agent in the VM fails the deploy with a clear error,
      // and tearing the failed deployment down cleans the VM back to available
      const p = await api(ironic.url, 'PATCH', `/v1/nodes/${name}`, [
        { op: 'add', path: '/instance_info/image_source', value: 'http://127.0.0.1:9/missing.img' },
        { op: 'add', path: '/instance_info/image_checksum', value: 'a'.repeat(64) },
      ]);
      assert.equal(p.status, 200, p.text);
      const failed = await go('active', ['deploy failed'], 300_000);
      assert.match(String(failed.last_error), /Download of image http:\/\/127\.0\.0\.1:9\/missing\.img failed/);
      await go('deleted', ['available'], 300_000);
    }

    const mark = `FERRITE-USERDATA-${name}`;
    await go('active', ['active'], 300_000, {
      configdrive: { meta_data: { hostname: name }, user_data: `#!/bin/sh\necho "${mark} $(hostname)"\n` },
      ...(await setImage()),
    });
    // the installed OS boots from the VM's disk, finds config-2 and runs the user data
    const line = await waitConsole(m, new RegExp(`${mark} ${name}`), 120_000);
    assert.ok(line);
    assert.ok(m.state.console.some((l) => /ferrite-os: booted from disk/.test(l)));
    assert.equal(m.state.power, 'On');

    async function setImage(): Promise<Record<string, never>> {
      const p = await api(ironic.url, 'PATCH', `/v1/nodes/${name}`, [
        { op: 'add', path: '/instance_info/image_source', value: `${files.url}/os.img` },
        { op: 'add', path: '/instance_info/image_checksum', value: createHash('sha256').update(os).digest('hex') },
        { op: 'add', path: '/instance_info/image_os_hash_algo', value: 'sha256' },
      ]);
      assert.equal(p.status, 200, p.text);
      return {};
    }

    await go('deleted', ['available'], 300_000);
    // cleaning ends with the agent powering the VM off, then Ironic's own power-off
    await waitFor(() => m.state.power === 'Off', `${name} off after cleaning`, 60_000);
    assert.match(await virshState(name), /shut off/);
  }

  it('Redfish BMC, agent from virtual media', async () => {
    const a = fleet.addresses().find((x) => x.name === 'ferrite-vm-rf');
    assert.ok(a?.redfishVirtualMedia);
    const url = new URL(a.redfishVirtualMedia.replace(/^redfish-virtualmedia\+/, ''));
    await lifecycle(
      'ferrite-vm-rf',
      {
        driver: 'redfish',
        boot_interface: 'redfish-virtual-media',
        driver_info: {
          redfish_address: `${url.protocol}//${url.host}`,
          redfish_system_id: url.pathname,
          redfish_username: a.username,
          redfish_password: a.password,
        },
      },
      true,
    );
  });

  it('IPMI BMC, agent over iPXE', async () => {
    const a = fleet.addresses().find((x) => x.name === 'ferrite-vm-ipmi');
    assert.ok(a?.ipmi);
    const url = new URL(a.ipmi);
    await lifecycle('ferrite-vm-ipmi', {
      driver: 'ipmi',
      boot_interface: 'ipxe',
      driver_info: { ipmi_address: url.hostname, ipmi_port: Number(url.port), ipmi_username: a.username, ipmi_password: a.password },
    });
  });
});
