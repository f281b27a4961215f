// Metal3DataTemplate, Metal3Data and Metal3DataClaim at v1beta2 (storage) and v1beta1: the templates
// CAPM3 renders each machine's meta data and OpenStack-style network data from.
import { z } from 'zod';
import { age } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import { ipAddressStr } from '../ipam.metal3.io/v1alpha1/ipam.js';
import { getPath, isObj, move, setPath } from '../versioning.js';
import { CAPM3_LABELS, GROUP, metal3ObjectRef, refsToMetal3, refsToV1beta1, secretRef, v1beta1ObjectRef } from './common.js';

type Obj = Record<string, unknown>;

const objectKind = z.enum(['machine', 'metal3machine', 'baremetalhost']);
const key = z.string().optional();
const fromPool = z.object({
  key,
  name: z.string().optional(),
  apiGroup: z.string().default('ipam.metal3.io').optional(),
  kind: z.string().default('IPPool').optional(),
});
const poolRef = z.object({
  name: z.string().optional(),
  kind: z.string().default('IPPool').optional(),
  apiGroup: z.string().default('ipam.metal3.io').optional(),
});
const fromPoolAnnotation = z.object({ object: objectKind.optional(), annotation: z.string().optional() });

const metaData = (poolSuffix: 'Pool' | 'IPPool') =>
  z.object({
    strings: z
      .array(z.object({ key, value: z.string().optional() }))
      .min(1)
      .optional(),
    objectNames: z
      .array(z.object({ key, object: objectKind.optional() }))
      .min(1)
      .optional(),
    indexes: z
      .array(
        z.object({
          key,
          offset: z.number().int().optional(),
          step: z.number().int().default(1).optional(),
          prefix: z.string().optional(),
          suffix: z.string().optional(),
        }),
      )
      .min(1)
      .optional(),
    namespaces: z.array(z.object({ key })).min(1).optional(),
    [`ipAddressesFrom${poolSuffix}`]: z.array(fromPool).min(1).optional(),
    [`prefixesFrom${poolSuffix}`]: z.array(fromPool).min(1).optional(),
    [`gatewaysFrom${poolSuffix}`]: z.array(fromPool).min(1).optional(),
    [`dnsServersFrom${poolSuffix}`]: z.array(fromPool).min(1).optional(),
    fromHostInterfaces: z
      .array(z.object({ key, interface: z.string().optional(), fromBootMAC: z.boolean().optional() }))
      .min(1)
      .optional(),
    fromLabels: z
      .array(z.object({ key, object: objectKind.optional(), label: z.string().optional() }))
      .min(1)
      .optional(),
    fromAnnotations: z
      .array(z.object({ key, object: objectKind.optional(), annotation: z.string().optional() }))
      .min(1)
      .optional(),
  });

const mac = z.object({
  string: z.string().optional(),
  fromHostInterface: z.string().optional(),
  fromAnnotation: z.object({ object: objectKind.optional(), annotation: z.string().optional() }).optional(),
});
const mtu = z.number().int().min(0).max(9000).default(1500).optional();
const ethernet = z.object({
  type: z.enum(['bridge', 'dvs', 'hw_veb', 'hyperv', 'ovs', 'tap', 'vhostuser', 'vif', 'phy']).optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  mtu,
  macAddress: mac.optional(),
});
const bondBase = {
  bondMode: z.enum(['balance-rr', 'active-backup', 'balance-xor', 'broadcast', 'balance-tlb', 'balance-alb', '802.3ad']).optional(),
  bondXmitHashPolicy: z.enum(['layer2', 'layer3+4', 'layer2+3']).optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  mtu,
  macAddress: mac.optional(),
  bondLinks: z.array(z.string()).optional(),
};
const vlan = z.object({
  vlanID: z.number().int().min(0).max(4096).optional(),
  id: z.string().optional(),
  name: z.string().optional(),
  mtu,
  macAddress: mac.optional(),
  vlanLink: z.string().optional(),
});
const gateway = z.object({
  string: ipAddressStr.optional(),
  fromIPPool: z.string().optional(),
  fromPoolRef: poolRef.optional(),
  fromPoolAnnotation: fromPoolAnnotation.optional(),
});
const services = z.object({ dns: z.array(ipAddressStr).min(1).optional(), dnsFromIPPool: z.string().optional() });
const route = z.object({
  network: ipAddressStr.optional(),
  prefix: z.number().int().optional(),
  gateway: gateway.optional(),
  services: services.optional(),
});
const staticNet = z.object({
  id: z.string().optional(),
  link: z.string().optional(),
  ipAddressFromIPPool: z.string().optional(),
  fromPoolRef: poolRef.optional(),
  fromPoolAnnotation: fromPoolAnnotation.optional(),
  routes: z.array(route).min(1).optional(),
});
const dhcpNet = z.object({ id: z.string().optional(), link: z.string().optional(), routes: z.array(route).min(1).optional() });

