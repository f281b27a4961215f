// The dashboard's picture of the world: one watch per kind (informers over the Kubernetes API),
// Ironic's node list, host timelines recorded as changes arrive, and the summaries the page is
// sent. It reads nothing but public APIs and writes nothing.
import { EventEmitter } from 'node:events';
import type { KubeClient, KubeObject } from '../provider/kube/client.js';
import { Informer } from '../provider/kube/informer.js';
import { type IronicFeed, ironicChangeLines } from './ironic-feed.js';
import {
  CLUSTER_NAME_LABEL,
  type ClusterTree,
  clusterTrees,
  type HostSummary,
  hostOfMetal3Machine,
  hostSummary,
  type IronicNodeView,
  keyOf,
  type Obj,
} from './projections.js';
import { Timelines } from './timeline.js';

/** Every kind the dashboard watches, one informer each. */
export const WATCHED = {
  hosts: ['metal3.io/v1alpha1', 'BareMetalHost'],
  events: ['v1', 'Event'],
  metal3Machines: ['infrastructure.cluster.x-k8s.io/v1beta1', 'Metal3Machine'],
  machines: ['cluster.x-k8s.io/v1beta2', 'Machine'],
  machineSets: ['cluster.x-k8s.io/v1beta2', 'MachineSet'],
  deployments: ['cluster.x-k8s.io/v1beta2', 'MachineDeployment'],
  clusters: ['cluster.x-k8s.io/v1beta2', 'Cluster'],
  controlPlanes: ['controlplane.cluster.x-k8s.io/v1beta2', 'KubeadmControlPlane'],
} as const;

export type WatchedName = keyof typeof WATCHED;

export interface KindStatus {
  kind: string;
  apiVersion: string;
  synced: boolean;
  watching: boolean;
  error: string | null;
}

export interface ModelOptions {
  client: KubeClient;
  ironic?: IronicFeed;
  /** watch one namespace only (default: all) */
  namespace?: string;
  /** how long start() waits for a kind before showing it as not served (it keeps retrying) */
  syncTimeoutMs?: number;
  onWatchError?: (e: Error, kind: string) => void;
}

/**
 * Emits `host` (key, summary or null when deleted), `clusters` (changed trees, removed keys) and
 * `status` (kinds or Ironic reachable or not).
 */
export class FleetModel extends EventEmitter {
  readonly informers: { [K in WatchedName]: Informer<Obj> };
  readonly timelines = new Timelines();
  private readonly summaries = new Map<string, HostSummary>();
  private clusterJson = new Map<string, string>();
  private clusterTimer?: NodeJS.Timeout;
  private readonly ironicByHost = new Map<string, IronicNodeView>();

  constructor(private readonly o: ModelOptions) {
    super();
    this.setMaxListeners(1000);
    const make = (name: WatchedName) => {
      const [apiVersion, kind] = WATCHED[name];
      return new Informer<Obj>(o.client, apiVersion, kind, {
        namespace: o.namespace,
        onError: (e) => {
          o.onWatchError?.(e, kind);
          this.emit('status');
        },
      });
    };
    this.informers = Object.fromEntries(Object.keys(WATCHED).map((n) => [n, make(n as WatchedName)])) as FleetModel['informers'];
    this.wire();
  }

  async start(): Promise<void> {
    const limit = this.o.syncTimeoutMs ?? 10_000;
    await Promise.all(
      Object.values(this.informers).map((inf) =>
        Promise.race([inf.start(), new Promise<void>((r) => setTimeout(r, limit).unref())]).then(() => this.emit('status')),
      ),
    );
    if (this.o.ironic) await this.o.ironic.start();
    this.recomputeClusters();
  }

  stop(): void {
    for (const inf of Object.values(this.informers)) inf.stop();
    this.o.ironic?.stop();
    clearTimeout(this.clusterTimer);
  }

  hosts(): HostSummary[] {
    return [...this.summaries.values()];
  }

  summary(key: string): HostSummary | undefined {
    return this.summaries.get(key);
  }

  clusters(): ClusterTree[] {
    return [...this.clusterJson.values()].map((j) => JSON.parse(j) as ClusterTree);
  }

  kinds(): KindStatus[] {
    return Object.values(this.informers).map((i) => ({
      kind: i.kind,
      apiVersion: i.apiVersion,
      synced: i.hasSynced,
      watching: i.isWatching,
      error: i.hasSynced && i.isWatching ? null : (i.lastError?.message ?? null),
    }));
  }

  get ironicError(): string | null {
    return this.o.ironic ? this.o.ironic.error : null;
  }

  host(ns: string, name: string): Obj | undefined {
    return this.informers.hosts.get(ns, name);
  }

  ironicNode(key: string): IronicNodeView | undefined {
    return this.ironicByHost.get(key);
  }

  /** A host's Metal3Machine, Machine, Node and Cluster, as the objects link them. */
  links(key: string): { metal3Machine: string; machine: string; node: string; cluster: string } {
    const s = this.summaries.get(key);
    const none = { metal3Machine: '', machine: '', node: '', cluster: '' };
    if (!s?.consumer.startsWith('Metal3Machine/')) return none;
    const m3mName = s.consumer.slice('Metal3Machine/'.length);
    const m3m = this.informers.metal3Machines.get(s.namespace, m3mName);
    const machineName = m3m?.metadata?.ownerReferences?.find((r) => r.kind === 'Machine')?.name ?? '';
    const machine = machineName ? this.informers.machines.get(s.namespace, machineName) : undefined;
    return {
      metal3Machine: m3mName,
      machine: machineName,
      node: String((machine?.status?.nodeRef as { name?: string } | undefined)?.name ?? ''),
      cluster: s.cluster,
    };
  }

