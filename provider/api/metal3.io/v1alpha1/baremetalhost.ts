// BareMetalHost (metal3.io/v1alpha1): field names, enums and defaults follow upstream's
// apis/metal3.io/v1alpha1/baremetalhost_types.go so upstream manifests apply unchanged.
import { z } from 'zod';
import { type KindDefinition, REQUIRED_WITH_DEFAULT } from '../../crdgen.js';

export const secretRef = z
  .object({
    name: z.string().optional().describe("The Secret's name."),
    namespace: z.string().optional().describe("The Secret's namespace (the host's when empty)."),
  })
  .describe('SecretReference represents a Secret Reference.');

export const objectRef = z
  .object({
    apiVersion: z.string().optional().describe('API version of the referenced object.'),
    fieldPath: z.string().optional().describe('A field within the referenced object, when the reference is to a part of it.'),
    kind: z.string().optional().describe('Kind of the referenced object.'),
    name: z.string().optional().describe('Name of the referenced object.'),
    namespace: z.string().optional().describe('Namespace of the referenced object.'),
    resourceVersion: z.string().optional().describe("The referenced object's resourceVersion when the reference was made."),
    uid: z.string().optional().describe('UID of the referenced object.'),
  })
  .describe('ObjectReference contains enough information to let you inspect or modify the referred object.');

const rootDeviceHints = z.object({
  deviceName: z
    .string()
    .optional()
    .describe('A Linux device name (/dev/sda) or a by-path link (/dev/disk/by-path/...) the install disk must have.'),
  hctl: z.string().optional().describe('The SCSI address (Host:Channel:Target:Lun, e.g. 0:0:0:0) of the install disk.'),
  model: z.string().optional().describe("A string the install disk's model must contain."),
  vendor: z.string().optional().describe("A string the install disk's vendor must contain."),
  serialNumber: z.string().optional().describe("The install disk's serial number."),
  minSizeGigabytes: z.number().int().min(0).optional().describe('The smallest size, in GiB, the install disk may have.'),
  wwn: z.string().optional().describe("The install disk's unique storage identifier (World Wide Name)."),
  wwnWithExtension: z.string().optional().describe("The install disk's WWN with its vendor extension appended."),
  wwnVendorExtension: z.string().optional().describe("The install disk's WWN vendor extension."),
  rotational: z.boolean().optional().describe('True for a spinning disk, false for a solid-state one.'),
});

export const ProvisioningStates = [
  '',
  'unmanaged',
  'registering',
  'match profile',
  'preparing',
  'ready',
  'available',
  'provisioning',
  'provisioned',
  'externally provisioned',
  'deprovisioning',
  'inspecting',
  'powering off before delete',
  'deleting',
] as const;

export const OperationalStatuses = ['', 'OK', 'discovered', 'error', 'delayed', 'detached', 'servicing'] as const;

export const ErrorTypes = [
  '',
  'provisioned registration error',
  'registration error',
  'inspection error',
  'preparation error',
  'provisioning error',
  'power management error',
  'servicing error',
  'detach error',
] as const;

export const image = z.object({
  url: z.string().describe('URL is a location of an image to deploy.'),
  checksum: z.string().optional().describe('Checksum is the checksum for the image.'),
  checksumType: z
    .enum(['md5', 'sha256', 'sha512', 'auto'])
    .optional()
    .describe("The checksum algorithm: md5, sha256 or sha512, or auto to tell it from the checksum's length."),
  format: z
    .enum(['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso'])
    .optional()
    .describe("The image's disk format; live-iso boots the ISO over virtual media instead of writing a disk."),
  ociAuthSecretName: z.string().optional().describe('A Secret with the credentials to pull the image from an OCI registry.'),
});

