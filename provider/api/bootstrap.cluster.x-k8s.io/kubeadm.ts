// The kubeadm bootstrap provider's kinds (bootstrap.cluster.x-k8s.io): KubeadmConfig and
// KubeadmConfigTemplate at v1beta2 (storage) and v1beta1, and the KubeadmConfigSpec the control
// plane kinds embed. Field names from Cluster API's api/bootstrap/kubeadm; v1beta1's maps of extra
// arguments become v1beta2's lists of {name, value}, durations become *Seconds.
import { z } from 'zod';
import { age, condition, deprecatedV1beta1, v1beta1Condition } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import {
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

const argList = z.array(z.object({ name: z.string().min(1), value: z.string().optional() }));
const argMap = z.record(z.string(), z.string());
const taint = z.object({ key: z.string(), value: z.string().optional(), effect: z.string(), timeAdded: z.string().optional() });
const hostPathMount = z.object({
  name: z.string(),
  hostPath: z.string(),
  mountPath: z.string(),
  readOnly: z.boolean().optional(),
  pathType: z.string().optional(),
});
const envs = z.array(z.record(z.string(), z.unknown()));
const endpoint = z.object({ advertiseAddress: z.string().optional(), bindPort: z.number().int().optional() });

function component(args: z.ZodType) {
  return z.object({ extraArgs: args.optional(), extraVolumes: z.array(hostPathMount).optional(), extraEnvs: envs.optional() });
}

function nodeRegistration(args: z.ZodType) {
  return z.object({
    name: z.string().optional(),
    criSocket: z.string().optional(),
    taints: z.array(taint).optional(),
    kubeletExtraArgs: args.optional(),
    ignorePreflightErrors: z.array(z.string()).optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    imagePullSerial: z.boolean().optional(),
  });
}

const timeouts = z.object({
  controlPlaneComponentHealthCheckSeconds: z.number().int().optional(),
  kubeletHealthCheckSeconds: z.number().int().optional(),
  kubernetesAPICallSeconds: z.number().int().optional(),
  etcdAPICallSeconds: z.number().int().optional(),
  tlsBootstrapSeconds: z.number().int().optional(),
  discoverySeconds: z.number().int().optional(),
});

const discovery = (v1: boolean) =>
  z.object({
    bootstrapToken: z
      .object({
        token: z.string().optional(),
        apiServerEndpoint: z.string().optional(),
        caCertHashes: z.array(z.string()).optional(),
        unsafeSkipCAVerification: z.boolean().optional(),
      })
      .optional(),
    file: z.record(z.string(), z.unknown()).optional(),
    tlsBootstrapToken: z.string().optional(),
    ...(v1 ? { timeout: z.string().optional() } : {}),
  });

function etcd(args: z.ZodType) {
  return z.object({
    local: z
      .object({
        imageRepository: z.string().optional(),
        imageTag: z.string().optional(),
        dataDir: z.string().optional(),
        extraArgs: args.optional(),
        extraEnvs: envs.optional(),
        serverCertSANs: z.array(z.string()).optional(),
        peerCertSANs: z.array(z.string()).optional(),
      })
      .optional(),
    external: z
      .object({
        endpoints: z.array(z.string()).optional(),
        caFile: z.string().optional(),
        certFile: z.string().optional(),
        keyFile: z.string().optional(),
      })
      .optional(),
  });
}

const file = z.object({
  path: z.string(),
  owner: z.string().optional(),
  permissions: z.string().optional(),
  encoding: z.enum(['base64', 'gzip', 'gzip+base64']).optional(),
  append: z.boolean().optional(),
  content: z.string().optional(),
  contentFrom: z.object({ secret: z.object({ name: z.string(), key: z.string() }) }).optional(),
  contentFormat: z.enum(['Raw', 'Template']).optional(),
});
const user = z.object({
  name: z.string(),
  gecos: z.string().optional(),
  groups: z.string().optional(),
  homeDir: z.string().optional(),
  inactive: z.boolean().optional(),
  shell: z.string().optional(),
  passwd: z.string().optional(),
  passwdFrom: z.object({ secret: z.object({ name: z.string(), key: z.string() }) }).optional(),
  primaryGroup: z.string().optional(),
  lockPassword: z.boolean().optional(),
  sudo: z.string().optional(),
  sshAuthorizedKeys: z.array(z.string()).optional(),
});
const diskSetup = z.object({
  partitions: z.array(z.record(z.string(), z.unknown())).optional(),
  filesystems: z.array(z.record(z.string(), z.unknown())).optional(),
});

function configSpec(v1: boolean) {
  const args = v1 ? argMap : argList;
  const bootstrapToken = z.object({
    token: z.string().optional(),
    description: z.string().optional(),
    ...(v1 ? { ttl: z.string().optional() } : { ttlSeconds: z.number().int().optional() }),
    expires: z.string().optional(),
    usages: z.array(z.string()).optional(),
    groups: z.array(z.string()).optional(),
  });
  return z.object({
    clusterConfiguration: z
      .object({
        etcd: etcd(args).optional(),
        controlPlaneEndpoint: z.string().optional(),
        apiServer: component(args)
          .extend({ certSANs: z.array(z.string()).optional(), ...(v1 ? { timeoutForControlPlane: z.string().optional() } : {}) })
          .optional(),
        controllerManager: component(args).optional(),
        scheduler: component(args).optional(),
        dns: z.object({ imageRepository: z.string().optional(), imageTag: z.string().optional() }).optional(),
        certificatesDir: z.string().optional(),
        imageRepository: z.string().optional(),
        featureGates: z.record(z.string(), z.boolean()).optional(),
        certificateValidityPeriodDays: z.number().int().optional(),
        caCertificateValidityPeriodDays: z.number().int().optional(),
        encryptionAlgorithm: z.string().optional(),
        ...(v1
          ? {
              networking: z
                .object({ serviceSubnet: z.string().optional(), podSubnet: z.string().optional(), dnsDomain: z.string().optional() })
                .optional(),
              kubernetesVersion: z.string().optional(),
              clusterName: z.string().optional(),
              apiVersion: z.string().optional(),
              kind: z.string().optional(),
            }
          : {}),
      })
      .optional(),
    initConfiguration: z
      .object({
        bootstrapTokens: z.array(bootstrapToken).optional(),
        nodeRegistration: nodeRegistration(args).optional(),
        localAPIEndpoint: endpoint.optional(),
        skipPhases: z.array(z.string()).optional(),
        patches: z.object({ directory: z.string().optional() }).optional(),
        ...(v1 ? { apiVersion: z.string().optional(), kind: z.string().optional() } : { timeouts: timeouts.optional() }),
      })
      .optional(),
    joinConfiguration: z
      .object({
        nodeRegistration: nodeRegistration(args).optional(),
        caCertPath: z.string().optional(),
        discovery: discovery(v1).optional(),
        controlPlane: z.object({ localAPIEndpoint: endpoint.optional() }).optional(),
        skipPhases: z.array(z.string()).optional(),
        patches: z.object({ directory: z.string().optional() }).optional(),
        ...(v1 ? { apiVersion: z.string().optional(), kind: z.string().optional() } : { timeouts: timeouts.optional() }),
      })
      .optional(),
    files: z.array(file).optional(),
    diskSetup: diskSetup.optional(),
    mounts: z.array(z.array(z.string())).optional(),
    bootCommands: z.array(z.string()).optional(),
    preKubeadmCommands: z.array(z.string()).optional(),
    postKubeadmCommands: z.array(z.string()).optional(),
    users: z.array(user).optional(),
    ntp: z.object({ servers: z.array(z.string()).optional(), enabled: z.boolean().optional() }).optional(),
    format: z.enum(['cloud-config', 'ignition']).optional(),
    verbosity: z.number().int().optional(),
    ignition: z
      .object({ containerLinuxConfig: z.object({ additionalConfig: z.string().optional(), strict: z.boolean().optional() }).optional() })
      .optional(),
    ...(v1 ? { useExperimentalRetryJoin: z.boolean().optional() } : {}),
  });
}

export const kubeadmConfigSpecV1beta2 = configSpec(false);
export const kubeadmConfigSpecV1beta1 = configSpec(true);
export type KubeadmConfigSpec = z.infer<typeof kubeadmConfigSpecV1beta2>;

const ARG_PATHS = [
  'clusterConfiguration.apiServer.extraArgs',
  'clusterConfiguration.controllerManager.extraArgs',
  'clusterConfiguration.scheduler.extraArgs',
  'clusterConfiguration.etcd.local.extraArgs',
  'initConfiguration.nodeRegistration.kubeletExtraArgs',
  'joinConfiguration.nodeRegistration.kubeletExtraArgs',
];

/** A KubeadmConfigSpec at `base`, v1beta1 → v1beta2. */
export function configSpecToHub(o: Obj, base: string): Obj {
  let r = o;
  for (const p of ARG_PATHS) {
    const m = getPath(r, `${base}.${p}`);
    if (isObj(m)) {
      r = setPath(
        r,
        `${base}.${p}`,
        Object.keys(m)
          .sort()
          .map((name) => ({ name, value: String(m[name]) })),
      );
    }
  }
  r = durationToSeconds(
    r,
    `${base}.clusterConfiguration.apiServer.timeoutForControlPlane`,
    `${base}.initConfiguration.timeouts.controlPlaneComponentHealthCheckSeconds`,
  );
  r = durationToSeconds(r, `${base}.joinConfiguration.discovery.timeout`, `${base}.joinConfiguration.timeouts.tlsBootstrapSeconds`);
  const tokens = getPath(r, `${base}.initConfiguration.bootstrapTokens`);
  if (Array.isArray(tokens))
    r = setPath(
      r,
      `${base}.initConfiguration.bootstrapTokens`,
      (tokens as Obj[]).map((t) => durationToSeconds(t, 'ttl', 'ttlSeconds')),
    );
  // v1beta2 takes these from the Cluster and the kubeadm types' own headers
  for (const p of ['networking', 'kubernetesVersion', 'clusterName', 'apiVersion', 'kind'])
    r = setPath(r, `${base}.clusterConfiguration.${p}`, undefined);
  for (const c of ['initConfiguration', 'joinConfiguration']) {
    for (const p of ['apiVersion', 'kind']) r = setPath(r, `${base}.${c}.${p}`, undefined);
  }
  r = setPath(r, `${base}.useExperimentalRetryJoin`, undefined);
  for (const p of ['clusterConfiguration', 'initConfiguration', 'joinConfiguration']) {
    const v = getPath(r, `${base}.${p}`);
    if (isObj(v) && Object.keys(v).length === 0) r = setPath(r, `${base}.${p}`, undefined);
  }
  return r;
}

export function configSpecFromHub(o: Obj, base: string): Obj {
  let r = o;
  for (const p of ARG_PATHS) {
    const l = getPath(r, `${base}.${p}`);
    if (Array.isArray(l))
      r = setPath(r, `${base}.${p}`, Object.fromEntries((l as Obj[]).map((a) => [String(a.name), String(a.value ?? '')])));
  }
  r = secondsToDuration(
    r,
    `${base}.initConfiguration.timeouts.controlPlaneComponentHealthCheckSeconds`,
    `${base}.clusterConfiguration.apiServer.timeoutForControlPlane`,
  );
  r = secondsToDuration(r, `${base}.joinConfiguration.timeouts.tlsBootstrapSeconds`, `${base}.joinConfiguration.discovery.timeout`);
  const tokens = getPath(r, `${base}.initConfiguration.bootstrapTokens`);
  if (Array.isArray(tokens))
    r = setPath(
      r,
      `${base}.initConfiguration.bootstrapTokens`,
      (tokens as Obj[]).map((t) => secondsToDuration(t, 'ttlSeconds', 'ttl')),
    );
  // the other timeouts have no v1beta1 field: they stay in the conversion-data annotation
  for (const c of ['initConfiguration', 'joinConfiguration']) r = setPath(r, `${base}.${c}.timeouts`, undefined);
  return r;
}

function statusToHub(o: Obj): Obj {
  let r = conditionsToV1beta2(o);
  r = move(r, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
  r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
  const ready = getPath(r, 'status.ready');
  r = setPath(r, 'status.ready', undefined);
  if (ready === true) r = setPath(r, 'status.initialization.dataSecretCreated', true);
  return r;
}

function statusFromHub(o: Obj): Obj {
  let r = conditionsToV1beta1(o);
  r = move(r, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
  r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
  const created = getPath(r, 'status.initialization.dataSecretCreated');
  r = setPath(r, 'status.initialization', undefined);
  if (created === true) r = setPath(r, 'status.ready', true);
  return r;
}

const GROUP = 'bootstrap.cluster.x-k8s.io';
const LABELS = {
  'cluster.x-k8s.io/provider': 'bootstrap-kubeadm',
  'cluster.x-k8s.io/v1beta1': 'v1beta1',
  'cluster.x-k8s.io/v1beta2': 'v1beta2',
};

export const KubeadmConfigKind: KindDefinition = {
  group: GROUP,
  kind: 'KubeadmConfig',
  plural: 'kubeadmconfigs',
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'KubeadmConfig is the Schema for the kubeadmconfigs API.',
      schema: z.object({
        spec: kubeadmConfigSpecV1beta2.optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            initialization: z.object({ dataSecretCreated: z.boolean().optional() }).optional(),
            dataSecretName: z.string().optional(),
            observedGeneration: z.number().int().optional(),
            deprecated: deprecatedV1beta1({ failureReason: z.string().optional(), failureMessage: z.string().optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']", description: 'Cluster' },
        {
          name: 'Paused',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="Paused")].status',
          description: 'Reconciliation paused',
          priority: 10,
        },
        {
          name: 'Data secret created',
          type: 'string',
          jsonPath: '.status.initialization.dataSecretCreated',
          description: 'Boostrap secret is created',
        },
        { ...age, description: 'Time duration since creation of KubeadmConfig' },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'KubeadmConfig is the Schema for the kubeadmconfigs API.',
      schema: z.object({
        spec: kubeadmConfigSpecV1beta1.optional(),
        status: z
          .object({
            ready: z.boolean().optional(),
            dataSecretName: z.string().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            observedGeneration: z.number().int().optional(),
            conditions: z.array(v1beta1Condition).optional(),
            v1beta2: z.object({ conditions: z.array(condition).optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        { name: 'Cluster', type: 'string', jsonPath: ".metadata.labels['cluster\\.x-k8s\\.io/cluster-name']", description: 'Cluster' },
        { ...age, description: 'Time duration since creation of KubeadmConfig' },
      ],
    },
  ],
  conversion: {
    toHub: (o) => statusToHub(configSpecToHub(o, 'spec')),
    fromHub: (o) => statusFromHub(configSpecFromHub(o, 'spec')),
  },
};

const templateMeta = z.object({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const KubeadmConfigTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'KubeadmConfigTemplate',
  plural: 'kubeadmconfigtemplates',
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      description: 'KubeadmConfigTemplate is the Schema for the kubeadmconfigtemplates API.',
      schema: z.object({
        spec: z
          .object({ template: z.object({ metadata: templateMeta.optional(), spec: kubeadmConfigSpecV1beta2.optional() }).optional() })
          .optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of KubeadmConfigTemplate' }],
    },
    {
      name: 'v1beta1',
      storage: false,
      description: 'KubeadmConfigTemplate is the Schema for the kubeadmconfigtemplates API.',
      schema: z.object({
        spec: z.object({ template: z.object({ metadata: templateMeta.optional(), spec: kubeadmConfigSpecV1beta1.optional() }) }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of KubeadmConfigTemplate' }],
    },
  ],
  conversion: {
    toHub: (o) => configSpecToHub(o, 'spec.template.spec'),
    fromHub: (o) => configSpecFromHub(o, 'spec.template.spec'),
  },
};
