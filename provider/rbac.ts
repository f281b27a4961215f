// What each component may do in the cluster it manages, declared next to the composition root and
// turned into ClusterRoles by `ferrite release manifests`. Least privilege: verbs are listed (never
// `*`) and each kind gets only what its controllers do with it. The release test runs every
// component with nothing but its ServiceAccount's token on a real kube-apiserver, so a missing rule
// fails CI. As in Cluster API, the core controllers act on any provider's kinds (they follow
// references by contract), so they get the provider groups' resources, still with listed verbs.
import type { Component } from './controllers.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'update', 'patch', 'delete'];
const ALL = [...READ, ...WRITE];
const STATUS = ['get', 'update', 'patch'];

const rule = (group: string, resources: string[], verbs: string[]): PolicyRule => ({ apiGroups: [group], resources, verbs });
/** the kinds, their status and their finalizers (ownerReference blockOwnerDeletion needs the owner's finalizers subresource) */
const owned = (group: string, plurals: string[], verbs = ALL): PolicyRule[] => [
  rule(group, plurals, verbs),
  rule(
    group,
    plurals.flatMap((p) => [`${p}/status`]),
    STATUS,
  ),
  rule(
    group,
    plurals.map((p) => `${p}/finalizers`),
    ['update'],
  ),
];

/** Every manager: Events, reading CRDs (conversion, contract versions), secure metrics reviews. */
export const COMMON_RULES: PolicyRule[] = [
  rule('', ['events'], ['create', 'patch']),
  rule('events.k8s.io', ['events'], ['create', 'patch']),
  rule('apiextensions.k8s.io', ['customresourcedefinitions'], READ),
  rule('authentication.k8s.io', ['tokenreviews'], ['create']),
  rule('authorization.k8s.io', ['subjectaccessreviews'], ['create']),
];

/** In the component's own namespace: its leader-election Lease and its webhook certificate Secret. */
export const LEADER_ELECTION_RULES: PolicyRule[] = [
  rule('coordination.k8s.io', ['leases'], ['get', 'list', 'watch', 'create', 'update', 'patch']),
  rule('', ['secrets'], ['get', 'create', 'update']),
];

