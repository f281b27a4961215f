// Ferrite's restatement, as CSDL, of the part of DMTF's Redfish schema bundle (DSP8010) this
// service emits: type, property and enum member names and types as DMTF defines them, nothing
// more (no descriptions). It lets DMTF's Service-Validator check every payload where DSP8010
// itself cannot be downloaded. Served at /redfish/v1/Schemas/<Schema>_v1.xml.
//
// Property type shorthand: s string, i integer, n decimal, b boolean, d date-time, g GUID,
// p any primitive; [T] a collection of T; >T a navigation property to T; else a qualified type.
import { SCHEMA_VERSIONS } from './schema-versions.js';

interface ObjectDef {
  props?: Record<string, string>;
  base?: string;
  abstract?: boolean;
  /** [name pattern, type] of free-form properties (BIOS attributes, registry messages) */
  dynamic?: [string, string];
  uris?: string[];
  /** methods besides GET the resource supports: Capabilities annotations */
  methods?: ('POST' | 'PATCH' | 'DELETE')[];
}

interface Namespace {
  entities?: Record<string, ObjectDef>;
  complex?: Record<string, ObjectDef>;
  enums?: Record<string, string[]>;
  actions?: string[];
}

type SchemaFile = Record<string, Namespace>;

const ver = (name: string) => `${name}.${SCHEMA_VERSIONS[name]}`;

/** A resource schema: abstract entity in the unversioned namespace, properties in the versioned one. */
function resource(
  name: string,
  def: ObjectDef & { complex?: Record<string, ObjectDef>; enums?: Record<string, string[]>; actions?: string[]; extra?: SchemaFile },
): SchemaFile {
  return {
    [name]: {
      entities: { [name]: { abstract: true, base: 'Resource.v1_0_0.Resource', uris: def.uris, methods: def.methods ?? [] } },
      enums: def.enums,
      actions: def.actions,
    },
    [ver(name)]: {
      entities: { [name]: { base: `${name}.${name}`, props: def.props } },
      complex: { ...def.complex, ...(def.actions ? { Actions: { props: {} } } : {}) },
    },
    ...def.extra,
  };
}

function collectionOf(member: string, uris: string[], methods?: ObjectDef['methods']): SchemaFile {
  const name = `${member}Collection`;
  return {
    [name]: {
      entities: {
        [name]: { base: 'Resource.v1_0_0.ResourceCollection', props: { Members: `[>${member}.${member}]` }, uris, methods: methods ?? [] },
      },
    },
  };
}

const STATUS = 'Resource.Status';
const HEALTH = 'Resource.Health';
const S = '/redfish/v1/Systems/{ComputerSystemId}';
const M = '/redfish/v1/Managers/{ManagerId}';
const C = '/redfish/v1/Chassis/{ChassisId}';

