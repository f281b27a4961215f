// Boot interfaces: how a node is made to boot Ironic's deploy ramdisk (the agent) and, after
// deployment, its installed OS. `ipxe`/`pxe` write per-node iPXE scripts into the HTTP root and
// set the boot device to PXE; `redfish-virtual-media` builds an ISO with the kernel, ramdisk and
// kernel command line, and inserts it as a virtual CD.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { buildIso } from '../../../lib/iso9660.js';
import { type FetchResponse, type TrustedFetch, trustingFetch } from '../../../lib/trusted-fetch.js';
import { IronicError } from '../errors.js';
import type { Node, Port } from '../model.js';
import type { ManagementInterface } from './interfaces.js';
import { infoStr } from './interfaces.js';

const execFileP = promisify(execFile);

export interface BootEnv {
  /** Ironic API URL the agent calls back (ipa-api-url) */
  apiUrl: string;
  /** base URL of the HTTP root */
  httpUrl: string;
  httpRoot: string;
  cacheDir: string;
  /** fetch for deploy images: trusts the web server's CA (Ironic's [conductor]webserver_verify_ca) */
  fetch?: TrustedFetch;
  management: ManagementInterface;
  ports: Port[];
}

export type RamdiskPurpose = 'deploy' | 'clean' | 'inspect' | 'service';

export interface BootInterface {
  validate(node: Node): void;
  prepareRamdisk(node: Node, purpose: RamdiskPurpose, env: BootEnv): Promise<void>;
  cleanUpRamdisk(node: Node, env: BootEnv): Promise<void>;
  /** after the image is written: boot from disk from now on */
  prepareInstance(node: Node, env: BootEnv): Promise<void>;
  cleanUpInstance(node: Node, env: BootEnv): Promise<void>;
}

// the serial console last: it becomes /dev/console, which is what a BMC's serial-over-LAN shows
const DEFAULT_APPEND = 'nofb nomodeset vga=normal console=tty0 console=ttyS0,115200n8';

/** The agent's kernel command line, with driver_info.kernel_append_params (`%default%` expands). */
export function kernelParams(node: Node, purpose: RamdiskPurpose, env: BootEnv, extra: string[] = []): string {
  const append = (infoStr(node, 'kernel_append_params') ?? '%default%').replace('%default%', DEFAULT_APPEND).trim();
  const params = [`ipa-api-url=${env.apiUrl}`];
  if (purpose === 'inspect') params.push(`ipa-inspection-callback-url=${env.apiUrl}/v1/continue_inspection`);
  params.push(...extra, append);
  return params.filter(Boolean).join(' ');
}

function deployImages(node: Node): { kernel: string; ramdisk: string } {
  const kernel = infoStr(node, 'deploy_kernel');
  const ramdisk = infoStr(node, 'deploy_ramdisk');
  const missing = [!kernel && 'deploy_kernel', !ramdisk && 'deploy_ramdisk'].filter(Boolean);
  if (missing.length)
    throw new IronicError(
      'MissingParameterValue',
      `Node ${node.uuid} is missing the following driver_info parameters: ${missing.join(', ')}`,
    );
  return { kernel: kernel as string, ramdisk: ramdisk as string };
}

function writeAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export const IPXE_MASTER = `#!ipxe
# Ferrite's iPXE entry point: hand each machine the script written for its MAC; a MAC Ironic
# has no script for boots the agent to inspect itself (unmanaged inspection, as metal3's
# ironic-image does), so a node enrolled without ports can still be found and inspected
chain pxelinux.cfg/\${mac:hexhyp} || goto inspector
:inspector
chain inspector.ipxe || goto no_config
:no_config
echo No provisioning configuration for \${mac}: the machine is not being deployed, cleaned or inspected
exit
`;

