// IPMI commands the BMC answers (App and Chassis net functions): what ipmitool and Ironic's
// ipmitool driver send. Each maps onto the shared Machine, so Redfish sees the same changes.
import { MachineError } from '../machine/errors.js';
import type { Machine, ResetType } from '../machine/machine.js';
import type { BootTarget } from '../machine/model.js';

export const CC = {
  OK: 0x00,
  ParamNotSupported: 0x80,
  InvalidCommand: 0xc1,
  RequestDataLength: 0xc7,
  InvalidDataField: 0xcc,
  NodeBusy: 0xc0,
  NotInPresentState: 0xd5,
  InsufficientPrivilege: 0xd4,
  Unspecified: 0xff,
} as const;

export const NetFn = { Chassis: 0x00, App: 0x06 } as const;

// Boot device selector (param 5, data 2 bits 5:2) ↔ machine boot target
const SELECTOR_TO_TARGET: Record<number, BootTarget> = {
  1: 'Pxe',
  2: 'Hdd',
  3: 'Hdd', // safe mode
  4: 'Diags',
  5: 'Cd',
  6: 'BiosSetup',
  7: 'Floppy',
  8: 'Cd', // remote CD/DVD
  9: 'Hdd', // primary remote media: Supermicro's UEFI disk selector (0x24)
  11: 'Hdd', // remote hard drive
  15: 'Floppy',
};
const TARGET_TO_SELECTOR: Partial<Record<BootTarget, number>> = {
  Pxe: 0x1,
  UefiHttp: 0x1,
  Hdd: 0x2,
  Diags: 0x4,
  Cd: 0x5,
  BiosSetup: 0x6,
  Floppy: 0xf,
  Usb: 0xf,
};

// Commands that change the machine or the BMC need Operator (3); everything else User (2)
const OPERATOR_COMMANDS: Record<number, number[]> = {
  [NetFn.Chassis]: [0x02, 0x04, 0x08], // chassis control, identify, set boot options
  [NetFn.App]: [0x02, 0x03], // cold and warm reset
};

export function requiredPrivilege(netFn: number, cmd: number): number {
  return OPERATOR_COMMANDS[netFn]?.includes(cmd) ? 3 : 2;
}

const CONTROL_TO_RESET: Record<number, ResetType> = {
  0: 'ForceOff',
  1: 'On',
  2: 'PowerCycle',
  3: 'ForceRestart',
  4: 'Nmi',
  5: 'GracefulShutdown',
};

/** Per-BMC volatile state (lost on BMC restart, as on real hardware). */
export class BmcState {
  /** param 0: set-in-progress */
  setInProgress = 0;
  /** param 3: BMC boot flag valid bit clearing */
  validBitClearing = 0;
  /** param 4: boot info acknowledge */
  bootInfoAck = [0, 0];
  /** the selector last written (so "safe mode" and Supermicro's 0x24 read back as written) */
  lastSelector: { target: BootTarget; selector: number } | null = null;
  /** cancels the 60-second valid-bit timeout */
  timeout: AbortController | null = null;
  identifyTimer: AbortController | null = null;
}

export interface CommandResult {
  cc: number;
  data?: number[] | Buffer;
}

export interface DeviceIdentity {
  manufacturerId: number;
  productId: number;
  firmware: [number, number];
}

function bcd(n: number): number {
  return ((Math.floor(n / 10) % 10) << 4) | (n % 10);
}

function bootFlags(m: Machine, bmc: BmcState): number[] {
  const b = m.state.boot;
  const valid = b.overrideEnabled !== 'Disabled' && b.overrideTarget !== 'None';
  const d1 = (valid ? 0x80 : 0) | (b.overrideEnabled === 'Continuous' ? 0x40 : 0) | (b.overrideMode === 'UEFI' ? 0x20 : 0);
  const sel = bmc.lastSelector?.target === b.overrideTarget ? bmc.lastSelector.selector : (TARGET_TO_SELECTOR[b.overrideTarget] ?? 0);
  return [d1, valid ? sel << 2 : 0, 0, 0, 0];
}

function setBootFlags(m: Machine, bmc: BmcState, d: Buffer): CommandResult {
  if (d.length < 5) return { cc: CC.RequestDataLength };
  const valid = (d[0] & 0x80) !== 0;
  const persistent = (d[0] & 0x40) !== 0;
  const efi = (d[0] & 0x20) !== 0;
  const sel = (d[1] >> 2) & 0x0f;
  bmc.timeout?.abort();
  bmc.timeout = null;
  if (!valid || sel === 0) {
    m.setBootOverride({ enabled: 'Disabled', mode: efi ? 'UEFI' : 'Legacy' });
    bmc.lastSelector = null;
    return { cc: CC.OK };
  }
  const target = SELECTOR_TO_TARGET[sel];
  if (!target) return { cc: CC.InvalidDataField };
  m.setBootOverride({ target, enabled: persistent ? 'Continuous' : 'Once', mode: efi ? 'UEFI' : 'Legacy' });
  bmc.lastSelector = { target, selector: sel };
  // the valid bit clears itself after 60 s without a chassis control, unless param 3 bit 3 says not to
  if (!persistent && (bmc.validBitClearing & 0x08) === 0) {
    const ac = new AbortController();
    bmc.timeout = ac;
    m.clock.sleep(60_000, ac.signal).then(
      () => {
        if (bmc.timeout === ac && m.state.boot.overrideEnabled === 'Once') {
          m.setBootOverride({ enabled: 'Disabled' });
          m.event('OK', 'BootOverrideExpired', 'IPMI boot flags expired after 60 s without a chassis control command');
        }
      },
      () => {},
    );
  }
  return { cc: CC.OK };
}

