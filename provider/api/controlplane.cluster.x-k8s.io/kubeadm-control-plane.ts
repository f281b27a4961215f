// KubeadmControlPlane and KubeadmControlPlaneTemplate (controlplane.cluster.x-k8s.io) at v1beta2
// (storage) and v1beta1, with upstream's field names and conversions.
import { z } from 'zod';
import {
  configSpecFromHub,
  configSpecToHub,
  kubeadmConfigSpecV1beta1,
  kubeadmConfigSpecV1beta2,
} from '../bootstrap.cluster.x-k8s.io/kubeadm.js';
import { refToV1beta1, refToV1beta2 } from '../cluster.x-k8s.io/cluster.js';
import { age, condition, contractVersionedRef, deprecatedV1beta1, objectReference, v1beta1Condition } from '../cluster.x-k8s.io/common.js';
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

type Obj = Record<string, unknown>;

const meta = z.object({ labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() });
const readinessGate = z.object({ conditionType: z.string().min(1), polarity: z.enum(['Positive', 'Negative']).optional() });
const taint = z.object({ key: z.string(), value: z.string().optional(), effect: z.string(), propagation: z.string().optional() });
const statusVersion = z.object({ version: z.string(), replicas: z.number().int().optional() });

const specV1beta2 = z.object({
  replicas: z.number().int().optional(),
  version: z.string().min(1).max(256).optional(),
  machineTemplate: z
    .object({
      metadata: meta.optional(),
      spec: z
        .object({
          infrastructureRef: contractVersionedRef.optional(),
          readinessGates: z.array(readinessGate).optional(),
          deletion: z
            .object({
              nodeDrainTimeoutSeconds: z.number().int().optional(),
              nodeVolumeDetachTimeoutSeconds: z.number().int().optional(),
              nodeDeletionTimeoutSeconds: z.number().int().optional(),
            })
            .optional(),
          taints: z.array(taint).optional(),
        })
        .optional(),
    })
    .optional(),
  kubeadmConfigSpec: kubeadmConfigSpecV1beta2.optional(),
  rollout: z
    .object({
      before: z.object({ certificatesExpiryDays: z.number().int().optional() }).optional(),
      after: z.string().optional(),
      strategy: z
        .object({ type: z.enum(['RollingUpdate']).optional(), rollingUpdate: z.object({ maxSurge: intOrString.optional() }).optional() })
        .optional(),
    })
    .optional(),
  remediation: z
    .object({
      maxRetry: z.number().int().optional(),
      retryPeriodSeconds: z.number().int().optional(),
      minHealthyPeriodSeconds: z.number().int().optional(),
    })
    .optional(),
  machineNaming: z.object({ template: z.string().optional() }).optional(),
});

const specV1beta1 = z.object({
  replicas: z.number().int().optional(),
  version: z.string(),
  machineTemplate: z.object({
    metadata: meta.optional(),
    infrastructureRef: objectReference,
    readinessGates: z.array(readinessGate).optional(),
    nodeDrainTimeout: z.string().optional(),
    nodeVolumeDetachTimeout: z.string().optional(),
    nodeDeletionTimeout: z.string().optional(),
    taints: z.array(taint).optional(),
  }),
  kubeadmConfigSpec: kubeadmConfigSpecV1beta1,
  rolloutBefore: z.object({ certificatesExpiryDays: z.number().int().optional() }).optional(),
  rolloutAfter: z.string().optional(),
  rolloutStrategy: z
    .object({ type: z.enum(['RollingUpdate']).optional(), rollingUpdate: z.object({ maxSurge: intOrString.optional() }).optional() })
    .optional(),
  remediationStrategy: z
    .object({ maxRetry: z.number().int().optional(), retryPeriod: z.string().optional(), minHealthyPeriod: z.string().optional() })
    .optional(),
  machineNamingStrategy: z.object({ template: z.string().optional() }).optional(),
});

export type KubeadmControlPlaneSpec = z.infer<typeof specV1beta2>;

const DURATIONS: Array<[string, string]> = [
  ['nodeDrainTimeout', 'nodeDrainTimeoutSeconds'],
  ['nodeVolumeDetachTimeout', 'nodeVolumeDetachTimeoutSeconds'],
  ['nodeDeletionTimeout', 'nodeDeletionTimeoutSeconds'],
];
const MOVES: Array<[string, string]> = [
  ['spec.rolloutBefore', 'spec.rollout.before'],
  ['spec.rolloutAfter', 'spec.rollout.after'],
  ['spec.rolloutStrategy', 'spec.rollout.strategy'],
  ['spec.remediationStrategy.maxRetry', 'spec.remediation.maxRetry'],
  ['spec.machineNamingStrategy', 'spec.machineNaming'],
  ['spec.machineTemplate.readinessGates', 'spec.machineTemplate.spec.readinessGates'],
  ['spec.machineTemplate.taints', 'spec.machineTemplate.spec.taints'],
];