export const SCHEMA_FILES: Record<string, SchemaFile> = {
  Resource: {
    Resource: {
      entities: {
        ItemOrCollection: { abstract: true },
        Item: { abstract: true, base: 'Resource.ItemOrCollection' },
        Resource: { abstract: true, base: 'Resource.Item' },
      },
      complex: { Status: { props: { State: 'Resource.State', Health: HEALTH, HealthRollup: HEALTH } }, Oem: { props: {} } },
      enums: {
        State: [
          'Enabled',
          'Disabled',
          'StandbyOffline',
          'StandbySpare',
          'InTest',
          'Starting',
          'Absent',
          'UnavailableOffline',
          'Deferring',
          'Quiesced',
          'Updating',
          'Qualified',
          'Degraded',
        ],
        Health: ['OK', 'Warning', 'Critical'],
        PowerState: ['On', 'Off', 'PoweringOn', 'PoweringOff', 'Paused'],
        ResetType: [
          'On',
          'ForceOff',
          'GracefulShutdown',
          'GracefulRestart',
          'ForceRestart',
          'Nmi',
          'ForceOn',
          'PushPowerButton',
          'PowerCycle',
          'Suspend',
          'Pause',
          'Resume',
          'FullPowerCycle',
        ],
        IndicatorLED: ['Lit', 'Blinking', 'Off'],
        DurableNameFormat: ['NAA', 'iQN', 'FC_WWN', 'UUID', 'EUI', 'NQN', 'NSID', 'NGUID', 'MACAddress', 'GCXLID'],
      },
    },
    'Resource.v1_0_0': {
      entities: {
        Resource: { abstract: true, base: 'Resource.Resource', props: { Id: 's', Name: 's', Description: 's', Oem: 'Resource.Oem' } },
        ResourceCollection: {
          abstract: true,
          base: 'Resource.ItemOrCollection',
          props: { Name: 's', Description: 's', Oem: 'Resource.Oem' },
        },
        ReferenceableMember: { abstract: true, base: 'Resource.Item', props: { MemberId: 's', Oem: 'Resource.Oem' } },
      },
    },
    'Resource.v1_1_0': { complex: { Identifier: { props: { DurableName: 's', DurableNameFormat: 'Resource.DurableNameFormat' } } } },
  },
  Message: {
    // the unversioned abstract type properties name (Task Messages: [Message.Message]); versions derive from it
    Message: { complex: { Message: { abstract: true } } },
    'Message.v1_1_1': {
      complex: {
        Message: {
          base: 'Message.Message',
          props: {
            MessageId: 's',
            Message: 's',
            MessageArgs: '[s]',
            Severity: HEALTH,
            MessageSeverity: HEALTH,
            Resolution: 's',
            RelatedProperties: '[s]',
          },
        },
      },
    },
  },
  ServiceRoot: resource('ServiceRoot', {
    uris: ['/redfish/v1'],
    props: {
      RedfishVersion: 's',
      UUID: 'g',
      Vendor: 's',
      Product: 's',
      ProtocolFeaturesSupported: `${ver('ServiceRoot')}.ProtocolFeaturesSupported`,
      Systems: '>ComputerSystemCollection.ComputerSystemCollection',
      Managers: '>ManagerCollection.ManagerCollection',
      Chassis: '>ChassisCollection.ChassisCollection',
      SessionService: '>SessionService.SessionService',
      AccountService: '>AccountService.AccountService',
      TaskService: '>TaskService.TaskService',
      EventService: '>EventService.EventService',
      UpdateService: '>UpdateService.UpdateService',
      Registries: '>MessageRegistryFileCollection.MessageRegistryFileCollection',
      Links: `${ver('ServiceRoot')}.Links`,
    },
    complex: {
      Links: { props: { Sessions: '>SessionCollection.SessionCollection' } },
      ProtocolFeaturesSupported: {
        props: { ExcerptQuery: 'b', ExpandQuery: `${ver('ServiceRoot')}.Expand`, FilterQuery: 'b', OnlyMemberQuery: 'b', SelectQuery: 'b' },
      },
      Expand: { props: { ExpandAll: 'b', Levels: 'b', Links: 'b', NoLinks: 'b', MaxLevels: 'i' } },
    },
  }),
  ComputerSystem: resource('ComputerSystem', {
    uris: [S],
    methods: ['PATCH'],
    props: {
      SystemType: 'ComputerSystem.SystemType',
      UUID: 'g',
      Manufacturer: 's',
      Model: 's',
      SerialNumber: 's',
      HostName: 's',
      PowerState: 'Resource.PowerState',
      LastResetTime: 'd',
      IndicatorLED: 'ComputerSystem.IndicatorLED',
      LocationIndicatorActive: 'b',
      Status: STATUS,
      Boot: `${ver('ComputerSystem')}.Boot`,
      ProcessorSummary: `${ver('ComputerSystem')}.ProcessorSummary`,
      MemorySummary: `${ver('ComputerSystem')}.MemorySummary`,
      BiosVersion: 's',
      Bios: '>Bios.Bios',
      SecureBoot: '>SecureBoot.SecureBoot',
      Processors: '>ProcessorCollection.ProcessorCollection',
      Memory: '>MemoryCollection.MemoryCollection',
      EthernetInterfaces: '>EthernetInterfaceCollection.EthernetInterfaceCollection',
      SimpleStorage: '>SimpleStorageCollection.SimpleStorageCollection',
      Storage: '>StorageCollection.StorageCollection',
      VirtualMedia: '>VirtualMediaCollection.VirtualMediaCollection',
      LogServices: '>LogServiceCollection.LogServiceCollection',
      Links: `${ver('ComputerSystem')}.Links`,
      Actions: `${ver('ComputerSystem')}.Actions`,
    },
    complex: {
      Boot: {
        props: {
          BootSourceOverrideTarget: 'ComputerSystem.BootSource',
          BootSourceOverrideEnabled: 'ComputerSystem.v1_0_0.BootSourceOverrideEnabled',
          BootSourceOverrideMode: 'ComputerSystem.v1_1_0.BootSourceOverrideMode',
          HttpBootUri: 's',
          BootOrder: '[s]',
          BootOptions: '>BootOptionCollection.BootOptionCollection',
        },
      },
      ProcessorSummary: { props: { Count: 'i', CoreCount: 'i', LogicalProcessorCount: 'i', Model: 's', Status: STATUS } },
      MemorySummary: { props: { TotalSystemMemoryGiB: 'n', Status: STATUS } },
      Links: { props: { Chassis: '[>Chassis.Chassis]', ManagedBy: '[>Manager.Manager]' } },
    },
    enums: {
      SystemType: ['Physical', 'Virtual', 'OS', 'PhysicallyPartitioned', 'VirtuallyPartitioned', 'Composed', 'DPU'],
      IndicatorLED: ['Unknown', 'Lit', 'Blinking', 'Off'],
      BootSource: [
        'None',
        'Pxe',
        'Floppy',
        'Cd',
        'Usb',
        'Hdd',
        'BiosSetup',
        'Utilities',
        'Diags',
        'UefiShell',
        'UefiTarget',
        'SDCard',
        'UefiHttp',
        'RemoteDrive',
        'UefiBootNext',
        'Recovery',
      ],
    },
    actions: ['Reset'],
    extra: {
      'ComputerSystem.v1_0_0': { enums: { BootSourceOverrideEnabled: ['Disabled', 'Once', 'Continuous'] } },
      'ComputerSystem.v1_1_0': { enums: { BootSourceOverrideMode: ['Legacy', 'UEFI'] } },
    },
  }),
  ComputerSystemCollection: collectionOf('ComputerSystem', ['/redfish/v1/Systems']),
  Bios: resource('Bios', {
    uris: [`${S}/Bios`, `${S}/Bios/Settings`],
    methods: ['PATCH'],
    props: { AttributeRegistry: 's', Attributes: `${ver('Bios')}.Attributes`, Actions: `${ver('Bios')}.Actions` },
    complex: { Attributes: { dynamic: ['^[A-Za-z][A-Za-z0-9_]+$', 'Edm.Primitive'] } },
    actions: ['ResetBios'],
  }),
  SecureBoot: resource('SecureBoot', {
    uris: [`${S}/SecureBoot`],
    methods: ['PATCH'],
    props: {
      SecureBootEnable: 'b',
      SecureBootCurrentBoot: 'SecureBoot.v1_0_0.SecureBootCurrentBootType',
      SecureBootMode: 'SecureBoot.v1_0_0.SecureBootModeType',
    },
    extra: {
      'SecureBoot.v1_0_0': {
        enums: {
          SecureBootCurrentBootType: ['Enabled', 'Disabled'],
          SecureBootModeType: ['SetupMode', 'UserMode', 'AuditMode', 'DeployedMode'],
        },
      },
    },
  }),
  Processor: resource('Processor', {
    uris: [`${S}/Processors/{ProcessorId}`],
    props: {
      Socket: 's',
      ProcessorType: 'Processor.ProcessorType',
      ProcessorArchitecture: 'Processor.ProcessorArchitecture',
      InstructionSet: 'Processor.InstructionSet',
      Manufacturer: 's',
      Model: 's',
      MaxSpeedMHz: 'i',
      TotalCores: 'i',
      TotalThreads: 'i',
      Status: STATUS,
    },
    enums: {
      ProcessorType: ['CPU', 'GPU', 'FPGA', 'DSP', 'Accelerator', 'Core', 'Thread', 'Partition', 'OEM'],
      ProcessorArchitecture: ['x86', 'IA-64', 'ARM', 'MIPS', 'Power', 'RISC-V', 'OEM'],
      InstructionSet: ['x86', 'x86-64', 'IA-64', 'ARM-A32', 'ARM-A64', 'MIPS32', 'MIPS64', 'PowerISA', 'RV32', 'RV64', 'OEM'],
    },
  }),
  ProcessorCollection: collectionOf('Processor', [`${S}/Processors`]),
  Memory: resource('Memory', {
    uris: [`${S}/Memory/{MemoryId}`],
    props: {
      MemoryType: `${'Memory.v1_0_0'}.MemoryType`,
      MemoryDeviceType: 'Memory.v1_0_0.MemoryDeviceType',
      CapacityMiB: 'i',
      OperatingSpeedMhz: 'i',
      DeviceLocator: 's',
      Status: STATUS,
    },
    extra: {
      'Memory.v1_0_0': {
        enums: {
          MemoryType: ['DRAM', 'NVDIMM_N', 'NVDIMM_F', 'NVDIMM_P', 'IntelOptane'],
          MemoryDeviceType: [
            'DDR',
            'DDR2',
            'DDR3',
            'DDR4',
            'DDR4_SDRAM',
            'DDR4E_SDRAM',
            'LPDDR4_SDRAM',
            'DDR3_SDRAM',
            'LPDDR3_SDRAM',
            'DDR2_SDRAM',
            'DDR2_SDRAM_FB_DIMM',
            'DDR2_SDRAM_FB_DIMM_PROBE',
            'DDR_SGRAM',
            'DDR_SDRAM',
            'ROM',
            'SDRAM',
            'EDO',
            'FastPageMode',
            'PipelinedNibble',
            'Logical',
            'HBM',
            'HBM2',
            'HBM3',
            'GDDR',
            'GDDR2',
            'GDDR3',
            'GDDR4',
            'GDDR5',
            'GDDR5X',
            'GDDR6',
            'DDR5',
            'OEM',
            'LPDDR5_SDRAM',
          ],
        },
      },
    },
  }),
  MemoryCollection: collectionOf('Memory', [`${S}/Memory`]),
  EthernetInterface: resource('EthernetInterface', {
    uris: [`${S}/EthernetInterfaces/{EthernetInterfaceId}`],
    props: {
      MACAddress: 's',
      PermanentMACAddress: 's',
      SpeedMbps: 'i',
      FullDuplex: 'b',
      InterfaceEnabled: 'b',
      LinkStatus: 'EthernetInterface.v1_1_0.LinkStatus',
      Status: STATUS,
    },
    extra: { 'EthernetInterface.v1_1_0': { enums: { LinkStatus: ['LinkUp', 'NoLink', 'LinkDown'] } } },
  }),
  EthernetInterfaceCollection: collectionOf('EthernetInterface', [`${S}/EthernetInterfaces`]),
  SimpleStorage: resource('SimpleStorage', {
    uris: [`${S}/SimpleStorage/{SimpleStorageId}`],
    props: { UefiDevicePath: 's', Status: STATUS, Devices: `[${ver('SimpleStorage')}.Device]` },
    complex: { Device: { props: { Name: 's', Manufacturer: 's', Model: 's', CapacityBytes: 'i', Status: STATUS } } },
  }),
  SimpleStorageCollection: collectionOf('SimpleStorage', [`${S}/SimpleStorage`]),
  Storage: resource('Storage', {
    uris: [`${S}/Storage/{StorageId}`],
    props: {
      Status: STATUS,
      Drives: '[>Drive.Drive]',
      Volumes: '>VolumeCollection.VolumeCollection',
      Controllers: '>StorageControllerCollection.StorageControllerCollection',
    },
  }),
  StorageCollection: collectionOf('Storage', [`${S}/Storage`]),
  StorageController: resource('StorageController', {
    uris: [`${S}/Storage/{StorageId}/Controllers/{ControllerId}`],
    props: {
      Manufacturer: 's',
      Model: 's',
      SupportedControllerProtocols: '[Protocol.Protocol]',
      SupportedDeviceProtocols: '[Protocol.Protocol]',
      SupportedRAIDTypes: '[Volume.RAIDType]',
      Status: STATUS,
    },
  }),
  StorageControllerCollection: collectionOf('StorageController', [`${S}/Storage/{StorageId}/Controllers`]),
  Protocol: {
    Protocol: {
      enums: {
        Protocol: [
          'PCIe',
          'AHCI',
          'UHCI',
          'SAS',
          'SATA',
          'USB',
          'NVMe',
          'FC',
          'iSCSI',
          'FCoE',
          'FCP',
          'FICON',
          'NVMeOverFabrics',
          'SMB',
          'NFSv3',
          'NFSv4',
          'HTTP',
          'HTTPS',
          'FTP',
          'SFTP',
          'iWARP',
          'RoCE',
          'RoCEv2',
          'I2C',
          'TCP',
          'UDP',
          'TFTP',
          'GenZ',
          'MultiProtocol',
          'InfiniBand',
          'Ethernet',
          'NVLink',
          'OEM',
          'DisplayPort',
          'HDMI',
          'VGA',
          'DVI',
          'CXL',
          'UPI',
          'QPI',
          'eMMC',
          'UEC',
          'UALink',
        ],
      },
    },
  },
  Drive: resource('Drive', {
    uris: [`${S}/Storage/{StorageId}/Drives/{DriveId}`],
    props: {
      Model: 's',
      Manufacturer: 's',
      SerialNumber: 's',
      CapacityBytes: 'i',
      MediaType: 'Drive.MediaType',
      Protocol: 'Protocol.Protocol',
      RotationSpeedRPM: 'n',
      Identifiers: '[Resource.v1_1_0.Identifier]',
      Status: STATUS,
    },
    enums: { MediaType: ['HDD', 'SSD', 'SMR'] },
  }),
  Volume: resource('Volume', {
    uris: [`${S}/Storage/{StorageId}/Volumes/{VolumeId}`],
    methods: ['DELETE'],
    props: { CapacityBytes: 'i', RAIDType: 'Volume.RAIDType', Status: STATUS, Links: `${ver('Volume')}.Links` },
    complex: { Links: { props: { Drives: '[>Drive.Drive]' } } },
    enums: {
      RAIDType: [
        'RAID0',
        'RAID1',
        'RAID3',
        'RAID4',
        'RAID5',
        'RAID6',
        'RAID10',
        'RAID01',
        'RAID6TP',
        'RAID1E',
        'RAID50',
        'RAID60',
        'RAID00',
        'RAID10E',
        'RAID1Triple',
        'RAID10Triple',
        'None',
      ],
    },
  }),
  VolumeCollection: collectionOf('Volume', [`${S}/Storage/{StorageId}/Volumes`], ['POST']),
  BootOption: resource('BootOption', {
    uris: [`${S}/BootOptions/{BootOptionId}`],
    props: { BootOptionReference: 's', DisplayName: 's', BootOptionEnabled: 'b' },
  }),
  BootOptionCollection: collectionOf('BootOption', [`${S}/BootOptions`]),
  VirtualMedia: resource('VirtualMedia', {
    uris: [`${S}/VirtualMedia/{VirtualMediaId}`, `${M}/VirtualMedia/{VirtualMediaId}`],
    methods: ['PATCH'],
    props: {
      MediaTypes: '[VirtualMedia.MediaType]',
      Image: 's',
      ImageName: 's',
      Inserted: 'b',
      WriteProtected: 'b',
      ConnectedVia: 'VirtualMedia.ConnectedVia',
      TransferProtocolType: 'VirtualMedia.v1_3_0.TransferProtocolType',
      TransferMethod: 'VirtualMedia.v1_3_0.TransferMethod',
      UserName: 's',
      Password: 's',
      VerifyCertificate: 'b',
      Status: STATUS,
      Actions: `${ver('VirtualMedia')}.Actions`,
    },
    enums: { MediaType: ['CD', 'Floppy', 'USBStick', 'DVD'], ConnectedVia: ['NotConnected', 'URI', 'Applet', 'Oem'] },
    actions: ['InsertMedia', 'EjectMedia'],
    extra: {
      'VirtualMedia.v1_3_0': {
        enums: {
          TransferProtocolType: ['CIFS', 'FTP', 'SFTP', 'HTTP', 'HTTPS', 'NFS', 'SCP', 'TFTP', 'OEM'],
          TransferMethod: ['Stream', 'Upload'],
        },
      },
    },
  }),
  VirtualMediaCollection: collectionOf('VirtualMedia', [`${S}/VirtualMedia`, `${M}/VirtualMedia`]),
  LogService: resource('LogService', {
    uris: [`${S}/LogServices/{LogServiceId}`],
    props: {
      ServiceEnabled: 'b',
      OverWritePolicy: 'LogService.OverWritePolicy',
      MaxNumberOfRecords: 'i',
      LogEntryType: 'LogService.v1_1_0.LogEntryTypes',
      DateTime: 'd',
      Entries: '>LogEntryCollection.LogEntryCollection',
      Status: STATUS,
      Actions: `${ver('LogService')}.Actions`,
    },
    enums: { OverWritePolicy: ['Unknown', 'WrapsWhenFull', 'NeverOverWrites'] },
    actions: ['ClearLog'],
    extra: { 'LogService.v1_1_0': { enums: { LogEntryTypes: ['Event', 'SEL', 'Multiple', 'OEM', 'CXL'] } } },
  }),
  LogServiceCollection: collectionOf('LogService', [`${S}/LogServices`]),
  LogEntry: resource('LogEntry', {
    uris: [`${S}/LogServices/{LogServiceId}/Entries/{LogEntryId}`],
    props: {
      EntryType: 'LogEntry.LogEntryType',
      OemRecordFormat: 's',
      Severity: 'LogEntry.EventSeverity',
      Created: 'd',
      Message: 's',
      MessageId: 's',
      MessageArgs: '[s]',
    },
    enums: { LogEntryType: ['Event', 'SEL', 'Oem', 'CXL'], EventSeverity: ['OK', 'Warning', 'Critical'] },
  }),
  LogEntryCollection: collectionOf('LogEntry', [`${S}/LogServices/{LogServiceId}/Entries`]),
  Manager: resource('Manager', {
    uris: [M],
    methods: ['PATCH'],
    props: {
      ManagerType: 'Manager.ManagerType',
      Manufacturer: 's',
      Model: 's',
      UUID: 'g',
      FirmwareVersion: 's',
      DateTime: 'd',
      DateTimeLocalOffset: 's',
      PowerState: 'Resource.PowerState',
      Status: STATUS,
      VirtualMedia: '>VirtualMediaCollection.VirtualMediaCollection',
      Links: `${ver('Manager')}.Links`,
    },
    complex: { Links: { props: { ManagerForServers: '[>ComputerSystem.ComputerSystem]', ManagerForChassis: '[>Chassis.Chassis]' } } },
    enums: {
      ManagerType: ['ManagementController', 'EnclosureManager', 'BMC', 'RackManager', 'AuxiliaryController', 'Service', 'FabricManager'],
    },
  }),
  ManagerCollection: collectionOf('Manager', ['/redfish/v1/Managers']),
  Chassis: resource('Chassis', {
    uris: [C],
    methods: ['PATCH'],
    props: {
      ChassisType: 'Chassis.ChassisType',
      Manufacturer: 's',
      Model: 's',
      SerialNumber: 's',
      PowerState: 'Resource.PowerState',
      IndicatorLED: 'Chassis.IndicatorLED',
      LocationIndicatorActive: 'b',
      Status: STATUS,
      Thermal: '>Thermal.Thermal',
      Power: '>Power.Power',
      Links: `${ver('Chassis')}.Links`,
    },
    complex: { Links: { props: { ComputerSystems: '[>ComputerSystem.ComputerSystem]', ManagedBy: '[>Manager.Manager]' } } },
    enums: {
      ChassisType: [
        'Rack',
        'Blade',
        'Enclosure',
        'StandAlone',
        'RackMount',
        'Card',
        'Cartridge',
        'Row',
        'Pod',
        'Expansion',
        'Sidecar',
        'Zone',
        'Sled',
        'Shelf',
        'Drawer',
        'Module',
        'Component',
        'IPBasedDrive',
        'RackGroup',
        'StorageEnclosure',
        'ImmersionTank',
        'HeatExchanger',
        'PowerSystem',
        'Other',
      ],
      IndicatorLED: ['Unknown', 'Lit', 'Blinking', 'Off'],
    },
  }),
  ChassisCollection: collectionOf('Chassis', ['/redfish/v1/Chassis']),
  Thermal: resource('Thermal', {
    uris: [`${C}/Thermal`],
    props: { Temperatures: `[${ver('Thermal')}.Temperature]`, Fans: `[${ver('Thermal')}.Fan]` },
    complex: {
      Temperature: {
        base: 'Resource.v1_0_0.ReferenceableMember',
        props: {
          Name: 's',
          ReadingCelsius: 'n',
          UpperThresholdCritical: 'n',
          PhysicalContext: 'PhysicalContext.PhysicalContext',
          Status: STATUS,
        },
      },
      Fan: {
        base: 'Resource.v1_0_0.ReferenceableMember',
        props: {
          Name: 's',
          Reading: 'i',
          ReadingUnits: 'Thermal.v1_0_1.ReadingUnits',
          PhysicalContext: 'PhysicalContext.PhysicalContext',
          Status: STATUS,
        },
      },
    },
    extra: { 'Thermal.v1_0_1': { enums: { ReadingUnits: ['RPM', 'Percent'] } } },
  }),
  PhysicalContext: {
    PhysicalContext: {
      enums: {
        PhysicalContext: [
          'Room',
          'Intake',
          'Exhaust',
          'LiquidInlet',
          'LiquidOutlet',
          'Front',
          'Back',
          'Upper',
          'Lower',
          'CPU',
          'CPUSubsystem',
          'GPU',
          'GPUSubsystem',
          'FPGA',
          'Accelerator',
          'ASIC',
          'Backplane',
          'SystemBoard',
          'PowerSupply',
          'PowerSubsystem',
          'VoltageRegulator',
          'Rectifier',
          'StorageDevice',
          'StorageSubsystem',
          'NetworkingDevice',
          'ExpansionSubsystem',
          'ComputeBay',
          'StorageBay',
          'NetworkBay',
          'ExpansionBay',
          'PowerSupplyBay',
          'Memory',
          'MemorySubsystem',
          'Chassis',
          'Fan',
          'CoolingSubsystem',
          'Motor',
          'Transformer',
          'ACUtilityInput',
          'ACStaticBypassInput',
          'ACMaintenanceBypassInput',
          'DCBus',
          'ACOutput',
          'ACInput',
          'PowerOutlet',
          'TrustedModule',
          'Board',
          'Transceiver',
          'Battery',
          'Pump',
          'Filter',
          'Reservoir',
          'Switch',
          'Manager',
        ],
      },
    },
  },
  Power: resource('Power', {
    uris: [`${C}/Power`],
    props: { PowerControl: `[${ver('Power')}.PowerControl]` },
    complex: {
      PowerControl: {
        base: 'Resource.v1_0_0.ReferenceableMember',
        props: { Name: 's', PowerConsumedWatts: 'n', PowerCapacityWatts: 'n', Status: STATUS },
      },
    },
  }),
  UpdateService: resource('UpdateService', {
    uris: ['/redfish/v1/UpdateService'],
    props: {
      ServiceEnabled: 'b',
      Status: STATUS,
      FirmwareInventory: '>SoftwareInventoryCollection.SoftwareInventoryCollection',
      Actions: `${ver('UpdateService')}.Actions`,
    },
    actions: ['SimpleUpdate'],
  }),
  SoftwareInventory: resource('SoftwareInventory', {
    uris: ['/redfish/v1/UpdateService/FirmwareInventory/{SoftwareInventoryId}'],
    props: { Version: 's', Updateable: 'b', Manufacturer: 's', Status: STATUS, RelatedItem: '[>Resource.Item]' },
  }),
  SoftwareInventoryCollection: collectionOf('SoftwareInventory', ['/redfish/v1/UpdateService/FirmwareInventory']),
  TaskService: resource('TaskService', {
    uris: ['/redfish/v1/TaskService'],
    props: {
      ServiceEnabled: 'b',
      CompletedTaskOverWritePolicy: 'TaskService.OverWritePolicy',
      LifeCycleEventOnTaskStateChange: 'b',
      DateTime: 'd',
      Status: STATUS,
      Tasks: '>TaskCollection.TaskCollection',
    },
    enums: { OverWritePolicy: ['Manual', 'Oldest'] },
  }),
  Task: resource('Task', {
    uris: ['/redfish/v1/TaskService/Tasks/{TaskId}'],
    methods: ['DELETE'],
    props: {
      TaskState: 'Task.TaskState',
      TaskStatus: HEALTH,
      PercentComplete: 'i',
      StartTime: 'd',
      EndTime: 'd',
      TaskMonitor: 's',
      HidePayload: 'b',
      Payload: `${ver('Task')}.Payload`,
      Messages: '[Message.Message]',
    },
    complex: { Payload: { props: { TargetUri: 's', HttpOperation: 's', JsonBody: 's', HttpHeaders: '[s]' } } },
    enums: {
      TaskState: [
        'New',
        'Starting',
        'Running',
        'Suspended',
        'Interrupted',
        'Pending',
        'Stopping',
        'Completed',
        'Killed',
        'Exception',
        'Service',
        'Cancelling',
        'Cancelled',
      ],
    },
  }),
  TaskCollection: collectionOf('Task', ['/redfish/v1/TaskService/Tasks']),
  EventService: resource('EventService', {
    uris: ['/redfish/v1/EventService'],
    props: {
      ServiceEnabled: 'b',
      DeliveryRetryAttempts: 'i',
      DeliveryRetryIntervalSeconds: 'i',
      EventFormatTypes: '[Event.EventFormatType]',
      RegistryPrefixes: '[s]',
      ResourceTypes: '[s]',
      ServerSentEventUri: 's',
      SSEFilterPropertiesSupported: `${ver('EventService')}.SSEFilterPropertiesSupported`,
      Status: STATUS,
      Subscriptions: '>EventDestinationCollection.EventDestinationCollection',
      Actions: `${ver('EventService')}.Actions`,
    },
    complex: {
      SSEFilterPropertiesSupported: {
        props: {
          MessageId: 'b',
          RegistryPrefix: 'b',
          ResourceType: 'b',
          OriginResource: 'b',
          EventFormatType: 'b',
          MetricReportDefinition: 'b',
          SubordinateResources: 'b',
        },
      },
    },
    actions: ['SubmitTestEvent'],
  }),
  Event: { Event: { enums: { EventFormatType: ['Event', 'MetricReport'] } } },
  EventDestination: resource('EventDestination', {
    uris: ['/redfish/v1/EventService/Subscriptions/{EventDestinationId}'],
    methods: ['DELETE'],
    props: {
      Destination: 's',
      Context: 's',
      Protocol: 'EventDestination.EventDestinationProtocol',
      SubscriptionType: 'EventDestination.v1_3_0.SubscriptionType',
      EventFormatType: 'Event.EventFormatType',
      RegistryPrefixes: '[s]',
      ResourceTypes: '[s]',
      OriginResources: '[>Resource.Item]',
      Status: STATUS,
    },
    enums: {
      EventDestinationProtocol: [
        'Redfish',
        'Kafka',
        'SNMPv1',
        'SNMPv2c',
        'SNMPv3',
        'SMTP',
        'SyslogTLS',
        'SyslogTCP',
        'SyslogUDP',
        'SyslogRELP',
        'OEM',
      ],
    },
    extra: {
      'EventDestination.v1_3_0': { enums: { SubscriptionType: ['RedfishEvent', 'SSE', 'SNMPTrap', 'SNMPInform', 'Syslog', 'OEM'] } },
    },
  }),
  EventDestinationCollection: collectionOf('EventDestination', ['/redfish/v1/EventService/Subscriptions'], ['POST']),
  SessionService: resource('SessionService', {
    uris: ['/redfish/v1/SessionService'],
    methods: ['PATCH'],
    props: { ServiceEnabled: 'b', SessionTimeout: 'i', Status: STATUS, Sessions: '>SessionCollection.SessionCollection' },
  }),
  Session: resource('Session', {
    uris: ['/redfish/v1/SessionService/Sessions/{SessionId}'],
    methods: ['DELETE'],
    props: { UserName: 's', Password: 's', CreatedTime: 'd', ClientOriginIPAddress: 's', SessionType: 'Session.v1_2_0.SessionTypes' },
    extra: {
      'Session.v1_2_0': {
        enums: {
          SessionTypes: ['HostConsole', 'ManagerConsole', 'IPMI', 'KVMIP', 'OEM', 'Redfish', 'VirtualMedia', 'WebUI', 'OutboundConnection'],
        },
      },
    },
  }),
  SessionCollection: collectionOf('Session', ['/redfish/v1/SessionService/Sessions'], ['POST']),
  AccountService: resource('AccountService', {
    uris: ['/redfish/v1/AccountService'],
    props: {
      ServiceEnabled: 'b',
      MinPasswordLength: 'i',
      MaxPasswordLength: 'i',
      AuthFailureLoggingThreshold: 'i',
      AccountLockoutThreshold: 'i',
      LocalAccountAuth: 'AccountService.v1_3_0.LocalAccountAuth',
      Status: STATUS,
      Accounts: '>ManagerAccountCollection.ManagerAccountCollection',
      Roles: '>RoleCollection.RoleCollection',
    },
    extra: { 'AccountService.v1_3_0': { enums: { LocalAccountAuth: ['Enabled', 'Disabled', 'Fallback', 'LocalFirst'] } } },
  }),
  ManagerAccount: resource('ManagerAccount', {
    uris: ['/redfish/v1/AccountService/Accounts/{ManagerAccountId}'],
    props: {
      UserName: 's',
      Password: 's',
      RoleId: 's',
      Enabled: 'b',
      Locked: 'b',
      AccountTypes: '[ManagerAccount.AccountTypes]',
      Links: `${ver('ManagerAccount')}.Links`,
    },
    complex: { Links: { props: { Role: '>Role.Role' } } },
    enums: { AccountTypes: ['Redfish', 'SNMP', 'OEM', 'HostConsole', 'ManagerConsole', 'IPMI', 'KVMIP', 'VirtualMedia', 'WebUI'] },
  }),
  ManagerAccountCollection: collectionOf('ManagerAccount', ['/redfish/v1/AccountService/Accounts']),
  Role: resource('Role', {
    uris: ['/redfish/v1/AccountService/Roles/{RoleId}'],
    props: { RoleId: 's', IsPredefined: 'b', AssignedPrivileges: '[Privileges.PrivilegeType]' },
  }),
  RoleCollection: collectionOf('Role', ['/redfish/v1/AccountService/Roles']),
  Privileges: {
    Privileges: {
      enums: {
        PrivilegeType: [
          'Login',
          'ConfigureManager',
          'ConfigureUsers',
          'ConfigureSelf',
          'ConfigureComponents',
          'NoAuth',
          'ConfigureCompositionInfrastructure',
          'AdministrateSystems',
          'OperateSystems',
          'AdministrateStorage',
          'OperateStorageBackup',
        ],
      },
    },
  },
  MessageRegistryFile: resource('MessageRegistryFile', {
    uris: ['/redfish/v1/Registries/{MessageRegistryFileId}'],
    props: { Languages: '[s]', Registry: 's', Location: `[${ver('MessageRegistryFile')}.Location]` },
    complex: { Location: { props: { Language: 's', Uri: 's', ArchiveUri: 's', PublicationUri: 's', ArchiveFile: 's' } } },
  }),
  MessageRegistryFileCollection: collectionOf('MessageRegistryFile', ['/redfish/v1/Registries']),
  MessageRegistry: resource('MessageRegistry', {
    props: {
      Language: 's',
      RegistryPrefix: 's',
      RegistryVersion: 's',
      OwningEntity: 's',
      Messages: `${ver('MessageRegistry')}.MessageProperty`,
    },
    complex: {
      MessageProperty: { dynamic: ['^[A-Za-z0-9]+$', `${ver('MessageRegistry')}.Message`] },
      Message: {
        props: {
          Description: 's',
          Message: 's',
          Severity: 's',
          MessageSeverity: HEALTH,
          NumberOfArgs: 'i',
          ParamTypes: '[MessageRegistry.v1_0_0.ParamType]',
          Resolution: 's',
        },
      },
    },
    extra: { 'MessageRegistry.v1_0_0': { enums: { ParamType: ['string', 'number'] } } },
  }),
  AttributeRegistry: resource('AttributeRegistry', {
    props: {
      Language: 's',
      RegistryVersion: 's',
      OwningEntity: 's',
      SupportedSystems: `[${ver('AttributeRegistry')}.SupportedSystems]`,
      RegistryEntries: `${ver('AttributeRegistry')}.RegistryEntries`,
    },
    complex: {
      SupportedSystems: { props: { ProductName: 's', SystemId: 's', FirmwareVersion: 's' } },
      RegistryEntries: { props: { Attributes: `[${ver('AttributeRegistry')}.Attributes]` } },
      Attributes: {
        props: {
          AttributeName: 's',
          DisplayName: 's',
          Type: 'AttributeRegistry.v1_0_0.AttributeType',
          ReadOnly: 'b',
          DefaultValue: 'p',
          Value: `[${ver('AttributeRegistry')}.AttributeValue]`,
          LowerBound: 'i',
          UpperBound: 'i',
        },
      },
      AttributeValue: { props: { ValueName: 's', ValueDisplayName: 's' } },
    },
    extra: { 'AttributeRegistry.v1_0_0': { enums: { AttributeType: ['Enumeration', 'String', 'Integer', 'Boolean', 'Password'] } } },
  }),
};