export const RULES: Record<Component, PolicyRule[]> = {
  bmo: [
    ...owned('metal3.io', [
      'baremetalhosts',
      'bmceventsubscriptions',
      'dataimages',
      'hostfirmwaresettings',
      'hostfirmwarecomponents',
      'hostclaims',
      'preprovisioningimages',
    ]),
    rule('metal3.io', ['firmwareschemas', 'hardwaredata'], ALL),
    // HostClaims are bound within the namespaces HostDeployPolicies open (matched by their labels);
    // the HostNetworkAttachment webhook reads the hosts that use an attachment
    rule('metal3.io', ['hostdeploypolicies', 'hostnetworkattachments'], READ),
    // a HostUpdatePolicy gets its host as owner
    rule('metal3.io', ['hostupdatepolicies'], [...READ, 'update', 'patch']),
    rule('', ['namespaces'], ['get']),
    // BareMetalSwitches report Valid; their configuration goes into Secrets the operator writes
    rule('metal3.io', ['baremetalswitches'], READ),
    rule('metal3.io', ['baremetalswitches/status'], STATUS),
    // BMC credentials and user/network/meta data; BMO labels the Secrets it uses so its cache sees them
    rule('', ['secrets'], [...READ, 'create', 'update', 'patch']),
  ],
  ipam: [
    ...owned('ipam.metal3.io', ['ippools', 'ipclaims', 'ipaddresses']),
    ...owned('ipam.cluster.x-k8s.io', ['ipaddressclaims', 'ipaddresses']),
    rule('cluster.x-k8s.io', ['clusters'], READ),
  ],
  capm3: [
    ...owned('infrastructure.cluster.x-k8s.io', [
      'metal3clusters',
      'metal3machines',
      'metal3machinetemplates',
      'metal3datatemplates',
      'metal3datas',
      'metal3dataclaims',
      'metal3remediations',
      'metal3remediationtemplates',
      'metal3clustertemplates',
    ]),
    // CAPM3 claims hosts: it writes their consumerRef, image, user data and annotations
    rule('metal3.io', ['baremetalhosts'], [...READ, 'update', 'patch']),
    rule('metal3.io', ['baremetalhosts/status'], ['get']),
    rule('cluster.x-k8s.io', ['clusters', 'machines', 'machinesets', 'machinedeployments'], READ),
    rule('cluster.x-k8s.io', ['machines'], ['update', 'patch', 'delete']),
    rule('ipam.metal3.io', ['ipclaims'], ALL),
    rule('ipam.metal3.io', ['ipaddresses', 'ippools'], READ),
    rule('ipam.cluster.x-k8s.io', ['ipaddressclaims'], ALL),
    rule('ipam.cluster.x-k8s.io', ['ipaddresses'], READ),
    // rendered user data and network data Secrets; the workload kubeconfig Secret
    rule('', ['secrets'], ALL),
  ],
  capi: [
    ...owned('cluster.x-k8s.io', ['clusters', 'clusterclasses', 'machines', 'machinesets', 'machinedeployments', 'machinehealthchecks']),
    ...['bootstrap.cluster.x-k8s.io', 'controlplane.cluster.x-k8s.io', 'infrastructure.cluster.x-k8s.io'].map((g) => ({
      apiGroups: [g],
      resources: ['*'],
      verbs: ALL,
    })),
    rule('', ['secrets'], ALL),
    rule('', ['configmaps'], READ),
  ],
  'kubeadm-bootstrap': [
    ...owned('bootstrap.cluster.x-k8s.io', ['kubeadmconfigs', 'kubeadmconfigtemplates']),
    rule('cluster.x-k8s.io', ['clusters', 'machines', 'machinesets', 'machinepools'], READ),
    rule('controlplane.cluster.x-k8s.io', ['kubeadmcontrolplanes'], READ),
    // bootstrap data Secrets and the cluster certificates; the ConfigMap that lets one machine run `kubeadm init`
    rule('', ['secrets'], ALL),
    rule('', ['configmaps'], ALL),
  ],
  'kubeadm-control-plane': [
    ...owned('controlplane.cluster.x-k8s.io', ['kubeadmcontrolplanes', 'kubeadmcontrolplanetemplates']),
    rule('cluster.x-k8s.io', ['clusters', 'clusters/status'], [...READ, 'update', 'patch']),
    rule('cluster.x-k8s.io', ['machines'], ALL),
    // KCP keeps its control plane conditions on the Machines it owns
    rule('cluster.x-k8s.io', ['machines/status'], STATUS),
    rule('bootstrap.cluster.x-k8s.io', ['kubeadmconfigs'], ALL),
    rule('infrastructure.cluster.x-k8s.io', ['*'], ALL),
    rule('', ['secrets'], ALL),
    rule('', ['configmaps'], READ),
  ],
};

/** Who may scrape a secure /metrics endpoint (bind it to Prometheus' ServiceAccount). */
export const METRICS_READER_RULES: PolicyRule[] = [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }];

/**
 * Keeping the webhook certificate (--webhook-cert-secret): the Secret in the component's namespace
 * (granted in its namespace by LEADER_ELECTION_RULES), and the caBundle of exactly its
 * own webhook configurations and CRDs.
 */
export function webhookCertRules(webhookConfigurations: string[], crds: string[]): PolicyRule[] {
  return [
    ...(webhookConfigurations.length
      ? [
          {
            apiGroups: ['admissionregistration.k8s.io'],
            resources: ['validatingwebhookconfigurations'],
            resourceNames: webhookConfigurations,
            verbs: ['get', 'update', 'patch'],
          },
        ]
      : []),
    ...(crds.length
      ? [{ apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], resourceNames: crds, verbs: ['update', 'patch'] }]
      : []),
  ];
}
