// The libvirt backend under the BMC fronts: ipmitool and Redfish power a real QEMU VM (the domain
// is created from the fleet file on first power-on), the BMC stays truthful when the domain is
// deleted behind its back or libvirtd cannot be reached, a bad media URL is refused without
// touching the VM, and `bmc destroy`'s removal leaves nothing behind.
// Needs scripts/install-vm.sh (`.ci/run` runs it); skipped with the reason otherwise.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { FleetFile } from '../emulator/fleet/config.js';
import { vmReadiness } from '../emulator/machine/libvirt/readiness.js';
import type { Machine } from '../emulator/machine/machine.js';
import { cleanup, eventually, ROOT, run, tempDir } from './helpers/apiserver.js';
import { ipmiPort, ipmitool, rf, startTestFleet, type TestFleet } from './helpers/bmc.js';

const sh = promisify(execFile);
const virsh = async (...args: string[]) => (await sh('virsh', ['-c', 'qemu:///system', ...args])).stdout.trim();
const items = await vmReadiness({ uri: 'qemu:///system', images: '/nonexistent' });
const missing = items.filter((i) => i.required && !i.ok && i.name !== 'agent and OS images');
const skip = missing.length ? `libvirt/QEMU not ready (run scripts/install-vm.sh): ${missing.map((i) => i.detail).join('; ')}` : false;

function vmFleet(name: string, uri?: string): FleetFile {
  return {
    backend: 'libvirt',
    ...(uri ? { libvirt: { uri } } : {}),
    timeScale: 1,
    machines: [
      {
        name,
        memoryGiB: 1,
        cpu: { sockets: 1, cores: 1, threads: 1 },
        nics: [{}],
        disks: [{ sizeGB: 1 }],
        protocols: ['redfish', 'redfish-virtualmedia', 'ipmi'],
      },
    ],
  };
}

async function domState(name: string): Promise<string> {
  try {
    return await virsh('domstate', name);
  } catch {
    return 'absent';
  }
}

