// The libvirt/QEMU backend: each fleet machine is a libvirt domain of the same name, created from
// the fleet file (or adopted when it already exists, as vbmc and sushy-tools do). The machine
// model still decides what happens; here power-on defines the domain with the boot configuration
// of this boot (device order, virtual CD) and starts it, QEMU's firmware does the rest, and a
// watcher turns what the guest does (powering itself off, a domain deleted behind our back) and
// its serial console back into the model.
import { execFile } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort } from '../../../devenv/stack.js';
import type { BackendHost, BootAttempt, BootPlan, MachineBackend } from '../backend.js';
import type { MachineSpec } from '../model.js';
import type { Domain } from './binding.js';
import { domainXml, FERRITE_NS, guestUrl } from './domain-xml.js';
import { isNoDomain, LibvirtConnection, LibvirtError } from './hypervisor.js';
import { kvmUsable } from './readiness.js';

const run = promisify(execFile);
const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');
/** firmware and kernels paint the serial console with terminal escapes; the log keeps the text */
function stripAnsi(s: string): string {
  return s.replace(ANSI, '');
}
const SHUTOFF = 5;
const POLL_MS = 1000;
/** how long a graceful shutdown may take before the power is cut (a guest without ACPI handling never stops) */
const GRACEFUL_LIMIT_MS = 30_000;

export const OVMF_CODE = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'];
export const OVMF_VARS = ['/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/share/OVMF/OVMF_VARS.fd'];

export interface LibvirtBackendOptions {
  uri: string;
  /** VM files (disks, serial logs, NVRAM) live under here, one folder per machine */
  dir: string;
  /** what DHCP on the provisioning network offers (the fleet's provisioning.pxeUrl) */
  pxeUrl: () => string | null;
  /** caps on what a VM gets of the fleet's memory and CPUs (defaults 2048 MiB, 2) */
  maxMemoryMiB?: number;
  maxVcpus?: number;
  log?: (obj: Record<string, unknown>, msg: string) => void;
}

interface Watch {
  timer: NodeJS.Timeout;
  serialOffset: number;
  partial: string;
  /** the backend itself is stopping or restarting the domain: its shut-off state is expected */
  quiet: boolean;
}

export class LibvirtBackend implements MachineBackend {
  readonly kind = 'libvirt';
  readonly conn: LibvirtConnection;
  private readonly watches = new Map<string, Watch>();
  private readonly hosts = new Map<string, BackendHost>();
  private readonly agentPorts = new Map<string, number>();
  private problem: string | null = null;
  private readonly kvm = kvmUsable();
  private readonly tcgNoticed = new Set<string>();
  private readonly capNoticed = new Set<string>();
  private probedAt = 0;

  constructor(private readonly opts: LibvirtBackendOptions) {
    this.conn = new LibvirtConnection(opts.uri);
    mkdirSync(opts.dir, { recursive: true });
    // QEMU runs as libvirt-qemu: it must be able to reach the disks, media and logs under here
    chmodSync(opts.dir, 0o755);
  }

  /** Why power cannot be changed right now (the hypervisor is unreachable), or null. */
  unavailable(): string | null {
    // a daemon that was down is asked again now and then, so a restarted libvirtd is noticed
    if (this.problem && Date.now() - this.probedAt > 3000) void this.probe();
    return this.problem;
  }

