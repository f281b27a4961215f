// ComputerSystem and everything under it: power (Reset), boot override and order, inventory
// (processors, memory, NICs, storage), BIOS with settings applied at the next reset, secure boot
// and the system's logs.
import type { Machine } from '../machine/machine.js';
import { ResetTypes } from '../machine/machine.js';
import { BootEnabledValues, BootModes, type BootTarget, BootTargets, IndicatorLeds } from '../machine/model.js';
import { collection, ok, type RedfishContext, type RfRequest, type Route, ref, status, V1, visibleMachines } from './context.js';
import { RedfishError } from './errors.js';
import { arrayOf, bool, checkPatch, enumOf, nullableUri, object } from './patch.js';
import { virtualMediaRoutes } from './virtual-media.js';

// BootOptionReference names (UEFI Boot####) for each bootable device class
const BOOT_REFS: Partial<Record<BootTarget, string>> = {
  Pxe: 'Boot0001',
  Hdd: 'Boot0002',
  Cd: 'Boot0003',
  Usb: 'Boot0004',
  UefiHttp: 'Boot0005',
  Floppy: 'Boot0006',
};
const REF_TO_TARGET = new Map(Object.entries(BOOT_REFS).map(([t, r]) => [r as string, t as BootTarget]));
const BOOT_OPTION_NAMES: Record<string, string> = {
  Pxe: 'UEFI PXEv4 (NIC.1)',
  Hdd: 'UEFI Hard Drive',
  Cd: 'UEFI Virtual CD/DVD',
  Usb: 'UEFI Virtual USB',
  UefiHttp: 'UEFI HTTPv4 (NIC.1)',
  Floppy: 'Virtual Floppy',
};
// what an override may target here (UefiTarget needs a device path this model does not have)
const OVERRIDE_TARGETS = BootTargets.filter((t) => t !== 'Floppy');

export const sysPath = (m: Machine) => `${V1}/Systems/${m.uuid}`;

export function systemBody(m: Machine): Record<string, unknown> {
  const s = m.state;
  const spec = m.spec;
  const base = sysPath(m);
  const totalGiB = spec.memory.dimms * spec.memory.dimmGiB;
  return {
    '@odata.id': base,
    '@odata.type': '#ComputerSystem.v1_20_0.ComputerSystem',
    Id: m.uuid,
    Name: m.name,
    SystemType: 'Physical',
    UUID: m.uuid,
    Manufacturer: spec.manufacturer,
    Model: spec.model,
    SerialNumber: spec.serial,
    HostName: m.name,
    PowerState: s.power,
    ...(s.lastResetAt ? { LastResetTime: s.lastResetAt } : {}),
    IndicatorLED: s.indicatorLed,
    LocationIndicatorActive: s.indicatorLed !== 'Off',
    Status: status(s.power === 'On' ? 'Enabled' : 'StandbyOffline'),
    Boot: {
      BootSourceOverrideTarget: s.boot.overrideTarget,
      'BootSourceOverrideTarget@Redfish.AllowableValues': OVERRIDE_TARGETS,
      BootSourceOverrideEnabled: s.boot.overrideEnabled,
      'BootSourceOverrideEnabled@Redfish.AllowableValues': BootEnabledValues,
      BootSourceOverrideMode: s.boot.overrideMode,
      'BootSourceOverrideMode@Redfish.AllowableValues': BootModes,
      HttpBootUri: s.boot.httpBootUri,
      BootOrder: s.boot.bootOrder.map((t) => BOOT_REFS[t]).filter(Boolean),
      BootOptions: ref(`${base}/BootOptions`),
    },
    ProcessorSummary: {
      Count: spec.cpu.sockets,
      CoreCount: spec.cpu.sockets * spec.cpu.coresPerSocket,
      LogicalProcessorCount: spec.cpu.sockets * spec.cpu.coresPerSocket * spec.cpu.threadsPerCore,
      Model: spec.cpu.model,
      Status: status(),
    },
    MemorySummary: { TotalSystemMemoryGiB: totalGiB, Status: status() },
    BiosVersion: s.firmware.find((f) => f.id === 'BIOS')?.version ?? null,
    Bios: ref(`${base}/Bios`),
    SecureBoot: ref(`${base}/SecureBoot`),
    Processors: ref(`${base}/Processors`),
    Memory: ref(`${base}/Memory`),
    EthernetInterfaces: ref(`${base}/EthernetInterfaces`),
    SimpleStorage: ref(`${base}/SimpleStorage`),
    Storage: ref(`${base}/Storage`),
    VirtualMedia: ref(`${base}/VirtualMedia`),
    LogServices: ref(`${base}/LogServices`),
    Links: { Chassis: [ref(`${V1}/Chassis/${m.uuid}`)], ManagedBy: [ref(`${V1}/Managers/${m.uuid}`)] },
    Actions: {
      '#ComputerSystem.Reset': { target: `${base}/Actions/ComputerSystem.Reset`, 'ResetType@Redfish.AllowableValues': ResetTypes },
    },
  };
}

