// Profiles: which checks a kind of BMC is held to, and — for the vendor hardware types — which
// failures Ironic already works around for that vendor (reported as warn, with the workaround).
import { bootChecks } from './checks/boot.js';
import { ipmiChecks } from './checks/ipmi.js';
import { mediaChecks } from './checks/media.js';
import { powerChecks } from './checks/power.js';
import { serviceChecks } from './checks/service.js';
import { settingsChecks } from './checks/settings.js';
import { validatorChecks } from './checks/validators.js';
import type { Check } from './types.js';

/** Every check, in ID order. */
export const ALL_CHECKS: Check[] = [
  ...serviceChecks,
  ...powerChecks,
  ...bootChecks,
  ...mediaChecks,
  ...settingsChecks,
  ...ipmiChecks,
  ...validatorChecks,
].sort((a, b) => a.id.localeCompare(b.id));

export interface Profile {
  name: string;
  description: string;
  checks: string[];
  /** check id → why a failure is tolerated for this hardware type (Ironic handles it) */
  tolerated?: Record<string, string>;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `C${String(from + i).padStart(2, '0')}`);
const REDFISH = [...range(1, 19), ...range(26, 35), 'C39'];
const VMEDIA = [...REDFISH, ...range(20, 25)].sort();
const IPMI = ['C36', 'C37', 'C38', 'C40'];

export const PROFILES: Record<string, Profile> = {
  'ironic-redfish': {
    name: 'ironic-redfish',
    description: "Ironic's redfish hardware type with network (iPXE) boot — BMO redfish:// and redfish+http(s)://",
    checks: REDFISH,
  },
  'ironic-redfish-virtualmedia': {
    name: 'ironic-redfish-virtualmedia',
    description: 'Ironic redfish with the redfish-virtual-media boot interface — BMO redfish-virtualmedia://',
    checks: VMEDIA,
  },
  'ironic-ipmi': {
    name: 'ironic-ipmi',
    description: "Ironic's ipmi hardware type through ipmitool lanplus — BMO ipmi://",
    checks: IPMI,
  },
  idrac: {
    name: 'idrac',
    description: 'Dell iDRAC — BMO idrac-virtualmedia:// (Ironic idrac hardware type, redfish interfaces)',
    checks: VMEDIA,
    tolerated: {
      C10: 'Ironic retries a 409 on power on six times, 10 s apart (iDRAC10)',
      C24: 'Ironic always ejects before inserting and retries a 5xx InsertMedia every 3 s',
    },
  },
  ilo: {
    name: 'ilo',
    description: 'HPE iLO 5 — BMO ilo5-virtualmedia:// (redfish interfaces)',
    checks: VMEDIA,
    tolerated: {
      C17: 'Gen9 has no BootSourceOverrideMode; Ironic reports UnsupportedDriverExtension and deploys on',
      C02: 'sushy retries without Accept-Encoding: identity (Gen10 Plus)',
    },
  },
  supermicro: {
    name: 'supermicro',
    description: 'Supermicro X11/X12 — redfish-virtualmedia:// with Ironic’s vendor handling',
    checks: VMEDIA,
    tolerated: {
      C15: 'Ironic sends the full boot request (target, enabled, mode) to Supermicro',
      C13: 'sushy maps the virtual CD to UsbCd where only that is offered',
    },
  },
  lenovo: {
    name: 'lenovo',
    description: 'Lenovo XCC — redfish-virtualmedia://',
    checks: VMEDIA,
  },
  ami: {
    name: 'ami',
    description: 'AMI MegaRAC / ASRockRack — redfish-virtualmedia:// (redfish_compatible)',
    checks: VMEDIA,
    tolerated: { C15: 'Ironic sends the full boot request to AMI/ASRockRack BMCs' },
  },
  openbmc: {
    name: 'openbmc',
    description: 'OpenBMC — redfish-virtualmedia:// and ipmi:// (cipher suite 17)',
    checks: [...VMEDIA, ...IPMI].sort(),
  },
};

/** The profile a BMC address implies, as BMO maps schemes to Ironic drivers. */
export function profileForScheme(scheme: string): string {
  if (scheme === 'ipmi') return 'ironic-ipmi';
  if (scheme.startsWith('idrac')) return 'idrac';
  if (scheme.startsWith('ilo')) return 'ilo';
  if (scheme.startsWith('redfish-virtualmedia')) return 'ironic-redfish-virtualmedia';
  return 'ironic-redfish';
}