function specToHub(o: Obj, base: string): Obj {
  let r = configSpecToHub(o, `${base}.kubeadmConfigSpec`);
  for (const [a, b] of MOVES) r = move(r, a.replace(/^spec/, base), b.replace(/^spec/, base));
  r = durationToSeconds(r, `${base}.remediationStrategy.retryPeriod`, `${base}.remediation.retryPeriodSeconds`);
  r = durationToSeconds(r, `${base}.remediationStrategy.minHealthyPeriod`, `${base}.remediation.minHealthyPeriodSeconds`);
  r = setPath(r, `${base}.remediationStrategy`, undefined);
  const ref = getPath(r, `${base}.machineTemplate.infrastructureRef`);
  r = setPath(r, `${base}.machineTemplate.infrastructureRef`, undefined);
  if (ref !== undefined) r = setPath(r, `${base}.machineTemplate.spec.infrastructureRef`, refToV1beta2(ref));
  for (const [from, to] of DURATIONS)
    r = durationToSeconds(r, `${base}.machineTemplate.${from}`, `${base}.machineTemplate.spec.deletion.${to}`);
  return r;
}

function specFromHub(o: Obj, base: string, ctx: ConversionContext): Obj {
  let r = configSpecFromHub(o, `${base}.kubeadmConfigSpec`);
  for (const [a, b] of MOVES) r = move(r, b.replace(/^spec/, base), a.replace(/^spec/, base));
  r = secondsToDuration(r, `${base}.remediation.retryPeriodSeconds`, `${base}.remediationStrategy.retryPeriod`);
  r = secondsToDuration(r, `${base}.remediation.minHealthyPeriodSeconds`, `${base}.remediationStrategy.minHealthyPeriod`);
  r = setPath(r, `${base}.remediation`, undefined);
  r = setPath(r, `${base}.rollout`, undefined);
  for (const [from, to] of DURATIONS)
    r = secondsToDuration(r, `${base}.machineTemplate.spec.deletion.${to}`, `${base}.machineTemplate.${from}`);
  const ref = getPath(r, `${base}.machineTemplate.spec.infrastructureRef`);
  if (ref !== undefined)
    r = setPath(r, `${base}.machineTemplate.infrastructureRef`, refToV1beta1(ref, getPath(o, 'metadata.namespace'), ctx));
  r = setPath(r, `${base}.machineTemplate.spec`, undefined);
  return r;
}

const GROUP = 'controlplane.cluster.x-k8s.io';
const LABELS = {
  'cluster.x-k8s.io/provider': 'control-plane-kubeadm',
  'cluster.x-k8s.io/v1beta1': 'v1beta1',
  'cluster.x-k8s.io/v1beta2': 'v1beta2',
};
const scale = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };
const clusterColumn = {
  name: 'Cluster',
  type: 'string',
  jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']",
  description: 'Cluster',
};