const systemWrites = {
  Boot: {
    BootSourceOverrideTarget: enumOf(OVERRIDE_TARGETS),
    BootSourceOverrideEnabled: enumOf(BootEnabledValues),
    BootSourceOverrideMode: enumOf(BootModes),
    HttpBootUri: nullableUri,
    BootOrder: arrayOf(enumOf([...REF_TO_TARGET.keys()])),
  },
  IndicatorLED: enumOf(IndicatorLeds),
  LocationIndicatorActive: bool,
};

function patchSystem(r: RfRequest): ReturnType<typeof ok> {
  const m = r.machine;
  const c = checkPatch(r.body, systemWrites, systemBody(m)) as {
    Boot?: {
      BootSourceOverrideTarget?: BootTarget;
      BootSourceOverrideEnabled?: 'Disabled' | 'Once' | 'Continuous';
      BootSourceOverrideMode?: 'UEFI' | 'Legacy';
      HttpBootUri?: string | null;
      BootOrder?: string[];
    };
    IndicatorLED?: 'Lit' | 'Off' | 'Blinking';
    LocationIndicatorActive?: boolean;
  };
  if (c.Boot) {
    const b = c.Boot;
    if (b.BootSourceOverrideTarget || b.BootSourceOverrideEnabled || b.BootSourceOverrideMode || b.HttpBootUri !== undefined) {
      m.setBootOverride({
        target: b.BootSourceOverrideTarget,
        enabled: b.BootSourceOverrideEnabled,
        mode: b.BootSourceOverrideMode,
        httpBootUri: b.HttpBootUri,
      });
    }
    if (b.BootOrder) m.setBootOrder(b.BootOrder.map((x) => REF_TO_TARGET.get(x) as BootTarget));
  }
  if (c.IndicatorLED) m.setIndicatorLed(c.IndicatorLED);
  if (c.LocationIndicatorActive !== undefined) m.setIndicatorLed(c.LocationIndicatorActive ? 'Lit' : 'Off');
  return ok(systemBody(m));
}

function reset(r: RfRequest) {
  const b = (r.body ?? {}) as Record<string, unknown>;
  const action = 'ComputerSystem.Reset';
  for (const k of Object.keys(b))
    if (k !== 'ResetType') throw new RedfishError(400, { messageId: 'ActionParameterUnknown', args: [action, k], property: k });
  if (b.ResetType === undefined)
    throw new RedfishError(400, { messageId: 'ActionParameterMissing', args: [action, 'ResetType'], property: 'ResetType' });
  if (typeof b.ResetType !== 'string' || !(ResetTypes as readonly string[]).includes(b.ResetType)) {
    throw new RedfishError(400, {
      messageId: 'ActionParameterValueNotInList',
      args: [String(b.ResetType), 'ResetType', action],
      property: 'ResetType',
    });
  }
  r.machine.reset(b.ResetType as (typeof ResetTypes)[number]);
  return { status: 204 };
}

function biosBody(m: Machine): Record<string, unknown> {
  const base = `${sysPath(m)}/Bios`;
  return {
    '@odata.id': base,
    '@odata.type': '#Bios.v1_2_0.Bios',
    Id: 'Bios',
    Name: 'BIOS Configuration Current Settings',
    AttributeRegistry: 'BiosAttributeRegistry.v1_0_0',
    Attributes: { ...m.state.bios.attributes },
    '@Redfish.Settings': {
      '@odata.type': '#Settings.v1_3_5.Settings',
      SettingsObject: ref(`${base}/Settings`),
      SupportedApplyTimes: ['OnReset'],
    },
    Actions: { '#Bios.ResetBios': { target: `${base}/Actions/Bios.ResetBios` } },
  };
}

