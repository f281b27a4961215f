// `kubeadm init` and `kubeadm join` on a simulated node, with kubeadm's checks and effects as far
// as Cluster API and CAPM3 observe them:
//  - init takes the cluster CA from /etc/kubernetes/pki, brings up the API server at the
//    controlPlaneEndpoint and seeds what kubeadm uploads (kubeadm-config, kubelet-config,
//    kube-proxy and coredns ConfigMaps and workloads, kube-public/cluster-info, the bootstrap RBAC,
//    the InitConfiguration's bootstrap tokens) and writes /etc/kubernetes/admin.conf;
//  - join finds the API server, pins its CA against discovery.bootstrapToken.caCertHashes and
//    authenticates with the bootstrap token, failing with kubeadm's messages when either is wrong;
//    a control plane join also needs the shared certificates and adds this node's members.
import YAML from 'yaml';
import { clientCertKubeconfig, signCertificate } from '../../provider/apiserver/pki.js';
import { caCertHash } from '../../provider/capi/kubeadm/certificates.js';
import { isAlreadyExists, type KubeClient } from '../../provider/kube/client.js';
import type { Clock } from '../machine/clock.js';
import type { WorkloadCluster, WorkloadClusters } from './workload-clusters.js';

type Obj = Record<string, unknown>;

export class KubeadmError extends Error {
  readonly reason = 'KubeadmFailed';
}

export interface KubeadmResult {
  endpoint: string;
  cluster: WorkloadCluster;
  controlPlane: boolean;
  /** the cluster CA a control plane node keeps in /etc/kubernetes/pki (its API server restarts from it) */
  ca?: { certPem: string; keyPem: string };
  nodeRegistration: Obj;
  kubernetesVersion?: string;
}

export function parseDocs(text: string): Obj[] {
  return YAML.parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter((d) => d && typeof d === 'object');
}

async function put(api: KubeClient, o: Obj): Promise<void> {
  try {
    await api.create(o);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** What `kubeadm init` uploads to a new cluster. */
async function seed(api: KubeClient, cc: Obj, endpoint: string, caPem: string, initCfg: Obj): Promise<void> {
  for (const ns of ['kube-system', 'kube-public', 'kube-node-lease'])
    await put(api, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const version = String(cc.kubernetesVersion ?? '');
  const networking = (cc.networking ?? {}) as Obj;
  await put(api, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubeadm-config', namespace: 'kube-system' },
    data: { ClusterConfiguration: YAML.stringify(cc) },
  });
  await put(api, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kubelet-config', namespace: 'kube-system' },
    data: {
      kubelet: YAML.stringify({
        apiVersion: 'kubelet.config.k8s.io/v1beta1',
        kind: 'KubeletConfiguration',
        cgroupDriver: 'systemd',
        clusterDNS: ['10.96.0.10'],
        clusterDomain: String(networking.dnsDomain ?? 'cluster.local'),
        rotateCertificates: true,
        staticPodPath: '/etc/kubernetes/manifests',
      }),
    },
  });
  await put(api, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
    data: {
      'config.conf': YAML.stringify({
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        clusterCIDR: networking.podSubnet ?? '',
      }),
    },
  });
  await put(api, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'coredns', namespace: 'kube-system' },
    data: {
      Corefile: `.:53 {\n    errors\n    health\n    kubernetes ${String(networking.dnsDomain ?? 'cluster.local')} in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n}\n`,
    },
  });
  await put(api, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-dns' } },
        spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.12.0' }] },
      },
    },
  });
  await put(api, {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { 'k8s-app': 'kube-proxy' } },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      template: {
        metadata: { labels: { 'k8s-app': 'kube-proxy' } },
        spec: { containers: [{ name: 'kube-proxy', image: `registry.k8s.io/kube-proxy:${version}` }] },
      },
    },
  });
  await put(api, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cluster-info', namespace: 'kube-public' },
    data: {
      kubeconfig: YAML.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: '', cluster: { server: `https://${endpoint}`, 'certificate-authority-data': b64(caPem) } }],
      }),
    },
  });
  await put(api, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'kubeadm:get-nodes' },
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }],
  });
  await put(api, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeadm:get-nodes' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'kubeadm:get-nodes' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers:kubeadm:default-node-token' }],
  });
  await put(api, {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'kubeadm:kubelet-bootstrap' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-bootstrapper' },
    subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:bootstrappers:kubeadm:default-node-token' }],
  });
  for (const t of (initCfg.bootstrapTokens as Obj[] | undefined) ?? []) {
    const [id, secret] = String(t.token ?? '').split('.');
    if (!id || !secret) continue;
    const ttl = Number(t.ttlSeconds ?? 86_400);
    await put(api, {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'bootstrap.kubernetes.io/token',
      metadata: { name: `bootstrap-token-${id}`, namespace: 'kube-system' },
      data: {
        'token-id': b64(id),
        'token-secret': b64(secret),
        ...(ttl > 0 ? { expiration: b64(new Date(Date.now() + ttl * 1000).toISOString().replace(/\.\d+Z$/, 'Z')) } : {}),
        'usage-bootstrap-authentication': b64('true'),
        'usage-bootstrap-signing': b64('true'),
      },
    });
  }
}