/** The fallback of IPXE_MASTER: the agent Ironic serves itself, told to post its inventory. */
export function inspectorIpxe(apiUrl: string): string {
  const params = [
    `ipa-api-url=${apiUrl}`,
    `ipa-inspection-callback-url=${apiUrl}/v1/continue_inspection`,
    `BOOTIF=\${mac}`,
    'initrd=ramdisk',
    DEFAULT_APPEND,
  ];
  return [
    '#!ipxe',
    '# unmanaged inspection: a machine with no script of its own',
    `echo No script for \${mac}: booting the agent for unmanaged inspection`,
    `kernel ${AGENT_IMAGES.kernel} ${params.join(' ')}`,
    `initrd --name ramdisk ${AGENT_IMAGES.ramdisk}`,
    'boot',
    '',
  ].join('\n');
}

/** Where Ironic's HTTP root serves the agent, as upstream's Ironic image does. */
export const AGENT_IMAGES = { kernel: 'images/ironic-python-agent.kernel', ramdisk: 'images/ironic-python-agent.initramfs' };

export class IpxeBoot implements BootInterface {
  validate(node: Node): void {
    deployImages(node);
  }

  async prepareRamdisk(node: Node, purpose: RamdiskPurpose, env: BootEnv): Promise<void> {
    const { kernel, ramdisk } = deployImages(node);
    // the scripts live one folder below the HTTP root; images served from that root are named
    // relative to them, so a machine reaching Ironic at another address (a VM behind user-mode
    // networking) fetches them from wherever it fetched the script
    const own = (u: string) => (u.startsWith(`${env.httpUrl}/`) ? `../${u.slice(env.httpUrl.length + 1)}` : u);
    const script = [
      '#!ipxe',
      `# ${purpose} ramdisk for node ${node.uuid}`,
      `kernel ${own(kernel)} ${kernelParams(node, purpose, env, [`BOOTIF=\${mac}`, 'initrd=ramdisk'])}`,
      `initrd --name ramdisk ${own(ramdisk)}`,
      'boot',
      '',
    ].join('\n');
    mkdirSync(join(env.httpRoot, node.uuid), { recursive: true });
    mkdirSync(join(env.httpRoot, 'pxelinux.cfg'), { recursive: true });
    writeAtomic(join(env.httpRoot, node.uuid, 'config'), script);
    for (const p of env.ports.filter((x) => x.pxe_enabled))
      writeAtomic(join(env.httpRoot, 'pxelinux.cfg', p.address.replace(/:/g, '-')), script);
    await env.management.setBootDevice(node, 'pxe', false);
  }

  async cleanUpRamdisk(node: Node, env: BootEnv): Promise<void> {
    rmSync(join(env.httpRoot, node.uuid), { recursive: true, force: true });
    for (const p of env.ports) rmSync(join(env.httpRoot, 'pxelinux.cfg', p.address.replace(/:/g, '-')), { force: true });
  }

  async prepareInstance(node: Node, env: BootEnv): Promise<void> {
    await this.cleanUpRamdisk(node, env);
    await env.management.setBootDevice(node, 'disk', true);
  }

  async cleanUpInstance(node: Node, env: BootEnv): Promise<void> {
    await this.cleanUpRamdisk(node, env);
  }
}

export class VirtualMediaBoot implements BootInterface {
  validate(node: Node): void {
    if (!infoStr(node, 'deploy_iso')) deployImages(node);
  }

  private isoPath(node: Node, env: BootEnv): string {
    return join(env.httpRoot, 'redfish', `boot-${node.uuid}.iso`);
  }

  async prepareRamdisk(node: Node, purpose: RamdiskPurpose, env: BootEnv): Promise<void> {
    if (!env.management.insertMedia)
      throw new IronicError('UnsupportedDriverExtension', `Node ${node.uuid}'s management interface has no virtual media`);
    // a prebuilt agent ISO goes in as it is (Ironic: "custom configuration will not be available"):
    // it must know its way to Ironic itself; Ironic serves a copy from its HTTP root, as with
    // [deploy]ramdisk_image_download_source = local
    const prebuilt = infoStr(node, 'deploy_iso');
    const iso = prebuilt ? await cached(prebuilt, env.cacheDir, env.fetch) : await this.buildAgentIso(node, purpose, env);
    mkdirSync(join(env.httpRoot, 'redfish'), { recursive: true });
    writeAtomic(this.isoPath(node, env), iso);
    await env.management.insertMedia(node, `${env.httpUrl}/redfish/boot-${node.uuid}.iso`);
    await env.management.setBootDevice(node, 'cdrom', false);
  }

