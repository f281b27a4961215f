// Whether this host can run the libvirt backend's VMs, item by item, with what to do about each
// gap. `ferrite vm check` prints it; the VM tests use it to say why they cannot run.
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ISOLINUX_BIN, LDLINUX_C32 } from '../../../provider/ironic/drivers/boot.js';
import { OVMF_CODE } from './backend.js';
import { LibvirtConnection } from './hypervisor.js';

const run = promisify(execFile);

export interface ReadinessItem {
  name: string;
  /** required items fail the check; optional ones only warn */
  required: boolean;
  ok: boolean;
  detail: string;
}

async function version(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run(cmd, args);
    return stdout.split('\n')[0].trim();
  } catch {
    return null;
  }
}

/** /dev/kvm can exist in a container whose CPU has no virtualisation extensions: both must hold. */
export function kvmUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return /\b(vmx|svm)\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    return false;
  }
}

export async function vmReadiness(opts: { uri: string; images: string }): Promise<ReadinessItem[]> {
  const items: ReadinessItem[] = [];
  const add = (name: string, required: boolean, ok: boolean, detail: string) => items.push({ name, required, ok, detail });
  const fix = 'run scripts/install-vm.sh';
  const qemu = await version('qemu-system-x86_64', ['--version']);
  add('QEMU', true, qemu !== null, qemu ?? `qemu-system-x86_64 not found: ${fix}`);
  const kvm = kvmUsable();
  add(
    'KVM',
    false,
    kvm,
    kvm ? '/dev/kvm usable: hardware-accelerated VMs' : 'no usable /dev/kvm: VMs run under TCG software emulation (a boot takes 10–40 s)',
  );
  const img = await version('qemu-img', ['--version']);
  add('qemu-img', true, img !== null, img ?? `qemu-img not found (qemu-utils): ${fix}`);
  const rom = ['/usr/lib/ipxe/qemu/pxe-virtio.rom', '/usr/share/qemu/pxe-virtio.rom'].find((p) => existsSync(p));
  add('iPXE ROMs', true, Boolean(rom), rom ?? `no virtio iPXE option ROM (ipxe-qemu): ${fix}`);
  const conn = new LibvirtConnection(opts.uri);
  try {
    const v = await conn.run((hv) => hv.connectGetHostname());
    add('libvirt', true, true, `${opts.uri} answers (host ${v})`);
  } catch (e) {
    add('libvirt', true, false, (e as Error).message);
  } finally {
    await conn.close();
  }
  const iso = existsSync(ISOLINUX_BIN) && existsSync(LDLINUX_C32) && (await version('genisoimage', ['--version'])) !== null;
  add('bootable ISOs', true, iso, iso ? 'isolinux + genisoimage: virtual media ISOs boot' : `isolinux/genisoimage missing: ${fix}`);
  const ovmf = OVMF_CODE.find((p) => existsSync(p));
  add('UEFI firmware', false, Boolean(ovmf), ovmf ?? 'OVMF missing: only Legacy (BIOS) boot; apt-get install ovmf');
  const want = ['agent.kernel', 'agent.initramfs', 'os.img'].filter((f) => !existsSync(join(opts.images, f)));
  add(
    'agent and OS images',
    true,
    want.length === 0,
    want.length
      ? `${opts.images}: missing ${want.join(', ')}: run scripts/build-vm-images.sh`
      : `${opts.images}: agent.kernel, agent.initramfs, os.img`,
  );
  return items;
}