const raid = z.object({
  hardwareRAIDVolumes: z
    .array(
      z.object({
        sizeGibibytes: z.number().int().min(0).optional().describe("The volume's size in GiB; the rest of the disks when empty."),
        level: z.enum(['0', '1', '2', '5', '6', '1+0', '5+0', '6+0']).describe('The RAID level.'),
        name: z.string().max(64).optional().describe("The volume's name."),
        rotational: z.boolean().optional().describe('Build the volume from spinning (true) or solid-state (false) disks.'),
        numberOfPhysicalDisks: z.number().int().min(1).optional().describe('How many physical disks the volume spans.'),
        controller: z.string().optional().describe('The RAID controller to build the volume on.'),
        physicalDisks: z.array(z.string()).optional().describe("The physical disks to use, by the controller's names for them."),
      }),
    )
    .nullable()
    .optional()
    .describe("Volumes the BMC's RAID controller builds (an empty list removes them all)."),
  softwareRAIDVolumes: z
    .array(
      z.object({
        rootVolume: z
          .boolean()
          .default(false)
          .optional()
          .describe('Install the image onto this volume (one volume at most, RAID-1, and not together with rootDeviceHints).'),
        sizeGibibytes: z.number().int().min(0).optional().describe("The volume's size in GiB; the rest of the disks when empty."),
        level: z.enum(['0', '1', '1+0']).describe('The software RAID level.'),
        physicalDisks: z
          .array(rootDeviceHints)
          .min(2)
          .optional()
          .describe('The disks making up the volume, each chosen as root device hints choose a disk.'),
      }),
    )
    .max(2)
    .nullable()
    .optional()
    .describe('Volumes Linux software RAID builds while preparing the host (at most two; the first holds the root file system).'),
});

const credentialsStatus = z.object({
  credentials: secretRef.optional().describe('The Secret holding the credentials.'),
  credentialsVersion: z.string().optional().describe('The resourceVersion of that Secret when its credentials were used.'),
});

const operationMetric = z.object({
  start: z.string().meta({ format: 'date-time' }).nullable().optional().describe('When the operation started.'),
  end: z.string().meta({ format: 'date-time' }).nullable().optional().describe('When it ended.'),
});

export const hardwareDetails = z.object({
  systemVendor: z
    .object({
      manufacturer: z.string().optional().describe('Who made the machine.'),
      productName: z.string().optional().describe("The machine's model name."),
      serialNumber: z.string().optional().describe("The machine's serial number."),
    })
    .optional()
    .describe('Who made the machine and what it is.'),
  firmware: z
    .object({
      bios: z
        .object({
          date: z.string().optional().describe("The firmware's release date."),
          vendor: z.string().optional().describe('Who made the firmware.'),
          version: z.string().optional().describe("The firmware's version."),
        })
        .optional()
        .describe('The system firmware (BIOS or UEFI).'),
    })
    .optional()
    .describe("The machine's firmware."),
  ramMebibytes: z.number().int().optional().describe('Memory, in MiB.'),
  nics: z
    .array(
      z.object({
        name: z.string().optional().describe("The interface's name as the agent saw it (eth0, eno1)."),
        model: z.string().optional().describe("The NIC's vendor and product IDs."),
        mac: z.string().optional().describe("The interface's MAC address."),
        ip: z.string().optional().describe('The address the interface had during inspection.'),
        speedGbps: z.number().int().optional().describe('The link speed in Gbit/s.'),
        vlans: z
          .array(
            z.object({
              id: z.number().int().meta({ format: 'int32' }).optional().describe('The VLAN ID.'),
              name: z.string().optional().describe("The VLAN's name."),
            }),
          )
          .optional()
          .describe('The VLANs the switch port carries (from LLDP).'),
        vlanId: z.number().int().meta({ format: 'int32' }).optional().describe('The untagged (native) VLAN of the switch port.'),
        pxe: z.boolean().optional().describe('Whether the machine PXE-boots from this interface.'),
        lldp: z
          .object({
            switchID: z.string().optional().describe("The switch's chassis ID."),
            portID: z.string().optional().describe('The switch port the interface is cabled to.'),
            switchSystemName: z.string().optional().describe("The switch's system name."),
          })
          .optional()
          .describe('What the switch at the other end announces over LLDP.'),
        pciAddress: z.string().optional().describe("The NIC's PCI address."),
      }),
    )
    .optional()
    .describe('The network interfaces.'),
  storage: z
    .array(
      z.object({
        name: z.string().optional().describe("The disk's Linux device name (/dev/sda)."),
        alternateNames: z.array(z.string()).optional().describe('Other names for the disk (/dev/disk/by-path/... links).'),
        rotational: z.boolean().optional().describe('True for a spinning disk.'),
        type: z.enum(['HDD', 'SSD', 'NVME']).optional().describe('The kind of disk.'),
        sizeBytes: z.number().int().meta({ format: 'int64' }).optional().describe("The disk's size in bytes."),
        vendor: z.string().optional().describe('Who made the disk.'),
        model: z.string().optional().describe("The disk's model."),
        serialNumber: z.string().optional().describe("The disk's serial number."),
        wwn: z.string().optional().describe("The disk's World Wide Name."),
        wwnVendorExtension: z.string().optional().describe("The WWN's vendor extension."),
        wwnWithExtension: z.string().optional().describe('The WWN with its vendor extension.'),
        hctl: z.string().optional().describe("The disk's SCSI address (Host:Channel:Target:Lun)."),
      }),
    )
    .optional()
    .describe('The disks.'),
  cpu: z
    .object({
      arch: z.string().optional().describe('The CPU architecture (x86_64, aarch64).'),
      model: z.string().optional().describe("The CPU's model name."),
      clockMegahertz: z.number().meta({ format: 'double' }).optional().describe("The CPU's clock speed in MHz."),
      flags: z.array(z.string()).optional().describe("The CPU's feature flags."),
      count: z.number().int().optional().describe('How many logical CPUs the machine has.'),
    })
    .optional()
    .describe('The processors.'),
  hostname: z.string().optional().describe('The host name the machine had during inspection.'),
});