  /** An ISO of the node's deploy kernel and ramdisk, with the agent's command line for GRUB and isolinux. */
  private async buildAgentIso(node: Node, purpose: RamdiskPurpose, env: BootEnv): Promise<Buffer> {
    const { kernel, ramdisk } = deployImages(node);
    const [k, r] = await Promise.all([cached(kernel, env.cacheDir, env.fetch), cached(ramdisk, env.cacheDir, env.fetch)]);
    const params = kernelParams(node, purpose, env, ['boot_method=vmedia']);
    const grub = `set default=0\nset timeout=5\nmenuentry "${purpose}" {\n  linux /vmlinuz ${params}\n  initrd /initrd\n}\n`;
    const isolinux = `default boot\nlabel boot\n  kernel /vmlinuz\n  append initrd=/initrd ${params}\n`;
    const files = [
      { path: 'vmlinuz', data: k },
      { path: 'initrd', data: r },
      { path: 'boot/grub/grub.cfg', data: Buffer.from(grub) },
      { path: 'isolinux/isolinux.cfg', data: Buffer.from(isolinux) },
    ];
    // BIOS firmware boots it through isolinux when syslinux is installed (as upstream's
    // [DEFAULT]isolinux_bin); without it the ISO carries the configuration only
    return (await bootableIso('VMEDIA_BOOT_ISO', files, env.cacheDir)) ?? buildIso('VMEDIA_BOOT_ISO', files);
  }

  async cleanUpRamdisk(node: Node, env: BootEnv): Promise<void> {
    await env.management.ejectMedia?.(node);
    rmSync(this.isoPath(node, env), { force: true });
  }

  async prepareInstance(node: Node, env: BootEnv): Promise<void> {
    await this.cleanUpRamdisk(node, env);
    await env.management.setBootDevice(node, 'disk', true);
  }

  async cleanUpInstance(node: Node, env: BootEnv): Promise<void> {
    await this.cleanUpRamdisk(node, env);
  }
}

export class FakeBoot implements BootInterface {
  validate(): void {}
  async prepareRamdisk(): Promise<void> {}
  async cleanUpRamdisk(): Promise<void> {}
  async prepareInstance(): Promise<void> {}
  async cleanUpInstance(): Promise<void> {}
}

export const ISOLINUX_BIN = '/usr/lib/ISOLINUX/isolinux.bin';
export const LDLINUX_C32 = '/usr/lib/syslinux/modules/bios/ldlinux.c32';

// what GRUB, started by UEFI firmware from the ISO's EFI image, runs first: find the CD, then
// read the same boot/grub/grub.cfg the ISO carries
// (searched for by the kernel: the GRUB image's own memdisk has a boot/grub/grub.cfg too)
const GRUB_EARLY = 'search --no-floppy --set=root --file /vmlinuz\nset prefix=($root)/boot/grub\nconfigfile ($root)/boot/grub/grub.cfg\n';

/**
 * The ISO's UEFI boot image (a FAT image holding a standalone GRUB as EFI/BOOT/BOOTX64.EFI), built
 * once per cache; null when GRUB's EFI build or mtools are not installed (the ISO is then BIOS-only).
 */