  private vmDir(spec: MachineSpec): string {
    return join(this.opts.dir, spec.name);
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      this.problem = null;
      return r;
    } catch (e) {
      if (e instanceof LibvirtError && (e.reason === 'DaemonUnreachable' || e.reason === 'BindingMissing')) this.problem = e.message;
      throw e;
    }
  }

  /** Checks the hypervisor answers; refreshes unavailable(). */
  async probe(): Promise<string | null> {
    this.probedAt = Date.now();
    try {
      await this.call(() => this.conn.run((hv) => hv.connectGetHostname()));
    } catch {}
    return this.problem;
  }

  /** Starts following a machine that may already be running (emulator restart, adopted domain). */
  async attach(host: BackendHost, poweredOn: boolean): Promise<void> {
    this.hosts.set(host.spec.uuid, host);
    let dom: Domain | null;
    try {
      dom = await this.call(() => this.conn.lookup(host.spec.name));
    } catch (e) {
      host.console(`libvirt: ${(e as Error).message}`);
      return;
    }
    const running = dom ? (await this.conn.run((hv) => hv.domainGetInfo(dom))).state !== SHUTOFF : false;
    if (running) this.watch(host);
    else if (poweredOn) host.powerLost(`libvirt: domain ${host.spec.name} is not running: the machine is off`, false);
  }

  private async ensureDisks(spec: MachineSpec): Promise<string[]> {
    // QEMU runs as libvirt-qemu: every folder above the VM files must be passable by others
    for (let d = resolvePath(this.opts.dir); d !== dirname(d); d = dirname(d))
      if ((statSync(d).mode & 0o001) === 0)
        throw new LibvirtError(
          'OperationFailed',
          `QEMU (running as libvirt-qemu) cannot reach ${this.opts.dir}: ${d} is not searchable by others (chmod o+x ${d}, or use a data dir outside it)`,
        );
    const dir = this.vmDir(spec);
    mkdirSync(dir, { recursive: true });
    chmodSync(dir, 0o755);
    const paths: string[] = [];
    for (const [i, d] of spec.disks.entries()) {
      const p = join(dir, `disk-${i}.qcow2`);
      if (!existsSync(p)) {
        try {
          await run('qemu-img', ['create', '-q', '-f', 'qcow2', p, String(d.sizeBytes)]);
        } catch (e) {
          throw new LibvirtError('OperationFailed', `cannot create disk ${p}: ${(e as Error).message} (qemu-img comes with qemu-utils)`);
        }
      }
      paths.push(p);
    }
    return paths;
  }

  /** The fleet's memory and CPUs, capped so a server-sized fleet still fits; the console says when. */
  private sizing(host: BackendHost): { memoryMiB: number; vcpus: number } {
    const spec = host.spec;
    const wantMiB = spec.memory.dimms * spec.memory.dimmGiB * 1024;
    const wantCpus = spec.cpu.sockets * spec.cpu.coresPerSocket * spec.cpu.threadsPerCore;
    const memoryMiB = Math.min(wantMiB, this.opts.maxMemoryMiB ?? 2048);
    const vcpus = Math.min(wantCpus, this.opts.maxVcpus ?? 2);
    if ((memoryMiB < wantMiB || vcpus < wantCpus) && !this.capNoticed.has(spec.uuid)) {
      this.capNoticed.add(spec.uuid);
      host.console(
        `libvirt: the fleet gives ${spec.name} ${wantMiB} MiB and ${wantCpus} CPUs; its VM gets ${memoryMiB} MiB and ${vcpus} vCPUs (libvirt.maxMemoryMiB, libvirt.maxVcpus)`,
      );
    }
    return { memoryMiB, vcpus };
  }

  private uefiFiles(spec: MachineSpec): { loader: string; nvram: string } {
    const loader = OVMF_CODE.find((p) => existsSync(p));
    const vars = OVMF_VARS.find((p) => existsSync(p));
    if (!loader || !vars)
      throw new LibvirtError(
        'FirmwareMissing',
        'UEFI boot needs OVMF (Debian package ovmf, installed by scripts/install-vm.sh); or boot Legacy',
      );
    const nvram = join(this.vmDir(spec), 'nvram.fd');
    if (!existsSync(nvram)) {
      // a fresh copy of the variable store, as libvirt would make from its template
      mkdirSync(this.vmDir(spec), { recursive: true });
      copyFileSync(vars, nvram);
      chmodSync(nvram, 0o644);
    }
    return { loader, nvram };
  }

  async powerOn(host: BackendHost): Promise<void> {
    this.hosts.set(host.spec.uuid, host);
    // fail before the firmware stage when the hypervisor is unreachable: the machine stays off
    await this.call(() => this.conn.get());
  }

  async boot(host: BackendHost, plan: BootPlan, signal: AbortSignal): Promise<BootAttempt[]> {
    const spec = host.spec;
    const devices = plan.devices.filter((d) => d !== 'None');
    try {
      const w = this.watches.get(spec.uuid);
      if (w) w.quiet = true;
      const existing = await this.call(() => this.conn.lookup(spec.name));
      const adopted = existing ? !(await this.createdByUs(existing)) : false;
      if (existing) {
        const info = await this.conn.run((hv) => hv.domainGetInfo(existing));
        if (info.state !== SHUTOFF) await this.conn.run((hv) => hv.domainDestroy(existing));
      }
      signal.throwIfAborted();
      const cd = plan.media.find((m) => m.id === 'Cd' && m.inserted && m.localPath) ?? null;
      if (cd?.localPath) chmodSync(cd.localPath, 0o644);
      let dom = existing;
      if (!adopted) {
        const serialLog = join(this.vmDir(spec), 'serial.log');
        const disks = await this.ensureDisks(spec);
        let agentHostPort = this.agentPorts.get(spec.uuid);
        if (!agentHostPort) {
          agentHostPort = await freeTcpPort();
          this.agentPorts.set(spec.uuid, agentHostPort);
        }
        const pxe = this.opts.pxeUrl();
        const xml = domainXml(spec, {
          dir: this.vmDir(spec),
          disks,
          serialLog,
          bootOrder: devices,
          cdrom: cd?.localPath ?? null,
          uefi: plan.mode === 'UEFI' ? this.uefiFiles(spec) : null,
          bootFile: pxe ? guestUrl(pxe) : null,
          agentHostPort,
          kvm: this.kvm,
          ...this.sizing(host),
        });
        if (!this.kvm && !this.tcgNoticed.has(spec.uuid)) {
          this.tcgNoticed.add(spec.uuid);
          host.console('libvirt: no usable /dev/kvm: this VM runs under TCG software emulation (slow, but complete)');
        }
        dom = await this.conn.run((hv) => hv.domainDefineXML(xml));
      } else host.console(`libvirt: ${spec.name} was not created by Ferrite: booting it with its own boot configuration`);
      if (!dom) throw new LibvirtError('DomainMissing', `domain ${spec.name} does not exist`);
      signal.throwIfAborted();
      const d = dom;
      await this.conn.run((hv) => hv.domainCreate(d));
      this.watch(host);
      const first = devices[0] ?? 'None';
      return [
        {
          device: first,
          outcome: {
            booted: true,
            what: `QEMU ${plan.mode === 'UEFI' ? 'OVMF' : 'SeaBIOS'} firmware booting ${devices.join(', ') || 'nothing'}${cd ? ` (virtual CD ${cd.image})` : ''}`,
          },
        },
      ];
    } catch (e) {
      if (signal.aborted) throw e;
      // the VM did not start: the machine is off, whatever the power request hoped for
      host.powerLost(`libvirt: cannot start ${spec.name}: ${(e as Error).message}`, true);
      throw e;
    } finally {
      const w = this.watches.get(spec.uuid);
      if (w) w.quiet = false;
    }
  }

  private async createdByUs(dom: Domain): Promise<boolean> {
    const xml = await this.conn.run((hv) => hv.domainGetXMLDesc(dom));
    return xml.includes(FERRITE_NS);
  }

  async powerOff(host: BackendHost, graceful: boolean): Promise<void> {
    const spec = host.spec;
    const w = this.watches.get(spec.uuid);
    if (w) w.quiet = true;
    try {
      const dom = await this.call(() => this.conn.lookup(spec.name));
      if (!dom) return;
      const off = async () => (await this.conn.run((hv) => hv.domainGetInfo(dom))).state === SHUTOFF;
      if (await off()) return;
      if (graceful) {
        await this.conn.run((hv) => hv.domainShutdown(dom));
        const until = Date.now() + Math.min(GRACEFUL_LIMIT_MS, Math.max(spec.timings.gracefulShutdown, 5000));
        while (Date.now() < until) {
          if (await off()) return;
          await new Promise((r) => setTimeout(r, 500));
        }
        host.console('libvirt: the guest did not shut down on the ACPI power button: power cut');
      }
      await this.conn
        .run((hv) => hv.domainDestroy(dom))
        .catch((e: unknown) => {
          if (!/not running/i.test(String(e))) throw e;
        });
    } finally {
      this.unwatch(spec.uuid, true);
    }
  }

  async nmi(host: BackendHost): Promise<void> {
    try {
      await run('virsh', ['-c', this.opts.uri, 'inject-nmi', host.spec.name]);
      host.console('libvirt: NMI injected');
    } catch (e) {
      host.console(`libvirt: NMI failed: ${(e as Error).message.split('\n')[0]}`);
    }
  }

  // ---- following the guest ----

  private watch(host: BackendHost): void {
    const uuid = host.spec.uuid;
    if (this.watches.has(uuid)) return;
    const serial = join(this.vmDir(host.spec), 'serial.log');
    const w: Watch = {
      timer: setInterval(() => void this.tick(host, w, serial), POLL_MS),
      serialOffset: existsSync(serial) ? statSync(serial).size : 0,
      partial: '',
      quiet: false,
    };
    w.timer.unref();
    this.watches.set(uuid, w);
  }

  private unwatch(uuid: string, drainSerial: boolean): void {
    const w = this.watches.get(uuid);
    if (!w) return;
    clearInterval(w.timer);
    this.watches.delete(uuid);
    const host = this.hosts.get(uuid);
    if (drainSerial && host) this.readSerial(host, w, join(this.vmDir(host.spec), 'serial.log'), true);
  }

  private readSerial(host: BackendHost, w: Watch, path: string, flush = false): void {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return;
    }
    try {
      const size = statSync(path).size;
      if (size < w.serialOffset) w.serialOffset = 0;
      if (size > w.serialOffset) {
        const buf = Buffer.alloc(Math.min(size - w.serialOffset, 1 << 20));
        const n = readSync(fd, buf, 0, buf.length, w.serialOffset);
        w.serialOffset += n;
        const text = w.partial + buf.subarray(0, n).toString('utf8');
        const lines = text.split(/\r?\n/);
        w.partial = lines.pop() ?? '';
        for (const l of lines) {
          const clean = stripAnsi(l.replace(/\r/g, ''));
          if (clean.trim()) host.console(clean);
        }
      }
      if (flush && w.partial.trim()) {
        host.console(w.partial);
        w.partial = '';
      }
    } finally {
      closeSync(fd);
    }
  }

  private async tick(host: BackendHost, w: Watch, serial: string): Promise<void> {
    this.readSerial(host, w, serial);
    if (w.quiet) return;
    let state: number | null;
    try {
      const dom = await this.call(() => this.conn.lookup(host.spec.name));
      state = dom ? (await this.conn.run((hv) => hv.domainGetInfo(dom))).state : null;
    } catch {
      // libvirtd is unreachable: the VM may well still run; power requests fail until it is back
      return;
    }
    if (w.quiet || !this.watches.has(host.spec.uuid)) return;
    if (state === null) {
      this.unwatch(host.spec.uuid, true);
      host.powerLost(`libvirt: domain ${host.spec.name} was deleted behind the emulator's back: the machine is off`, true);
    } else if (state === SHUTOFF) {
      this.unwatch(host.spec.uuid, true);
      host.powerLost('libvirt: the guest powered itself off', false);
    }
  }

  /** Removes the domains this backend created (stopping them first) and their files; adopted ones are left alone. */
  async destroy(specs: MachineSpec[]): Promise<{ removed: string[]; left: string[] }> {
    const removed: string[] = [];
    const left: string[] = [];
    for (const spec of specs) {
      this.unwatch(spec.uuid, false);
      const dom = await this.call(() => this.conn.lookup(spec.name));
      if (dom && !(await this.createdByUs(dom))) {
        left.push(spec.name);
        continue;
      }
      if (dom) {
        const info = await this.conn.run((hv) => hv.domainGetInfo(dom));
        if (info.state !== SHUTOFF) await this.conn.run((hv) => hv.domainDestroy(dom));
        // the binding's undefine takes no flags, and a UEFI domain's NVRAM needs --nvram
        await run('virsh', ['-c', this.opts.uri, 'undefine', '--nvram', spec.name]).catch((e: unknown) => {
          if (!isNoDomain(e))
            throw new LibvirtError('OperationFailed', `cannot undefine ${spec.name}: ${(e as Error).message.split('\n')[0]}`);
        });
        removed.push(spec.name);
      }
      rmSync(this.vmDir(spec), { recursive: true, force: true });
    }
    return { removed, left };
  }

  async close(): Promise<void> {
    for (const uuid of [...this.watches.keys()]) this.unwatch(uuid, true);
    await this.conn.close();
  }
}