function biosSettingsBody(m: Machine): Record<string, unknown> {
  return {
    '@odata.id': `${sysPath(m)}/Bios/Settings`,
    '@odata.type': '#Bios.v1_2_0.Bios',
    Id: 'Settings',
    Name: 'BIOS Configuration Pending Settings',
    AttributeRegistry: 'BiosAttributeRegistry.v1_0_0',
    Attributes: { ...m.state.bios.attributes, ...(m.state.bios.pending ?? {}) },
    '@Redfish.SettingsApplyTime': { '@odata.type': '#Settings.v1_3_5.PreferredApplyTime', ApplyTime: 'OnReset' },
  };
}

function patchBiosSettings(ctx: RedfishContext, r: RfRequest) {
  const m = r.machine;
  const c = checkPatch(r.body, { Attributes: object }, biosSettingsBody(m)) as { Attributes?: Record<string, unknown> };
  if (!c.Attributes || Object.keys(c.Attributes).length === 0) throw new RedfishError(400, { messageId: 'NoOperation' });
  const keys = m.setBiosPending(c.Attributes);
  return ctx.tasks.start(`Apply BIOS settings ${keys.join(', ')}`, { uri: r.path, method: 'PATCH', body: r.body }, m.uuid, async (h) => {
    h.setState('Pending');
    h.message({ messageId: 'ResetRequired', args: [sysPath(m)] });
    // pending settings are applied as firmware starts
    await m.nextReset(h.signal);
    return ok(biosBody(m));
  });
}

function secureBootBody(m: Machine): Record<string, unknown> {
  const sb = m.state.secureBoot;
  return {
    '@odata.id': `${sysPath(m)}/SecureBoot`,
    '@odata.type': '#SecureBoot.v1_1_0.SecureBoot',
    Id: 'SecureBoot',
    Name: 'UEFI Secure Boot',
    SecureBootEnable: sb.enabled,
    SecureBootCurrentBoot: sb.currentBoot ? 'Enabled' : 'Disabled',
    SecureBootMode: 'DeployedMode',
  };
}