const SHORT: Record<string, string> = {
  s: 'Edm.String',
  i: 'Edm.Int64',
  n: 'Edm.Decimal',
  b: 'Edm.Boolean',
  d: 'Edm.DateTimeOffset',
  g: 'Edm.Guid',
  p: 'Edm.Primitive',
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

function property(name: string, t: string): string {
  let type = t;
  let collection = false;
  if (type.startsWith('[')) {
    collection = true;
    type = type.slice(1, -1);
  }
  const nav = type.startsWith('>');
  if (nav) type = type.slice(1);
  type = SHORT[type] ?? type;
  if (collection) type = `Collection(${type})`;
  return `        <${nav ? 'NavigationProperty' : 'Property'} Name="${esc(name)}" Type="${type}"${nav ? ' ContainsTarget="true"' : ''}/>`;
}

function objectXml(tag: 'EntityType' | 'ComplexType', name: string, o: ObjectDef): string {
  const attrs = `Name="${name}"${o.base ? ` BaseType="${o.base}"` : ''}${o.abstract ? ' Abstract="true"' : ''}`;
  const inner: string[] = Object.entries(o.props ?? {}).map(([k, t]) => property(k, t));
  if (o.dynamic) {
    inner.push(
      `        <Annotation Term="Redfish.DynamicPropertyPatterns"><Collection><Record><PropertyValue Property="Pattern" String="${esc(o.dynamic[0])}"/><PropertyValue Property="Type" String="${o.dynamic[1]}"/></Record></Collection></Annotation>`,
    );
  }
  if (o.uris)
    inner.push(
      `        <Annotation Term="Redfish.Uris"><Collection>${o.uris.map((u) => `<String>${esc(u)}</String>`).join('')}</Collection></Annotation>`,
    );
  if (tag === 'EntityType' && o.methods) {
    const m = new Set(o.methods ?? []);
    inner.push(
      `        <Annotation Term="Capabilities.InsertRestrictions"><Record><PropertyValue Property="Insertable" Bool="${m.has('POST')}"/></Record></Annotation>`,
      `        <Annotation Term="Capabilities.UpdateRestrictions"><Record><PropertyValue Property="Updatable" Bool="${m.has('PATCH')}"/></Record></Annotation>`,
      `        <Annotation Term="Capabilities.DeleteRestrictions"><Record><PropertyValue Property="Deletable" Bool="${m.has('DELETE')}"/></Record></Annotation>`,
    );
  }
  return inner.length ? `      <${tag} ${attrs}>\n${inner.join('\n')}\n      </${tag}>` : `      <${tag} ${attrs}/>`;
}

/** One schema file as CSDL XML. */
export function schemaXml(file: string): string | null {
  const f = SCHEMA_FILES[file];
  if (!f) return null;
  const schemas = Object.entries(f).map(([ns, n]) => {
    const parts: string[] = [];
    for (const [name, o] of Object.entries(n.entities ?? {})) parts.push(objectXml('EntityType', name, o));
    for (const [name, o] of Object.entries(n.complex ?? {})) parts.push(objectXml('ComplexType', name, o));
    for (const [name, members] of Object.entries(n.enums ?? {}))
      parts.push(`      <EnumType Name="${name}">\n${members.map((m) => `        <Member Name="${m}"/>`).join('\n')}\n      </EnumType>`);
    for (const a of n.actions ?? [])
      parts.push(`      <Action Name="${a}" IsBound="true"><Parameter Name="${file}" Type="${file}.v1_0_0.Actions"/></Action>`);
    return `    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="${ns}">\n${parts.join('\n')}\n    </Schema>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Ferrite's CSDL for the ${file} schema: the subset of DMTF DSP8010 that Ferrite implements. -->
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:DataServices>
${schemas.join('\n')}
  </edmx:DataServices>
</edmx:Edmx>
`;
}

export const schemaFileNames = (): string[] => Object.keys(SCHEMA_FILES).map((f) => `${f}_v1.xml`);