export const condition = z.object({
  type: z.string().describe("The condition's type, in CamelCase."),
  status: z.enum(['True', 'False', 'Unknown']).describe('True, False or Unknown.'),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .meta({ format: 'int64' })
    .optional()
    .describe('The metadata.generation the condition was set for.'),
  lastTransitionTime: z.string().meta({ format: 'date-time' }).describe('When the status last changed.'),
  reason: z.string().describe('Why, in one CamelCase word.'),
  message: z.string().describe('Why, for people.'),
});

const firmwareConfig = z.object({
  virtualizationEnabled: z.boolean().optional().describe('CPU virtualization extensions (VT-x, AMD-V) on or off.'),
  simultaneousMultithreadingEnabled: z.boolean().optional().describe('Simultaneous multithreading (Hyper-Threading) on or off.'),
  sriovEnabled: z.boolean().optional().describe('SR-IOV on or off.'),
});

export const BareMetalHostSpec = z.object({
  bmc: z
    .object({
      address: z.string().describe('Address holds the URL for accessing the controller on the network.'),
      credentialsName: z.string().describe('The name of the secret containing the BMC credentials.'),
      disableCertificateVerification: z.boolean().optional().describe("Skip checking the BMC's TLS certificate (one that is self-signed)."),
    })
    .optional()
    .describe('How do we connect to the BMC (Baseboard Management Controller) on the host?'),
  bootMACAddress: z
    .string()
    .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/)
    .optional()
    .describe('The MAC address of the NIC used for provisioning the host.'),
  online: z.boolean().describe('Should the host be powered on?'),
  bootMode: z.enum(['UEFI', 'UEFISecureBoot', 'legacy']).optional().describe('Select the method of initializing the hardware during boot.'),
  image: image.optional().describe('Image holds the details of the image to be provisioned.'),
  userData: secretRef.optional().describe('The Secret with the user data (cloud-init and the like) for the config drive.'),
  networkData: secretRef.optional().describe('The Secret with the network configuration for the config drive.'),
  metaData: secretRef.optional().describe('The Secret with the meta data (meta_data.json) for the config drive.'),
  preprovisioningNetworkDataName: z
    .string()
    .optional()
    .describe(
      "The Secret (in the host's namespace) with the network configuration for the agent ramdisk, and for the config drive when networkData is empty.",
    ),
  rootDeviceHints: rootDeviceHints
    .optional()
    .describe('Which disk the image is written to; every hint given must hold. Without hints, the smallest disk of 4 GiB or more.'),
  raid: raid.optional().describe('RAID volumes to build while preparing the host.'),
  firmware: firmwareConfig.optional().describe('BIOS settings applied while preparing the host.'),
  externallyProvisioned: z
    .boolean()
    .optional()
    .describe(
      'The host runs an operating system installed by someone else: it is managed (power, inspection) but never provisioned or cleaned.',
    ),
  automatedCleaningMode: z
    .enum(['metadata', 'disabled'])
    .default('metadata')
    .optional()
    .describe("metadata: wipe the disks' partition tables before and after provisioning; disabled: do not clean."),
  consumerRef: objectRef
    .optional()
    .describe('What uses the host (a Metal3Machine when Cluster API drives it); a host with a consumer is in use.'),
  customDeploy: z
    .object({ method: z.string().describe('The name of the deploy step the agent ramdisk provides.') })
    .optional()
    .describe('A custom deploy step of the agent ramdisk instead of an image; setting it starts provisioning.'),
  architecture: z.string().optional().describe('The CPU architecture (x86_64, aarch64) the host is expected to have.'),
  hardwareProfile: z.string().optional().describe('Deprecated; kept for old manifests.'),
  description: z.string().optional().describe('Free text for people: where the host is, what it is for.'),
  taints: z
    .array(
      z.object({
        key: z.string().describe("The taint's key."),
        value: z.string().optional().describe("The taint's value."),
        effect: z.string().describe('What the taint does to pods that do not tolerate it.'),
        timeAdded: z.string().meta({ format: 'date-time' }).optional().describe('When the taint was added (NoExecute only).'),
      }),
    )
    .optional()
    .describe('Taints the Node of a provisioned host gets (Cluster API copies them).'),
  disablePowerOff: z
    .boolean()
    .optional()
    .describe('Never power the host off (for machines that cannot be powered on remotely): reboots only.'),
  inspectionMode: z
    .enum(['disabled', 'agent', 'fast'])
    .optional()
    .describe('agent: boot the agent to inspect; fast: read what the BMC reports, without booting; disabled: no inspection.'),
  networkInterfaces: z
    .array(
      z.object({
        name: z
          .string()
          .regex(/^[a-zA-Z0-9._-]+$/)
          .optional()
          .describe("The NIC's name as inspection found it (HardwareData); give this or macAddress, not both."),
        macAddress: z
          .string()
          .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/)
          .optional()
          .describe("The NIC's MAC as inspection found it; give this or name, not both."),
        hostNetworkAttachment: z
          .object({
            name: z.string().max(253).optional().describe('The HostNetworkAttachment to apply to the switch port.'),
            namespace: z.string().max(63).optional().describe("Its namespace (the host's when empty)."),
          })
          .optional()
          .describe('The switchport configuration for the port this NIC is cabled to.'),
        switchPort: z
          .object({
            switchID: z
              .string()
              .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/)
              .describe("The switch's management MAC (a BareMetalSwitch's macAddress)."),
            portID: z.string().describe('The port as the switch names it (Ethernet1/5, ge-0/0/3, …).'),
          })
          .optional()
          .describe('Where the NIC is cabled, when LLDP cannot tell (it overrides what inspection saw).'),
      }),
    )
    .optional()
    .describe('Switch-side configuration per NIC: which HostNetworkAttachment the port it is cabled to gets.'),
});

