// Cluster (cluster.x-k8s.io), served at v1beta2 (storage) and v1beta1 as Cluster API v1.11+ does:
// field names from api/core/v1beta2 and api/core/v1beta1 cluster_types.go, conversion as upstream's
// (references gain or lose their version, failure domains are a list or a map, readiness booleans
// become initialization fields, and the two condition styles swap places).
import { z } from 'zod';
import type { KindDefinition } from '../crdgen.js';
import { type ConversionContext, conditionsToV1beta1, conditionsToV1beta2, getPath, isObj, move, setPath } from '../versioning.js';
import { topologyToV1beta1, topologyToV1beta2, topologyV1beta1, topologyV1beta2 } from './cluster-class.js';
import { age, condition, contractVersionedRef, deprecatedV1beta1, objectReference, v1beta1Condition } from './common.js';

type Obj = Record<string, unknown>;

export const apiEndpoint = z.object({ host: z.string().max(512).optional(), port: z.number().int().optional() });
const networkRanges = z.object({ cidrBlocks: z.array(z.string()).optional() });
const clusterNetwork = z.object({
  apiServerPort: z.number().int().min(1).optional(),
  services: networkRanges.optional(),
  pods: networkRanges.optional(),
  serviceDomain: z.string().optional(),
});
const availabilityGate = z.object({ conditionType: z.string().min(1), polarity: z.enum(['Positive', 'Negative']).optional() });
const replicaCounters = z.object({
  desiredReplicas: z.number().int().optional(),
  replicas: z.number().int().optional(),
  upToDateReplicas: z.number().int().optional(),
  readyReplicas: z.number().int().optional(),
  availableReplicas: z.number().int().optional(),
  versions: z.array(z.object({ version: z.string(), replicas: z.number().int().optional() })).optional(),
});
export const failureDomain = z.object({
  name: z.string().min(1).max(256),
  controlPlane: z.boolean().optional(),
  attributes: z.record(z.string(), z.string()).optional(),
});
const phase = z.enum(['Pending', 'Provisioning', 'Provisioned', 'Deleting', 'Failed', 'Unknown']);

const v1beta2Schema = z.object({
  spec: z
    .object({
      paused: z.boolean().optional(),
      clusterNetwork: clusterNetwork.optional(),
      controlPlaneEndpoint: apiEndpoint.optional(),
      controlPlaneRef: contractVersionedRef.optional(),
      infrastructureRef: contractVersionedRef.optional(),
      topology: topologyV1beta2.optional().describe('A managed topology: the Cluster is built and kept from a ClusterClass'),
      availabilityGates: z.array(availabilityGate).max(32).optional(),
    })
    .optional(),
  status: z
    .object({
      conditions: z.array(condition).max(32).optional(),
      initialization: z
        .object({ infrastructureProvisioned: z.boolean().optional(), controlPlaneInitialized: z.boolean().optional() })
        .optional(),
      controlPlane: replicaCounters.optional(),
      workers: replicaCounters.optional(),
      failureDomains: z.array(failureDomain).optional(),
      phase: phase.optional(),
      observedGeneration: z.number().int().optional(),
      deprecated: deprecatedV1beta1({ failureReason: z.string().optional(), failureMessage: z.string().optional() }).optional(),
    })
    .optional(),
});

const v1beta1Schema = z.object({
  spec: z
    .object({
      paused: z.boolean().optional(),
      clusterNetwork: clusterNetwork.optional(),
      controlPlaneEndpoint: apiEndpoint.optional(),
      controlPlaneRef: objectReference.optional(),
      infrastructureRef: objectReference.optional(),
      topology: topologyV1beta1.optional(),
      availabilityGates: z.array(availabilityGate).optional(),
    })
    .optional(),
  status: z
    .object({
      failureDomains: z
        .record(z.string(), z.object({ controlPlane: z.boolean().optional(), attributes: z.record(z.string(), z.string()).optional() }))
        .optional(),
      failureReason: z.string().optional(),
      failureMessage: z.string().optional(),
      phase: z.string().optional(),
      infrastructureReady: z.boolean().optional(),
      controlPlaneReady: z.boolean().optional(),
      conditions: z.array(v1beta1Condition).optional(),
      observedGeneration: z.number().int().optional(),
      v1beta2: z
        .object({
          conditions: z.array(condition).optional(),
          controlPlane: replicaCounters.optional(),
          workers: replicaCounters.optional(),
        })
        .optional(),
    })
    .optional(),
});

export type ClusterSpec = NonNullable<z.infer<typeof v1beta2Schema>['spec']>;
export type ClusterStatus = NonNullable<z.infer<typeof v1beta2Schema>['status']>;

/** corev1.ObjectReference (v1beta1) → ContractVersionedObjectReference (v1beta2). */
export function refToV1beta2(ref: unknown): Obj | undefined {
  if (!isObj(ref)) return undefined;
  const apiVersion = String(ref.apiVersion ?? '');
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return { apiGroup: group, kind: ref.kind, name: ref.name };
}

/** ContractVersionedObjectReference → corev1.ObjectReference, the version from the CRD's contract label. */
export function refToV1beta1(ref: unknown, namespace: unknown, ctx: ConversionContext): Obj | undefined {
  if (!isObj(ref) || !ref.name) return undefined;
  const out: Obj = { apiVersion: ctx.apiVersionFor(String(ref.apiGroup), String(ref.kind)), kind: ref.kind, name: ref.name };
  if (namespace) out.namespace = namespace;
  return out;
}

