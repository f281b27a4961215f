// The API servers of workload clusters that simulated machines bring up with `kubeadm init`: one
// per control plane endpoint (the address keepalived would hold), started by the first control
// plane node, kept while any control plane node of the cluster runs, its data kept on disk so the
// cluster survives its nodes and the emulator restarting. Each serves with the apiserver
// certificate kubeadm makes from the cluster CA and accepts the CA's client certificates (admin.conf,
// Cluster API's kubeconfig) as kube-apiserver does. A node lifecycle loop marks a Node's Ready
// condition Unknown when its kubelet stops renewing its Lease and posting status, as the node
// lifecycle controller does (a fresh Lease or a fresh Ready heartbeat keeps a Node healthy). The
// emulated kubelets and that loop run in this process beside the API server, so they reach it
// through a LocalClient (its core, no connection): an idle cluster's Lease beat is a store write,
// not two TLS endpoints, and the loop's reads are in memory. Clients outside the process (Cluster
// API, kubectl, kubeadm's) use the server's HTTPS as before.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { LocalClient } from '../../provider/apiserver/local-client.js';
import { signCertificate } from '../../provider/apiserver/pki.js';
import { type ApiServer, startApiServer } from '../../provider/apiserver/server.js';
import { KubeClient, type KubeObject } from '../../provider/kube/client.js';
import { KUBE_TIMINGS, type KubeTimings } from './kubelet.js';

export interface WorkloadCluster {
  endpoint: string;
  server: ApiServer;
  /** an admin client (the server's own token) */
  client: KubeClient;
  caPem: string;
  /** control plane nodes running now */
  members: Set<string>;
}

type LeaseObj = KubeObject & { spec?: { renewTime?: string } };

export class WorkloadClusters {
  private readonly clusters = new Map<string, WorkloadCluster>();
  private readonly starting = new Map<string, Promise<WorkloadCluster>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly dir: string,
    readonly timings: KubeTimings = KUBE_TIMINGS,
    private readonly log: (o: Record<string, unknown>, m: string) => void = () => undefined,
  ) {}

  get(endpoint: string): WorkloadCluster | undefined {
    return this.clusters.get(endpoint);
  }

  /**
   * An in-process client of the API server at `endpoint`, whichever runs there when it is called
   * (it fails as a refused connection while none does), writing as `fieldManager`.
   */
  local(endpoint: string, fieldManager: string): LocalClient {
    return new LocalClient(() => this.clusters.get(endpoint)?.server.core, endpoint, fieldManager);
  }

  /**
   * The cluster's API server at `endpoint` (host:port), started if no control plane node runs it
   * yet. `ca` is the cluster CA kubeadm found in /etc/kubernetes/pki.
   */
  async up(endpoint: string, ca: { certPem: string; keyPem: string }, member: string): Promise<WorkloadCluster> {
    const have = this.clusters.get(endpoint);
    if (have) {
      have.members.add(member);
      return have;
    }
    let p = this.starting.get(endpoint);
    if (!p) {
      p = this.start(endpoint, ca);
      this.starting.set(endpoint, p);
    }
    try {
      const c = await p;
      c.members.add(member);
      return c;
    } finally {
      this.starting.delete(endpoint);
    }
  }

  private async start(endpoint: string, ca: { certPem: string; keyPem: string }): Promise<WorkloadCluster> {
    const i = endpoint.lastIndexOf(':');
    const host = endpoint.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(endpoint.slice(i + 1));
    const serving = await signCertificate({
      ca,
      cn: 'kube-apiserver',
      hosts: [host, '127.0.0.1', 'localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
      server: true,
    });
    const dataDir = join(this.dir, endpoint.replace(/[^A-Za-z0-9.-]/g, '_'));
    mkdirSync(dataDir, { recursive: true });
    const server = await startApiServer({
      dataDir,
      address: host,
      port,
      credentials: { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, token: randomBytes(24).toString('base64url') },
      clientCaPem: ca.certPem,
      // a simulated cluster's etcd: WAL without an fsync per commit survives the emulator crashing,
      // only the host losing power could drop its last writes — and each heartbeat is a commit
      synchronous: 'normal',
      log: pino({ level: 'warn' }),
    });
    const client = KubeClient.fromFile(server.kubeconfigPath);
    const c: WorkloadCluster = { endpoint, server, client, caPem: ca.certPem, members: new Set() };
    this.clusters.set(endpoint, c);
    this.log({ endpoint }, 'workload cluster API server started');
    this.timer ??= setInterval(() => void this.monitorNodes(), this.timings.nodeMonitorPeriodMs);
    return c;
  }

  /** A control plane node stopped: the last one takes the API server (not its data) down. */
  async leave(endpoint: string, member: string): Promise<void> {
    const c = this.clusters.get(endpoint);
    if (!c) return;
    c.members.delete(member);
    if (c.members.size > 0) return;
    this.clusters.delete(endpoint);
    c.client.close();
    await c.server.close();
    this.log({ endpoint }, 'workload cluster API server stopped: no control plane node runs');
  }

  private monitorRounds = 0;

  private async monitorNodes(): Promise<void> {
    const grace = this.timings.nodeMonitorGraceMs;
    // a Node whose kubelet never made a Lease is found by reading the Nodes once a minute
    const round = this.monitorRounds++;
    const everyMinute = Math.max(1, Math.round(60_000 / this.timings.nodeMonitorPeriodMs));
    for (const c of this.clusters.values()) {
      const api = this.local(c.endpoint, 'kube-controller-manager');
      try {
        // while every Lease is fresh, the Nodes need not be read
        const leases = (await api.list<LeaseObj>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease')).items;
        const renewed = new Map(leases.map((l) => [l.metadata?.name, Date.parse(l.spec?.renewTime ?? '')]));
        const fresh = (name: string) => Date.now() - (renewed.get(name) ?? Number.NaN) < grace;
        if (round % everyMinute !== 0 && leases.every((l) => fresh(String(l.metadata?.name)))) continue;
        const nodes = await api.list<{ metadata: { name: string }; status?: { conditions?: Array<Record<string, string>> } }>('v1', 'Node');
        for (const n of nodes.items) {
          const ready = n.status?.conditions?.find((x) => x.type === 'Ready');
          if (!ready || ready.status === 'Unknown' || fresh(n.metadata.name)) continue;
          const last = Date.parse(ready.lastHeartbeatTime ?? '');
          if (Number.isNaN(last) || Date.now() - last < grace) continue;
          const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          const conditions = (n.status?.conditions ?? []).map((x) =>
            x.type === 'Ready'
              ? {
                  ...x,
                  status: 'Unknown',
                  reason: 'NodeStatusUnknown',
                  message: 'Kubelet stopped posting node status.',
                  lastTransitionTime: now,
                }
              : x,
          );
          await api.patch(
            { apiVersion: 'v1', kind: 'Node', name: n.metadata.name },
            'merge',
            { status: { conditions } },
            { subresource: 'status' },
          );
          this.log({ endpoint: c.endpoint, node: n.metadata.name }, 'node stopped posting status: Ready=Unknown');
        }
      } catch {
        // a cluster shutting down mid-list is checked again next round
      }
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const all = [...this.clusters.values()];
    this.clusters.clear();
    for (const c of all) c.client.close();
    await Promise.all(all.map((c) => c.server.close()));
  }
}
