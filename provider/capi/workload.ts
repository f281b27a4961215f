// Clients for workload clusters, from the `<cluster>-kubeconfig` Secret the control plane provider
// writes (key `value`), as Cluster API's remote cluster cache does; rebuilt when the Secret changes.
// Like that cache, each workload cluster's Nodes are watched once for every controller: Node
// changes reach the controllers that subscribed (onNode) instead of each polling the Node list.
import { isDeepStrictEqual } from 'node:util';
import { KubeClient, type KubeObject } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { getOrNull } from '../kube/read.js';
import { K } from './common.js';

export type NodeObject = KubeObject & {
  spec?: { providerID?: string; taints?: Array<Record<string, unknown>> };
  status?: { conditions?: Array<Record<string, string>>; nodeInfo?: Record<string, unknown> };
};

/** Told of every Node added, changed or deleted in a workload cluster. */
export type NodeListener = (namespace: string, cluster: string, node: NodeObject) => void;

/** A Node as controllers judge it: without its resourceVersion, managed fields and heartbeat times. */
function withoutHeartbeat(n: NodeObject): unknown {
  const { resourceVersion: _rv, managedFields: _mf, ...metadata } = n.metadata ?? {};
  const conditions = n.status?.conditions?.map(({ lastHeartbeatTime: _hb, ...c }) => c);
  return { ...n, metadata, status: { ...n.status, conditions } };
}

/** controller-runtime's default resync period, the safety net behind watches */
export const SYNC_PERIOD_MS = 600_000;

interface Entry {
  rv: string;
  client: KubeClient;
  nodes: Informer<NodeObject>;
}

export class WorkloadClients {
  private readonly cache = new Map<string, Entry>();
  private readonly listeners: NodeListener[] = [];

  constructor(private readonly client: KubeClient) {}

  onNode(fn: NodeListener): void {
    this.listeners.push(fn);
  }

  /** The workload cluster's client, or null while it has no kubeconfig Secret yet. */
  async get(namespace: string, cluster: string): Promise<KubeClient | null> {
    const s = await getOrNull<{ metadata: { resourceVersion?: string }; data?: Record<string, string> }>(
      this.client,
      K.secret,
      namespace,
      `${cluster}-kubeconfig`,
    );
    const value = s?.data?.value;
    const key = `${namespace}/${cluster}`;
    const hit = this.cache.get(key);
    if (!s || !value) {
      if (hit) this.drop(key, hit);
      return null;
    }
    if (hit && hit.rv === s.metadata.resourceVersion) return hit.client;
    if (hit) this.drop(key, hit);
    const client = KubeClient.fromString(Buffer.from(value, 'base64').toString('utf8'));
    // a watch that fails (its cluster deleted, the API server gone with it) checks once a minute
    // whether its kubeconfig Secret still exists: a deleted cluster's watch is dropped, not retried for ever
    const nodes = new Informer<NodeObject>(client, 'v1', 'Node', {
      onError: () => void this.get(namespace, cluster).catch(() => undefined),
    });
    const tell = (n: NodeObject) => {
      for (const fn of this.listeners) fn(namespace, cluster, n);
    };
    // a kubelet's periodic status post changes only heartbeat times: no controller cares, and at an
    // accelerated clock those posts come every few real seconds
    const onUpdate = (n: NodeObject, old?: NodeObject) => {
      if (!old || !isDeepStrictEqual(withoutHeartbeat(old), withoutHeartbeat(n))) tell(n);
    };
    nodes.on('add', tell).on('update', onUpdate).on('delete', tell);
    // the first list may wait for an API server still coming up: nobody awaits it
    void nodes.start();
    this.cache.set(key, { rv: String(s.metadata.resourceVersion), client, nodes });
    return client;
  }

  /**
   * The workload cluster's Nodes from the watch: null when it has no client yet or its watch is
   * not open (the caller then reads the API server itself).
   */
  cachedNodes(namespace: string, cluster: string): NodeObject[] | null {
    const e = this.cache.get(`${namespace}/${cluster}`);
    return e?.nodes.isWatching ? e.nodes.list() : null;
  }

  /**
   * How long a settled object of this cluster may wait for its next reconcile: controller-runtime's
   * 10-minute sync period while the cluster's Node watch is open (its events reconcile sooner),
   * else `pollMs`. A yes/no on the watch, without copying its cache.
   */
  settledRequeueMs(namespace: string, cluster: string, pollMs: number): number {
    return this.cache.get(`${namespace}/${cluster}`)?.nodes.isWatching ? SYNC_PERIOD_MS : pollMs;
  }

  private drop(key: string, e: Entry): void {
    e.nodes.stop();
    e.client.close();
    this.cache.delete(key);
  }

  /** Stops every watch and closes every client. */
  close(): void {
    for (const [k, e] of this.cache) this.drop(k, e);
  }
}
