// The manager runs a set of controllers against one API server: shared informers (one per kind,
// however many controllers watch it), optional Lease leader election (workers run only while
// leading), and an HTTP endpoint with /metrics, /healthz and /readyz.
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import pino, { type Logger } from 'pino';
import { createServingCertificate } from '../apiserver/pki.js';
import { cachedReadClient } from './cached-client.js';
import type { KubeClient } from './client.js';
import { Controller, type ControllerSpec, type GVK } from './controller.js';
import { EventRecorder } from './events.js';
import { Informer } from './informer.js';
import { LeaderElector } from './leader-election.js';
import { ControllerMetrics } from './metrics.js';
import { metricsAuthorizer } from './metrics-auth.js';

export interface ManagerOptions {
  client: KubeClient;
  name: string;
  log?: Logger;
  /** host:port for /metrics (and /healthz, /readyz unless they have their own); port 0 picks a free one */
  metricsBindAddress?: string;
  /** host:port for /healthz and /readyz alone (controller-runtime's --health-probe-bind-address) */
  healthProbeBindAddress?: string;
  /**
   * serve /metrics over HTTPS (tls.crt/tls.key from certDir, or a self-signed certificate made at
   * start, as controller-runtime does) to callers a TokenReview and SubjectAccessReview allow
   */
  metricsSecure?: { certDir?: string };
  /** the Lease leader election uses (default: name) */
  leaseName?: string;
  leaderElection?: { namespace: string; identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  resyncMs?: number;
}

export class Manager {
  readonly metrics = new ControllerMetrics();
  readonly recorder: EventRecorder;
  private readonly informers = new Map<string, Informer>();
  /** what reconcilers are given: reads of watched kinds come from the informers */
  /** what reconcilers read through: watched (and cacheForReads) kinds from the informers */
  readonly readClient: KubeClient;
  private readonly controllers: Controller[] = [];
  private readonly log: Logger;
  private elector?: LeaderElector;
  private server?: Server;
  private probeServer?: Server;
  private started = false;
  private leading = false;
  private leaderWaiters: Array<() => void> = [];

  constructor(private readonly o: ManagerOptions) {
    this.log = o.log ?? pino({ level: 'info' });
    this.recorder = new EventRecorder(o.client, o.name, o.leaderElection?.identity ?? '');
    this.readClient = cachedReadClient(o.client, (apiVersion, kind) => this.informers.get(`${apiVersion}/${kind}`));
  }

  /**
   * Caches objects of a kind no controller watches, for the reconcilers' reads only: all of them
   * (as controller-runtime's client starts an informer for any kind a reconciler reads), or those
   * with `labelSelector`, as Cluster API's secret-caching client keeps the Secrets it made
   * (labelled with their cluster) and no other. A read the cache cannot answer goes to the server;
   * a part of a kind answers gets only, never lists. A kind some controller watches is cached
   * whole already; this changes nothing then.
   */
  cacheForReads(gvk: GVK, labelSelector?: string): void {
    if (this.started) throw new Error('caches must be set up before the manager starts');
    const k = `${gvk.apiVersion}/${gvk.kind}`;
    if (this.informers.has(k)) return;
    this.informers.set(k, this.newInformer(gvk, labelSelector));
    if (labelSelector) this.partial.add(k);
  }

  /** kinds cached only in part (cacheForReads): a controller that watches one gets the whole kind */
  private readonly partial = new Set<string>();

  informer(gvk: GVK): Informer {
    const k = `${gvk.apiVersion}/${gvk.kind}`;
    let inf = this.informers.get(k);
    if (!inf || this.partial.has(k)) {
      this.partial.delete(k);
      inf = this.newInformer(gvk);
      this.informers.set(k, inf);
    }
    return inf;
  }

  private newInformer(gvk: GVK, labelSelector?: string): Informer {
    return new Informer(this.o.client, gvk.apiVersion, gvk.kind, {
      labelSelector,
      resyncMs: this.o.resyncMs,
      onError: (e, i) =>
        this.log.info(
          { server: i.server, kind: i.kind, apiVersion: i.apiVersion, failures: i.failures, err: e.message },
          `cannot list/watch ${i.kind} at ${i.server}: ${e.message} (retrying)`,
        ),
    });
  }

