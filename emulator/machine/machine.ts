// One machine: its state, the power state machine (a transition table), the boot engine that
// honours one-time and continuous overrides, virtual media, BIOS, secure boot, volumes and
// firmware. Both BMC fronts (Redfish, IPMI) drive the same Machine, so they always agree.
import { EventEmitter } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BackendHost, BootPlan, MachineBackend } from './backend.js';
import type { MachineOs } from './boot-handlers.js';
import type { Clock } from './clock.js';
import { MachineError } from './errors.js';
import { fetchImage } from './media-fetch.js';
import {
  type BiosValue,
  BOOT_HISTORY,
  type BootEnabled,
  BootEnabledValues,
  type BootMode,
  BootModes,
  type BootRecord,
  type BootTarget,
  BootTargets,
  CONSOLE_LINES,
  EVENT_ENTRIES,
  emptyMedia,
  type IndicatorLed,
  IndicatorLeds,
  type LogEntry,
  type MachineSpec,
  type MachineState,
  type SoftwareRaidState,
  type VirtualMediaState,
  type VolumeState,
} from './model.js';

export const ResetTypes = [
  'On',
  'ForceOn',
  'ForceOff',
  'GracefulShutdown',
  'GracefulRestart',
  'ForceRestart',
  'Nmi',
  'PushPowerButton',
  'PowerCycle',
] as const;
export type ResetType = (typeof ResetTypes)[number];

type PowerStep = 'noop' | 'on' | 'off' | 'graceful-off' | 'restart' | 'graceful-restart' | 'cycle' | 'nmi' | 'refuse';

// Rows: requested reset; columns: whether the machine is (heading) on or off. Idempotent where
// real BMCs are: On when on and ForceOff when off do nothing and succeed.
const POWER_TABLE: Record<ResetType, { on: PowerStep; off: PowerStep }> = {
  On: { on: 'noop', off: 'on' },
  ForceOn: { on: 'noop', off: 'on' },
  ForceOff: { on: 'off', off: 'noop' },
  GracefulShutdown: { on: 'graceful-off', off: 'noop' },
  GracefulRestart: { on: 'graceful-restart', off: 'on' },
  ForceRestart: { on: 'restart', off: 'on' },
  PowerCycle: { on: 'cycle', off: 'on' },
  PushPowerButton: { on: 'graceful-off', off: 'on' },
  Nmi: { on: 'nmi', off: 'refuse' },
};

export interface BootOverride {
  target?: BootTarget;
  enabled?: BootEnabled;
  mode?: BootMode;
  httpBootUri?: string | null;
}

export interface InsertMediaRequest {
  image: string;
  inserted?: boolean;
  writeProtected?: boolean;
  userName?: string | null;
  password?: string | null;
  transferProtocolType?: string | null;
  transferMethod?: string | null;
}

export interface MachineEnv {
  clock: Clock;
  backend: MachineBackend;
  /** where fetched media lives; one subfolder per machine */
  mediaDir: string;
}

/** Firmware deviations a BMC personality can give a machine (emulator/redfish/personalities). */
export interface FirmwareQuirks {
  /** boots the persistent order whatever the override says */
  ignoreOverride?: boolean;
  /** a Once override is not cleared when used */
  keepOnceOverride?: boolean;
  /** the virtual CD is never a boot device */
  virtualCdNotBootable?: boolean;
  /** pending BIOS settings are never applied */
  ignoreBiosPending?: boolean;
  /** SecureBootEnable writes are dropped */
  ignoreSecureBoot?: boolean;
}

export type ChangedPart = 'power' | 'boot' | 'media' | 'bios' | 'secureBoot' | 'led' | 'firmware' | 'volumes' | 'disk' | 'logs';

const devPath = (n: string) => (n.startsWith('/dev/') ? n : `/dev/${n}`);

export class Machine extends EventEmitter {
  private job: Promise<void> = Promise.resolve();
  private jobAbort = new AbortController();
  private readonly fetches = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly host: BackendHost;
  /** firmware deviations of the personality this machine's BMC has */
  quirks: FirmwareQuirks = {};
  private posting = false;

