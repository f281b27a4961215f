// Machine, MachineSet, MachineDeployment and MachineHealthCheck (cluster.x-k8s.io) at v1beta2
// (storage) and v1beta1, field names from Cluster API's api/core/v1beta2 and v1beta1, converted
// as upstream's conversion webhooks do (durations become *Seconds, references lose their version,
// strategies move under rollout/deletion/remediation, the replica counters swap places).
import { z } from 'zod';
import { intOrString, type KindDefinition } from '../crdgen.js';
import {
  type ConversionContext,
  conditionsToV1beta1,
  conditionsToV1beta2,
  durationToSeconds,
  getPath,
  isObj,
  move,
  secondsToDuration,
  setPath,
} from '../versioning.js';
import { refToV1beta1, refToV1beta2 } from './cluster.js';
import {
  age,
  condition,
  contractVersionedRef,
  deprecatedV1beta1,
  machineTaint,
  objectMeta,
  objectReference,
  readinessGate,
  v1beta1Condition,
} from './common.js';

type Obj = Record<string, unknown>;

const labelSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() })).optional(),
});
const taint = machineTaint;
const address = z.object({ type: z.enum(['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS']), address: z.string() });
const nodeInfo = z.record(z.string(), z.string());
const statusVersion = z.object({ version: z.string(), replicas: z.number().int().optional() });
const deletionStatus = z.object({
  nodeDrainStartTime: z.string().optional(),
  waitForNodeVolumeDetachStartTime: z.string().optional(),
  waitForPreDrainHookStartTime: z.string().optional(),
  waitForPreTerminateHookStartTime: z.string().optional(),
});
const deletionOrder = z.enum(['Random', 'Newest', 'Oldest']);
const naming = z.object({ template: z.string().optional() });

export const machineSpecV1beta2 = z.object({
  clusterName: z.string().min(1).max(63).optional(),
  bootstrap: z.object({ configRef: contractVersionedRef.optional(), dataSecretName: z.string().optional() }).optional(),
  infrastructureRef: contractVersionedRef.optional(),
  version: z.string().optional(),
  providerID: z.string().optional(),
  failureDomain: z.string().optional(),
  minReadySeconds: z.number().int().optional(),
  readinessGates: z.array(readinessGate).max(32).optional(),
  deletion: z
    .object({
      nodeDrainTimeoutSeconds: z.number().int().optional(),
      nodeVolumeDetachTimeoutSeconds: z.number().int().optional(),
      nodeDeletionTimeoutSeconds: z.number().int().optional(),
    })
    .optional(),
  taints: z.array(taint).optional(),
});

const machineSpecV1beta1 = z.object({
  clusterName: z.string(),
  bootstrap: z.object({ configRef: objectReference.optional(), dataSecretName: z.string().optional() }),
  infrastructureRef: objectReference,
  version: z.string().optional(),
  providerID: z.string().optional(),
  failureDomain: z.string().optional(),
  readinessGates: z.array(readinessGate).optional(),
  nodeDrainTimeout: z.string().optional(),
  nodeVolumeDetachTimeout: z.string().optional(),
  nodeDeletionTimeout: z.string().optional(),
  taints: z.array(taint).optional(),
});

export type MachineSpec = z.infer<typeof machineSpecV1beta2>;

const DURATIONS: Array<[string, string]> = [
  ['nodeDrainTimeout', 'deletion.nodeDrainTimeoutSeconds'],
  ['nodeVolumeDetachTimeout', 'deletion.nodeVolumeDetachTimeoutSeconds'],
  ['nodeDeletionTimeout', 'deletion.nodeDeletionTimeoutSeconds'],
];

