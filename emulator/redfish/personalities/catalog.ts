// Named personalities: the quirks real BMC families show on the wire (bmc.md §3), as data over the
// one correct core. A fleet file picks one per machine (`personality: idrac`) or defines its own.
import type { FirmwareQuirks } from '../../machine/machine.js';
import type { Quirks } from './quirks.js';

export interface Personality {
  name: string;
  description: string;
  quirks: Quirks;
}

export const PERSONALITIES: Record<string, Personality> = {
  generic: {
    name: 'generic',
    description: 'the correct core: DMTF Redfish as Ironic expects it, no vendor quirks',
    quirks: {},
  },
  idrac: {
    name: 'idrac',
    description: 'Dell iDRAC 9: stale Inserted after eject, 5xx on InsertMedia right after an eject',
    quirks: {
      vendor: 'Dell',
      manufacturer: 'Dell Inc.',
      managerModel: '16G Monolithic',
      managerFirmware: '7.10.30.00',
      staleInsertedMs: 4000,
      insertAfterEject5xxMs: 3000,
    },
  },
  idrac10: {
    name: 'idrac10',
    description: 'Dell iDRAC 10: Reset On answers 409 a few times, no ForceOn',
    quirks: {
      vendor: 'Dell',
      manufacturer: 'Dell Inc.',
      managerModel: '17G Monolithic',
      managerFirmware: '1.20.10.00',
      onConflicts: 2,
      resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'Nmi', 'PushPowerButton'],
    },
  },
  ilo: {
    name: 'ilo',
    description: 'HPE iLO 5: no Boot PATCH during POST, EjectMedia needs a {} body',
    quirks: {
      vendor: 'HPE',
      manufacturer: 'HPE',
      managerModel: 'iLO 5',
      managerFirmware: '3.10',
      duringPostBusy: true,
      ejectNeedsBody: true,
    },
  },
  'ilo-gen9': {
    name: 'ilo-gen9',
    description: 'HPE Gen9 (iLO 4): no BootSourceOverrideMode',
    quirks: { vendor: 'HPE', manufacturer: 'HP', managerModel: 'iLO 4', managerFirmware: '2.82', noBootMode: true },
  },
  supermicro: {
    name: 'supermicro',
    description: 'Supermicro X12: UsbCd instead of Cd, Boot PATCH honoured only with Enabled, InsertMedia refuses Inserted/WriteProtected',
    quirks: {
      vendor: 'Supermicro',
      manufacturer: 'Supermicro',
      managerModel: 'X12DPi-NT6',
      managerFirmware: '01.04.08',
      bootTargets: ['None', 'Pxe', 'Hdd', 'UsbCd', 'BiosSetup', 'UefiHttp'],
      fullBootRequest: 'ignore',
      bootDeviceResetsMode: true,
      insertRejectsOptional: true,
    },
  },
  lenovo: {
    name: 'lenovo',
    description: 'Lenovo XCC: PATCH needs If-Match (428 without), weak ETags refused',
    quirks: {
      vendor: 'Lenovo',
      manufacturer: 'Lenovo',
      managerModel: 'XCC',
      managerFirmware: 'TEI3A2A',
      ifMatchRequired: true,
      weakEtagRejected: true,
    },
  },
  ami: {
    name: 'ami',
    description: 'AMI MegaRAC / ASRockRack: every Boot PATCH must carry target, enabled and mode',
    quirks: { vendor: 'AMI', manufacturer: 'ASRockRack', managerModel: 'MegaRAC SP-X', fullBootRequest: 'reject' },
  },
  cisco: {
    name: 'cisco',
    description: 'Cisco UCS: the CD slot offers only DVD, the USB slot is internal and refuses media',
    quirks: { vendor: 'Cisco', manufacturer: 'Cisco Systems Inc', cdMediaTypes: ['DVD'], usbSlotRefuses: true },
  },
  openbmc: {
    name: 'openbmc',
    description: 'OpenBMC: IPMI cipher suite 17 only',
    quirks: { vendor: 'OpenBMC', manufacturer: 'OpenBMC', ipmiCipherSuites: [17] },
  },
  'sushy-tools': {
    name: 'sushy-tools',
    description: "sushy-tools' deviations: no sessions, Once stored as Continuous, SimpleUpdate without a task",
    quirks: { noSessionService: true, onceCoercedToContinuous: true, simpleUpdateNoTask: true },
  },
  virtualbmc: {
    name: 'virtualbmc',
    description: "virtualbmc's IPMI: no power cycle, boot flags always persistent",
    quirks: { ipmiNoCycle: true, ipmiBootAlwaysPersistent: true },
  },
};

/** The firmware part of a personality, which lives with the machine rather than its BMC front. */
export function firmwareQuirks(q: Quirks): FirmwareQuirks {
  return {
    ignoreOverride: q.overrideNotHonoured,
    keepOnceOverride: q.onceNotCleared,
    virtualCdNotBootable: q.mediaNotBootable,
    ignoreBiosPending: q.biosNeverApplied,
    ignoreSecureBoot: q.secureBootNeverApplied,
  };
}

/** Whether two quirk sets are the same personality (machines sharing one share a Redfish listener). */
export function quirksKey(q: Quirks): string {
  return JSON.stringify(Object.entries(q).sort(([a], [b]) => a.localeCompare(b)));
}