export function handleCommand(m: Machine, bmc: BmcState, id: DeviceIdentity, netFn: number, cmd: number, d: Buffer): CommandResult {
  try {
    if (netFn === NetFn.App) {
      switch (cmd) {
        case 0x01: // Get Device ID
          return {
            cc: CC.OK,
            data: [
              0x20,
              0x01,
              id.firmware[0] & 0x7f,
              bcd(id.firmware[1]),
              0x02,
              0xbf,
              id.manufacturerId & 0xff,
              (id.manufacturerId >> 8) & 0xff,
              (id.manufacturerId >> 16) & 0x0f,
              id.productId & 0xff,
              (id.productId >> 8) & 0xff,
              0,
              0,
              0,
              0,
            ],
          };
        case 0x02: // Cold Reset
        case 0x03: // Warm Reset
          m.event('OK', 'BmcReset', `BMC ${cmd === 0x02 ? 'cold' : 'warm'} reset requested`);
          bmc.timeout?.abort();
          bmc.setInProgress = 0;
          return { cc: CC.OK };
        case 0x04: // Get Self Test Results: no error
          return { cc: CC.OK, data: [0x55, 0x00] };
        case 0x08: // Get Device GUID
        case 0x37: // Get System GUID
          return { cc: CC.OK, data: guidBytes(m.uuid) };
        default:
          return { cc: CC.InvalidCommand };
      }
    }
    if (netFn === NetFn.Chassis) {
      switch (cmd) {
        case 0x00: // Get Chassis Capabilities
          return { cc: CC.OK, data: [0x00, 0x20, 0x20, 0x20, 0x20] };
        case 0x01: {
          // Get Chassis Status
          const on = m.state.power === 'On' || m.state.power === 'PoweringOff';
          const ident = m.state.indicatorLed === 'Blinking' ? 0x1 : m.state.indicatorLed === 'Lit' ? 0x2 : 0x0;
          return { cc: CC.OK, data: [(on ? 0x01 : 0) | (0x02 << 5), 0x00, 0x40 | (ident << 4), 0x00] };
        }
        case 0x02: {
          // Chassis Control
          if (d.length < 1) return { cc: CC.RequestDataLength };
          const t = CONTROL_TO_RESET[d[0] & 0x0f];
          if (!t) return { cc: CC.InvalidDataField };
          bmc.timeout?.abort();
          bmc.timeout = null;
          m.reset(t);
          return { cc: CC.OK };
        }
        case 0x04: {
          // Chassis Identify: [interval s], [force on]
          bmc.identifyTimer?.abort();
          if ((d[1] ?? 0) & 0x01) {
            m.setIndicatorLed('Lit');
            return { cc: CC.OK };
          }
          const secs = d.length ? d[0] : 15;
          m.setIndicatorLed(secs === 0 ? 'Off' : 'Blinking');
          if (secs > 0) {
            const ac = new AbortController();
            bmc.identifyTimer = ac;
            m.clock.sleep(secs * 1000, ac.signal).then(
              () => m.setIndicatorLed('Off'),
              () => {},
            );
          }
          return { cc: CC.OK };
        }
        case 0x08: {
          // Set System Boot Options
          if (d.length < 1) return { cc: CC.RequestDataLength };
          const param = d[0] & 0x7f;
          const data = d.subarray(1);
          switch (param) {
            case 0:
              if (data.length < 1) return { cc: CC.RequestDataLength };
              bmc.setInProgress = data[0] & 0x03;
              return { cc: CC.OK };
            case 3:
              if (data.length < 1) return { cc: CC.RequestDataLength };
              bmc.validBitClearing = data[0] & 0x1f;
              return { cc: CC.OK };
            case 4:
              if (data.length < 2) return { cc: CC.RequestDataLength };
              bmc.bootInfoAck = [data[0], data[1]];
              return { cc: CC.OK };
            case 5:
              return setBootFlags(m, bmc, data);
            default:
              return { cc: CC.ParamNotSupported };
          }
        }
        case 0x09: {
          // Get System Boot Options: [param], [set selector], [block selector]
          if (d.length < 3) return { cc: CC.RequestDataLength };
          const param = d[0] & 0x7f;
          const head = [0x01, param];
          switch (param) {
            case 0:
              return { cc: CC.OK, data: [...head, bmc.setInProgress] };
            case 3:
              return { cc: CC.OK, data: [...head, bmc.validBitClearing] };
            case 4:
              return { cc: CC.OK, data: [...head, ...bmc.bootInfoAck] };
            case 5:
              return { cc: CC.OK, data: [...head, ...bootFlags(m, bmc)] };
            default:
              return { cc: CC.ParamNotSupported };
          }
        }
        case 0x0f: // Get POH Counter: minutes per count, counter
          return { cc: CC.OK, data: [60, ...uint32le(Math.floor(m.state.bootCount))] };
        default:
          return { cc: CC.InvalidCommand };
      }
    }
    return { cc: CC.InvalidCommand };
  } catch (e) {
    if (e instanceof MachineError)
      return {
        cc:
          e.reason === 'PoweredOff' || e.reason === 'Conflict'
            ? CC.NotInPresentState
            : e.reason === 'Busy' || e.reason === 'Unavailable'
              ? CC.NodeBusy
              : CC.InvalidDataField,
      };
    return { cc: CC.Unspecified };
  }
}

function uint32le(n: number): number[] {
  return [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
}

/** SMBIOS byte order: the first three fields little-endian. */
export function guidBytes(uuid: string): Buffer {
  const h = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  const out = Buffer.from(h);
  out.writeUInt32LE(h.readUInt32BE(0), 0);
  out.writeUInt16LE(h.readUInt16BE(4), 4);
  out.writeUInt16LE(h.readUInt16BE(6), 6);
  return out;
}