export interface KubeadmEnv {
  files: Map<string, string>;
  clusters: WorkloadClusters;
  clock: Clock;
  member: string;
  log: (line: string) => void;
  signal: AbortSignal;
}

function readCa(env: KubeadmEnv): { certPem: string; keyPem: string } {
  const certPem = env.files.get('/etc/kubernetes/pki/ca.crt');
  const keyPem = env.files.get('/etc/kubernetes/pki/ca.key');
  if (!certPem || !keyPem)
    throw new KubeadmError(
      "[certs] failure loading ca certificate: couldn't load the certificate file /etc/kubernetes/pki/ca.crt: open /etc/kubernetes/pki/ca.crt: no such file or directory",
    );
  return { certPem, keyPem };
}

async function writeAdminConf(env: KubeadmEnv, ca: { certPem: string; keyPem: string }, endpoint: string, clusterName: string) {
  const admin = await signCertificate({ ca, cn: 'kubernetes-admin', organizations: ['system:masters'], client: true });
  env.files.set(
    '/etc/kubernetes/admin.conf',
    clientCertKubeconfig({
      server: `https://${endpoint}`,
      caPem: ca.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
      cluster: clusterName,
      user: 'kubernetes-admin',
    }),
  );
}

export async function kubeadmInit(env: KubeadmEnv, configPath: string): Promise<KubeadmResult> {
  const text = env.files.get(configPath);
  if (!text) throw new KubeadmError(`unable to read config from "${configPath}": open ${configPath}: no such file or directory`);
  const docs = parseDocs(text);
  const cc = docs.find((d) => d.kind === 'ClusterConfiguration') ?? {};
  const ic = docs.find((d) => d.kind === 'InitConfiguration') ?? {};
  const endpoint = String(cc.controlPlaneEndpoint ?? '');
  if (!endpoint.includes(':')) throw new KubeadmError(`invalid controlPlaneEndpoint "${endpoint}": want host:port`);
  const ca = readCa(env);
  env.log(`[init] Using Kubernetes version: ${String(cc.kubernetesVersion ?? '')}`);
  const cluster = await env.clusters.up(endpoint, ca, env.member);
  await seed(cluster.client, cc, endpoint, ca.certPem, ic);
  await writeAdminConf(env, ca, endpoint, String(cc.clusterName ?? 'kubernetes'));
  env.log('Your Kubernetes control-plane has initialized successfully!');
  return {
    endpoint,
    cluster,
    controlPlane: true,
    ca,
    nodeRegistration: (ic.nodeRegistration ?? {}) as Obj,
    kubernetesVersion: cc.kubernetesVersion as string | undefined,
  };
}

