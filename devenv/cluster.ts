// `ferrite dev up`'s cluster: metal3-dev-env's v1beta2 cluster, control plane and worker templates
// (scenarios/templates/v1beta2, unchanged apart from their ${ VAR } values) applied to the dev
// environment's hosts, with a node image served by Ironic's HTTP server, waited for until every
// Machine runs and the workload cluster lists its Nodes Ready. With --cluster-class the same cluster
// is declared through the shipped Metal3 ClusterClass and Cluster.spec.topology instead. The workload kubeconfig is written
// beside the management one.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import { substitute } from '../scenarios/format.js';
import { freeTcpPort, StackError, type StackState } from './stack.js';
import { applyObject } from './up.js';

/**
 * What metal3-dev-env's templates are given for the network and rollout (its defaults): service and
 * pod CIDRs, the loopback API endpoint host, the provisioning and external IPAM pools, one surge
 * machine. Every cluster Ferrite makes from those templates (dev up, the scale bench, the tests)
 * starts from these.
 */
export const TEMPLATE_NETWORK: Readonly<Record<string, string>> = {
  SERVICE_CIDR: '10.96.0.0/12',
  POD_CIDR: '192.168.0.0/18',
  CLUSTER_APIENDPOINT_HOST: '127.0.0.1',
  IPAM_PROVISIONING_POOL_RANGE_START: '172.22.0.100',
  IPAM_PROVISIONING_POOL_RANGE_END: '172.22.0.200',
  BARE_METAL_PROVISIONER_CIDR: '24',
  IPAM_EXTERNALV4_POOL_RANGE_START: '192.168.111.100',
  IPAM_EXTERNALV4_POOL_RANGE_END: '192.168.111.200',
  EXTERNAL_SUBNET_V4_PREFIX: '24',
  EXTERNAL_SUBNET_V4_HOST: '192.168.111.1',
  MAX_SURGE_VALUE: '1',
};

const here = fileURLToPath(import.meta.url);
/** The shipped templates: beside the sources under tsx, one level up from dist/ when built. */
export const TEMPLATES_DIR = resolve(here, '..', '..', ...(here.endsWith('.ts') ? [] : ['..']), 'scenarios', 'templates');

export interface ClusterOptions {
  name: string;
  namespace: string;
  controlPlanes: number;
  workers: number;
  kubernetesVersion: string;
  /** through the Metal3 ClusterClass (clusterclass.yaml) and a topology Cluster (cluster-topology.yaml) */
  clusterClass?: boolean;
  timeoutMs: number;
  progress?: (line: string, final: boolean) => void;
}

export interface ClusterResult {
  kubeconfig: string;
  nodes: string[];
  endpoint: string;
}

/** Deterministic stand-in node image content (its checksum is stable across runs). */
function nodeImage(): Buffer {
  const seed = createHash('sha256').update('ferrite-node-image').digest();
  const b = Buffer.alloc(8 * 1024 * 1024);
  for (let i = 0; i < b.length; i += seed.length) seed.copy(b, i);
  return b;
}

/**
 * A resumed environment keeps its cluster's endpoint: the port is in the Cluster, the kubeconfig
 * Secret and the certificates, so a new one would be refused (and break the workload cluster).
 */
