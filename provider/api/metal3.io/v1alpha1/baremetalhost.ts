// BareMetalHost (metal3.io/v1alpha1): field names, enums and defaults follow upstream's
// apis/metal3.io/v1alpha1/baremetalhost_types.go so upstream manifests apply unchanged.
import { z } from 'zod';
import type { KindDefinition } from '../../crdgen.js';

export const secretRef = z
  .object({ name: z.string().optional(), namespace: z.string().optional() })
  .describe('SecretReference represents a Secret Reference.');

export const objectRef = z
  .object({
    apiVersion: z.string().optional(),
    fieldPath: z.string().optional(),
    kind: z.string().optional(),
    name: z.string().optional(),
    namespace: z.string().optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
  })
  .describe('ObjectReference contains enough information to let you inspect or modify the referred object.');

const rootDeviceHints = z.object({
  deviceName: z.string().optional(),
  hctl: z.string().optional(),
  model: z.string().optional(),
  vendor: z.string().optional(),
  serialNumber: z.string().optional(),
  minSizeGigabytes: z.number().int().min(0).optional(),
  wwn: z.string().optional(),
  wwnWithExtension: z.string().optional(),
  wwnVendorExtension: z.string().optional(),
  rotational: z.boolean().optional(),
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
  checksumType: z.enum(['md5', 'sha256', 'sha512', 'auto']).optional(),
  format: z.enum(['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso']).optional(),
  ociAuthSecretName: z.string().optional(),
});

const raid = z.object({
  hardwareRAIDVolumes: z
    .array(
      z.object({
        sizeGibibytes: z.number().int().min(0).optional(),
        level: z.enum(['0', '1', '2', '5', '6', '1+0', '5+0', '6+0']),
        name: z.string().max(64).optional(),
        rotational: z.boolean().optional(),
        numberOfPhysicalDisks: z.number().int().min(1).optional(),
        controller: z.string().optional(),
        physicalDisks: z.array(z.string()).optional(),
      }),
    )
    .nullable()
    .optional(),
  softwareRAIDVolumes: z
    .array(
      z.object({
        sizeGibibytes: z.number().int().min(0).optional(),
        level: z.enum(['0', '1', '1+0']),
        physicalDisks: z.array(rootDeviceHints).min(2).optional(),
      }),
    )
    .max(2)
    .nullable()
    .optional(),
});

const credentialsStatus = z.object({
  credentials: secretRef.optional(),
  credentialsVersion: z.string().optional(),
});

const operationMetric = z.object({
  start: z.string().nullable().optional(),
  end: z.string().nullable().optional(),
});

export const hardwareDetails = z.object({
  systemVendor: z
    .object({ manufacturer: z.string().optional(), productName: z.string().optional(), serialNumber: z.string().optional() })
    .optional(),
  firmware: z
    .object({ bios: z.object({ date: z.string().optional(), vendor: z.string().optional(), version: z.string().optional() }).optional() })
    .optional(),
  ramMebibytes: z.number().int().optional(),
  nics: z
    .array(
      z.object({
        name: z.string().optional(),
        model: z.string().optional(),
        mac: z.string().optional(),
        ip: z.string().optional(),
        speedGbps: z.number().int().optional(),
        vlans: z.array(z.object({ id: z.number().int().optional(), name: z.string().optional() })).optional(),
        vlanId: z.number().int().optional(),
        pxe: z.boolean().optional(),
        lldp: z
          .object({ switchID: z.string().optional(), portID: z.string().optional(), switchSystemName: z.string().optional() })
          .optional(),
        pciAddress: z.string().optional(),
      }),
    )
    .optional(),
  storage: z
    .array(
      z.object({
        name: z.string().optional(),
        alternateNames: z.array(z.string()).optional(),
        rotational: z.boolean().optional(),
        type: z.enum(['HDD', 'SSD', 'NVME']).optional(),
        sizeBytes: z.number().int().optional(),
        vendor: z.string().optional(),
        model: z.string().optional(),
        serialNumber: z.string().optional(),
        wwn: z.string().optional(),
        wwnVendorExtension: z.string().optional(),
        wwnWithExtension: z.string().optional(),
        hctl: z.string().optional(),
      }),
    )
    .optional(),
  cpu: z
    .object({
      arch: z.string().optional(),
      model: z.string().optional(),
      clockMegahertz: z.number().optional(),
      flags: z.array(z.string()).optional(),
      count: z.number().int().optional(),
    })
    .optional(),
  hostname: z.string().optional(),
});

export const condition = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.number().int().min(0).optional(),
  lastTransitionTime: z.string(),
  reason: z.string(),
  message: z.string(),
});

export const BareMetalHostSpec = z.object({
  bmc: z
    .object({
      address: z.string().describe('Address holds the URL for accessing the controller on the network.'),
      credentialsName: z.string().describe('The name of the secret containing the BMC credentials.'),
      disableCertificateVerification: z.boolean().optional(),
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
  userData: secretRef.optional(),
  networkData: secretRef.optional(),
  metaData: secretRef.optional(),
  preprovisioningNetworkDataName: z.string().optional(),
  rootDeviceHints: rootDeviceHints.optional(),
  raid: raid.optional(),
  firmware: z
    .object({
      virtualizationEnabled: z.boolean().optional(),
      simultaneousMultithreadingEnabled: z.boolean().optional(),
      sriovEnabled: z.boolean().optional(),
    })
    .optional(),
  externallyProvisioned: z.boolean().optional(),
  automatedCleaningMode: z.enum(['metadata', 'disabled']).default('metadata').optional(),
  consumerRef: objectRef.optional(),
  customDeploy: z.object({ method: z.string() }).optional(),
  architecture: z.string().optional(),
  hardwareProfile: z.string().optional(),
  description: z.string().optional(),
  taints: z
    .array(
      z.object({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
        timeAdded: z.string().optional(),
      }),
    )
    .optional(),
  disablePowerOff: z.boolean().optional(),
  inspectionMode: z.enum(['disabled', 'agent', 'fast']).optional(),
});

export const BareMetalHostStatus = z.object({
  operationalStatus: z.enum(OperationalStatuses).optional(),
  errorType: z.enum(ErrorTypes).optional(),
  errorMessage: z.string().optional(),
  errorCount: z.number().int().default(0).optional(),
  provisioningFailCount: z.number().int().optional(),
  lastUpdated: z.string().optional(),
  hardwareProfile: z.string().optional(),
  hardware: hardwareDetails.optional(),
  provisioning: z
    .object({
      state: z.enum(ProvisioningStates).optional(),
      ID: z.string(),
      image: image.partial().optional(),
      rootDeviceHints: rootDeviceHints.optional(),
      bootMode: z.enum(['UEFI', 'UEFISecureBoot', 'legacy']).optional(),
      raid: raid.optional(),
      firmware: z.record(z.string(), z.unknown()).optional(),
      customDeploy: z.object({ method: z.string() }).optional(),
    })
    .optional(),
  goodCredentials: credentialsStatus.optional(),
  triedCredentials: credentialsStatus.optional(),
  poweredOn: z.boolean().optional(),
  operationHistory: z
    .object({
      register: operationMetric.optional(),
      inspect: operationMetric.optional(),
      provision: operationMetric.optional(),
      deprovision: operationMetric.optional(),
    })
    .optional(),
  lastAttemptedImage: image.partial().optional(),
  conditions: z
    .array(condition)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
    .optional(),
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
      schema: z.object({ spec: BareMetalHostSpec.optional(), status: BareMetalHostStatus.optional() }),
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