/** A MachineSpec at `base` (e.g. "spec" or "spec.template.spec") to the v1beta2 shape. */
export function machineSpecToHub(o: Obj, base: string): Obj {
  let r = o;
  for (const f of ['infrastructureRef', 'bootstrap.configRef']) {
    const ref = getPath(r, `${base}.${f}`);
    if (ref !== undefined) r = setPath(r, `${base}.${f}`, refToV1beta2(ref));
  }
  for (const [from, to] of DURATIONS) r = durationToSeconds(r, `${base}.${from}`, `${base}.${to}`);
  return r;
}

export function machineSpecFromHub(o: Obj, base: string, ctx: ConversionContext): Obj {
  let r = o;
  const ns = getPath(o, 'metadata.namespace');
  for (const f of ['infrastructureRef', 'bootstrap.configRef']) {
    const ref = getPath(r, `${base}.${f}`);
    if (ref !== undefined) r = setPath(r, `${base}.${f}`, refToV1beta1(ref, ns, ctx));
  }
  for (const [from, to] of DURATIONS) r = secondsToDuration(r, `${base}.${to}`, `${base}.${from}`);
  if (isObj(getPath(r, `${base}.deletion`)) && Object.keys(getPath(r, `${base}.deletion`) as Obj).length === 0) {
    r = setPath(r, `${base}.deletion`, undefined);
  }
  if (isObj(getPath(r, base)) && getPath(r, `${base}.bootstrap`) === undefined) r = setPath(r, `${base}.bootstrap`, {});
  return r;
}

/** v1beta1 replica counters (plain ints) and v1beta2's (new semantics) swap places, as upstream. */
function countersToHub(o: Obj, names: string[]): Obj {
  let r = o;
  for (const n of names) {
    r = move(r, `status.${n}`, `status.deprecated.v1beta1.${n}`);
    r = move(r, `status.v1beta2.${n}`, `status.${n}`);
  }
  return r;
}

function countersFromHub(o: Obj, names: string[]): Obj {
  let r = o;
  for (const n of names) {
    r = move(r, `status.${n}`, `status.v1beta2.${n}`);
    r = move(r, `status.deprecated.v1beta1.${n}`, `status.${n}`);
  }
  return r;
}