  constructor(
    readonly spec: MachineSpec,
    readonly state: MachineState,
    private readonly env: MachineEnv,
  ) {
    super();
    this.setMaxListeners(0);
    // a restart of the emulator finishes transitions that were under way
    if (state.power === 'PoweringOn') state.power = 'On';
    if (state.power === 'PoweringOff') state.power = 'Off';
    for (const m of state.media) if (m.fetch === 'fetching') this.failFetch(m, 'the emulator restarted during the download');
    const os: MachineOs = {
      spec,
      clock: env.clock,
      writeImage: (url, bytes, signal, configDrive, _data, disk) => this.writeImage(url, bytes, signal, configDrive, disk),
      eraseDisks: () => this.eraseDisks(),
      softwareRaid: {
        list: () => structuredClone(this.state.softwareRaid ?? []),
        set: (v) => this.setSoftwareRaid(v),
      },
      configDrive: () => this.configDrive(),
      shutdown: () => this.reset('ForceOff'),
      reboot: () => this.reset('ForceRestart'),
    };
    this.host = { spec, console: (l) => this.console(l), os, powerLost: (why, critical) => this.powerLost(why, critical) };
  }

  /** Lets the backend follow this machine from now on (a VM may already run when the emulator starts). */
  async attachBackend(): Promise<void> {
    if (this.env.backend.attach) {
      await this.env.backend.attach(this.host, this.poweredOn);
      return;
    }
    // A simulated machine runs inside the emulator, so it stopped with it: it was on, so it boots
    // again, as a server set to restore its power state after an AC loss does. Otherwise it would
    // sit "On" with no firmware, agent or OS running, and whoever waits on it would wait forever.
    if (this.poweredOn) {
      this.console('The emulator restarted: power restored, the machine boots again');
      this.event('Warning', 'PowerRestored', 'Power restored after the emulator restarted; the system boots again.');
      this.startJob((signal) => this.firmware(signal));
    }
  }

  get name(): string {
    return this.spec.name;
  }
  get uuid(): string {
    return this.spec.uuid;
  }
  get clock(): Clock {
    return this.env.clock;
  }
  get backendKind(): string {
    return this.env.backend.kind;
  }
  /** firmware is running (POST and the boot-device search), not an OS or agent */
  get inPost(): boolean {
    return this.posting;
  }

  /** Resolves when the current power/boot activity has finished (tests, shutdown). */
  settled(): Promise<void> {
    return this.job;
  }

  private changed(part: ChangedPart): void {
    this.emit('changed', part);
  }

  console(line: string): void {
    const ts = new Date(this.env.clock.now()).toISOString();
    this.state.console.push(`${ts} ${line}`);
    if (this.state.console.length > CONSOLE_LINES) this.state.console.splice(0, this.state.console.length - CONSOLE_LINES);
    this.changed('logs');
  }

  event(severity: LogEntry['severity'], messageId: string, message: string, args: string[] = []): LogEntry {
    const e: LogEntry = {
      id: this.state.nextEventId++,
      created: new Date(this.env.clock.now()).toISOString(),
      severity,
      messageId,
      message,
      args,
    };
    this.state.events.push(e);
    if (this.state.events.length > EVENT_ENTRIES) this.state.events.splice(0, this.state.events.length - EVENT_ENTRIES);
    this.emit('event', e);
    this.changed('logs');
    return e;
  }

  // ---- power ----

  get poweredOn(): boolean {
    return this.state.power === 'On' || this.state.power === 'PoweringOn';
  }

  /** Starts the transition `type` asks for and returns once it is under way (not finished). */
  reset(type: ResetType): void {
    if (!ResetTypes.includes(type)) throw new MachineError('InvalidValue', `unknown reset type ${type}`, 'ResetType');
    const step = POWER_TABLE[type][this.poweredOn ? 'on' : 'off'];
    if (step === 'refuse') throw new MachineError('PoweredOff', `${type} needs the machine to be powered on`, 'ResetType');
    if (step === 'noop') return;
    const down = this.env.backend.unavailable?.();
    if (down) throw new MachineError('Unavailable', `the machine cannot be powered: ${down}`, 'ResetType');
    this.event('OK', 'ResetRequested', `${type} requested`, [type]);
    if (step === 'nmi') {
      void this.env.backend.nmi(this.host);
      return;
    }
    this.startJob(async (signal) => {
      switch (step) {
        case 'on':
          await this.doPowerOn(signal);
          break;
        case 'off':
          await this.doPowerOff(false, signal);
          break;
        case 'graceful-off':
          await this.doPowerOff(true, signal);
          break;
        case 'restart':
          // a reset that interrupts a power-on finishes the power-on instead of leaving it half done
          if (this.state.power !== 'On') await this.doPowerOn(signal);
          else {
            this.console('System reset');
            await this.firmware(signal);
          }
          break;
        case 'graceful-restart':
          await this.doPowerOff(true, signal);
          await this.doPowerOn(signal);
          break;
        case 'cycle':
          await this.doPowerOff(false, signal);
          await this.doPowerOn(signal);
          break;
      }
    });
  }