function storageRoutes(ctx: RedfishContext): Route[] {
  const S = `${V1}/Systems/{sys}`;
  const volBody = (m: Machine, v: Machine['state']['volumes'][number]) => ({
    '@odata.id': `${sysPath(m)}/Storage/1/Volumes/${v.id}`,
    '@odata.type': '#Volume.v1_9_0.Volume',
    Id: v.id,
    Name: v.name,
    CapacityBytes: v.capacityBytes,
    RAIDType: v.raidType,
    Status: status(),
    Links: { Drives: v.drives.map((d) => ref(`${sysPath(m)}/Storage/1/Drives/${d}`)) },
  });
  const drive = (m: Machine, id: string) => {
    const d = m.spec.disks.find((x) => x.id === id);
    if (!d) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Drive', id] });
    return d;
  };
  return [
    {
      pattern: `${S}/SimpleStorage`,
      handlers: {
        GET: (r) =>
          ok(
            collection(`${sysPath(r.machine)}/SimpleStorage`, 'SimpleStorageCollection', 'Simple Storage Collection', [
              `${sysPath(r.machine)}/SimpleStorage/1`,
            ]),
          ),
      },
    },
    {
      pattern: `${S}/SimpleStorage/{ss}`,
      handlers: {
        GET: (r) => {
          if (r.params.ss !== '1') throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['SimpleStorage', r.params.ss] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/SimpleStorage/1`,
            '@odata.type': '#SimpleStorage.v1_3_1.SimpleStorage',
            Id: '1',
            Name: 'Simple Storage Controller',
            UefiDevicePath: 'PciRoot(0x0)/Pci(0x1F,0x2)',
            Status: status(),
            Devices: r.machine.spec.disks.map((d) => ({
              Name: d.name,
              Manufacturer: 'Ferrite',
              Model: d.model,
              CapacityBytes: d.sizeBytes,
              Status: status(),
            })),
          });
        },
      },
    },
    {
      pattern: `${S}/Storage`,
      handlers: {
        GET: (r) =>
          ok(collection(`${sysPath(r.machine)}/Storage`, 'StorageCollection', 'Storage Collection', [`${sysPath(r.machine)}/Storage/1`])),
      },
    },
    {
      pattern: `${S}/Storage/{st}`,
      handlers: {
        GET: (r) => {
          if (r.params.st !== '1') throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Storage', r.params.st] });
          const b = `${sysPath(r.machine)}/Storage/1`;
          return ok({
            '@odata.id': b,
            '@odata.type': '#Storage.v1_15_0.Storage',
            Id: '1',
            Name: 'Storage Controller',
            Status: status(),
            Drives: r.machine.spec.disks.map((d) => ref(`${b}/Drives/${d.id}`)),
            'Drives@odata.count': r.machine.spec.disks.length,
            Volumes: ref(`${b}/Volumes`),
            Controllers: ref(`${b}/Controllers`),
          });
        },
      },
    },
    {
      pattern: `${S}/Storage/{st}/Controllers`,
      handlers: {
        GET: (r) =>
          ok(
            collection(`${sysPath(r.machine)}/Storage/1/Controllers`, 'StorageControllerCollection', 'Storage Controllers', [
              `${sysPath(r.machine)}/Storage/1/Controllers/0`,
            ]),
          ),
      },
    },
    {
      pattern: `${S}/Storage/{st}/Controllers/{c}`,
      handlers: {
        GET: (r) => {
          if (r.params.c !== '0') throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['StorageController', r.params.c] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/Storage/1/Controllers/0`,
            '@odata.type': '#StorageController.v1_7_0.StorageController',
            Id: '0',
            Name: 'RAID Controller',
            Manufacturer: 'Ferrite',
            Model: 'Simulated RAID',
            SupportedControllerProtocols: ['PCIe'],
            SupportedDeviceProtocols: ['SATA', 'NVMe'],
            SupportedRAIDTypes: ['RAID0', 'RAID1', 'RAID10', 'RAID5'],
            Status: status(),
          });
        },
      },
    },
    {
      pattern: `${S}/Storage/{st}/Drives/{drive}`,
      handlers: {
        GET: (r) => {
          const d = drive(r.machine, r.params.drive);
          return ok({
            '@odata.id': `${sysPath(r.machine)}/Storage/1/Drives/${d.id}`,
            '@odata.type': '#Drive.v1_17_0.Drive',
            Id: d.id,
            Name: d.name,
            Model: d.model,
            Manufacturer: 'Ferrite',
            SerialNumber: d.serial,
            CapacityBytes: d.sizeBytes,
            MediaType: d.mediaType,
            Protocol: d.protocol,
            RotationSpeedRPM: d.rotational ? 7200 : 0,
            Identifiers: [{ DurableNameFormat: 'NAA', DurableName: d.wwn.replace(/^0x/, '') }],
            Status: status(),
          });
        },
      },
    },
    {
      pattern: `${S}/Storage/{st}/Volumes`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/Storage/1/Volumes`,
              'VolumeCollection',
              'Volume Collection',
              r.machine.state.volumes.map((v) => `${sysPath(r.machine)}/Storage/1/Volumes/${v.id}`),
              {
                '@Redfish.OperationApplyTimeSupport': {
                  '@odata.type': '#Settings.v1_3_5.OperationApplyTimeSupport',
                  SupportedValues: ['Immediate', 'OnReset'],
                },
              },
            ),
          ),
        POST: (r) => {
          const m = r.machine;
          const b = (r.body ?? {}) as Record<string, unknown>;
          const allowed = ['Name', 'CapacityBytes', 'RAIDType', 'VolumeType', 'Links', '@Redfish.OperationApplyTime'];
          for (const k of Object.keys(b))
            if (!allowed.includes(k)) throw new RedfishError(400, { messageId: 'PropertyUnknown', args: [k], property: k });
          if (typeof b.CapacityBytes !== 'number')
            throw new RedfishError(400, {
              messageId: 'CreateFailedMissingReqProperties',
              args: ['CapacityBytes'],
              property: 'CapacityBytes',
            });
          const raid = typeof b.RAIDType === 'string' ? b.RAIDType : b.VolumeType === 'Mirrored' ? 'RAID1' : 'RAID0';
          if (!['RAID0', 'RAID1', 'RAID10', 'RAID5'].includes(raid))
            throw new RedfishError(400, { messageId: 'PropertyValueNotInList', args: [raid, 'RAIDType'], property: 'RAIDType' });
          const links = (b.Links ?? {}) as { Drives?: { '@odata.id'?: string }[] };
          const drives = (links.Drives ?? []).map(
            (d) =>
              String(d?.['@odata.id'] ?? '')
                .split('/')
                .pop() ?? '',
          );
          const applyTime = b['@Redfish.OperationApplyTime'] ?? 'Immediate';
          if (applyTime !== 'Immediate' && applyTime !== 'OnReset')
            throw new RedfishError(400, { messageId: 'PropertyValueNotInList', args: [String(applyTime), '@Redfish.OperationApplyTime'] });
          const vol = {
            name: typeof b.Name === 'string' ? b.Name : `Volume ${m.state.volumes.length + 1}`,
            capacityBytes: b.CapacityBytes,
            raidType: raid,
            drives,
          };
          try {
            m.validateVolume(vol);
          } catch (e) {
            throw new RedfishError(400, {
              messageId: 'PropertyValueFormatError',
              args: [(e as Error).message, 'CapacityBytes'],
              property: 'CapacityBytes',
            });
          }
          return ctx.tasks.start(`Create volume ${vol.name}`, { uri: r.path, method: 'POST', body: r.body }, m.uuid, async (h) => {
            if (applyTime === 'OnReset') {
              h.setState('Pending');
              await m.nextReset(h.signal);
              h.setState('Running');
            }
            await ctx.clock.sleep(m.spec.timings.volumeCreate, h.signal);
            const v = m.addVolume(vol);
            return { status: 201, headers: { Location: `${sysPath(m)}/Storage/1/Volumes/${v.id}` }, body: volBody(m, v) };
          });
        },
      },
    },
    {
      pattern: `${S}/Storage/{st}/Volumes/{vol}`,
      handlers: {
        GET: (r) => {
          const v = r.machine.state.volumes.find((x) => x.id === r.params.vol);
          if (!v) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Volume', r.params.vol] });
          return ok(volBody(r.machine, v));
        },
        DELETE: (r) => {
          r.machine.deleteVolume(r.params.vol);
          return { status: 204 };
        },
      },
    },
  ];
}

function inventoryRoutes(): Route[] {
  const S = `${V1}/Systems/{sys}`;
  return [
    {
      pattern: `${S}/Processors`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/Processors`,
              'ProcessorCollection',
              'Processors Collection',
              Array.from({ length: r.machine.spec.cpu.sockets }, (_, i) => `${sysPath(r.machine)}/Processors/CPU${i + 1}`),
            ),
          ),
      },
    },
    {
      pattern: `${S}/Processors/{cpu}`,
      handlers: {
        GET: (r) => {
          const c = r.machine.spec.cpu;
          const n = Number(/^CPU(\d+)$/.exec(r.params.cpu)?.[1]);
          if (!(n >= 1 && n <= c.sockets))
            throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Processor', r.params.cpu] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/Processors/CPU${n}`,
            '@odata.type': '#Processor.v1_18_0.Processor',
            Id: `CPU${n}`,
            Name: `Processor ${n}`,
            Socket: `CPU ${n}`,
            ProcessorType: 'CPU',
            ProcessorArchitecture: c.arch,
            InstructionSet: c.arch === 'x86' ? 'x86-64' : 'ARM-A64',
            Manufacturer: 'Ferrite',
            Model: c.model,
            MaxSpeedMHz: c.speedMHz,
            TotalCores: c.coresPerSocket,
            TotalThreads: c.coresPerSocket * c.threadsPerCore,
            Status: status(),
          });
        },
      },
    },
    {
      pattern: `${S}/Memory`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/Memory`,
              'MemoryCollection',
              'Memory Collection',
              Array.from({ length: r.machine.spec.memory.dimms }, (_, i) => `${sysPath(r.machine)}/Memory/DIMM${i}`),
            ),
          ),
      },
    },
    {
      pattern: `${S}/Memory/{dimm}`,
      handlers: {
        GET: (r) => {
          const mem = r.machine.spec.memory;
          const n = Number(/^DIMM(\d+)$/.exec(r.params.dimm)?.[1]);
          if (!(n >= 0 && n < mem.dimms)) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Memory', r.params.dimm] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/Memory/DIMM${n}`,
            '@odata.type': '#Memory.v1_17_0.Memory',
            Id: `DIMM${n}`,
            Name: `DIMM ${n}`,
            MemoryType: 'DRAM',
            MemoryDeviceType: 'DDR4',
            CapacityMiB: mem.dimmGiB * 1024,
            OperatingSpeedMhz: 3200,
            DeviceLocator: `DIMM_${String.fromCharCode(65 + (n % 8))}${Math.floor(n / 8) + 1}`,
            Status: status(),
          });
        },
      },
    },
    {
      pattern: `${S}/EthernetInterfaces`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/EthernetInterfaces`,
              'EthernetInterfaceCollection',
              'Ethernet Interface Collection',
              r.machine.spec.nics.map((n) => `${sysPath(r.machine)}/EthernetInterfaces/${n.id}`),
            ),
          ),
      },
    },
    {
      pattern: `${S}/EthernetInterfaces/{nic}`,
      handlers: {
        GET: (r) => {
          const n = r.machine.spec.nics.find((x) => x.id === r.params.nic);
          if (!n) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['EthernetInterface', r.params.nic] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/EthernetInterfaces/${n.id}`,
            '@odata.type': '#EthernetInterface.v1_12_0.EthernetInterface',
            Id: n.id,
            Name: `Ethernet Interface ${n.id}`,
            MACAddress: n.mac,
            PermanentMACAddress: n.mac,
            SpeedMbps: n.speedMbps,
            FullDuplex: true,
            InterfaceEnabled: true,
            LinkStatus: n.linkUp ? 'LinkUp' : 'LinkDown',
            Status: status(n.linkUp ? 'Enabled' : 'Disabled'),
          });
        },
      },
    },
    {
      pattern: `${S}/BootOptions`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/BootOptions`,
              'BootOptionCollection',
              'Boot Options',
              [...REF_TO_TARGET.keys()].map((k) => `${sysPath(r.machine)}/BootOptions/${k}`),
            ),
          ),
      },
    },
    {
      pattern: `${S}/BootOptions/{opt}`,
      handlers: {
        GET: (r) => {
          const t = REF_TO_TARGET.get(r.params.opt);
          if (!t) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['BootOption', r.params.opt] });
          return ok({
            '@odata.id': `${sysPath(r.machine)}/BootOptions/${r.params.opt}`,
            '@odata.type': '#BootOption.v1_0_4.BootOption',
            Id: r.params.opt,
            Name: BOOT_OPTION_NAMES[t],
            BootOptionReference: r.params.opt,
            DisplayName: BOOT_OPTION_NAMES[t],
            BootOptionEnabled: r.machine.state.boot.bootOrder.includes(t),
          });
        },
      },
    },
  ];
}

function logRoutes(): Route[] {
  const S = `${V1}/Systems/{sys}/LogServices`;
  const kinds = { EventLog: 'System Event Log', Console: 'Serial Console Log' } as const;
  const kind = (k: string) => {
    if (!(k in kinds)) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['LogService', k] });
    return k as keyof typeof kinds;
  };
  const entries = (m: Machine, k: keyof typeof kinds) =>
    k === 'EventLog'
      ? m.state.events.map((e) => ({
          '@odata.id': `${sysPath(m)}/LogServices/EventLog/Entries/${e.id}`,
          '@odata.type': '#LogEntry.v1_15_0.LogEntry',
          Id: String(e.id),
          Name: 'Log Entry',
          EntryType: 'Event',
          Severity: e.severity,
          Created: e.created,
          Message: e.message,
          MessageId: `Ferrite.1.0.${e.messageId}`,
          MessageArgs: e.args,
        }))
      : m.state.console.map((line, i) => ({
          '@odata.id': `${sysPath(m)}/LogServices/Console/Entries/${i + 1}`,
          '@odata.type': '#LogEntry.v1_15_0.LogEntry',
          Id: String(i + 1),
          Name: 'Console Line',
          EntryType: 'Oem',
          OemRecordFormat: 'Ferrite Console',
          Severity: 'OK',
          Created: line.slice(0, 24),
          Message: line.slice(25),
        }));
  return [
    {
      pattern: S,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${sysPath(r.machine)}/LogServices`,
              'LogServiceCollection',
              'Log Services',
              Object.keys(kinds).map((k) => `${sysPath(r.machine)}/LogServices/${k}`),
            ),
          ),
      },
    },
    {
      pattern: `${S}/{log}`,
      handlers: {
        GET: (r) => {
          const k = kind(r.params.log);
          const b = `${sysPath(r.machine)}/LogServices/${k}`;
          return ok({
            '@odata.id': b,
            '@odata.type': '#LogService.v1_5_0.LogService',
            Id: k,
            Name: kinds[k],
            ServiceEnabled: true,
            OverWritePolicy: 'WrapsWhenFull',
            MaxNumberOfRecords: k === 'EventLog' ? 500 : 2000,
            LogEntryType: k === 'EventLog' ? 'Event' : 'OEM',
            DateTime: new Date(r.machine.clock.now()).toISOString(),
            Entries: ref(`${b}/Entries`),
            Status: status(),
            Actions: { '#LogService.ClearLog': { target: `${b}/Actions/LogService.ClearLog` } },
          });
        },
      },
    },
    {
      pattern: `${S}/{log}/Entries`,
      handlers: {
        GET: (r) => {
          const k = kind(r.params.log);
          const list = entries(r.machine, k);
          return ok({
            '@odata.id': `${sysPath(r.machine)}/LogServices/${k}/Entries`,
            '@odata.type': '#LogEntryCollection.LogEntryCollection',
            Name: `${kinds[k]} Entries`,
            'Members@odata.count': list.length,
            // references only: a collection expands its members only on $expand, which is not offered
            Members: list.map((e) => ({ '@odata.id': e['@odata.id'] })),
          });
        },
      },
    },
    {
      pattern: `${S}/{log}/Entries/{entry}`,
      handlers: {
        GET: (r) => {
          const k = kind(r.params.log);
          const e = entries(r.machine, k).find((x) => x.Id === r.params.entry);
          if (!e) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['LogEntry', r.params.entry] });
          return ok(e);
        },
      },
    },
    {
      pattern: `${S}/{log}/Actions/LogService.ClearLog`,
      handlers: {
        POST: (r) => {
          const k = kind(r.params.log);
          if (k === 'EventLog') r.machine.state.events.splice(0);
          else r.machine.state.console.splice(0);
          return { status: 204 };
        },
      },
    },
  ];
}