const networkData = (bondParameters: z.ZodType) =>
  z.object({
    links: z
      .object({
        ethernets: z.array(ethernet).min(1).optional(),
        bonds: z
          .array(z.object({ ...bondBase, parameters: bondParameters.optional() }))
          .min(1)
          .optional(),
        vlans: z.array(vlan).min(1).optional(),
      })
      .optional(),
    networks: z
      .object({
        ipv4: z.array(staticNet).min(1).optional(),
        ipv6: z.array(staticNet).min(1).optional(),
        ipv4DHCP: z.array(dhcpNet).min(1).optional(),
        ipv6DHCP: z.array(dhcpNet).min(1).optional(),
        ipv6SLAAC: z.array(dhcpNet).min(1).optional(),
      })
      .optional(),
    services: services.optional(),
  });

const templateSpecV1beta2 = z.object({
  clusterName: z.string().optional(),
  metaData: metaData('Pool').optional(),
  networkData: networkData(z.array(z.object({ name: z.string().optional(), value: z.unknown().optional() })).min(1)).optional(),
});
const templateSpecV1beta1 = z.object({
  clusterName: z.string(),
  templateReference: z.string().optional(),
  metaData: metaData('IPPool').optional(),
  networkData: networkData(z.record(z.string(), z.unknown())).optional(),
});

export type Metal3DataTemplateSpec = z.infer<typeof templateSpecV1beta2>;

const POOL_LISTS = ['ipAddresses', 'prefixes', 'gateways', 'dnsServers'];

function bondParams(o: Obj, toList: boolean): Obj {
  const bonds = getPath(o, 'spec.networkData.links.bonds');
  if (!Array.isArray(bonds)) return o;
  const next = (bonds as Obj[]).map((b) => {
    const p = b.parameters;
    if (toList && isObj(p)) {
      return {
        ...b,
        parameters: Object.keys(p)
          .sort()
          .map((name) => ({ name, value: p[name] })),
      };
    }
    if (!toList && Array.isArray(p)) return { ...b, parameters: Object.fromEntries((p as Obj[]).map((x) => [String(x.name), x.value])) };
    return b;
  });
  return setPath(o, 'spec.networkData.links.bonds', next);
}

const templateColumns = [
  {
    name: 'Cluster',
    type: 'string',
    jsonPath: '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name',
    description: 'Cluster to which this template belongs',
  },
  { ...age, description: 'Time duration since creation of Metal3DataTemplate' },
];