  private startJob(fn: (signal: AbortSignal) => Promise<void>): void {
    this.jobAbort.abort(new Error('superseded by a newer power request'));
    const ac = new AbortController();
    this.jobAbort = ac;
    const prev = this.job;
    this.job = prev
      .catch(() => {})
      .then(() => (ac.signal.aborted ? undefined : fn(ac.signal)))
      .catch((e: unknown) => {
        if (!ac.signal.aborted) this.event('Critical', 'InternalError', `power transition failed: ${(e as Error).message}`);
      });
  }

  private setPower(p: MachineState['power']): void {
    if (this.state.power === p) return;
    this.state.power = p;
    if (p === 'Off') this.state.running = null;
    this.changed('power');
    if (p === 'On' || p === 'Off') this.event('OK', 'PowerStateChanged', `Power state changed to ${p}`, [p]);
  }

  private async doPowerOn(signal: AbortSignal): Promise<void> {
    this.setPower('PoweringOn');
    try {
      await this.env.backend.powerOn(this.host, signal);
    } catch (e) {
      // a host that could not be powered (its hypervisor is down) stays off, and says why
      this.setPower('Off');
      throw e;
    }
    this.setPower('On');
    await this.firmware(signal);
  }

  /** The backend saw the machine go off by itself: the guest powered down, or its VM is gone. */
  private powerLost(why: string, critical: boolean): void {
    if (this.state.power === 'Off') return;
    // a transition under way (a reset) owns the power state; only an unexpected loss is recorded here
    if (this.state.power === 'PoweringOn' || this.state.power === 'PoweringOff') return;
    this.console(why);
    if (critical) this.event('Critical', 'PowerLost', why, [why]);
    this.setPower('Off');
  }

  private async doPowerOff(graceful: boolean, signal: AbortSignal): Promise<void> {
    this.setPower('PoweringOff');
    await this.env.backend.powerOff(this.host, graceful, signal);
    this.setPower('Off');
    this.console(graceful ? 'System halted' : 'Power off');
  }

  // ---- firmware and boot ----

  /** What firmware will try next boot, in order, and why. Consumes a one-time override when `consume`. */
  bootPlan(consume: boolean): { plan: BootPlan; source: BootRecord['source'] } {
    const b = this.state.boot;
    let devices: BootTarget[];
    let source: BootRecord['source'] = 'boot-order';
    if (b.overrideEnabled !== 'Disabled' && b.overrideTarget !== 'None' && !this.quirks.ignoreOverride) {
      source = b.overrideEnabled === 'Once' ? 'override-once' : 'override-continuous';
      // firmware falls back to the persistent order when the override device does not boot
      devices = [b.overrideTarget, ...b.bootOrder.filter((d) => d !== b.overrideTarget)];
      if (consume && b.overrideEnabled === 'Once' && !this.quirks.keepOnceOverride) {
        b.overrideEnabled = 'Disabled';
        this.changed('boot');
      }
    } else devices = [...b.bootOrder];
    if (this.quirks.virtualCdNotBootable) devices = devices.filter((d) => d !== 'Cd');
    return {
      plan: {
        devices,
        mode: b.overrideMode,
        httpBootUri: b.httpBootUri,
        media: this.state.media.map((m) => ({ ...m })),
        installedImage: this.state.installedImage,
      },
      source,
    };
  }

  private applyPendingSettings(): void {
    const bios = this.state.bios;
    if (bios.pending && !this.quirks.ignoreBiosPending) {
      const keys = Object.keys(bios.pending);
      bios.attributes = { ...bios.attributes, ...bios.pending };
      bios.pending = null;
      this.changed('bios');
      this.event('OK', 'BiosSettingsApplied', `Pending BIOS settings applied: ${keys.join(', ')}`, keys);
    }
    if (this.state.secureBoot.currentBoot !== this.state.secureBoot.enabled) {
      this.state.secureBoot.currentBoot = this.state.secureBoot.enabled;
      this.changed('secureBoot');
    }
  }