export const ClusterKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'Cluster',
  plural: 'clusters',
  shortNames: ['cl'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/provider': 'cluster-api' },
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Cluster is the Schema for the clusters API.',
      schema: v1beta2Schema,
      printerColumns: [
        {
          name: 'ClusterClass',
          type: 'string',
          jsonPath: '.spec.topology.classRef.name',
          description: 'ClusterClass of this Cluster, empty if the Cluster is not using a ClusterClass',
        },
        {
          name: 'Available',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Available")].status',
          description: 'Cluster pass all availability checks',
        },
        {
          name: 'CP Desired',
          type: 'integer',
          jsonPath: '.status.controlPlane.desiredReplicas',
          description: 'The desired number of control plane machines',
        },
        {
          name: 'CP Current',
          type: 'integer',
          jsonPath: '.status.controlPlane.replicas',
          description: 'The number of control plane machines',
          priority: 10,
        },
        {
          name: 'CP Ready',
          type: 'integer',
          jsonPath: '.status.controlPlane.readyReplicas',
          description: 'The number of control plane machines with Ready condition true',
          priority: 10,
        },
        {
          name: 'CP Available',
          type: 'integer',
          jsonPath: '.status.controlPlane.availableReplicas',
          description: 'The number of control plane machines with Available condition true',
        },
        {
          name: 'CP Up-to-date',
          type: 'integer',
          jsonPath: '.status.controlPlane.upToDateReplicas',
          description: 'The number of control plane machines with UpToDate condition true',
        },
        {
          name: 'W Desired',
          type: 'integer',
          jsonPath: '.status.workers.desiredReplicas',
          description: 'The desired number of worker machines',
        },
        {
          name: 'W Current',
          type: 'integer',
          jsonPath: '.status.workers.replicas',
          description: 'The number of worker machines',
          priority: 10,
        },
        {
          name: 'W Ready',
          type: 'integer',
          jsonPath: '.status.workers.readyReplicas',
          description: 'The number of worker machines with Ready condition true',
          priority: 10,
        },
        {
          name: 'W Available',
          type: 'integer',
          jsonPath: '.status.workers.availableReplicas',
          description: 'The number of worker machines with Available condition true',
        },
        {
          name: 'W Up-to-date',
          type: 'integer',
          jsonPath: '.status.workers.upToDateReplicas',
          description: 'The number of worker machines with UpToDate condition true',
        },
        {
          name: 'Paused',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Paused")].status',
          description: 'Reconciliation paused',
          priority: 10,
        },
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'Cluster status such as Pending/Provisioning/Provisioned/Deleting/Failed',
        },
        { ...age, description: 'Time duration since creation of Cluster' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.topology.version',
          description: 'Kubernetes version associated with this Cluster',
        },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Cluster is the Schema for the clusters API.',
      schema: v1beta1Schema,
      printerColumns: [
        {
          name: 'ClusterClass',
          type: 'string',
          jsonPath: '.spec.topology.class',
          description: 'ClusterClass of this Cluster, empty if the Cluster is not using a ClusterClass',
        },
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'Cluster status such as Pending/Provisioning/Provisioned/Deleting/Failed',
        },
        { ...age, description: 'Time duration since creation of Cluster' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.topology.version',
          description: 'Kubernetes version associated with this Cluster',
        },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = conditionsToV1beta2(o);
      r = move(r, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
      r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
      r = move(r, 'status.infrastructureReady', 'status.initialization.infrastructureProvisioned');
      r = move(r, 'status.controlPlaneReady', 'status.initialization.controlPlaneInitialized');
      r = move(r, 'status.v1beta2.controlPlane', 'status.controlPlane');
      r = move(r, 'status.v1beta2.workers', 'status.workers');
      for (const f of ['controlPlaneRef', 'infrastructureRef']) r = setPath(r, `spec.${f}`, refToV1beta2(getPath(r, `spec.${f}`)));
      if (getPath(r, 'spec.paused') === false) r = setPath(r, 'spec.paused', undefined);
      const fds = getPath(r, 'status.failureDomains');
      if (isObj(fds)) {
        const list = Object.keys(fds)
          .sort()
          .map((name) => ({ name, ...(fds[name] as Obj) }));
        r = setPath(r, 'status.failureDomains', list);
      }
      const t = getPath(r, 'spec.topology');
      if (isObj(t)) r = setPath(r, 'spec.topology', topologyToV1beta2(t));
      return r;
    },
    fromHub(o, _to, ctx) {
      let r = conditionsToV1beta1(o);
      r = move(r, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
      r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
      r = move(r, 'status.initialization.infrastructureProvisioned', 'status.infrastructureReady');
      r = move(r, 'status.initialization.controlPlaneInitialized', 'status.controlPlaneReady');
      r = move(r, 'status.controlPlane', 'status.v1beta2.controlPlane');
      r = move(r, 'status.workers', 'status.v1beta2.workers');
      const ns = getPath(o, 'metadata.namespace');
      for (const f of ['controlPlaneRef', 'infrastructureRef']) r = setPath(r, `spec.${f}`, refToV1beta1(getPath(r, `spec.${f}`), ns, ctx));
      const fds = getPath(r, 'status.failureDomains');
      if (Array.isArray(fds)) {
        const map: Obj = {};
        for (const fd of fds as Obj[]) {
          const { name, ...rest } = fd;
          map[String(name)] = rest;
        }
        r = setPath(r, 'status.failureDomains', map);
      }
      const t = getPath(r, 'spec.topology');
      if (isObj(t)) r = setPath(r, 'spec.topology', topologyToV1beta1(t, ns));
      return r;
    },
  },
};