async function existingEndpointPort(client: KubeClient, o: ClusterOptions): Promise<number | undefined> {
  try {
    const c = await client.get<KubeObject & { spec?: { controlPlaneEndpoint?: { port?: number } } }>(
      'cluster.x-k8s.io/v1beta2',
      'Cluster',
      o.namespace,
      o.name,
    );
    return c.spec?.controlPlaneEndpoint?.port || undefined;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function provisionCluster(s: StackState, o: ClusterOptions): Promise<ClusterResult> {
  const client = KubeClient.fromFile(s.kubeconfig);
  const file = `UBUNTU_24.04_NODE_IMAGE_K8S_${o.kubernetesVersion}-raw.img`;
  const imagePath = join(s.dataDir, 'ironic', 'httpboot', 'images', file);
  const img = nodeImage();
  mkdirSync(dirname(imagePath), { recursive: true });
  writeFileSync(imagePath, img);
  const port = (await existingEndpointPort(client, o)) ?? (await freeTcpPort());
  const vars: Record<string, string> = {
    ...TEMPLATE_NETWORK,
    NAMESPACE: o.namespace,
    CLUSTER_NAME: o.name,
    CLUSTER_APIENDPOINT_PORT: String(port),
    CONTROL_PLANE_MACHINE_COUNT: String(o.controlPlanes),
    WORKER_MACHINE_COUNT: String(o.workers),
    KUBERNETES_VERSION: o.kubernetesVersion,
    NODE_DRAIN_TIMEOUT: '0',
    SSH_PUB_KEY_CONTENT: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFerriteDevEnvironmentKey ferrite@dev',
    IMAGE_URL: `${s.ironicHttpUrl}/images/${file}`,
    IMAGE_CHECKSUM: createHash('sha256').update(img).digest('hex'),
    IMAGE_CHECKSUM_TYPE: 'sha256',
    IMAGE_FORMAT: 'raw',
  };
  const files = o.clusterClass ? ['clusterclass.yaml', 'cluster-topology.yaml'] : ['cluster.yaml', 'controlplane.yaml', 'workers.yaml'];
  o.progress?.(
    `cluster ${o.name}: applying ${o.clusterClass ? 'the Metal3 ClusterClass and a topology Cluster' : "metal3-dev-env's templates"} (${o.controlPlanes} control plane, ${o.workers} workers)`,
    true,
  );
  for (const f of files) {
    const text = substitute(readFileSync(join(TEMPLATES_DIR, 'v1beta2', f), 'utf8'), vars, f);
    for (const d of parseAllDocuments(text)) {
      const obj = d.toJS() as KubeObject | null;
      if (obj) await applyObject(client, obj);
    }
  }
  const want = o.controlPlanes + o.workers;
  const end = Date.now() + o.timeoutMs;
  let last = '';
  for (;;) {
    const ms = await client.list<KubeObject & { status?: { phase?: string } }>('cluster.x-k8s.io/v1beta2', 'Machine', o.namespace);
    const mine = ms.items.filter((m) => m.metadata?.labels?.['cluster.x-k8s.io/cluster-name'] === o.name);
    const counts: Record<string, number> = {};
    for (const m of mine) counts[m.status?.phase ?? 'Pending'] = (counts[m.status?.phase ?? 'Pending'] ?? 0) + 1;
    const line = `cluster ${o.name}: machines ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(' · ')}`;
    if (line !== last) o.progress?.(line, false);
    last = line;
    if (mine.length === want && counts.Running === want) break;
    if (Date.now() > end) throw new StackError('Timeout', `cluster ${o.name} did not come up within ${o.timeoutMs / 1000}s (${line})`);
    await sleep(1_000);
  }
  const secret = await client.get<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', o.namespace, `${o.name}-kubeconfig`);
  const kubeconfig = join(s.dataDir, `${o.name}.kubeconfig`);
  writeFileSync(kubeconfig, Buffer.from(String(secret.data?.value), 'base64'), { mode: 0o600 });
  const w = KubeClient.fromFile(kubeconfig);
  let why = '';
  for (;;) {
    let ready: KubeObject[] = [];
    try {
      const nodes = (await w.list<KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } }>('v1', 'Node')).items;
      ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      why = `only ${ready.length} of ${want} Nodes are Ready`;
    } catch (e) {
      // a resumed environment's machines are still booting: its API server comes back with them
      why = `its API server at https://127.0.0.1:${port} does not answer (${(e as Error).message.split('\n')[0]})`;
      const line = `cluster ${o.name}: waiting for its API server at https://127.0.0.1:${port}`;
      if (line !== last) o.progress?.(line, false);
      last = line;
    }
    if (ready.length >= want) {
      o.progress?.(`cluster ${o.name}: ${ready.length} Nodes Ready`, true);
      return { kubeconfig, nodes: ready.map((n) => String(n.metadata?.name)), endpoint: `https://127.0.0.1:${port}` };
    }
    if (Date.now() > end) throw new StackError('Timeout', `cluster ${o.name}: ${why} after ${o.timeoutMs / 1000}s`);
    await sleep(1_000);
  }
}