export const BareMetalHostStatus = z.object({
  operationalStatus: z
    .enum(OperationalStatuses)
    .optional()
    .describe('OK, discovered (BMC details missing), error, delayed (waiting for a provisioning slot), detached or servicing.'),
  errorType: z.enum(ErrorTypes).optional().describe('The kind of the last error, while it lasts.'),
  errorMessage: z.string().optional().describe('The last error, for people.'),
  errorCount: z
    .number()
    .int()
    .default(0)
    .optional()
    .describe('Failed attempts in a row (the retry backoff grows with it); 0 after a success.'),
  provisioningFailCount: z
    .number()
    .int()
    .default(0)
    .meta({ [REQUIRED_WITH_DEFAULT]: true })
    .optional()
    .describe('Failed provisioning attempts of the current image in a row (--max-provisioning-retries stops them).'),
  lastUpdated: z.string().meta({ format: 'date-time' }).optional().describe('When the status last changed.'),
  hardwareProfile: z.string().optional().describe('Deprecated; kept for old manifests.'),
  hardware: hardwareDetails.optional().describe("What inspection found (also in the host's HardwareData)."),
  provisioning: z
    .object({
      state: z.enum(ProvisioningStates).optional().describe('Where the host is in its lifecycle.'),
      ID: z.string().describe("The host's node UUID in Ironic."),
      image: image.partial().optional().describe('The image the host was provisioned with.'),
      rootDeviceHints: rootDeviceHints.optional().describe('The root device hints the host was provisioned with.'),
      bootMode: z.enum(['UEFI', 'UEFISecureBoot', 'legacy']).optional().describe('The boot mode the host was provisioned with.'),
      raid: raid.optional().describe('The RAID volumes last built.'),
      firmware: firmwareConfig.optional().describe('The BIOS settings last applied.'),
      customDeploy: z
        .object({ method: z.string().describe('The name of the deploy step the agent ramdisk provides.') })
        .optional()
        .describe('The custom deploy step the host was provisioned with.'),
    })
    .optional()
    .describe('What the host was provisioned (or is being provisioned) with.'),
  goodCredentials: credentialsStatus.optional().describe('The BMC credentials that last worked.'),
  triedCredentials: credentialsStatus.optional().describe('The BMC credentials last tried.'),
  poweredOn: z.boolean().optional().describe('Whether the host is powered on, as the BMC last said.'),
  operationHistory: z
    .object({
      register: operationMetric.optional().describe('Registration with Ironic.'),
      inspect: operationMetric.optional().describe('Inspection.'),
      provision: operationMetric.optional().describe('Provisioning.'),
      deprovision: operationMetric.optional().describe('Deprovisioning.'),
    })
    .optional()
    .describe("When the host's last operations started and ended."),
  lastAttemptedImage: image.optional().describe('The image of the last provisioning attempt (failed or not).'),
  conditions: z
    .array(condition)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .optional()
    .describe("The host's conditions."),
});