export async function kubeadmJoin(env: KubeadmEnv, configPath: string): Promise<KubeadmResult> {
  const text = env.files.get(configPath);
  if (!text) throw new KubeadmError(`unable to read config from "${configPath}": open ${configPath}: no such file or directory`);
  const jc = parseDocs(text).find((d) => d.kind === 'JoinConfiguration') ?? {};
  const bt = ((jc.discovery as Obj | undefined)?.bootstrapToken ?? {}) as Obj;
  const endpoint = String(bt.apiServerEndpoint ?? '');
  const token = String(bt.token ?? '');
  const timeouts = (jc.timeouts ?? {}) as Obj;
  const deadline = env.clock.now() + Number(timeouts.discoverySeconds ?? 300) * 1000;
  env.log(`[preflight] Running pre-flight checks`);
  // discovery: retried until the API server answers, as kubeadm does
  let cluster = env.clusters.get(endpoint);
  while (!cluster) {
    if (env.clock.now() > deadline)
      throw new KubeadmError(
        `couldn't validate the identity of the API Server: Get "https://${endpoint}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp ${endpoint}: connect: connection refused`,
      );
    await env.clock.sleep(5_000, env.signal);
    cluster = env.clusters.get(endpoint);
  }
  const pins = (bt.caCertHashes as string[] | undefined) ?? [];
  const actual = caCertHash(cluster.caPem);
  if (bt.unsafeSkipCAVerification !== true) {
    if (!pins.length) throw new KubeadmError('discovery.bootstrapToken.caCertHashes is required unless unsafeSkipCAVerification is set');
    if (!pins.includes(actual))
      throw new KubeadmError(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${actual}" are pinned`);
  }
  const [id, secret] = token.split('.');
  const s = await cluster.client
    .get<{ data?: Record<string, string> }>('v1', 'Secret', 'kube-system', `bootstrap-token-${id}`)
    .catch(() => null);
  const dec = (k: string) => Buffer.from(s?.data?.[k] ?? '', 'base64').toString('utf8');
  const expired = s?.data?.expiration ? Date.parse(dec('expiration')) < Date.now() : false;
  if (!s || dec('token-secret') !== secret || expired) {
    throw new KubeadmError(
      `couldn't validate the identity of the API Server: could not find a JWS signature in the cluster-info ConfigMap for token ID "${id}"`,
    );
  }
  const controlPlane = jc.controlPlane !== undefined && jc.controlPlane !== null;
  let ca: { certPem: string; keyPem: string } | undefined;
  if (controlPlane) {
    ca = readCa(env);
    if (caCertHash(ca.certPem) !== actual)
      throw new KubeadmError(
        "[certs] the CA in /etc/kubernetes/pki is not the cluster's: a control plane node needs the shared certificates",
      );
    await env.clusters.up(endpoint, ca, env.member);
    const cc = await cluster.client.get<{ data?: Record<string, string> }>('v1', 'ConfigMap', 'kube-system', 'kubeadm-config');
    await writeAdminConf(env, ca, endpoint, String((YAML.parse(cc.data?.ClusterConfiguration ?? '{}') as Obj).clusterName ?? 'kubernetes'));
    env.log('This node has joined the cluster and a new control plane instance was created');
  } else env.log('This node has joined the cluster');
  let version: string | undefined;
  try {
    const cc = await cluster.client.get<{ data?: Record<string, string> }>('v1', 'ConfigMap', 'kube-system', 'kubeadm-config');
    version = (YAML.parse(cc.data?.ClusterConfiguration ?? '{}') as Obj).kubernetesVersion as string | undefined;
  } catch {
    version = undefined;
  }
  return { endpoint, cluster, controlPlane, ca, nodeRegistration: (jc.nodeRegistration ?? {}) as Obj, kubernetesVersion: version };
}