function failureToHub(o: Obj): Obj {
  let r = move(o, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
  r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
  return r;
}

function failureFromHub(o: Obj): Obj {
  let r = move(o, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
  r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
  return r;
}

function pruneEmpty(o: Obj, path: string): Obj {
  const v = getPath(o, path);
  return isObj(v) && Object.keys(v).length === 0 ? setPath(o, path, undefined) : o;
}

const clusterColumn = { name: 'Cluster', type: 'string', jsonPath: '.spec.clusterName', description: 'Cluster' };
const pausedColumn = {
  name: 'Paused',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Paused")].status',
  description: 'Reconciliation paused',
  priority: 10,
};
const crdLabels = { 'cluster.x-k8s.io/provider': 'cluster-api' };

export const MachineKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'Machine',
  plural: 'machines',
  shortNames: ['ma'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: crdLabels,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Machine is the Schema for the machines API.',
      schema: z.object({
        spec: machineSpecV1beta2.optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            initialization: z
              .object({ infrastructureProvisioned: z.boolean().optional(), bootstrapDataSecretCreated: z.boolean().optional() })
              .optional(),
            nodeRef: z.object({ name: z.string().optional() }).optional(),
            nodeInfo: nodeInfo.optional(),
            lastUpdated: z.string().optional(),
            addresses: z.array(address).optional(),
            failureDomain: z.string().optional(),
            phase: z
              .enum(['Pending', 'Provisioning', 'Provisioned', 'Running', 'Updating', 'Deleting', 'Deleted', 'Failed', 'Unknown'])
              .optional(),
            certificatesExpiryDate: z.string().optional(),
            observedGeneration: z.number().int().optional(),
            deletion: deletionStatus.optional(),
            deprecated: deprecatedV1beta1({ failureReason: z.string().optional(), failureMessage: z.string().optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        { name: 'Node Name', type: 'string', jsonPath: '.status.nodeRef.name', description: 'Node name associated with this machine' },
        { name: 'Provider ID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID', priority: 10 },
        {
          name: 'Failure domain',
          type: 'string',
          jsonPath: '.status.failureDomain',
          description: 'The failure domain where the Machine has been scheduled',
        },
        {
          name: 'Ready',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Ready")].status',
          description: 'Machine pass all readiness checks',
        },
        {
          name: 'Available',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Available")].status',
          description: 'Machine is Ready for at least MinReadySeconds',
        },
        {
          name: 'Up-to-date',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="UpToDate")].status',
          description: " Machine spec matches the spec of the Machine's owner resource, e.g. MachineDeployment",
        },
        {
          name: 'Internal-IP',
          type: 'string',
          jsonPath: '.status.addresses[?(@.type=="InternalIP")].address',
          description: 'Internal IP of the machine',
          priority: 10,
        },
        {
          name: 'External-IP',
          type: 'string',
          jsonPath: '.status.addresses[?(@.type=="ExternalIP")].address',
          description: 'External IP of the machine',
          priority: 10,
        },
        {
          name: 'OS-Image',
          type: 'string',
          jsonPath: '.status.nodeInfo.osImage',
          description: 'OS Image reported by the node',
          priority: 10,
        },
        pausedColumn,
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'Machine status such as Terminating/Pending/Running/Failed etc',
        },
        { ...age, description: 'Time duration since creation of Machine' },
        { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Kubernetes version associated with this Machine' },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Machine is the Schema for the machines API.',
      schema: z.object({
        spec: machineSpecV1beta1.optional(),
        status: z
          .object({
            nodeRef: objectReference.optional(),
            nodeInfo: nodeInfo.optional(),
            lastUpdated: z.string().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            addresses: z.array(address).optional(),
            phase: z.string().optional(),
            certificatesExpiryDate: z.string().optional(),
            bootstrapReady: z.boolean().optional(),
            infrastructureReady: z.boolean().optional(),
            observedGeneration: z.number().int().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            deletion: deletionStatus.optional(),
            v1beta2: z.object({ conditions: z.array(condition).optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        { name: 'NodeName', type: 'string', jsonPath: '.status.nodeRef.name', description: 'Node name associated with this machine' },
        { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID' },
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'Machine status such as Terminating/Pending/Running/Failed etc',
        },
        { ...age, description: 'Time duration since creation of Machine' },
        { name: 'Version', type: 'string', jsonPath: '.spec.version', description: 'Kubernetes version associated with this Machine' },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = machineSpecToHub(o, 'spec');
      r = conditionsToV1beta2(r);
      r = failureToHub(r);
      r = move(r, 'status.bootstrapReady', 'status.initialization.bootstrapDataSecretCreated');
      r = move(r, 'status.infrastructureReady', 'status.initialization.infrastructureProvisioned');
      const node = getPath(r, 'status.nodeRef');
      if (isObj(node)) r = setPath(r, 'status.nodeRef', { name: node.name });
      return r;
    },
    fromHub(o, _to, ctx) {
      let r = machineSpecFromHub(o, 'spec', ctx);
      r = setPath(r, 'spec.minReadySeconds', undefined);
      r = conditionsToV1beta1(r);
      r = failureFromHub(r);
      r = move(r, 'status.initialization.bootstrapDataSecretCreated', 'status.bootstrapReady');
      r = move(r, 'status.initialization.infrastructureProvisioned', 'status.infrastructureReady');
      r = pruneEmpty(r, 'status.initialization');
      const node = getPath(r, 'status.nodeRef');
      if (isObj(node) && node.name) r = setPath(r, 'status.nodeRef', { apiVersion: 'v1', kind: 'Node', name: node.name });
      return r;
    },
  },
};

const templateV1beta2 = z.object({ metadata: objectMeta.optional(), spec: machineSpecV1beta2.optional() });
const templateV1beta1 = z.object({ metadata: objectMeta.optional(), spec: machineSpecV1beta1.optional() });

const MS_COUNTERS = ['readyReplicas', 'availableReplicas'];

export const MachineSetKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'MachineSet',
  plural: 'machinesets',
  shortNames: ['ms'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: crdLabels,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
      description: 'MachineSet is the Schema for the machinesets API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string().min(1).max(63).optional(),
            replicas: z.number().int().optional(),
            selector: labelSelector.optional(),
            template: templateV1beta2.optional(),
            machineNaming: naming.optional(),
            deletion: z.object({ order: deletionOrder.optional() }).optional(),
          })
          .optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            availableReplicas: z.number().int().optional(),
            upToDateReplicas: z.number().int().optional(),
            versions: z.array(statusVersion).optional(),
            observedGeneration: z.number().int().optional(),
            deprecated: deprecatedV1beta1({
              failureReason: z.string().optional(),
              failureMessage: z.string().optional(),
              fullyLabeledReplicas: z.number().int().optional(),
              readyReplicas: z.number().int().optional(),
              availableReplicas: z.number().int().optional(),
            }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'The desired number of machines' },
        { name: 'Current', type: 'integer', jsonPath: '.status.replicas', description: 'The number of machines' },
        {
          name: 'Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'The number of machines with Ready condition true',
        },
        {
          name: 'Available',
          type: 'integer',
          jsonPath: '.status.availableReplicas',
          description: 'The number of machines with Available condition true',
        },
        {
          name: 'Up-to-date',
          type: 'integer',
          jsonPath: '.status.upToDateReplicas',
          description: 'The number of machines with UpToDate condition true',
        },
        pausedColumn,
        { ...age, description: 'Time duration since creation of MachineSet' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.template.spec.version',
          description: 'Kubernetes version associated with this MachineSet',
        },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
      description: 'MachineSet is the Schema for the machinesets API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string(),
            replicas: z.number().int().optional(),
            minReadySeconds: z.number().int().optional(),
            deletePolicy: z.enum(['Random', 'Newest', 'Oldest']).optional(),
            selector: labelSelector,
            template: templateV1beta1.optional(),
            machineNamingStrategy: naming.optional(),
          })
          .optional(),
        status: z
          .object({
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            fullyLabeledReplicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            availableReplicas: z.number().int().optional(),
            observedGeneration: z.number().int().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            versions: z.array(statusVersion).optional(),
            v1beta2: z
              .object({
                conditions: z.array(condition).optional(),
                readyReplicas: z.number().int().optional(),
                availableReplicas: z.number().int().optional(),
                upToDateReplicas: z.number().int().optional(),
              })
              .optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        {
          name: 'Replicas',
          type: 'integer',
          jsonPath: '.status.replicas',
          description: 'Total number of non-terminated machines targeted by this machineset',
        },
        {
          name: 'Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'Total number of ready machines targeted by this machineset.',
        },
        { name: 'Available', type: 'integer', jsonPath: '.status.availableReplicas', description: 'Total number of available machines' },
        { ...age, description: 'Time duration since creation of MachineSet' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.template.spec.version',
          description: 'Kubernetes version associated with this MachineSet',
        },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = machineSpecToHub(o, 'spec.template.spec');
      r = move(r, 'spec.deletePolicy', 'spec.deletion.order');
      r = move(r, 'spec.machineNamingStrategy', 'spec.machineNaming');
      r = move(r, 'spec.minReadySeconds', 'spec.template.spec.minReadySeconds');
      r = conditionsToV1beta2(r);
      r = failureToHub(r);
      r = move(r, 'status.fullyLabeledReplicas', 'status.deprecated.v1beta1.fullyLabeledReplicas');
      r = countersToHub(r, MS_COUNTERS);
      r = move(r, 'status.v1beta2.upToDateReplicas', 'status.upToDateReplicas');
      return r;
    },
    fromHub(o, _to, ctx) {
      let r = machineSpecFromHub(o, 'spec.template.spec', ctx);
      r = move(r, 'spec.deletion.order', 'spec.deletePolicy');
      r = pruneEmpty(r, 'spec.deletion');
      r = move(r, 'spec.machineNaming', 'spec.machineNamingStrategy');
      r = move(r, 'spec.template.spec.minReadySeconds', 'spec.minReadySeconds');
      r = conditionsToV1beta1(r);
      r = failureFromHub(r);
      r = move(r, 'status.deprecated.v1beta1.fullyLabeledReplicas', 'status.fullyLabeledReplicas');
      r = move(r, 'status.upToDateReplicas', 'status.v1beta2.upToDateReplicas');
      r = countersFromHub(r, MS_COUNTERS);
      return r;
    },
  },
};

const MD_COUNTERS = ['readyReplicas', 'availableReplicas'];

export const MachineDeploymentKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'MachineDeployment',
  plural: 'machinedeployments',
  shortNames: ['md'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: crdLabels,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
      description: 'MachineDeployment is the Schema for the machinedeployments API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string().min(1).max(63).optional(),
            replicas: z.number().int().optional(),
            rollout: z
              .object({
                after: z.string().optional(),
                strategy: z
                  .object({
                    type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
                    rollingUpdate: z.object({ maxUnavailable: intOrString.optional(), maxSurge: intOrString.optional() }).optional(),
                  })
                  .optional(),
              })
              .optional(),
            selector: labelSelector.optional(),
            template: templateV1beta2.optional(),
            machineNaming: naming.optional(),
            remediation: z.object({ maxInFlight: intOrString.optional() }).optional(),
            deletion: z.object({ order: deletionOrder.optional() }).optional(),
            paused: z.boolean().optional(),
          })
          .optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            observedGeneration: z.number().int().optional(),
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            availableReplicas: z.number().int().optional(),
            upToDateReplicas: z.number().int().optional(),
            versions: z.array(statusVersion).optional(),
            phase: z.enum(['ScalingUp', 'ScalingDown', 'Running', 'Failed', 'Unknown']).optional(),
            deprecated: deprecatedV1beta1({
              updatedReplicas: z.number().int().optional(),
              readyReplicas: z.number().int().optional(),
              availableReplicas: z.number().int().optional(),
              unavailableReplicas: z.number().int().optional(),
            }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        {
          name: 'Available',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Available")].status',
          description: 'Cluster pass all availability checks',
        },
        { name: 'Desired', type: 'integer', jsonPath: '.spec.replicas', description: 'The desired number of machines' },
        { name: 'Current', type: 'integer', jsonPath: '.status.replicas', description: 'The number of machines' },
        {
          name: 'Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'The number of machines with Ready condition true',
        },
        {
          name: 'Available',
          type: 'integer',
          jsonPath: '.status.availableReplicas',
          description: 'The number of machines with Available condition true',
        },
        {
          name: 'Up-to-date',
          type: 'integer',
          jsonPath: '.status.upToDateReplicas',
          description: 'The number of machines with UpToDate condition true',
        },
        pausedColumn,
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'MachineDeployment status such as ScalingUp/ScalingDown/Running/Failed/Unknown',
        },
        { ...age, description: 'Time duration since creation of MachineDeployment' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.template.spec.version',
          description: 'Kubernetes version associated with this MachineDeployment',
        },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
      description: 'MachineDeployment is the Schema for the machinedeployments API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string(),
            replicas: z.number().int().optional(),
            rolloutAfter: z.string().optional(),
            selector: labelSelector,
            template: templateV1beta1,
            strategy: z
              .object({
                type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
                rollingUpdate: z
                  .object({
                    maxUnavailable: intOrString.optional(),
                    maxSurge: intOrString.optional(),
                    deletePolicy: z.enum(['Random', 'Newest', 'Oldest']).optional(),
                  })
                  .optional(),
                remediation: z.object({ maxInFlight: intOrString.optional() }).optional(),
              })
              .optional(),
            machineNamingStrategy: naming.optional(),
            minReadySeconds: z.number().int().optional(),
            revisionHistoryLimit: z.number().int().optional(),
            paused: z.boolean().optional(),
            progressDeadlineSeconds: z.number().int().optional(),
          })
          .optional(),
        status: z
          .object({
            observedGeneration: z.number().int().optional(),
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            updatedReplicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            availableReplicas: z.number().int().optional(),
            unavailableReplicas: z.number().int().optional(),
            phase: z.string().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            versions: z.array(statusVersion).optional(),
            v1beta2: z
              .object({
                conditions: z.array(condition).optional(),
                readyReplicas: z.number().int().optional(),
                availableReplicas: z.number().int().optional(),
                upToDateReplicas: z.number().int().optional(),
              })
              .optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        {
          name: 'Replicas',
          type: 'integer',
          jsonPath: '.status.replicas',
          description: 'Total number of non-terminated machines targeted by this MachineDeployment',
        },
        {
          name: 'Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'Total number of ready machines targeted by this MachineDeployment',
        },
        {
          name: 'Updated',
          type: 'integer',
          jsonPath: '.status.updatedReplicas',
          description: 'Total number of non-terminated machines targeted by this deployment that have the desired template spec',
        },
        {
          name: 'Unavailable',
          type: 'integer',
          jsonPath: '.status.unavailableReplicas',
          description: 'Total number of unavailable machines targeted by this MachineDeployment',
        },
        {
          name: 'Phase',
          type: 'string',
          jsonPath: '.status.phase',
          description: 'MachineDeployment status such as ScalingUp/ScalingDown/Running/Failed/Unknown',
        },
        { ...age, description: 'Time duration since creation of MachineDeployment' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.template.spec.version',
          description: 'Kubernetes version associated with this MachineDeployment',
        },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = machineSpecToHub(o, 'spec.template.spec');
      r = move(r, 'spec.rolloutAfter', 'spec.rollout.after');
      r = move(r, 'spec.strategy.type', 'spec.rollout.strategy.type');
      r = move(r, 'spec.strategy.rollingUpdate.maxSurge', 'spec.rollout.strategy.rollingUpdate.maxSurge');
      r = move(r, 'spec.strategy.rollingUpdate.maxUnavailable', 'spec.rollout.strategy.rollingUpdate.maxUnavailable');
      r = move(r, 'spec.strategy.rollingUpdate.deletePolicy', 'spec.deletion.order');
      r = move(r, 'spec.strategy.remediation.maxInFlight', 'spec.remediation.maxInFlight');
      r = setPath(r, 'spec.strategy', undefined);
      r = move(r, 'spec.machineNamingStrategy', 'spec.machineNaming');
      r = move(r, 'spec.minReadySeconds', 'spec.template.spec.minReadySeconds');
      // gone in v1beta2: history and progress deadlines have no meaning there
      r = setPath(r, 'spec.revisionHistoryLimit', undefined);
      r = setPath(r, 'spec.progressDeadlineSeconds', undefined);
      if (getPath(r, 'spec.paused') === false) r = setPath(r, 'spec.paused', undefined);
      r = conditionsToV1beta2(r);
      for (const n of ['updatedReplicas', 'unavailableReplicas']) r = move(r, `status.${n}`, `status.deprecated.v1beta1.${n}`);
      r = countersToHub(r, MD_COUNTERS);
      r = move(r, 'status.v1beta2.upToDateReplicas', 'status.upToDateReplicas');
      return r;
    },
    fromHub(o, _to, ctx) {
      let r = machineSpecFromHub(o, 'spec.template.spec', ctx);
      r = move(r, 'spec.rollout.after', 'spec.rolloutAfter');
      r = move(r, 'spec.rollout.strategy.type', 'spec.strategy.type');
      r = move(r, 'spec.rollout.strategy.rollingUpdate.maxSurge', 'spec.strategy.rollingUpdate.maxSurge');
      r = move(r, 'spec.rollout.strategy.rollingUpdate.maxUnavailable', 'spec.strategy.rollingUpdate.maxUnavailable');
      r = move(r, 'spec.deletion.order', 'spec.strategy.rollingUpdate.deletePolicy');
      r = move(r, 'spec.remediation.maxInFlight', 'spec.strategy.remediation.maxInFlight');
      for (const p of ['spec.rollout.strategy.rollingUpdate', 'spec.rollout.strategy', 'spec.rollout', 'spec.deletion', 'spec.remediation'])
        r = pruneEmpty(r, p);
      r = move(r, 'spec.machineNaming', 'spec.machineNamingStrategy');
      r = move(r, 'spec.template.spec.minReadySeconds', 'spec.minReadySeconds');
      r = conditionsToV1beta1(r);
      for (const n of ['updatedReplicas', 'unavailableReplicas']) r = move(r, `status.deprecated.v1beta1.${n}`, `status.${n}`);
      r = move(r, 'status.upToDateReplicas', 'status.v1beta2.upToDateReplicas');
      r = countersFromHub(r, MD_COUNTERS);
      return r;
    },
  },
};