describe('libvirt backend behind Redfish and IPMI', { skip }, () => {
  let t: TestFleet;
  let m: Machine;
  const name = 'ferrite-vmb-1';
  const sys = () => `/redfish/v1/Systems/${m.uuid}`;
  const auth: [string, string] = ['admin', 'password'];
  before(async () => {
    const dir = tempDir('ferrite-vmb-');
    chmodSync(dir, 0o755);
    t = await startTestFleet(vmFleet(name), { dataDir: dir });
    m = t.fleet.machines[0];
  });
  after(async () => {
    await t.fleet.libvirt?.destroy(t.fleet.machines.map((x) => x.spec));
    await t.close();
    cleanup(t.dir);
  });

  it('ipmitool powers the VM on and off; Redfish and virsh agree', async () => {
    assert.equal(await domState(name), 'absent', 'no domain before the first power-on');
    const on = await ipmitool(ipmiPort(t), ['power', 'on']);
    assert.equal(on.code, 0, on.stderr);
    await eventually(async () => (await domState(name)) === 'running', 'domain running', 30_000);
    assert.equal((await rf(t.url, 'GET', sys(), { auth })).json.PowerState, 'On');
    assert.match(await virsh('dumpxml', name), /<domain type='(qemu|kvm)'/);
    // the firmware's own output reaches the machine's console through the serial log
    await eventually(() => m.state.console.some((l) => /SeaBIOS|iPXE|Booting/.test(l)), 'serial console lines', 30_000);
    const off = await ipmitool(ipmiPort(t), ['power', 'off']);
    assert.equal(off.code, 0, off.stderr);
    await eventually(async () => (await domState(name)) === 'shut off', 'domain shut off', 30_000);
    await eventually(async () => (await rf(t.url, 'GET', sys(), { auth })).json.PowerState === 'Off', 'Redfish Off');
  });

  it('a domain deleted behind the emulator’s back reads Off, with a critical event; power-on recreates it', async () => {
    const r = await rf(t.url, 'POST', `${sys()}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'On' } });
    assert.ok(r.status < 300, r.text);
    await eventually(async () => (await domState(name)) === 'running', 'domain running', 30_000);
    await eventually(() => m.state.power === 'On', 'model On');
    // undefined first (it runs on as a transient domain), then stopped: gone without ever reading "shut off"
    await virsh('undefine', '--nvram', name);
    await virsh('destroy', name);
    await eventually(async () => (await rf(t.url, 'GET', sys(), { auth })).json.PowerState === 'Off', 'Redfish Off', 15_000);
    assert.ok(m.state.events.some((e) => e.severity === 'Critical' && /deleted behind/.test(e.message)));
    assert.equal((await ipmitool(ipmiPort(t), ['power', 'status'])).stdout.trim(), 'Chassis Power is off');
    const again = await rf(t.url, 'POST', `${sys()}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'On' } });
    assert.ok(again.status < 300, again.text);
    await eventually(async () => (await domState(name)) === 'running', 'domain recreated and running', 30_000);
    await rf(t.url, 'POST', `${sys()}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'ForceOff' } });
    await eventually(async () => (await domState(name)) === 'shut off', 'domain shut off', 30_000);
  });

  it('an unreachable virtual media URL is refused and the VM is untouched', async () => {
    const r = await rf(t.url, 'POST', `${sys()}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia`, {
      auth,
      body: { Image: 'http://127.0.0.1:9/nothing.iso', Inserted: true },
    });
    assert.ok(r.status >= 400, `InsertMedia answered ${r.status}: ${r.text}`);
    const cd = await rf(t.url, 'GET', `${sys()}/VirtualMedia/Cd`, { auth });
    assert.equal(cd.status, 200, cd.text);
    assert.equal(cd.json.Inserted, false);
    assert.equal(m.state.power, 'Off');
    assert.equal(await domState(name), 'shut off');
  });

  it('`ferrite bmc destroy` removes the domain it created, and its disks', async () => {
    assert.notEqual(await domState(name), 'absent');
    const r = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'bmc', 'destroy', '--data-dir', t.dir], {
      cwd: ROOT,
      timeoutMs: 60_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`removed 1 domain\\(s\\): ${name}`));
    assert.equal(await domState(name), 'absent');
    assert.equal(existsSync(join(t.dir, 'libvirt', name)), false, 'the VM folder (disks, serial log) is gone');
  });
});

describe('libvirt backend with libvirtd unreachable', { skip }, () => {
  let t: TestFleet;
  before(async () => {
    const dir = tempDir('ferrite-vmb-');
    chmodSync(dir, 0o755);
    // a socket nobody listens on: exactly what a stopped libvirtd looks like to a client
    t = await startTestFleet(vmFleet('ferrite-vmb-down', `qemu+unix:///system?socket=${dir}/no-libvirtd.sock`), { dataDir: dir });
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
  });

  it('power requests fail with a clear error, the state stays Off, nothing hangs', async () => {
    const m = t.fleet.machines[0];
    const r = await rf(t.url, 'POST', `/redfish/v1/Systems/${m.uuid}/Actions/ComputerSystem.Reset`, {
      auth: ['admin', 'password'],
      body: { ResetType: 'On' },
    });
    assert.equal(r.status, 503, r.text);
    assert.match(r.text, /cannot connect to libvirt .*is libvirtd running/);
    const ipmi = await ipmitool(ipmiPort(t), ['power', 'on']);
    assert.notEqual(ipmi.code, 0, 'ipmitool reports the failure');
    assert.equal((await rf(t.url, 'GET', `/redfish/v1/Systems/${m.uuid}`, { auth: ['admin', 'password'] })).json.PowerState, 'Off');
    assert.equal(m.state.power, 'Off');
  });
});

describe('ferrite vm check', () => {
  it('names what is missing and exits 1 when libvirtd cannot be reached', async () => {
    const dir = tempDir('ferrite-vmc-');
    const r = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'cli', 'main.ts'),
        'vm',
        'check',
        '--libvirt-uri',
        `qemu+unix:///system?socket=${dir}/none.sock`,
        '--images',
        dir,
      ],
      { cwd: ROOT, timeoutMs: 60_000 },
    );
    cleanup(dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL\s+libvirt\s+.*(cannot connect to libvirt|binding)/);
    assert.match(r.stdout, /FAIL\s+agent and OS images\s+.*build-vm-images\.sh/);
    assert.match(r.stdout, /KVM\s+/);
    assert.match(r.stderr, /not ready for the libvirt backend: .*libvirt/);
  });
});