export function systemRoutes(ctx: RedfishContext): Route[] {
  const S = `${V1}/Systems/{sys}`;
  return [
    {
      pattern: `${V1}/Systems`,
      handlers: {
        GET: (r) => {
          const visible = visibleMachines(ctx, r);
          return ok(collection(`${V1}/Systems`, 'ComputerSystemCollection', 'Computer System Collection', visible.map(sysPath)));
        },
      },
    },
    { pattern: S, handlers: { GET: (r) => ok(systemBody(r.machine)), PATCH: patchSystem } },
    { pattern: `${S}/Actions/ComputerSystem.Reset`, handlers: { POST: reset } },
    { pattern: `${S}/Bios`, handlers: { GET: (r) => ok(biosBody(r.machine)) } },
    { pattern: `${S}/Bios/Settings`, handlers: { GET: (r) => ok(biosSettingsBody(r.machine)), PATCH: (r) => patchBiosSettings(ctx, r) } },
    {
      pattern: `${S}/Bios/Actions/Bios.ResetBios`,
      handlers: {
        POST: (r) => {
          r.machine.resetBios();
          return { status: 204 };
        },
      },
    },
    {
      pattern: `${S}/SecureBoot`,
      handlers: {
        GET: (r) => ok(secureBootBody(r.machine)),
        PATCH: (r) => {
          const c = checkPatch(r.body, { SecureBootEnable: bool }, secureBootBody(r.machine)) as { SecureBootEnable?: boolean };
          if (c.SecureBootEnable !== undefined) r.machine.setSecureBoot(c.SecureBootEnable);
          return ok(secureBootBody(r.machine));
        },
      },
    },
    ...inventoryRoutes(),
    ...storageRoutes(ctx),
    ...logRoutes(),
    ...virtualMediaRoutes(S, (m) => `${sysPath(m)}/VirtualMedia`),
  ];
}
