// One reconciler per kind: events from the kind's informer (and from owned kinds, mapped to
// their controller owner) become keys in a rate-limited queue; workers reconcile one key at a
// time each and requeue on error (with backoff) or when asked.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient, KubeObject } from './client.js';
import type { EventRecorder, EventSource } from './events.js';
import type { Informer } from './informer.js';
import type { ControllerMetrics } from './metrics.js';
import { WorkQueue } from './queue.js';

export interface Request {
  namespace: string;
  name: string;
}

export interface Result {
  /** Reconcile again after this many milliseconds (level-based polling, e.g. for external state). */
  requeueAfterMs?: number;
  /** Reconcile again soon, with backoff, without counting as an error. */
  requeue?: boolean;
  /** With `requeue`: the backoff grows no longer than this (default: the queue's own cap). */
  maxBackoffMs?: number;
}

export interface ReconcileContext {
  client: KubeClient;
  log: Logger;
  recorder: EventRecorder;
  /** Cached read of the reconciled kind (no API call). */
  get<T extends KubeObject>(namespace: string, name: string): T | undefined;
  reconcileID: string;
}

export interface GVK {
  apiVersion: string;
  kind: string;
}

export interface ControllerSpec {
  name: string;
  for: GVK;
  /** Kinds whose changes requeue their controller owner (ownerReferences with controller=true). */
  owns?: GVK[];
  /** Other kinds mapped to requests by a function. */
  watches?: Array<GVK & { map: (o: KubeObject) => Request[] }>;
  /** Events from elsewhere (a workload cluster's Node watch): each is given the queue's `enqueue`. */
  sources?: Array<(enqueue: (r: Request) => void) => void>;
  maxConcurrentReconciles?: number;
  /**
   * Which updates of the reconciled kind reconcile it (all by default). A periodic resync always
   * does. Upstream's BMO, for one, ignores updates that change neither the generation, the
   * finalizers nor the annotations: its own status writes must not cut its backoff short.
   */
  updatePredicate?: (oldObj: KubeObject, newObj: KubeObject) => boolean;
  /** whom this controller's Events name as their source (the manager's name otherwise) */
  eventSource?: EventSource;
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined>;
}

const toKey = (r: Request) => `${r.namespace}/${r.name}`;
const fromKey = (k: string): Request => {
  const i = k.indexOf('/');
  return { namespace: k.slice(0, i), name: k.slice(i + 1) };
};

export class Controller {
  readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    readonly spec: ControllerSpec,
    private readonly deps: {
      client: KubeClient;
      log: Logger;
      recorder: EventRecorder;
      metrics: ControllerMetrics;
      informer: (gvk: GVK) => Informer;
    },
  ) {
    this.queue = new WorkQueue(spec.name, { metrics: deps.metrics.queue });
    this.recorder = spec.eventSource ? deps.recorder.as(spec.eventSource) : deps.recorder;
    const primary = deps.informer(spec.for);
    const enqueue = (o: KubeObject) => this.queue.add(toKey({ namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }));
    // level-based: any change (or a resync) reconciles the object again
    const pred = spec.updatePredicate;
    const onUpdate = (o: KubeObject, old?: KubeObject) => {
      if (!pred || !old || o === old || pred(old, o)) enqueue(o);
    };
    primary.on('add', enqueue).on('update', onUpdate).on('delete', enqueue);
    for (const owned of spec.owns ?? []) {
      const toOwner = (o: KubeObject) => {
        for (const ref of o.metadata?.ownerReferences ?? []) {
          if (ref.controller && ref.kind === spec.for.kind && ref.apiVersion.split('/')[0] === spec.for.apiVersion.split('/')[0]) {
            this.queue.add(toKey({ namespace: o.metadata?.namespace ?? '', name: ref.name }));
          }
        }
      };
      deps.informer(owned).on('add', toOwner).on('update', toOwner).on('delete', toOwner);
    }
    for (const w of spec.watches ?? []) {
      const map = (o: KubeObject) => {
        for (const r of w.map(o)) this.queue.add(toKey(r));
      };
      deps.informer(w).on('add', map).on('update', map).on('delete', map);
    }
    for (const source of spec.sources ?? []) source((r) => this.queue.add(toKey(r)));
  }

  /** Starts the workers (the manager calls this once caches are synced and, if used, leading). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const n = this.spec.maxConcurrentReconciles ?? 1;
    this.deps.metrics.maxConcurrent.set({ controller: this.spec.name }, n);
    for (let i = 0; i < n; i++) this.workers.push(this.worker());
  }

  async stop(): Promise<void> {
    this.queue.shutdown();
    await Promise.all(this.workers);
    this.running = false;
  }

  private async worker(): Promise<void> {
    const { metrics, log } = this.deps;
    const name = this.spec.name;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const req = fromKey(key);
      const reconcileID = randomUUID();
      const rlog = log.child({ controller: name, namespace: req.namespace, name: req.name, reconcileID });
      const started = performance.now();
      metrics.activeWorkers.inc({ controller: name });
      try {
        const informer = this.deps.informer(this.spec.for);
        const res = await this.spec.reconcile(req, {
          client: this.deps.client,
          log: rlog,
          recorder: this.recorder,
          get: <T extends KubeObject>(ns: string, n: string) => informer.get(ns, n) as T | undefined,
          reconcileID,
        });
        if (res?.requeueAfterMs && res.requeueAfterMs > 0) {
          this.queue.forget(key);
          this.queue.addAfter(key, res.requeueAfterMs);
          metrics.reconcileTotal.inc({ controller: name, result: 'requeue_after' });
        } else if (res?.requeue) {
          this.queue.addRateLimited(key, res.maxBackoffMs);
          metrics.reconcileTotal.inc({ controller: name, result: 'requeue' });
        } else {
          this.queue.forget(key);
          metrics.reconcileTotal.inc({ controller: name, result: 'success' });
        }
      } catch (e) {
        metrics.reconcileTotal.inc({ controller: name, result: 'error' });
        metrics.reconcileErrors.inc({ controller: name });
        rlog.error({ err: e instanceof Error ? e.message : String(e) }, 'Reconciler error');
        this.queue.addRateLimited(key);
      } finally {
        metrics.activeWorkers.dec({ controller: name });
        metrics.reconcileTime.observe({ controller: name }, (performance.now() - started) / 1000);
        this.queue.done(key);
      }
    }
  }
}
