// Metal3's IP address manager (ipam.metal3.io/v1alpha1): IPPool, IPClaim and IPAddress, with the
// field names, short names and print columns of metal3-io/ip-address-manager's api/v1alpha1.
import { z } from 'zod';
import type { KindDefinition } from '../../crdgen.js';

const IPV4 = String.raw`(([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])\.){3}([0-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5])`;
// the IPv6 forms accepted upstream: full, compressed with ::, and :: alone
const IPV6 = String.raw`(([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:))`;

export const ipAddressStr = z.string().regex(new RegExp(`^(${IPV4}|${IPV6})$`));
export const ipSubnetStr = z
  .string()
  .regex(new RegExp(`^(${IPV4}/([0-9]|[1-2][0-9]|3[0-2])|${IPV6}/([0-9]|[0-9][0-9]|1[0-1][0-9]|12[0-8]))$`));

const objectRef = z.object({
  apiVersion: z.string().optional(),
  fieldPath: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
});

const prefix = z.number().int().max(128);

export const pool = z.object({
  start: ipAddressStr.optional().describe('Start is the start address of a range, required unless subnet is set.'),
  end: ipAddressStr.optional().describe('End is the last IP address that can be rendered.'),
  subnet: ipSubnetStr.optional().describe('Subnet is used to validate that the rendered IP is in bounds, or to derive the range.'),
  prefix: prefix.optional().describe('Prefix is the mask of the network as integer (max 128).'),
  gateway: ipAddressStr.optional().describe('Gateway is the gateway ip address.'),
  dnsServers: z.array(ipAddressStr).optional().describe('DNSServers is the list of dns servers.'),
});

const ipPoolSpec = z.object({
  clusterName: z.string().min(1).optional().describe('ClusterName is the name of the Cluster this object belongs to.'),
  pools: z.array(pool).optional().describe('Pools contains the list of IP addresses pools.'),
  allocationStrategy: z.enum(['sequential', 'random']).default('sequential').optional(),
  preAllocations: z
    .record(z.string(), ipAddressStr)
    .optional()
    .describe('PreAllocations contains the preallocated IP addresses, by claim name.'),
  prefix: prefix.optional().describe('Prefix is the mask of the network as integer (max 128).'),
  gateway: ipAddressStr.optional(),
  dnsServers: z.array(ipAddressStr).optional(),
  namePrefix: z.string().min(1).describe('NamePrefix is the prefix used to generate the IPAddress object names.'),
});

export type Pool = z.infer<typeof pool>;
export type IPPoolSpec = z.infer<typeof ipPoolSpec>;

const age = (what: string) => ({
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
  description: `Time duration since creation of ${what}`,
});

export const IPPoolKind: KindDefinition = {
  group: 'ipam.metal3.io',
  kind: 'IPPool',
  plural: 'ippools',
  shortNames: ['ipp', 'ippool', 'm3ipp', 'm3ippool', 'm3ippools', 'metal3ipp', 'metal3ippool', 'metal3ippools'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/v1beta1': 'v1alpha1', 'cluster.x-k8s.io/v1beta2': 'v1alpha1' },
  versions: [
    {
      name: 'v1alpha1',
      description: 'IPPool is the Schema for the ippools API.',
      status: true,
      schema: z.object({
        spec: ipPoolSpec.optional(),
        status: z
          .object({
            lastUpdated: z.string().optional().describe('LastUpdated identifies when this status was last observed.'),
            indexes: z
              .record(z.string(), ipAddressStr)
              .optional()
              .describe('Allocations contains the map of claim name to the allocated IP.'),
          })
          .optional(),
      }),
      printerColumns: [
        {
          name: 'Cluster',
          type: 'string',
          jsonPath: '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name',
          description: 'Cluster to which this template belongs',
        },
        age('Metal3IPPool'),
      ],
    },
  ],
};

export const IPClaimKind: KindDefinition = {
  group: 'ipam.metal3.io',
  kind: 'IPClaim',
  plural: 'ipclaims',
  shortNames: ['ipc', 'ipclaim', 'm3ipc', 'm3ipclaim', 'm3ipclaims', 'metal3ipc', 'metal3ipclaim', 'metal3ipclaims'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/v1beta1': 'v1alpha1', 'cluster.x-k8s.io/v1beta2': 'v1alpha1' },
  versions: [
    {
      name: 'v1alpha1',
      description: 'IPClaim is the Schema for the ipclaims API.',
      status: true,
      schema: z.object({
        spec: z.object({ pool: objectRef.describe('Pool is the IPPool this claim is for.') }).optional(),
        status: z
          .object({
            address: objectRef.optional().describe('Address is the IPAddress that was generated for this claim.'),
            errorMessage: z.string().optional().describe('ErrorMessage contains the error message.'),
          })
          .optional(),
      }),
      printerColumns: [age('Metal3IPClaim')],
    },
  ],
};

export const IPAddressKind: KindDefinition = {
  group: 'ipam.metal3.io',
  kind: 'IPAddress',
  plural: 'ipaddresses',
  shortNames: ['ipa', 'ipaddress', 'm3ipa', 'm3ipaddress', 'm3ipaddresses', 'metal3ipa', 'metal3ipaddress', 'metal3ipaddresses'],
  categories: ['metal3'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/v1beta1': 'v1alpha1', 'cluster.x-k8s.io/v1beta2': 'v1alpha1' },
  versions: [
    {
      name: 'v1alpha1',
      description: 'IPAddress is the Schema for the ipaddresses API.',
      schema: z.object({
        spec: z
          .object({
            claim: objectRef.describe('Claim points to the object the IPClaim was created for.'),
            pool: objectRef.describe('Pool is the IPPool this was generated from.'),
            prefix: prefix.optional(),
            gateway: ipAddressStr.optional(),
            address: ipAddressStr,
            dnsServers: z.array(ipAddressStr).optional(),
          })
          .optional(),
      }),
      printerColumns: [age('Metal3IPAddress')],
    },
  ],
};

export interface IPPool {
  apiVersion?: string;
  kind?: string;
  metadata: import('../../../kube/client.js').KubeObject['metadata'] & { name: string; namespace: string };
  spec?: IPPoolSpec;
  status?: { lastUpdated?: string; indexes?: Record<string, string> };
}