export const Metal3DataTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3DataTemplate',
  plural: 'metal3datatemplates',
  shortNames: ['m3dt', 'm3datatemplate', 'm3datatemplates', 'metal3dt', 'metal3datatemplate'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Metal3DataTemplate is the Schema for the metal3datatemplates API.',
      schema: z.object({
        spec: templateSpecV1beta2.optional(),
        status: z
          .object({
            lastUpdated: z.string().optional(),
            indexes: z
              .array(z.object({ name: z.string().optional(), index: z.number().int().optional() }))
              .min(1)
              .optional(),
          })
          .optional(),
      }),
      printerColumns: templateColumns,
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Metal3DataTemplate is the Schema for the metal3datatemplates API.',
      schema: z.object({
        spec: templateSpecV1beta1.optional(),
        status: z.object({ lastUpdated: z.string().optional(), indexes: z.record(z.string(), z.number().int()).optional() }).optional(),
      }),
      printerColumns: templateColumns,
    },
  ],
  conversion: {
    toHub(o) {
      let r = o;
      for (const p of POOL_LISTS) r = move(r, `spec.metaData.${p}FromIPPool`, `spec.metaData.${p}FromPool`);
      r = setPath(r, 'spec.templateReference', undefined);
      r = bondParams(r, true);
      const idx = getPath(r, 'status.indexes');
      if (isObj(idx)) {
        r = setPath(
          r,
          'status.indexes',
          Object.keys(idx)
            .sort()
            .map((name) => ({ name, index: idx[name] })),
        );
      }
      return r;
    },
    fromHub(o) {
      let r = o;
      for (const p of POOL_LISTS) r = move(r, `spec.metaData.${p}FromPool`, `spec.metaData.${p}FromIPPool`);
      r = bondParams(r, false);
      const idx = getPath(r, 'status.indexes');
      if (Array.isArray(idx)) r = setPath(r, 'status.indexes', Object.fromEntries((idx as Obj[]).map((e) => [String(e.name), e.index])));
      if (getPath(r, 'spec.clusterName') === undefined) r = setPath(r, 'spec.clusterName', '');
      return r;
    },
  },
};

export const Metal3DataKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3Data',
  plural: 'metal3datas',
  shortNames: ['m3d', 'm3data', 'm3datas', 'metal3d', 'metal3data'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Metal3Data is the Schema for the metal3datas API.',
      schema: z.object({
        spec: z
          .object({
            index: z.number().int().optional(),
            metaData: secretRef.optional(),
            networkData: secretRef.optional(),
            claim: metal3ObjectRef.optional(),
            template: metal3ObjectRef.optional(),
          })
          .optional(),
        status: z.object({ ready: z.boolean().optional(), errorMessage: z.string().optional() }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3Data' }],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Metal3Data is the Schema for the metal3datas API.',
      schema: z.object({
        spec: z
          .object({
            index: z.number().int().optional(),
            templateReference: z.string().optional(),
            metaData: secretRef.optional(),
            networkData: secretRef.optional(),
            claim: v1beta1ObjectRef.optional(),
            template: v1beta1ObjectRef.optional(),
          })
          .optional(),
        status: z.object({ ready: z.boolean().optional(), errorMessage: z.string().optional() }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3Data' }],
    },
  ],
  conversion: {
    toHub: (o) => setPath(refsToMetal3(o, ['spec.claim', 'spec.template']), 'spec.templateReference', undefined),
    fromHub: (o) =>
      refsToV1beta1(o, [
        ['spec.claim', 'Metal3DataClaim'],
        ['spec.template', 'Metal3DataTemplate'],
      ]),
  },
};

export const Metal3DataClaimKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3DataClaim',
  plural: 'metal3dataclaims',
  shortNames: ['m3dc', 'm3dataclaim', 'm3dataclaims', 'metal3dc', 'metal3dataclaim'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Metal3DataClaim is the Schema for the metal3dataclaims API.',
      schema: z.object({
        spec: z.object({ template: metal3ObjectRef.optional() }).optional(),
        status: z.object({ renderedData: metal3ObjectRef.optional(), errorMessage: z.string().optional() }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3DataClaim' }],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Metal3DataClaim is the Schema for the metal3dataclaims API.',
      schema: z.object({
        spec: z.object({ template: v1beta1ObjectRef }).optional(),
        status: z.object({ renderedData: v1beta1ObjectRef.optional(), errorMessage: z.string().optional() }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3DataClaim' }],
    },
  ],
  conversion: {
    toHub: (o) => refsToMetal3(o, ['spec.template', 'status.renderedData']),
    fromHub: (o) =>
      refsToV1beta1(o, [
        ['spec.template', 'Metal3DataTemplate'],
        ['status.renderedData', 'Metal3Data'],
      ]),
  },
};