  private clusterOf = (m3mKey: string): string => {
    const [ns, name] = m3mKey.split('/');
    return this.informers.metal3Machines.get(ns, name)?.metadata?.labels?.[CLUSTER_NAME_LABEL] ?? '';
  };

  private refreshHost(h: Obj): void {
    const key = keyOf(h);
    const next = hostSummary(h, this.clusterOf, this.ironicByHost.get(key));
    const old = this.summaries.get(key);
    if (old && JSON.stringify(old) === JSON.stringify(next)) return;
    this.summaries.set(key, next);
    this.recordHostChange(key, old, next);
    this.emit('host', key, next);
  }

  private recordHostChange(key: string, old: HostSummary | undefined, s: HostSummary): void {
    const at = new Date().toISOString();
    const add = (what: string, severity?: 'error' | 'warning') =>
      this.timelines.add(key, { at, source: 'host', what, ...(severity ? { severity } : {}) });
    if (!old) {
      add(`seen in state ${s.state || '(none yet)'}`);
      return;
    }
    if (old.state !== s.state) add(`state ${old.state || '(none)'} → ${s.state || '(none)'}`);
    if (old.errorType !== s.errorType && s.errorType) add(`error ${s.errorType}: ${s.errorMessage}`, 'error');
    if (old.errorType && !s.errorType) add('error cleared');
    if (old.poweredOn !== s.poweredOn) add(s.poweredOn ? 'powered on' : 'powered off');
    if (old.consumer !== s.consumer) add(s.consumer ? `claimed by ${s.consumer}` : `released by ${old.consumer}`);
    if (old.paused !== s.paused) add(s.paused ? 'paused' : 'unpaused');
  }

  private wire(): void {
    const i = this.informers;
    i.hosts.on('add', (h) => this.refreshHost(h)).on('update', (h) => this.refreshHost(h));
    i.hosts.on('delete', (h) => {
      const key = keyOf(h);
      this.summaries.delete(key);
      this.timelines.forget(key);
      this.emit('host', key, null);
    });
    const onEvent = (e: Obj) => {
      const io = e.involvedObject as { kind?: string; namespace?: string; name?: string } | undefined;
      if (io?.kind !== 'BareMetalHost') return;
      const at = String(e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? new Date().toISOString());
      const key = `${io.namespace ?? e.metadata?.namespace ?? ''}/${io.name ?? ''}`;
      this.timelines.add(key, {
        at,
        source: 'event',
        what: `${e.reason ?? ''}: ${e.message ?? ''}`,
        ...(e.type === 'Warning' ? { severity: 'warning' as const } : {}),
      });
      this.emit('timeline', key);
    };
    i.events.on('add', onEvent).on('update', (e, old) => {
      if (e.count !== old?.count || e.lastTimestamp !== old?.lastTimestamp) onEvent(e);
    });
    // a Metal3Machine names the cluster of the host it holds
    const onM3m = (m: KubeObject) => {
      const hk = hostOfMetal3Machine(m as Obj);
      const [ns, name] = hk.split('/');
      const h = hk ? i.hosts.get(ns, name) : undefined;
      if (h) this.refreshHost(h);
      this.clustersChanged();
    };
    i.metal3Machines.on('add', onM3m).on('update', onM3m).on('delete', onM3m);
    for (const n of ['machines', 'machineSets', 'deployments', 'clusters', 'controlPlanes'] as const)
      i[n]
        .on('add', () => this.clustersChanged())
        .on('update', () => this.clustersChanged())
        .on('delete', () => this.clustersChanged());
    i.hosts.on('update', (h, old) => {
      // a host's state shows on its machine's row in the cluster view
      const st = (o?: Obj) => (o?.status?.provisioning as { state?: string } | undefined)?.state;
      if (h.spec?.consumerRef && st(h) !== st(old)) this.clustersChanged();
    });
  }

  /** Told by the Ironic feed: one node's state changed. */
  ironicChanged(v: IronicNodeView, old: IronicNodeView | undefined): void {
    // the operator names a node `namespace~host`
    const [ns, name] = v.name.includes('~') ? v.name.split('~') : ['', v.name];
    const key = `${ns}/${name}`;
    this.ironicByHost.set(key, v);
    const at = new Date().toISOString();
    for (const l of ironicChangeLines(v, old))
      this.timelines.add(key, { at, source: 'ironic', what: l.what, ...(l.error ? { severity: 'error' as const } : {}) });
    const h = this.informers.hosts.get(ns, name);
    if (h) this.refreshHost(h);
    this.emit('timeline', key);
  }

  private clustersChanged(): void {
    if (this.clusterTimer) return;
    this.clusterTimer = setTimeout(() => {
      this.clusterTimer = undefined;
      this.recomputeClusters();
    }, 250);
    this.clusterTimer.unref();
  }

  private recomputeClusters(): void {
    const i = this.informers;
    const trees = clusterTrees({
      clusters: i.clusters.list(),
      controlPlanes: i.controlPlanes.list(),
      deployments: i.deployments.list(),
      machineSets: i.machineSets.list(),
      machines: i.machines.list(),
      metal3Machines: i.metal3Machines.list(),
      hosts: (k) => {
        const [ns, name] = k.split('/');
        return i.hosts.get(ns, name);
      },
    });
    const next = new Map(trees.map((t) => [t.key, JSON.stringify(t)]));
    const changed = trees.filter((t) => this.clusterJson.get(t.key) !== next.get(t.key));
    const removed = [...this.clusterJson.keys()].filter((k) => !next.has(k));
    this.clusterJson = next;
    if (changed.length || removed.length) this.emit('clusters', changed, removed);
  }
}
