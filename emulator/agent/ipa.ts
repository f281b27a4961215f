// The simulated ironic-python-agent: what runs when a simulated machine boots Ironic's deploy
// ramdisk. It speaks IPA's protocol for real — inspection callback, lookup by MAC, heartbeats
// with its callback URL and token, and the command API (clean/deploy steps, write_image,
// install_bootloader, power_off) — while the work lands on the machine model: inventory from its
// hardware, erasing and writing its disks at their speed, powering it off.
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { readIso } from '../../lib/iso9660.js';
import type { FetchResponse, TrustedFetch } from '../../lib/trusted-fetch.js';
import type { MachineOs } from '../machine/boot-handlers.js';
import { type InventoryDisk, NoRootDeviceError, selectRootDevice } from './root-device.js';
import { planSoftwareRaid, SoftwareRaidError, softwareRaidRoot } from './software-raid.js';

export const AGENT_VERSION = '10.0.0';

/** IPA's inspection callback: five attempts in all (ironic_python_agent/inspector.py) */
export const INSPECTION_ATTEMPTS = 5;

/**
 * How long IPA waits before attempt `attempt` + 1 of its inspection callback: tenacity's
 * exponential wait with multiplier 1.5, held between 5 and 30 s (5, 5, 6, 12 s).
 */
export function inspectionRetryWaitMs(attempt: number): number {
  return Math.min(30, Math.max(5, 1.5 * 2 ** (attempt - 1))) * 1000;
}

/**
 * Posts inspection data as IPA does: a connection failure or a 5xx answer (Ironic out of workers
 * answers 503) is tried again after IPA's waits; any other answer ends it — a 4xx is final, and the
 * agent goes on to its lookup. True when Ironic took the data.
 */
export async function sendInspectionData(
  post: () => Promise<{ ok: boolean; status: number; text(): Promise<string> }>,
  io: { sleep(ms: number): Promise<void>; log(line: string): void; aborted(): boolean },
): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    let retry: boolean;
    try {
      const r = await post();
      if (r.ok) {
        io.log('ironic-python-agent: inspection data sent');
        return true;
      }
      io.log(`ironic-python-agent: inspection callback answered HTTP ${r.status}: ${(await r.text()).slice(0, 200)}`);
      retry = r.status >= 500;
    } catch (e) {
      if (io.aborted()) throw e;
      io.log(`ironic-python-agent: inspection callback failed: ${reason(e as Error)}`);
      retry = true;
    }
    if (!retry || attempt >= INSPECTION_ATTEMPTS) {
      io.log('ironic-python-agent: inspection data not taken, proceeding with lookup');
      return false;
    }
    await io.sleep(inspectionRetryWaitMs(attempt));
  }
}
/** IPA speaks this API version to Ironic (agent tokens and agent_verify_ca) */
const API_VERSION = '1.68';

export interface AgentFaults {
  /** stop answering (as a crashed agent) at this point */
  crash?: 'before-lookup' | 'after-lookup' | 'during-write';
  /** the disk write fails with an I/O error */
  diskWriteError?: boolean;
  /** throttle image downloads to this many bytes per (simulated) second */
  downloadBytesPerSecond?: number;
}

export interface AgentCommandResult {
  id: string;
  command_name: string;
  command_params: Record<string, unknown>;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED';
  command_error: { type: string; code: number; message: string; details: string } | null;
  command_result: Record<string, unknown> | null;
}

/** fetch's own message is "fetch failed": the reason (refused, a certificate it does not trust) is its cause */
function reason(e: Error): string {
  const cause = (e as Error & { cause?: Error }).cause;
  return cause?.message ? `${e.message}: ${cause.message}` : e.message;
}

export class AgentCommandError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AgentHost {
  /** callback URL base for this agent (the hub's address + agent id) */
  callbackUrl: string;
  log(line: string): void;
  /** HTTPS with the CAs built into the ramdisk (default: the global fetch) */
  fetch?: TrustedFetch;
  /** the certificate of the agent's HTTPS API, sent as agent_verify_ca when the API is https */
  verifyCa?: () => string | null;
  /** the BMC's LAN address as the machine sees it in band (IPA's bmc_address); unknown when absent */
  bmcAddress?: string;
}

/** an IPv6 BMC address, bare or as [v6]:port (IPv4 ones may carry :port on the emulator) */
const isV6 = (a: string) => a.startsWith('[') || (a.match(/:/g)?.length ?? 0) > 1;