async function efiBootImage(cacheDir: string): Promise<string | null> {
  // named by what GRUB runs, so a cache from an older build is not reused
  const out = join(cacheDir, `efiboot-${createHash('sha256').update(GRUB_EARLY).digest('hex').slice(0, 12)}.img`);
  if (existsSync(out)) return out;
  if (!existsSync('/usr/lib/grub/x86_64-efi/linux.mod')) return null;
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-efi-'));
  try {
    writeFileSync(join(dir, 'early.cfg'), GRUB_EARLY);
    const efi = join(dir, 'BOOTX64.EFI');
    const img = join(dir, 'efiboot.img');
    const mods = 'linux normal iso9660 search search_fs_file configfile echo part_msdos part_gpt fat all_video efi_gop';
    await execFileP('grub-mkstandalone', [
      ...['-O', 'x86_64-efi', '-o', efi, `--install-modules=${mods}`, '--modules=linux normal iso9660 search search_fs_file configfile'],
      ...['--locales=', '--fonts=', '--themes=', `boot/grub/grub.cfg=${join(dir, 'early.cfg')}`],
    ]);
    await execFileP('mkfs.vfat', ['-C', img, '4096']);
    await execFileP('mmd', ['-i', img, '::/EFI', '::/EFI/BOOT']);
    await execFileP('mcopy', ['-i', img, efi, '::/EFI/BOOT/BOOTX64.EFI']);
    mkdirSync(cacheDir, { recursive: true });
    renameSync(img, out);
    return out;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new IronicError('ImageError', `Building the UEFI boot image failed: ${(e as Error).message}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An El Torito bootable ISO (isolinux for BIOS, GRUB for UEFI when installed) made by genisoimage, or null when the tools are absent. */
async function bootableIso(label: string, files: Array<{ path: string; data: Buffer }>, cacheDir: string): Promise<Buffer | null> {
  if (!existsSync(ISOLINUX_BIN) || !existsSync(LDLINUX_C32)) return null;
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-iso-'));
  try {
    for (const f of files) {
      mkdirSync(join(dir, 'root', dirname(f.path)), { recursive: true });
      writeFileSync(join(dir, 'root', f.path), f.data);
    }
    copyFileSync(ISOLINUX_BIN, join(dir, 'root', 'isolinux', 'isolinux.bin'));
    copyFileSync(LDLINUX_C32, join(dir, 'root', 'isolinux', 'ldlinux.c32'));
    const efi = await efiBootImage(cacheDir);
    if (efi) copyFileSync(efi, join(dir, 'root', 'isolinux', 'efiboot.img'));
    const out = join(dir, 'boot.iso');
    try {
      await execFileP('genisoimage', [
        ...['-quiet', '-J', '-r', '-V', label, '-o', out],
        ...['-b', 'isolinux/isolinux.bin', '-c', 'isolinux/boot.cat', '-no-emul-boot', '-boot-load-size', '4', '-boot-info-table'],
        ...(efi ? ['-eltorito-alt-boot', '-e', 'isolinux/efiboot.img', '-no-emul-boot'] : []),
        join(dir, 'root'),
      ]);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new IronicError('ImageError', `Building the boot ISO failed: ${(e as Error).message}`);
    }
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Downloads a deploy image once into the cache (by URL hash); file:// and plain paths are read in place. */
async function cached(url: string, cacheDir: string, get: TrustedFetch = trustingFetch([])): Promise<Buffer> {
  if (url.startsWith('file://') || url.startsWith('/')) {
    const p = url.startsWith('file://') ? new URL(url).pathname : url;
    try {
      return readFileSync(p);
    } catch (e) {
      throw new IronicError('ImageError', `Cannot read deploy image ${url}: ${(e as Error).message}`);
    }
  }
  const path = join(cacheDir, createHash('sha256').update(url).digest('hex'));
  if (existsSync(path)) return readFileSync(path);
  let res: FetchResponse;
  try {
    res = await get(url);
  } catch (e) {
    const cause = (e as Error & { cause?: Error }).cause?.message;
    throw new IronicError('ImageError', `Failed to download deploy image ${url}: ${(e as Error).message}${cause ? `: ${cause}` : ''}`);
  }
  if (!res.ok) throw new IronicError('ImageError', `Failed to download deploy image ${url}: HTTP ${res.status}`);
  const data = Buffer.from(await res.arrayBuffer());
  mkdirSync(cacheDir, { recursive: true });
  writeAtomic(path, data);
  return data;
}