export type BareMetalHostSpec = z.infer<typeof BareMetalHostSpec>;
export type BareMetalHostStatus = z.infer<typeof BareMetalHostStatus>;

export const BareMetalHostKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'BareMetalHost',
  plural: 'baremetalhosts',
  shortNames: ['bmh', 'bmhost'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'BareMetalHost is the Schema for the baremetalhosts API.',
      schema: z.object({
        spec: BareMetalHostSpec.optional().describe('The host as it should be: its BMC, power, image and hardware settings.'),
        status: BareMetalHostStatus.optional().describe('The host as the operator last saw it.'),
      }),
      status: true,
      printerColumns: [
        { name: 'Status', type: 'string', jsonPath: '.status.operationalStatus', description: 'Operational status', priority: 1 },
        { name: 'State', type: 'string', jsonPath: '.status.provisioning.state', description: 'Provisioning status' },
        { name: 'Consumer', type: 'string', jsonPath: '.spec.consumerRef.name', description: 'Consumer using this host' },
        { name: 'BMC', type: 'string', jsonPath: '.spec.bmc.address', description: 'Address of management controller', priority: 1 },
        { name: 'Online', type: 'string', jsonPath: '.spec.online', description: 'Whether the host is online or not' },
        { name: 'Error', type: 'string', jsonPath: '.status.errorType', description: 'Type of the most recent error' },
        {
          name: 'Age',
          type: 'date',
          jsonPath: '.metadata.creationTimestamp',
          description: 'Time duration since creation of BaremetalHost',
        },
      ],
    },
  ],
};
export type HardwareDetails = z.infer<typeof hardwareDetails>;
export type BareMetalHostImage = z.infer<typeof image>;

export interface BareMetalHost {
  apiVersion: 'metal3.io/v1alpha1';
  kind: 'BareMetalHost';
  metadata: import('../../../kube/client.js').KubeObject['metadata'] & { name: string; namespace: string };
  spec: BareMetalHostSpec;
  status?: BareMetalHostStatus;
  [k: string]: unknown;
}