  add(spec: ControllerSpec): Controller {
    if (this.started) throw new Error('controllers must be added before the manager starts');
    const c = new Controller(spec, {
      client: this.readClient,
      log: this.log,
      recorder: this.recorder,
      metrics: this.metrics,
      informer: (g) => this.informer(g),
    });
    this.controllers.push(c);
    return c;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves when this manager's workers run (at once without leader election). */
  waitForLeadership(): Promise<void> {
    return this.leading ? Promise.resolve() : new Promise((r) => this.leaderWaiters.push(r));
  }

  get metricsAddress(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    return a ? `${this.o.metricsSecure ? 'https' : 'http'}://${a.address}:${a.port}` : undefined;
  }

  get probeAddress(): string | undefined {
    const a = (this.probeServer ?? this.server)?.address() as AddressInfo | null | undefined;
    return a ? `http://${a.address}:${a.port}` : undefined;
  }

  async start(): Promise<void> {
    this.started = true;
    if (this.o.metricsBindAddress) this.server = await this.serve(this.o.metricsBindAddress, !this.o.healthProbeBindAddress, true);
    if (this.o.healthProbeBindAddress) this.probeServer = await this.serve(this.o.healthProbeBindAddress, true, false);
    await Promise.all([...this.informers.values()].map((i) => i.start()));
    const lead = () => {
      this.leading = true;
      this.metrics.leader.set({ name: this.o.name }, 1);
      this.log.info({ manager: this.o.name }, 'started leading');
      for (const c of this.controllers) c.start();
      for (const w of this.leaderWaiters.splice(0)) w();
    };
    const le = this.o.leaderElection;
    if (!le) return lead();
    this.metrics.leader.set({ name: this.o.name }, 0);
    this.elector = new LeaderElector(this.o.client, {
      namespace: le.namespace,
      name: this.o.leaseName ?? this.o.name,
      identity: le.identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      onStartedLeading: lead,
      onStoppedLeading: () => {
        if (!this.leading) return;
        this.leading = false;
        this.metrics.leader.set({ name: this.o.name }, 0);
        // like controller-runtime: losing the lease stops the workers; the process decides what next
        this.log.warn({ manager: this.o.name }, 'leader election lost');
        void Promise.all(this.controllers.map((c) => c.stop()));
      },
      onError: (e) => this.log.warn({ err: e.message }, 'leader election error'),
    });
    this.elector.start();
  }

  private async serve(bind: string, probes: boolean, metrics: boolean): Promise<Server> {
    const i = bind.lastIndexOf(':');
    const host = bind.slice(0, i).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0'; // ':8443' means every interface, as in Kubernetes flags
    const port = Number(bind.slice(i + 1));
    const app = express();
    app.disable('x-powered-by');
    const secure = metrics && this.o.metricsSecure;
    if (secure) app.use('/metrics', metricsAuthorizer(this.o.client));
    if (metrics) {
      app.get('/metrics', async (_req, res) => {
        res.setHeader('Content-Type', this.metrics.registry.contentType);
        res.end(await this.metrics.registry.metrics());
      });
    }
    if (probes) {
      app.get('/healthz', (_req, res) => {
        res.type('text/plain').end('ok');
      });
      app.get('/readyz', (_req, res) => {
        const ready = [...this.informers.values()].every((x) => x.hasSynced);
        res
          .status(ready ? 200 : 503)
          .type('text/plain')
          .end(ready ? 'ok' : 'informers not synced');
      });
    }
    const srv = secure ? createHttpsServer(await servingCertificate(secure.certDir, host), app) : createHttpServer(app);
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, host, () => resolve(srv));
    });
  }

  async stop(): Promise<void> {
    await this.elector?.stop();
    await Promise.all(this.controllers.map((c) => c.stop()));
    for (const i of this.informers.values()) i.stop();
    for (const srv of [this.server, this.probeServer]) {
      if (!srv) continue;
      await new Promise<void>((r) => {
        srv.close(() => r());
        srv.closeAllConnections();
      });
    }
  }
}

/** tls.crt/tls.key from a directory, or a self-signed pair for this host made in memory. */
async function servingCertificate(certDir: string | undefined, host: string): Promise<{ cert: string; key: string }> {
  if (certDir) return { cert: readFileSync(join(certDir, 'tls.crt'), 'utf8'), key: readFileSync(join(certDir, 'tls.key'), 'utf8') };
  const c = await createServingCertificate('ferrite-metrics', ['localhost', host]);
  return { cert: `${c.certPem.trimEnd()}\n${c.caPem.trimEnd()}\n`, key: c.keyPem };
}
