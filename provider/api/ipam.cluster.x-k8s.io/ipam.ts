// Cluster API's IPAM contract (ipam.cluster.x-k8s.io): IPAddressClaim and IPAddress, served at
// v1beta2 (storage) and v1beta1. Any IPAM provider answers these claims; Ferrite's IPPool does.
import { z } from 'zod';
import { age, condition, deprecatedV1beta1, v1beta1Condition, v1beta2Status } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import { conditionsToV1beta1, conditionsToV1beta2 } from '../versioning.js';

const name = z.string().min(1).max(253);
const poolRef = z.object({ name, kind: z.string().min(1).max(63), apiGroup: name });
const poolRefV1beta1 = z.object({ apiGroup: z.string().optional(), kind: z.string(), name: z.string() });

const claimColumns = [
  { name: 'Pool Name', type: 'string', jsonPath: '.spec.poolRef.name', description: 'Name of the pool to allocate an address from' },
  { name: 'Pool Kind', type: 'string', jsonPath: '.spec.poolRef.kind', description: 'Kind of the pool to allocate an address from' },
  { ...age, description: 'Time duration since creation of IPAddressClaim' },
];

export const IPAddressClaimKind: KindDefinition = {
  group: 'ipam.cluster.x-k8s.io',
  kind: 'IPAddressClaim',
  plural: 'ipaddressclaims',
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/provider': 'cluster-api' },
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'IPAddressClaim is the Schema for the ipaddressclaim API.',
      schema: z.object({
        spec: z.object({ clusterName: z.string().min(1).max(63).optional(), poolRef }).optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            addressRef: z.object({ name: name.optional() }).optional(),
            deprecated: deprecatedV1beta1().optional(),
          })
          .optional(),
      }),
      printerColumns: claimColumns,
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'IPAddressClaim is the Schema for the ipaddressclaim API.',
      schema: z.object({
        spec: z.object({ clusterName: z.string().optional(), poolRef: poolRefV1beta1 }).optional(),
        status: z
          .object({
            addressRef: z.object({ name: z.string().optional() }).optional(),
            conditions: z.array(v1beta1Condition).optional(),
            v1beta2: v1beta2Status.optional(),
          })
          .optional(),
      }),
      printerColumns: claimColumns,
    },
  ],
  conversion: { toHub: conditionsToV1beta2, fromHub: conditionsToV1beta1 },
};

const addressColumns = [
  { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Address' },
  { name: 'Pool Name', type: 'string', jsonPath: '.spec.poolRef.name', description: 'Name of the pool the address is from' },
  { name: 'Pool Kind', type: 'string', jsonPath: '.spec.poolRef.kind', description: 'Kind of the pool the address is from' },
  { ...age, description: 'Time duration since creation of IPAddress' },
];

export const IPAddressKind: KindDefinition = {
  group: 'ipam.cluster.x-k8s.io',
  kind: 'IPAddress',
  plural: 'ipaddresses',
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/provider': 'cluster-api' },
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      description: 'IPAddress is the Schema for the ipaddress API.',
      schema: z.object({
        spec: z
          .object({
            claimRef: z.object({ name }),
            poolRef,
            address: z.string().min(1).max(39),
            prefix: z.number().int().min(0).max(128),
            gateway: z.string().min(1).max(39).optional(),
          })
          .optional(),
      }),
      printerColumns: addressColumns,
    },
    {
      name: 'v1beta1',
      storage: false,
      description: 'IPAddress is the Schema for the ipaddress API.',
      schema: z.object({
        spec: z
          .object({
            claimRef: z.object({ name: z.string().optional() }),
            poolRef: poolRefV1beta1,
            address: z.string(),
            prefix: z.number().int(),
            gateway: z.string().optional(),
          })
          .optional(),
      }),
      printerColumns: addressColumns,
    },
  ],
  // the two versions spell an address the same way
  conversion: { toHub: (o) => o, fromHub: (o) => o },
};