export const MachineHealthCheckKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'MachineHealthCheck',
  plural: 'machinehealthchecks',
  shortNames: ['mhc', 'mhcs'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: crdLabels,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'MachineHealthCheck is the Schema for the machinehealthchecks API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string().min(1).max(63).optional(),
            selector: labelSelector.optional(),
            checks: z
              .object({
                nodeStartupTimeoutSeconds: z.number().int().optional(),
                unhealthyNodeConditions: z
                  .array(z.object({ type: z.string(), status: z.string(), timeoutSeconds: z.number().int().optional() }))
                  .optional(),
                unhealthyMachineConditions: z
                  .array(
                    z.object({
                      type: z.string(),
                      status: z.enum(['True', 'False', 'Unknown']),
                      timeoutSeconds: z.number().int().optional(),
                    }),
                  )
                  .optional(),
              })
              .optional(),
            remediation: z
              .object({
                triggerIf: z
                  .object({ unhealthyLessThanOrEqualTo: intOrString.optional(), unhealthyInRange: z.string().optional() })
                  .optional(),
                templateRef: z
                  .object({ kind: z.string().optional(), name: z.string().optional(), apiVersion: z.string().optional() })
                  .optional(),
              })
              .optional(),
          })
          .optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            expectedMachines: z.number().int().optional(),
            currentHealthy: z.number().int().optional(),
            remediationsAllowed: z.number().int().optional(),
            observedGeneration: z.number().int().optional(),
            targets: z.array(z.string()).optional(),
            deprecated: deprecatedV1beta1().optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        { name: 'Replicas', type: 'integer', jsonPath: '.status.expectedMachines', description: 'Number of machines currently monitored' },
        { name: 'Healthy', type: 'integer', jsonPath: '.status.currentHealthy', description: 'Current observed healthy machines' },
        pausedColumn,
        { ...age, description: 'Time duration since creation of MachineHealthCheck' },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'MachineHealthCheck is the Schema for the machinehealthchecks API.',
      schema: z.object({
        spec: z
          .object({
            clusterName: z.string(),
            selector: labelSelector,
            unhealthyConditions: z.array(z.object({ type: z.string(), status: z.string(), timeout: z.string() })).optional(),
            unhealthyMachineConditions: z
              .array(z.object({ type: z.string().optional(), status: z.string().optional(), timeout: z.string() }))
              .optional(),
            maxUnhealthy: intOrString.optional(),
            unhealthyRange: z.string().optional(),
            nodeStartupTimeout: z.string().optional(),
            remediationTemplate: objectReference.optional(),
          })
          .optional(),
        status: z
          .object({
            expectedMachines: z.number().int().optional(),
            currentHealthy: z.number().int().optional(),
            remediationsAllowed: z.number().int().optional(),
            observedGeneration: z.number().int().optional(),
            targets: z.array(z.string()).optional(),
            conditions: z.array(v1beta1Condition).optional(),
            v1beta2: z.object({ conditions: z.array(condition).optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        clusterColumn,
        {
          name: 'ExpectedMachines',
          type: 'integer',
          jsonPath: '.status.expectedMachines',
          description: 'Number of machines currently monitored',
        },
        {
          name: 'MaxUnhealthy',
          type: 'string',
          jsonPath: '.spec.maxUnhealthy',
          description: 'Maximum number of unhealthy machines allowed',
        },
        { name: 'CurrentHealthy', type: 'integer', jsonPath: '.status.currentHealthy', description: 'Current observed healthy machines' },
        { ...age, description: 'Time duration since creation of MachineHealthCheck' },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = durationToSeconds(o, 'spec.nodeStartupTimeout', 'spec.checks.nodeStartupTimeoutSeconds');
      for (const [from, to] of [
        ['unhealthyConditions', 'unhealthyNodeConditions'],
        ['unhealthyMachineConditions', 'unhealthyMachineConditions'],
      ]) {
        const list = getPath(r, `spec.${from}`);
        r = setPath(r, `spec.${from}`, undefined);
        if (Array.isArray(list)) {
          r = setPath(
            r,
            `spec.checks.${to}`,
            (list as Obj[]).map((c) => durationToSeconds(c, 'timeout', 'timeoutSeconds')),
          );
        }
      }
      r = move(r, 'spec.maxUnhealthy', 'spec.remediation.triggerIf.unhealthyLessThanOrEqualTo');
      r = move(r, 'spec.unhealthyRange', 'spec.remediation.triggerIf.unhealthyInRange');
      const tmpl = getPath(r, 'spec.remediationTemplate');
      r = setPath(r, 'spec.remediationTemplate', undefined);
      if (isObj(tmpl)) r = setPath(r, 'spec.remediation.templateRef', { apiVersion: tmpl.apiVersion, kind: tmpl.kind, name: tmpl.name });
      return conditionsToV1beta2(r);
    },
    fromHub(o) {
      let r = secondsToDuration(o, 'spec.checks.nodeStartupTimeoutSeconds', 'spec.nodeStartupTimeout');
      for (const [to, from] of [
        ['unhealthyConditions', 'unhealthyNodeConditions'],
        ['unhealthyMachineConditions', 'unhealthyMachineConditions'],
      ]) {
        const list = getPath(r, `spec.checks.${from}`);
        r = setPath(r, `spec.checks.${from}`, undefined);
        if (Array.isArray(list))
          r = setPath(
            r,
            `spec.${to}`,
            (list as Obj[]).map((c) => secondsToDuration(c, 'timeoutSeconds', 'timeout')),
          );
      }
      r = pruneEmpty(r, 'spec.checks');
      r = move(r, 'spec.remediation.triggerIf.unhealthyLessThanOrEqualTo', 'spec.maxUnhealthy');
      r = move(r, 'spec.remediation.triggerIf.unhealthyInRange', 'spec.unhealthyRange');
      r = pruneEmpty(r, 'spec.remediation.triggerIf');
      const tmpl = getPath(r, 'spec.remediation.templateRef');
      r = setPath(r, 'spec.remediation.templateRef', undefined);
      r = pruneEmpty(r, 'spec.remediation');
      if (isObj(tmpl)) r = setPath(r, 'spec.remediationTemplate', { ...tmpl, namespace: getPath(o, 'metadata.namespace') });
      return conditionsToV1beta1(r);
    },
  },
};