export class SimulatedAgent {
  readonly id = randomUUID();
  token: string | null = null;
  nodeUuid: string | null = null;
  crashed = false;
  private readonly commands: AgentCommandResult[] = [];
  private heartbeatTimeout = 300;
  private wake: (() => void) | null = null;
  private readonly started = new Date().toISOString();

  constructor(
    private readonly os: MachineOs,
    private readonly params: Map<string, string>,
    private readonly bootMac: string | null,
    private readonly host: AgentHost,
    private readonly signal: AbortSignal,
    readonly faults: AgentFaults = {},
    private readonly bootMode: 'uefi' | 'bios' = 'uefi',
  ) {}

  get apiUrl(): string {
    return (this.params.get('ipa-api-url') ?? '').replace(/\/+$/, '');
  }

  /** IPA's automatic TLS: an agent of an https Ironic serves its own API over https */
  get tls(): boolean {
    return this.apiUrl.startsWith('https://');
  }

  private fetch(url: string, init?: Parameters<TrustedFetch>[1]): Promise<FetchResponse> {
    return this.host.fetch ? this.host.fetch(url, init) : (fetch(url, init) as Promise<FetchResponse>);
  }

  private async api(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const r = await this.fetch(`${this.apiUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': API_VERSION },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.any([this.signal, AbortSignal.timeout(30_000)]),
    });
    const text = await r.text();
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { text };
    }
    return { status: r.status, json };
  }

  private sleep(ms: number): Promise<void> {
    // an agent whose machine went away must stop, not sleep on: an aborted signal fires no event
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    return new Promise((resolve, reject) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = null;
        self.signal.removeEventListener('abort', onAbort);
        resolve();
      }
      function onAbort() {
        clearTimeout(t);
        reject(self.signal.reason);
      }
      this.wake = done;
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The agent's life: inspect (if asked), look itself up, then heartbeat until powered off. */
  async run(): Promise<void> {
    const inspectUrl = this.params.get('ipa-inspection-callback-url');
    if (this.faults.crash === 'before-lookup') return this.crash('before lookup');
    if (inspectUrl) await this.inspect(inspectUrl);
    // IPA's ipa-lookup-timeout (300 s): an agent no node claims gives up — a machine that booted
    // the inspection fallback while its node is not waiting for it must not poll Ironic forever
    const lookupTimeout = Number(this.params.get('ipa-lookup-timeout') ?? 300);
    const lookupUntil = Date.now() + (Number.isFinite(lookupTimeout) && lookupTimeout > 0 ? lookupTimeout : 300) * 1000;
    for (let attempt = 0; ; attempt++) {
      const q = new URLSearchParams({ addresses: this.os.spec.nics.map((n) => n.mac).join(',') });
      const r = await this.api('GET', `/v1/lookup?${q}`).catch((e: Error) => ({
        status: 0,
        json: { error: reason(e) } as Record<string, unknown>,
      }));
      if (r.status === 200) {
        const node = r.json.node as { uuid: string };
        const cfg = r.json.config as { heartbeat_timeout?: number; agent_token?: string };
        this.nodeUuid = node.uuid;
        if (cfg.agent_token && cfg.agent_token !== '******') this.token = cfg.agent_token;
        this.heartbeatTimeout = Number(cfg.heartbeat_timeout ?? 300);
        this.host.log(`ironic-python-agent: lookup succeeded, node ${node.uuid}`);
        break;
      }
      if (Date.now() >= lookupUntil) {
        this.host.log(`ironic-python-agent: no node claimed this agent within ${lookupTimeout} s (ipa-lookup-timeout); exiting`);
        return;
      }
      if (attempt === 0 || attempt % 10 === 0)
        this.host.log(`ironic-python-agent: lookup failed (${r.status ? `HTTP ${r.status}` : r.json.error}), retrying`);
      await this.sleep(Math.min(30_000, 1000 * (attempt + 1)));
    }
    if (!this.token) {
      // Ironic reveals a token only once; without it nothing will be accepted
      this.host.log('ironic-python-agent: no agent token was provided at lookup; cannot heartbeat');
      return;
    }
    if (this.faults.crash === 'after-lookup') return this.crash('after lookup');
    for (;;) {
      if (this.crashed) return;
      const r = await this.api('POST', `/v1/heartbeat/${this.nodeUuid}`, {
        callback_url: this.host.callbackUrl,
        agent_token: this.token,
        agent_version: AGENT_VERSION,
        ...(this.tls && this.host.verifyCa?.() ? { agent_verify_ca: this.host.verifyCa() } : {}),
      }).catch((e: Error) => ({ status: 0, json: { error: reason(e) } }));
      if (r.status !== 202) this.host.log(`ironic-python-agent: heartbeat failed (${r.status ? `HTTP ${r.status}` : r.json.error})`);
      // IPA heartbeats at a random 30–60% of the timeout; sooner after a conflict
      const interval = r.status === 409 ? 1000 : this.heartbeatTimeout * 1000 * (0.3 + Math.random() * 0.3);
      await this.sleep(interval);
    }
  }

  /** Acts on the machine once the command's reply is out — unless this agent is gone by then
   * (the BMC already powered the machine off or reset it, and something else may run now). */
  private later(fn: () => void): void {
    setTimeout(() => {
      if (!this.signal.aborted) fn();
    }, 50);
  }

  private crash(where: string): void {
    this.crashed = true;
    this.host.log(`ironic-python-agent: crashed ${where} (injected fault)`);
  }

  /** Heartbeat now (IPA does after an asynchronous command finishes). */
  private heartbeatSoon(): void {
    this.wake?.();
  }

  inventory(): Record<string, unknown> {
    const s = this.os.spec;
    const cpus = s.cpu.sockets * s.cpu.coresPerSocket * s.cpu.threadsPerCore;
    return {
      interfaces: s.nics.map((n, i) => ({
        // systemd's predictable name for the NIC at PCI 0000:0<i+1>:00.0, as on metal3-dev-env's VMs
        name: `enp${i + 1}s0`,
        mac_address: n.mac,
        ipv4_address: null,
        ipv6_address: null,
        has_carrier: n.linkUp,
        lldp: null,
        vendor: '0x8086',
        product: '0x1572',
        speed_mbps: n.speedMbps,
        biosdevname: null,
        pci_address: `0000:0${i + 1}:00.0`,
        driver: 'i40e',
      })),
      cpu: {
        model_name: s.cpu.model,
        frequency: String(s.cpu.speedMHz),
        count: cpus,
        architecture: s.cpu.arch === 'ARM' ? 'aarch64' : 'x86_64',
        flags: ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'vmx', 'sse4_2', 'avx2'],
        socket_count: s.cpu.sockets,
      },
      memory: { total: s.memory.dimms * s.memory.dimmGiB * 2 ** 30, physical_mb: s.memory.dimms * s.memory.dimmGiB * 1024 },
      disks: s.disks.map((d, i) => ({
        name: d.name.startsWith('/dev/') ? d.name : `/dev/${d.name}`,
        model: d.model,
        size: d.sizeBytes,
        rotational: d.rotational,
        wwn: d.wwn,
        serial: d.serial,
        vendor: d.model.split(' ')[0] ?? 'ATA',
        wwn_with_extension: d.wwn,
        wwn_vendor_extension: null,
        hctl: `${i}:0:0:0`,
        by_path: `/dev/disk/by-path/pci-0000:00:1f.2-ata-${i + 1}`,
      })),
      // IPA reads both from `ipmitool lan print` / `lan6 print`; "unset" is 0.0.0.0 and ::/0
      bmc_address: this.host.bmcAddress && !isV6(this.host.bmcAddress) ? this.host.bmcAddress : '0.0.0.0',
      bmc_v6address: this.host.bmcAddress && isV6(this.host.bmcAddress) ? this.host.bmcAddress : '::/0',
      system_vendor: {
        product_name: s.model,
        serial_number: s.serial,
        manufacturer: s.manufacturer,
        firmware: {
          vendor: s.manufacturer,
          version: s.firmware.find((f) => /bios/i.test(f.id))?.version ?? '1.0',
          build_date: '2024-01-01',
        },
      },
      boot: { current_boot_mode: this.bootMode, pxe_interface: this.bootMac },
      hostname: `${s.name}.localdomain`,
    };
  }

  private async inspect(url: string): Promise<void> {
    await sendInspectionData(
      () =>
        this.fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.84' },
          body: JSON.stringify(inspectionData(this.inventory())),
          signal: AbortSignal.any([this.signal, AbortSignal.timeout(30_000)]),
        }),
      { sleep: (ms) => this.sleep(ms), log: (l) => this.host.log(l), aborted: () => this.signal.aborted },
    );
  }

  // ---- command API ----

  listCommands(): AgentCommandResult[] {
    return this.commands;
  }

  command(id: string): AgentCommandResult | undefined {
    return this.commands.find((c) => c.id === id);
  }

  status(): Record<string, unknown> {
    return { started_at: this.started, version: AGENT_VERSION };
  }

  /** Runs a command; sync ones complete before this resolves, async ones report RUNNING first. */
  async execute(name: string, params: Record<string, unknown>, wait: boolean): Promise<AgentCommandResult> {
    const c: AgentCommandResult = {
      id: randomUUID(),
      command_name: name,
      command_params: params,
      command_status: 'RUNNING',
      command_error: null,
      command_result: null,
    };
    const sync = SYNC_COMMANDS.has(name);
    const impl = this.impl(name);
    if (!impl) throw new AgentCommandError('InvalidCommandError', `Unknown command: ${name}`);
    this.commands.push(c);
    const work = (async () => {
      try {
        c.command_result = (await impl(params)) ?? null;
        c.command_status = 'SUCCEEDED';
      } catch (e) {
        if (this.signal.aborted) return;
        const type = e instanceof AgentCommandError ? e.type : 'CommandExecutionError';
        const msg = (e as Error).message;
        c.command_status = 'FAILED';
        c.command_error = { type, code: 500, message: msg, details: msg };
        this.host.log(`ironic-python-agent: command ${name} failed: ${msg}`);
      }
      if (!sync) this.heartbeatSoon();
    })();
    if (sync || wait) await work;
    return c;
  }

  private impl(name: string): ((p: Record<string, unknown>) => Promise<Record<string, unknown> | undefined>) | null {
    const os = this.os;
    const steps = (kind: 'clean' | 'deploy') => {
      const list =
        kind === 'clean'
          ? [
              { step: 'erase_devices', priority: 10, interface: 'deploy', reboot_requested: false, abortable: true },
              { step: 'erase_devices_metadata', priority: 99, interface: 'deploy', reboot_requested: false, abortable: true },
              { step: 'delete_configuration', priority: 0, interface: 'raid', reboot_requested: false, abortable: true },
              { step: 'create_configuration', priority: 0, interface: 'raid', reboot_requested: false, abortable: true },
            ]
          : [
              {
                step: 'write_image',
                priority: 0,
                interface: 'deploy',
                reboot_requested: false,
                argsinfo: { image_info: { required: true } },
              },
            ];
      return { [`${kind}_steps`]: { GenericHardwareManager: list }, hardware_manager_version: { generic_hardware_manager: '1.2' } };
    };
    switch (name) {
      case 'clean.get_clean_steps':
        return async () => steps('clean');
      case 'deploy.get_deploy_steps':
        return async () => steps('deploy');
      case 'clean.execute_clean_step':
        return async (p) => {
          const step = p.step as { step: string; interface: string };
          if (step.interface === 'deploy' && step.step === 'erase_devices') {
            // a full erase writes every disk once
            for (const d of os.spec.disks) await os.clock.sleep((d.sizeBytes / (d.writeMBps * 1e6)) * 1000, this.signal);
            os.eraseDisks();
          } else if (step.interface === 'deploy' && step.step === 'erase_devices_metadata') {
            await os.clock.sleep(500, this.signal);
            os.eraseDisks();
          } else if (step.interface === 'raid') {
            await os.clock.sleep(1000, this.signal);
            const result = this.softwareRaidStep(step.step, p.node as { uuid?: string; target_raid_config?: unknown } | undefined);
            this.host.log(`ironic-python-agent: clean step ${step.interface}.${step.step} done`);
            return { clean_result: result, clean_step: step };
          } else throw new AgentCommandError('InvalidCommandParamsError', `Unknown clean step ${step.interface}.${step.step}`);
          this.host.log(`ironic-python-agent: clean step ${step.interface}.${step.step} done`);
          return { clean_result: null, clean_step: step };
        };
      case 'deploy.execute_deploy_step':
        return async (p) => {
          const step = p.step as { step: string; interface: string; args?: Record<string, unknown> };
          if (step.step !== 'write_image') {
            await os.clock.sleep(500, this.signal);
            return { deploy_result: null, deploy_step: step };
          }
          const args = step.args ?? {};
          const result = await this.writeImage(args.image_info as Record<string, unknown>, (args.configdrive as string | null) ?? null);
          return { deploy_result: result, deploy_step: step };
        };
      case 'image.install_bootloader':
        return async () => {
          await os.clock.sleep(300, this.signal);
          this.host.log('ironic-python-agent: bootloader installed');
          return {};
        };
      case 'standby.get_partition_uuids':
        return async () => ({});
      case 'standby.sync':
        return async () => ({});
      case 'standby.power_off':
        return async () => {
          this.host.log('ironic-python-agent: powering off');
          this.later(() => os.shutdown());
          return {};
        };
      case 'standby.run_image':
        return async () => {
          this.later(() => os.reboot());
          return {};
        };
      case 'log.collect_system_logs':
        return async () => ({ system_logs: Buffer.from('simulated agent logs\n').toString('base64') });
      case 'system.lockdown':
        return async () => {
          this.later(() => os.shutdown());
          return {};
        };
      default:
        return null;
    }
  }

  private async download(url: string): Promise<{ data: Buffer; hashes: Map<string, string> }> {
    const algos = ['md5', 'sha256', 'sha512'];
    const hashers = algos.map((a) => createHash(a));
    let data: Buffer;
    if (url.startsWith('file://')) {
      try {
        data = await readFile(new URL(url));
      } catch (e) {
        throw new AgentCommandError('ImageDownloadError', `Download of image ${url} failed: ${(e as Error).message}`);
      }
    } else {
      let r: FetchResponse;
      try {
        r = await this.fetch(url, { signal: this.signal });
      } catch (e) {
        throw new AgentCommandError('ImageDownloadError', `Download of image ${url} failed: ${(e as Error).message}`);
      }
      if (!r.ok) throw new AgentCommandError('ImageDownloadError', `Download of image ${url} failed: URL returned status code ${r.status}`);
      const chunks: Buffer[] = [];
      const reader = r.body?.getReader();
      let got = 0;
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        const b = Buffer.from(value);
        chunks.push(b);
        got += b.length;
        const rate = this.faults.downloadBytesPerSecond;
        if (rate) await this.os.clock.sleep((b.length / rate) * 1000, this.signal);
        if (this.faults.crash === 'during-write' && got > 0) {
          this.crashed = true;
          this.host.log('ironic-python-agent: crashed while writing the image (injected fault)');
          await new Promise<never>((_, reject) => this.signal.addEventListener('abort', () => reject(this.signal.reason), { once: true }));
        }
      }
      data = Buffer.concat(chunks);
    }
    for (const h of hashers) h.update(data);
    return { data, hashes: new Map(algos.map((a, i) => [a, hashers[i].digest('hex')])) };
  }

  private async expectedChecksum(info: Record<string, unknown>, url: string): Promise<{ algo: string; value: string } | null> {
    const algo = info.os_hash_algo ? String(info.os_hash_algo) : null;
    let value = info.os_hash_value ? String(info.os_hash_value) : info.checksum ? String(info.checksum) : null;
    if (!value) return null;
    if (/^https?:\/\//.test(value)) {
      // a checksum file: "<hash>  <file>" lines, or a single hash
      const r = await this.fetch(value, { signal: this.signal }).catch(() => null);
      if (!r?.ok) throw new AgentCommandError('ImageDownloadError', `Could not download the checksum file ${value}`);
      const file = url.split('/').pop() ?? '';
      const lines = (await r.text())
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const hit = lines.find((l) => l.split(/\s+/)[1]?.replace(/^\*/, '') === file) ?? (lines.length === 1 ? lines[0] : null);
      if (!hit) throw new AgentCommandError('ImageChecksumError', `The checksum file ${value} has no entry for ${file}`);
      value = hit.split(/\s+/)[0];
    }
    const byLen: Record<number, string> = { 32: 'md5', 64: 'sha256', 128: 'sha512' };
    const a = algo ?? byLen[value.length];
    if (!a) throw new AgentCommandError('ImageChecksumError', `Cannot tell the algorithm of checksum "${value}"`);
    return { algo: a, value: value.toLowerCase() };
  }

  /** The agent's RAID interface: software RAID only (hardware RAID is the BMC's). */
  private softwareRaidStep(step: string, node: { uuid?: string; target_raid_config?: unknown } | undefined): unknown {
    const raid = this.os.softwareRaid;
    if (!raid) throw new AgentCommandError('SoftwareRAIDError', 'Software RAID is not supported on this machine');
    if (step === 'delete_configuration') {
      raid.set([]);
      return null;
    }
    if (step !== 'create_configuration') throw new AgentCommandError('InvalidCommandParamsError', `Unknown clean step raid.${step}`);
    try {
      const volumes = planSoftwareRaid(String(node?.uuid ?? ''), node?.target_raid_config, this.inventory().disks as InventoryDisk[]);
      raid.set(volumes);
      this.host.log(
        `ironic-python-agent: software RAID ${volumes.map((v) => `${v.name} (RAID-${v.level} on ${v.members.join(', ')})`).join(', ')} created`,
      );
      return node?.target_raid_config ?? null;
    } catch (e) {
      if (e instanceof SoftwareRaidError) throw new AgentCommandError('SoftwareRAIDError', e.message);
      throw e;
    }
  }

  private async writeImage(info: Record<string, unknown>, configdrive: string | null): Promise<Record<string, unknown>> {
    if (!info) throw new AgentCommandError('InvalidCommandParamsError', 'image_info is required for write_image');
    const url = String(((info.urls as string[] | undefined) ?? [])[0] ?? '');
    if (!url) throw new AgentCommandError('InvalidCommandParamsError', 'image_info has no URL');
    // the install device first, as IPA does: hints that match no disk fail before any download
    let device: { name: string };
    const md = this.os.softwareRaid?.list() ?? [];
    const hints = info.root_device as Record<string, unknown> | null;
    const disks = this.inventory().disks as InventoryDisk[];
    try {
      // with software RAID, IPA picks the root volume even over hints (warning), else chooses among
      // the md devices and disks not in a volume marked as no root
      device = md.length ? { name: softwareRaidRoot(md, disks, hints) } : selectRootDevice(disks, hints);
      if (md.some((v) => v.rootVolume) && hints && Object.keys(hints).length)
        this.host.log(`ironic-python-agent: both root device hints and a RAID root volume are defined; using ${device.name}`);
    } catch (e) {
      if (e instanceof NoRootDeviceError) throw new AgentCommandError('DeviceNotFound', e.message);
      throw e;
    }
    this.host.log(`ironic-python-agent: downloading ${url}`);
    const expected = await this.expectedChecksum(info, url);
    const { data, hashes } = await this.download(url);
    if (expected) {
      const got = hashes.get(expected.algo);
      if (!got) throw new AgentCommandError('ImageChecksumError', `Unsupported checksum algorithm ${expected.algo}`);
      if (got !== expected.value)
        throw new AgentCommandError(
          'ImageChecksumError',
          `The checksum for image ${url} did not match: expected ${expected.value}, got ${got} (${expected.algo})`,
        );
    }
    // qcow2 images are converted to raw on the way to disk: what lands there is the virtual size
    let bytes = data.length;
    if (data.length >= 32 && data.readUInt32BE(0) === 0x514649fb) bytes = Number(data.readBigUInt64BE(24));
    let cd: Buffer | null = null;
    if (configdrive) cd = await this.configDrive(configdrive);
    if (this.faults.diskWriteError)
      throw new AgentCommandError('ImageWriteError', `Error writing image to device ${device.name}: [Errno 5] Input/output error`);
    await this.os.writeImage(url, bytes, this.signal, cd, data, device.name);
    this.host.log(`ironic-python-agent: image ${url} written to ${device.name} (${bytes} bytes)${cd ? ' with config drive' : ''}`);
    return { root_uuid_or_disk_id: `0x${createHash('md5').update(url).digest('hex').slice(0, 8)}` };
  }

  private async configDrive(v: string): Promise<Buffer> {
    let raw: Buffer;
    if (/^https?:\/\//.test(v)) {
      const r = await this.fetch(v, { signal: this.signal }).catch(() => null);
      if (!r?.ok) throw new AgentCommandError('ConfigDriveError', `Could not download the config drive from ${v}`);
      raw = Buffer.from(await r.arrayBuffer());
    } else raw = Buffer.from(v, 'base64');
    let iso: Buffer;
    try {
      iso = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
      readIso(iso);
    } catch (e) {
      throw new AgentCommandError('ConfigDriveError', `The config drive is not a gzipped ISO image: ${(e as Error).message}`);
    }
    return iso;
  }
}

const SYNC_COMMANDS = new Set([
  'clean.get_clean_steps',
  'deploy.get_deploy_steps',
  'standby.get_partition_uuids',
  'standby.sync',
  'log.collect_system_logs',
]);

/**
 * What the agent posts at inspection: the inventory and, as one object, the disk it would deploy to
 * (ironic-python-agent's choice without root device hints: the smallest disk of at least 4 GiB).
 */
export function inspectionData(inventory: Record<string, unknown>): { inventory: Record<string, unknown>; root_disk: unknown } {
  const disks = (inventory.disks as Array<{ size: number }> | undefined) ?? [];
  const candidates = disks.filter((d) => d.size >= 4 * 2 ** 30).sort((a, b) => a.size - b.size);
  return { inventory, root_disk: candidates[0] ?? null };
}
