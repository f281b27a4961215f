// Clients for workload clusters, from the `<cluster>-kubeconfig` Secret the control plane provider
// writes (key `value`), as Cluster API's remote cluster cache does; rebuilt when the Secret changes.
import { KubeClient } from '../kube/client.js';
import { getOrNull } from '../kube/read.js';
import { K } from './common.js';

export class WorkloadClients {
  private readonly cache = new Map<string, { rv: string; client: KubeClient }>();

  constructor(private readonly client: KubeClient) {}

  /** The workload cluster's client, or null while it has no kubeconfig Secret yet. */
  async get(namespace: string, cluster: string): Promise<KubeClient | null> {
    const s = await getOrNull<{ metadata: { resourceVersion?: string }; data?: Record<string, string> }>(
      this.client,
      K.secret,
      namespace,
      `${cluster}-kubeconfig`,
    );
    const value = s?.data?.value;
    if (!s || !value) return null;
    const key = `${namespace}/${cluster}`;
    const hit = this.cache.get(key);
    if (hit && hit.rv === s.metadata.resourceVersion) return hit.client;
    hit?.client.close();
    const client = KubeClient.fromString(Buffer.from(value, 'base64').toString('utf8'));
    this.cache.set(key, { rv: String(s.metadata.resourceVersion), client });
    return client;
  }
}
