// Metal3Cluster and Metal3ClusterTemplate at v1beta2 (storage) and v1beta1, as CAPM3 serves them.
import { z } from 'zod';
import { failureDomain } from '../cluster.x-k8s.io/cluster.js';
import { age, condition, deprecatedV1beta1, v1beta1Condition, v1beta2Status } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import { conditionsToV1beta1, conditionsToV1beta2, getPath, isObj, move, setPath } from '../versioning.js';
import { apiEndpointV1beta1, apiEndpointV1beta2, CAPM3_LABELS, GROUP, provisionedToReady, readyToProvisioned } from './common.js';

type Obj = Record<string, unknown>;

const failureDomainMap = z.record(
  z.string(),
  z.object({ controlPlane: z.boolean().optional(), attributes: z.record(z.string(), z.string()).optional() }),
);

const specV1beta2 = z.object({
  controlPlaneEndpoint: apiEndpointV1beta2.optional(),
  cloudProviderEnabled: z.boolean().optional(),
  failureDomains: z.array(failureDomain).optional(),
});

const specV1beta1 = z.object({
  controlPlaneEndpoint: apiEndpointV1beta1.optional(),
  noCloudProvider: z.boolean().optional(),
  cloudProviderEnabled: z.boolean().optional(),
  failureDomains: failureDomainMap.optional(),
});

export type Metal3ClusterSpec = z.infer<typeof specV1beta2>;

function domainsToList(o: Obj, path: string): Obj {
  const m = getPath(o, path);
  if (!isObj(m)) return o;
  return setPath(
    o,
    path,
    Object.keys(m)
      .sort()
      .map((name) => ({ name, ...(m[name] as Obj) })),
  );
}

function domainsToMap(o: Obj, path: string): Obj {
  const l = getPath(o, path);
  if (!Array.isArray(l)) return o;
  const m: Obj = {};
  for (const d of l as Obj[]) {
    const { name, ...rest } = d;
    m[String(name)] = rest;
  }
  return setPath(o, path, m);
}

function specToHub(o: Obj, base: string): Obj {
  let r = domainsToList(o, `${base}.failureDomains`);
  const noCloud = getPath(r, `${base}.noCloudProvider`);
  r = setPath(r, `${base}.noCloudProvider`, undefined);
  // the deprecated negative flag only speaks when the positive one is unset
  if (typeof noCloud === 'boolean' && getPath(r, `${base}.cloudProviderEnabled`) === undefined) {
    r = setPath(r, `${base}.cloudProviderEnabled`, !noCloud);
  }
  return r;
}

function specFromHub(o: Obj, base: string): Obj {
  return domainsToMap(o, `${base}.failureDomains`);
}

const columnsV1beta2 = [
  { ...age, description: 'Time duration since creation of Metal3Cluster' },
  { name: 'Provisioned', type: 'string', jsonPath: '.status.initialization.provisioned', description: 'Metal3Cluster is provisioned' },
  { name: 'Error', type: 'string', jsonPath: '.status.deprecated.v1beta1.failureReason', description: 'Most recent error' },
  {
    name: 'Cluster',
    type: 'string',
    jsonPath: '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name',
    description: 'Cluster to which this BMCluster belongs',
  },
  { name: 'Endpoint', type: 'string', jsonPath: '.spec.controlPlaneEndpoint', description: 'Control plane endpoint' },
];

export const Metal3ClusterKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3Cluster',
  plural: 'metal3clusters',
  shortNames: ['m3c', 'm3cluster', 'm3clusters', 'metal3c', 'metal3cluster'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Metal3Cluster is the Schema for the metal3clusters API.',
      schema: z.object({
        spec: specV1beta2.optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            lastUpdated: z.string().optional(),
            initialization: z.object({ provisioned: z.boolean().optional() }).optional(),
            deprecated: deprecatedV1beta1({ failureReason: z.string().optional(), failureMessage: z.string().optional() }).optional(),
            failureDomains: z.array(failureDomain).optional(),
          })
          .optional(),
      }),
      printerColumns: columnsV1beta2,
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Metal3Cluster is the Schema for the metal3clusters API.',
      schema: z.object({
        spec: specV1beta1.optional(),
        status: z
          .object({
            lastUpdated: z.string().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            ready: z.boolean().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            v1beta2: v1beta2Status.optional(),
            failureDomains: failureDomainMap.optional(),
          })
          .optional(),
      }),
      printerColumns: [
        { ...age, description: 'Time duration since creation of Metal3Cluster' },
        { name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'metal3Cluster is Ready' },
        { name: 'Error', type: 'string', jsonPath: '.status.failureReason', description: 'Most recent error' },
        columnsV1beta2[3],
        columnsV1beta2[4],
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = specToHub(o, 'spec');
      r = domainsToList(r, 'status.failureDomains');
      r = conditionsToV1beta2(r);
      r = readyToProvisioned(r);
      r = move(r, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
      r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
      return r;
    },
    fromHub(o) {
      let r = specFromHub(o, 'spec');
      r = domainsToMap(r, 'status.failureDomains');
      r = conditionsToV1beta1(r);
      r = move(r, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
      r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
      return provisionedToReady(r);
    },
  },
};

export const Metal3ClusterTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3ClusterTemplate',
  plural: 'metal3clustertemplates',
  shortNames: ['m3ct'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      description: 'Metal3ClusterTemplate is the Schema for the metal3clustertemplates API.',
      schema: z.object({
        spec: z
          .object({
            template: z
              .object({
                metadata: z
                  .object({ labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() })
                  .optional(),
                spec: specV1beta2.optional(),
              })
              .optional(),
          })
          .optional(),
      }),
    },
    {
      name: 'v1beta1',
      storage: false,
      description: 'Metal3ClusterTemplate is the Schema for the metal3clustertemplates API.',
      schema: z.object({ spec: z.object({ template: z.object({ spec: specV1beta1 }) }).optional() }),
    },
  ],
  conversion: {
    toHub: (o) => specToHub(o, 'spec.template.spec'),
    fromHub: (o) => setPath(specFromHub(o, 'spec.template.spec'), 'spec.template.metadata', undefined),
  },
};