  /** Resolves when firmware next starts (power-on or reset), where pending settings take effect. */
  nextReset(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      };
      const abort = () => {
        this.off('reset', done);
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      this.once('reset', done);
      signal?.addEventListener('abort', abort, { once: true });
    });
  }

  private async firmware(signal: AbortSignal): Promise<void> {
    this.posting = true;
    try {
      await this.runFirmware(signal);
    } finally {
      this.posting = false;
    }
  }

  private async runFirmware(signal: AbortSignal): Promise<void> {
    this.state.running = null;
    this.state.lastResetAt = new Date(this.env.clock.now()).toISOString();
    this.applyPendingSettings();
    this.emit('reset');
    this.state.bootCount++;
    const { plan, source } = this.bootPlan(true);
    // firmware waits for virtual media still downloading before it tries it
    for (const d of plan.devices) {
      if (d !== 'Cd' && d !== 'Usb' && d !== 'Floppy') continue;
      const slot = d === 'Cd' ? 'Cd' : 'Floppy';
      const f = this.fetches.get(slot);
      if (f) await Promise.race([f.done, abortPromise(signal)]);
      const m = this.state.media.find((x) => x.id === slot);
      if (m) plan.media = plan.media.map((x) => (x.id === slot ? { ...m } : x));
    }
    for (const m of plan.media) if (m.inserted && m.fetch !== 'ready') m.inserted = false;
    const attempts = await this.env.backend.boot(this.host, plan, signal);
    const won = attempts.find((a) => a.outcome.booted);
    const record: BootRecord = {
      at: new Date(this.env.clock.now()).toISOString(),
      device: won?.device ?? 'None',
      mode: plan.mode,
      source,
      outcome: won?.outcome.booted ? won.outcome.what : 'no bootable device',
    };
    this.state.lastBoot = record;
    this.state.bootHistory.push(record);
    if (this.state.bootHistory.length > BOOT_HISTORY) this.state.bootHistory.shift();
    if (won) {
      this.state.running = record.outcome;
      this.event('OK', 'BootCompleted', `Booted from ${record.device} (${record.source}): ${record.outcome}`, [
        record.device,
        record.source,
      ]);
    } else {
      this.console('No bootable device -- insert boot disk and press any key');
      this.event('Warning', 'NoBootableDevice', `No bootable device found (tried ${plan.devices.join(', ')})`, plan.devices);
    }
    this.changed('boot');
  }

  // ---- boot settings ----

  setBootOverride(o: BootOverride): void {
    const b = this.state.boot;
    if (o.target !== undefined && !BootTargets.includes(o.target))
      throw new MachineError('InvalidValue', `unsupported boot target ${o.target}`, 'BootSourceOverrideTarget');
    if (o.enabled !== undefined && !BootEnabledValues.includes(o.enabled))
      throw new MachineError('InvalidValue', `unsupported value ${o.enabled}`, 'BootSourceOverrideEnabled');
    if (o.mode !== undefined && !BootModes.includes(o.mode))
      throw new MachineError('InvalidValue', `unsupported boot mode ${o.mode}`, 'BootSourceOverrideMode');
    if (o.httpBootUri) {
      try {
        new URL(o.httpBootUri);
      } catch {
        throw new MachineError('InvalidValue', `HttpBootUri "${o.httpBootUri}" is not a URL`, 'HttpBootUri');
      }
    }
    if (o.target !== undefined) b.overrideTarget = o.target;
    if (o.enabled !== undefined) b.overrideEnabled = o.enabled;
    // setting a target without saying for how long means "next boot", as on real BMCs
    else if (o.target !== undefined && o.target !== 'None' && b.overrideEnabled === 'Disabled') b.overrideEnabled = 'Once';
    if (o.mode !== undefined) b.overrideMode = o.mode;
    if (o.httpBootUri !== undefined) b.httpBootUri = o.httpBootUri;
    if (o.mode === 'Legacy' && this.state.secureBoot.enabled) this.state.secureBoot.enabled = false;
    this.changed('boot');
  }

  setBootOrder(order: BootTarget[]): void {
    for (const d of order)
      if (!BootTargets.includes(d) || d === 'None') throw new MachineError('InvalidValue', `unsupported boot device ${d}`, 'BootOrder');
    if (new Set(order).size !== order.length) throw new MachineError('InvalidValue', 'BootOrder lists a device twice', 'BootOrder');
    this.state.boot.bootOrder = [...order];
    this.changed('boot');
  }

  // ---- virtual media ----

  mediaSlot(id: string): VirtualMediaState {
    const m = this.state.media.find((x) => x.id === id);
    if (!m) throw new MachineError('NotFound', `no virtual media slot ${id}`);
    return m;
  }

  /** Starts fetching; resolves when the image server answered (errors before that reject). */
  async insertMedia(slotId: string, req: InsertMediaRequest): Promise<void> {
    const m = this.mediaSlot(slotId);
    if (m.inserted) throw new MachineError('Conflict', `virtual media ${slotId} already holds ${m.image}: eject it first`, 'Image');
    if (req.inserted === false) throw new MachineError('InvalidValue', 'Inserted=false cannot be used to insert media', 'Inserted');
    const protocol = req.transferProtocolType;
    if (protocol && !['HTTP', 'HTTPS'].includes(protocol))
      throw new MachineError('InvalidValue', `TransferProtocolType ${protocol} is not supported (HTTP, HTTPS)`, 'TransferProtocolType');
    let url: URL;
    try {
      url = new URL(req.image);
    } catch {
      throw new MachineError('InvalidValue', `Image "${req.image}" is not a URL`, 'Image');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new MachineError('InvalidValue', `Image must be an http or https URL, not ${url.protocol}`, 'Image');
    const abort = new AbortController();
    Object.assign(m, {
      image: req.image,
      imageName: url.pathname.split('/').pop() || url.hostname,
      inserted: true,
      writeProtected: req.writeProtected ?? true,
      userName: req.userName ?? null,
      password: req.password ?? null,
      transferProtocolType: protocol ?? url.protocol.slice(0, -1).toUpperCase(),
      transferMethod: req.transferMethod ?? 'Stream',
      fetch: 'fetching',
      fetchError: null,
      bytes: 0,
    } satisfies Partial<VirtualMediaState>);
    this.changed('media');
    const dest = join(this.env.mediaDir, this.uuid, `${slotId}.img`);
    let answered!: () => void;
    const responded = new Promise<void>((r) => {
      answered = r;
    });
    const done = (async () => {
      try {
        const bytes = await fetchImage(req.image, dest, {
          userName: req.userName,
          password: req.password,
          verifyCertificate: m.verifyCertificate,
          signal: abort.signal,
          onResponse: () => answered(),
        });
        await this.env.clock.sleep(this.spec.timings.mediaFetch, abort.signal);
        m.localPath = dest;
        m.bytes = bytes;
        m.fetch = 'ready';
        this.event('OK', 'MediaInserted', `Virtual media ${slotId} ready: ${req.image} (${bytes} bytes)`, [slotId, req.image]);
        this.changed('media');
      } catch (e) {
        if (!abort.signal.aborted) this.failFetch(m, (e as Error).message);
        throw e;
      } finally {
        if (this.fetches.get(slotId)?.abort === abort) this.fetches.delete(slotId);
      }
    })();
    this.fetches.set(slotId, { abort, done: done.catch(() => {}) });
    await Promise.race([responded, done]);
  }

  private failFetch(m: VirtualMediaState, why: string): void {
    Object.assign(m, { ...emptyMedia(m.id), verifyCertificate: m.verifyCertificate, fetch: 'failed', fetchError: why });
    this.event('Warning', 'MediaFetchFailed', `Virtual media ${m.id}: ${why}`, [m.id]);
    this.changed('media');
  }

  ejectMedia(slotId: string): void {
    const m = this.mediaSlot(slotId);
    this.fetches.get(slotId)?.abort.abort(new Error('ejected'));
    this.fetches.delete(slotId);
    if (m.localPath) rmSync(m.localPath, { force: true });
    const was = m.image;
    Object.assign(m, { ...emptyMedia(m.id), verifyCertificate: m.verifyCertificate });
    if (was) this.event('OK', 'MediaEjected', `Virtual media ${slotId} ejected (${was})`, [slotId]);
    this.changed('media');
  }

  setMediaVerifyCertificate(slotId: string, verify: boolean): void {
    this.mediaSlot(slotId).verifyCertificate = verify;
    this.changed('media');
  }

  /** Resolves when a media download in progress ends (immediately if none). */
  async mediaSettled(slotId: string): Promise<void> {
    await this.fetches.get(slotId)?.done;
  }

  // ---- BIOS, secure boot, LED ----

  setBiosPending(attrs: Record<string, unknown>): string[] {
    const cur = this.state.bios.attributes;
    for (const [k, v] of Object.entries(attrs)) {
      if (!(k in cur)) throw new MachineError('InvalidValue', `unknown BIOS attribute ${k}`, `Attributes/${k}`);
      if (typeof v !== typeof cur[k])
        throw new MachineError('InvalidValue', `BIOS attribute ${k} must be a ${typeof cur[k]}`, `Attributes/${k}`);
    }
    this.state.bios.pending = { ...(this.state.bios.pending ?? {}), ...(attrs as Record<string, BiosValue>) };
    this.changed('bios');
    return Object.keys(attrs);
  }

  resetBios(): void {
    this.state.bios.pending = { ...this.spec.biosDefaults };
    this.changed('bios');
  }

  setSecureBoot(enabled: boolean): void {
    if (enabled && this.state.boot.overrideMode !== 'UEFI')
      throw new MachineError('Conflict', 'secure boot needs UEFI boot mode', 'SecureBootEnable');
    if (this.quirks.ignoreSecureBoot) return;
    this.state.secureBoot.enabled = enabled;
    this.changed('secureBoot');
  }

  setIndicatorLed(led: IndicatorLed): void {
    if (!IndicatorLeds.includes(led))
      throw new MachineError('InvalidValue', `IndicatorLED must be one of ${IndicatorLeds.join(', ')}`, 'IndicatorLED');
    this.state.indicatorLed = led;
    this.changed('led');
  }

  // ---- storage and firmware ----

  validateVolume(v: Omit<VolumeState, 'id'>): void {
    if (!Number.isFinite(v.capacityBytes) || v.capacityBytes <= 0)
      throw new MachineError('InvalidValue', 'CapacityBytes must be a positive number', 'CapacityBytes');
    const drives = v.drives.length ? v.drives : this.spec.disks.map((d) => d.id);
    const known = new Set(this.spec.disks.map((d) => d.id));
    for (const d of drives) if (!known.has(d)) throw new MachineError('InvalidValue', `no drive ${d}`, 'Links/Drives');
    const total = this.spec.disks.filter((d) => drives.includes(d.id)).reduce((s, d) => s + d.sizeBytes, 0);
    if (v.capacityBytes > total)
      throw new MachineError('InvalidValue', `CapacityBytes ${v.capacityBytes} exceeds the ${total} bytes of the drives`, 'CapacityBytes');
  }

  addVolume(v: Omit<VolumeState, 'id'>): VolumeState {
    this.validateVolume(v);
    const used = new Set(this.state.volumes.map((x) => x.id));
    let n = 1;
    while (used.has(String(n))) n++;
    const vol: VolumeState = { ...v, id: String(n), drives: v.drives.length ? v.drives : this.spec.disks.map((d) => d.id) };
    this.state.volumes.push(vol);
    this.event('OK', 'VolumeCreated', `Volume ${vol.name} (${vol.raidType}, ${vol.capacityBytes} bytes) created`, [vol.id]);
    this.changed('volumes');
    return vol;
  }

  deleteVolume(id: string): void {
    const i = this.state.volumes.findIndex((v) => v.id === id);
    if (i < 0) throw new MachineError('NotFound', `no volume ${id}`);
    this.state.volumes.splice(i, 1);
    this.event('OK', 'VolumeDeleted', `Volume ${id} deleted`, [id]);
    this.changed('volumes');
  }

  setFirmwareVersion(id: string, version: string): void {
    const f = this.state.firmware.find((x) => x.id === id);
    if (!f) throw new MachineError('NotFound', `no firmware component ${id}`);
    if (!f.updateable) throw new MachineError('Conflict', `firmware component ${id} is not updateable`, 'Targets');
    f.version = version;
    this.event('OK', 'FirmwareUpdated', `Firmware ${f.name} updated to ${version}`, [id, version]);
    this.changed('firmware');
  }

  // ---- disk (written by the machine-side agent) ----

  /** Simulates writing `bytes` of an image at the disk's speed (`diskName`, else the first), then records it. */
  async writeImage(url: string, bytes: number, signal?: AbortSignal, configDrive: Buffer | null = null, diskName?: string): Promise<void> {
    const md = diskName ? this.state.softwareRaid?.find((v) => v.name === devPath(diskName)) : undefined;
    const disk = md
      ? { name: md.name, sizeBytes: md.sizeBytes, writeMBps: Math.min(...this.memberDisks(md).map((d) => d.writeMBps)) }
      : diskName
        ? this.spec.disks.find((d) => devPath(d.name) === devPath(diskName))
        : this.spec.disks[0];
    if (!disk)
      throw new MachineError(
        diskName ? 'InvalidValue' : 'NotSupported',
        diskName ? `this machine has no disk ${diskName}` : 'this machine has no disks',
      );
    if (bytes > disk.sizeBytes)
      throw new MachineError('InvalidValue', `image of ${bytes} bytes does not fit the ${disk.sizeBytes}-byte disk`);
    // the old contents are gone as soon as writing starts (an md device it is written to stays)
    this.eraseDisks();
    await this.env.clock.sleep((bytes / (disk.writeMBps * 1e6)) * 1000, signal);
    const cdPath = join(this.env.mediaDir, this.uuid, 'configdrive.iso');
    if (configDrive) {
      mkdirSync(dirname(cdPath), { recursive: true });
      writeFileSync(cdPath, configDrive);
    }
    this.state.installedImage = {
      url,
      bootable: true,
      writtenAt: new Date(this.env.clock.now()).toISOString(),
      bytes,
      configDrive: configDrive ? cdPath : null,
      disk: devPath(disk.name),
    };
    this.event('OK', 'ImageWritten', `Image ${url} written to ${disk.name}${configDrive ? ' with a config drive' : ''}`, [url]);
    this.changed('disk');
  }

  /**
   * The running OS (or agent) dies and the machine hangs, powered on: a kernel panic. Whatever it
   * ran stops answering; only a reset or a power cycle brings the machine back.
   */
  crashOs(): boolean {
    if (this.state.power !== 'On' || !this.state.running) return false;
    const was = this.state.running;
    this.jobAbort.abort(new Error('kernel panic'));
    this.jobAbort = new AbortController();
    this.console(`Kernel panic - not syncing: Fatal exception (was running ${was})`);
    this.event('Critical', 'OsCrashed', `The operating system stopped: ${was}`, [was]);
    this.state.running = null;
    this.changed('boot');
    return true;
  }

  /** A failed boot disk: what was installed no longer boots. */
  failBootDisk(): void {
    if (this.state.installedImage) this.state.installedImage = { ...this.state.installedImage, bootable: false };
    this.changed('disk');
  }

  /** Wipes what the disks hold. Software RAID members are left alone, as IPA's erase steps skip them. */
  eraseDisks(): void {
    const cd = this.state.installedImage?.configDrive;
    if (cd) rmSync(cd, { force: true });
    this.state.installedImage = null;
    this.changed('disk');
  }

  private memberDisks(md: SoftwareRaidState): MachineSpec['disks'] {
    return this.spec.disks.filter((d) => md.members.some((p) => p.startsWith(devPath(d.name))));
  }

  private setSoftwareRaid(volumes: SoftwareRaidState[]): void {
    for (const v of volumes) {
      if (!/^\/dev\/md\d+$/.test(v.name)) throw new MachineError('InvalidValue', `${v.name} is not an md device name`);
      const disks = this.memberDisks(v);
      if (disks.length !== v.members.length)
        throw new MachineError('InvalidValue', `${v.name}: a member partition is on no disk of this machine`);
    }
    // whatever was installed was on the old layout
    this.eraseDisks();
    this.state.softwareRaid = structuredClone(volumes);
    if (volumes.length)
      this.event(
        'OK',
        'SoftwareRaidCreated',
        `Software RAID ${volumes.map((v) => `${v.name} (RAID-${v.level}, ${v.sizeBytes} bytes)`).join(', ')} created`,
        [volumes.map((v) => v.name).join(', ')],
      );
    this.changed('disk');
  }

  configDrive(): Buffer | null {
    const p = this.state.installedImage?.configDrive;
    if (!p) return null;
    try {
      return readFileSync(p);
    } catch {
      return null;
    }
  }

  async close(): Promise<void> {
    this.jobAbort.abort(new Error('emulator stopping'));
    for (const f of this.fetches.values()) f.abort.abort(new Error('emulator stopping'));
    await this.job.catch(() => {});
    await Promise.all([...this.fetches.values()].map((f) => f.done));
  }
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