export const KubeadmControlPlaneKind: KindDefinition = {
  group: GROUP,
  kind: 'KubeadmControlPlane',
  plural: 'kubeadmcontrolplanes',
  shortNames: ['kcp'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      scale,
      description: 'KubeadmControlPlane is the Schema for the KubeadmControlPlane API.',
      schema: z.object({
        spec: specV1beta2.optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            initialization: z.object({ controlPlaneInitialized: z.boolean().optional() }).optional(),
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            availableReplicas: z.number().int().optional(),
            upToDateReplicas: z.number().int().optional(),
            versions: z.array(statusVersion).optional(),
            version: z.string().optional(),
            observedGeneration: z.number().int().optional(),
            lastRemediation: z
              .object({ machine: z.string().optional(), time: z.string().optional(), retryCount: z.number().int().optional() })
              .optional(),
            deprecated: deprecatedV1beta1({
              failureReason: z.string().optional(),
              failureMessage: z.string().optional(),
              updatedReplicas: z.number().int().optional(),
              readyReplicas: z.number().int().optional(),
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
        {
          name: 'Paused',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Paused")].status',
          description: 'Reconciliation paused',
          priority: 10,
        },
        {
          name: 'Initialized',
          type: 'boolean',
          jsonPath: '.status.initialization.controlPlaneInitialized',
          description: 'This denotes whether or not the control plane can accept requests',
        },
        { ...age, description: 'Time duration since creation of KubeadmControlPlane' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.version',
          description: 'Kubernetes version associated with this control plane',
        },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      scale,
      description: 'KubeadmControlPlane is the Schema for the KubeadmControlPlane API.',
      schema: z.object({
        spec: specV1beta1.optional(),
        status: z
          .object({
            selector: z.string().optional(),
            replicas: z.number().int().optional(),
            version: z.string().optional(),
            updatedReplicas: z.number().int().optional(),
            readyReplicas: z.number().int().optional(),
            unavailableReplicas: z.number().int().optional(),
            initialized: z.boolean().optional(),
            ready: z.boolean().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            observedGeneration: z.number().int().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            lastRemediation: z.object({ machine: z.string(), timestamp: z.string(), retryCount: z.number().int() }).optional(),
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
          name: 'Initialized',
          type: 'boolean',
          jsonPath: '.status.initialized',
          description: 'This denotes whether or not the control plane has the uploaded kubeadm-config configmap',
        },
        {
          name: 'API Server Available',
          type: 'boolean',
          jsonPath: '.status.ready',
          description: 'KubeadmControlPlane API Server is ready to receive requests',
        },
        {
          name: 'Desired',
          type: 'integer',
          jsonPath: '.spec.replicas',
          description: 'Total number of machines desired by this control plane',
          priority: 10,
        },
        {
          name: 'Replicas',
          type: 'integer',
          jsonPath: '.status.replicas',
          description: 'Total number of non-terminated machines targeted by this control plane',
        },
        {
          name: 'Ready',
          type: 'integer',
          jsonPath: '.status.readyReplicas',
          description: 'Total number of fully running and ready control plane machines',
        },
        {
          name: 'Updated',
          type: 'integer',
          jsonPath: '.status.updatedReplicas',
          description: 'Total number of non-terminated machines targeted by this control plane that have the desired template spec',
        },
        {
          name: 'Unavailable',
          type: 'integer',
          jsonPath: '.status.unavailableReplicas',
          description: 'Total number of unavailable machines targeted by this control plane',
        },
        { ...age, description: 'Time duration since creation of KubeadmControlPlane' },
        {
          name: 'Version',
          type: 'string',
          jsonPath: '.spec.version',
          description: 'Kubernetes version associated with this control plane',
        },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = specToHub(o, 'spec');
      r = conditionsToV1beta2(r);
      r = move(r, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
      r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
      for (const n of ['updatedReplicas', 'unavailableReplicas', 'readyReplicas'])
        r = move(r, `status.${n}`, `status.deprecated.v1beta1.${n}`);
      for (const n of ['readyReplicas', 'availableReplicas', 'upToDateReplicas']) r = move(r, `status.v1beta2.${n}`, `status.${n}`);
      const init = getPath(r, 'status.initialized');
      r = setPath(r, 'status.initialized', undefined);
      if (init === true) r = setPath(r, 'status.initialization.controlPlaneInitialized', true);
      r = setPath(r, 'status.ready', undefined);
      r = move(r, 'status.lastRemediation.timestamp', 'status.lastRemediation.time');
      return r;
    },
    fromHub(o, _to, ctx) {
      let r = specFromHub(o, 'spec', ctx);
      r = conditionsToV1beta1(r);
      r = move(r, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
      r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
      for (const n of ['readyReplicas', 'availableReplicas', 'upToDateReplicas']) r = move(r, `status.${n}`, `status.v1beta2.${n}`);
      for (const n of ['updatedReplicas', 'unavailableReplicas', 'readyReplicas'])
        r = move(r, `status.deprecated.v1beta1.${n}`, `status.${n}`);
      const init = getPath(r, 'status.initialization.controlPlaneInitialized');
      r = setPath(r, 'status.initialization', undefined);
      if (init === true) {
        r = setPath(r, 'status.initialized', true);
        // v1beta1's ready: the API server answers, which initialization implies here
        r = setPath(r, 'status.ready', true);
      }
      r = move(r, 'status.lastRemediation.time', 'status.lastRemediation.timestamp');
      if (isObj(getPath(r, 'status')) && Object.keys(getPath(r, 'status') as Obj).length === 0) r = setPath(r, 'status', undefined);
      return r;
    },
  },
};

export const KubeadmControlPlaneTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'KubeadmControlPlaneTemplate',
  plural: 'kubeadmcontrolplanetemplates',
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      description: 'KubeadmControlPlaneTemplate is the Schema for the kubeadmcontrolplanetemplates API.',
      schema: z.object({
        spec: z
          .object({ template: z.object({ metadata: meta.optional(), spec: z.record(z.string(), z.unknown()).optional() }).optional() })
          .optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of KubeadmControlPlaneTemplate' }],
    },
    {
      name: 'v1beta1',
      storage: false,
      description: 'KubeadmControlPlaneTemplate is the Schema for the kubeadmcontrolplanetemplates API.',
      schema: z.object({
        spec: z
          .object({ template: z.object({ metadata: meta.optional(), spec: z.record(z.string(), z.unknown()).optional() }) })
          .optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of KubeadmControlPlaneTemplate' }],
    },
  ],
  conversion: { toHub: (o) => o, fromHub: (o) => o },
};
