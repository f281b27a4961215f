// `ferrite dashboard`: the page, its static files (Preact and htm served from the package, no CDN),
// the live feed, and a small JSON API over what the dashboard watches.
import type { Server } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { IronicClient, type IronicClientOptions } from '../provider/bmo/ironic-client.js';
import { KubeApiError, type KubeClient } from '../provider/kube/client.js';
import { ActionError, runAction } from './actions.js';
import { BmcReader } from './bmc-reader.js';
import { FleetModel } from './fleet-model.js';
import { HostNotFound, hostStory } from './host-story.js';
import { IronicFeed } from './ironic-feed.js';
import { LiveHub } from './live.js';
import { Runs, RunsError } from './runs.js';

export interface DashboardOptions {
  client: KubeClient;
  ironic?: IronicClientOptions;
  /** seconds between Ironic node-list reads */
  ironicIntervalMs?: number;
  emulatorUrl?: string;
  /** the BMCs' clock rate against real time (Ferrite's emulator: its --time-scale) */
  bmcTimeScale?: number;
  /** read each opened host's BMC (needs `get` on its credentials Secret) */
  readBmc?: boolean;
  namespace?: string;
  address: string;
  port: number;
  allowActions?: boolean;
  reportDirs?: string[];
  log?: Logger;
}

export interface Dashboard {
  url: string;
  model: FleetModel;
  hub: LiveHub;
  close(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
/** the page's own files: beside this module in a checkout, or beside dist/ once built */
const WEB = resolve(here, ...(here.endsWith(join('dist', 'dashboard')) ? ['..', '..', 'dashboard', 'web'] : ['web']));
const VENDOR: Record<string, string> = {
  'preact.mjs': fileURLToPath(import.meta.resolve('preact')),
  'hooks.mjs': fileURLToPath(import.meta.resolve('preact/hooks')),
  'htm.mjs': fileURLToPath(import.meta.resolve('htm')),
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export async function startDashboard(o: DashboardOptions): Promise<Dashboard> {
  const ironic = o.ironic
    ? new IronicFeed(
        new IronicClient(o.ironic),
        o.ironicIntervalMs ?? 2000,
        (v, old) => model.ironicChanged(v, old),
        () => model.emit('status'),
      )
    : undefined;
  const model: FleetModel = new FleetModel({
    client: o.client,
    ironic,
    namespace: o.namespace,
    onWatchError: (e, kind) => o.log?.warn({ kind, err: e.message }, 'watch failed; retrying'),
  });
  const bmc = o.readBmc === false ? undefined : new BmcReader(o.emulatorUrl, o.bmcTimeScale ?? 1);
  const runs = new Runs(o.reportDirs ?? []);
  const hub = new LiveHub(model, { actions: Boolean(o.allowActions), namespace: o.namespace ?? null });

  const app = express();
  app.disable('x-powered-by');
  // a page on another site must not drive this one (DNS rebinding): only loopback names when bound to loopback
  const loopbackOnly = o.address === '127.0.0.1' || o.address === '::1' || o.address === 'localhost';
  app.use((req, res, next) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK.has(host)) return fail(res, 403, 'Forbidden', `Host ${host} is not this dashboard's address`);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    next();
  });
  app.get('/healthz', (_req, res) => {
    const ok = model.informers.hosts.hasSynced;
    res
      .status(ok ? 200 : 503)
      .type('text/plain')
      .send(ok ? 'ok' : 'BareMetalHosts not listed yet');
  });
  app.get('/', (_req, res) => res.sendFile(join(WEB, 'index.html')));
  app.use('/static', express.static(WEB, { fallthrough: false, index: false }));
  app.get('/vendor/:file', (req, res) => {
    const f = VENDOR[String(req.params.file)];
    if (!f || !Object.hasOwn(VENDOR, String(req.params.file))) return fail(res, 404, 'NotFound', 'no such vendor file');
    res.type('text/javascript').sendFile(f);
  });
  app.get('/api/events', (_req, res) => hub.attach(res));
  app.get('/api/snapshot', (_req, res) => res.json(hub.snapshot()));
  app.get('/api/hosts/:ns/:name', async (req, res, next) => {
    try {
      res.json(
        await hostStory(
          { client: o.client, model, ironic, bmc, actions: Boolean(o.allowActions) },
          String(req.params.ns),
          String(req.params.name),
        ),
      );
    } catch (e) {
      next(e);
    }
  });
  app.post('/api/hosts/:ns/:name/actions/:action', express.json({ limit: '16kb' }), async (req, res, next) => {
    if (!o.allowActions)
      return fail(res, 403, 'Disabled', 'actions are off: start the dashboard with --allow-actions to power, reboot, inspect or provision');
    // a custom header makes a browser preflight a cross-site request, which this server never answers
    if (req.headers['x-ferrite-dashboard'] !== '1') return fail(res, 403, 'Forbidden', 'actions need the X-Ferrite-Dashboard: 1 header');
    try {
      const ns = String(req.params.ns);
      const name = String(req.params.name);
      if (!model.host(ns, name)) throw new HostNotFound(`no BareMetalHost ${ns}/${name}`);
      const r = await runAction(o.client, String(req.params.action), ns, name, (req.body ?? {}) as object);
      o.log?.info({ action: req.params.action, namespace: ns, name, kubectl: r.kubectl }, 'dashboard action');
      res.json({ kubectl: r.kubectl, resourceVersion: r.object.metadata?.resourceVersion });
    } catch (e) {
      next(e);
    }
  });
  app.get('/api/runs', (_req, res) => res.json({ dirs: runs.dirs, runs: runs.list() }));
  app.get('/api/runs/:dir/:file', (req, res, next) => {
    try {
      res.json(runs.read(Number(req.params.dir), String(req.params.file)));
    } catch (e) {
      next(e);
    }
  });
  app.get('/reports/:dir/:file', (req, res, next) => {
    try {
      const p = runs.path(Number(req.params.dir), String(req.params.file));
      // a conformance HTML report runs no script of ours and may not fetch anything
      res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
      res.sendFile(p);
    } catch (e) {
      next(e);
    }
  });
  app.use('/api', (_req, res) => fail(res, 404, 'NotFound', 'no such API path'));
  app.use((e: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (e instanceof HostNotFound) return fail(res, 404, 'NotFound', e.message);
    if (e instanceof ActionError) return fail(res, e.reason === 'Disabled' ? 403 : 400, e.reason, e.message);
    if (e instanceof RunsError) return fail(res, e.reason === 'NotFound' ? 404 : 400, e.reason, e.message);
    if (e instanceof KubeApiError) return fail(res, e.code >= 400 && e.code < 600 ? e.code : 502, e.reason, e.message);
    // body-parser's errors carry their status (a malformed or oversized body)
    if (e.status && e.status >= 400 && e.status < 500)
      return fail(res, e.status, e.status === 404 ? 'NotFound' : e.status === 413 ? 'RequestEntityTooLarge' : 'BadRequest', e.message);
    o.log?.error({ err: e.message }, 'dashboard request failed');
    return fail(res, 500, 'InternalError', e.message);
  });

  await model.start();
  const server: Server = await new Promise((ok, bad) => {
    const s = app.listen(o.port, o.address, () => ok(s));
    s.on('error', bad);
  });
  const addr = server.address() as { port: number };
  const host = o.address.includes(':') ? `[${o.address}]` : o.address;
  return {
    url: `http://${host}:${addr.port}/`,
    model,
    hub,
    close: async () => {
      hub.close();
      model.stop();
      bmc?.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function fail(res: Response, code: number, reason: string, message: string): void {
  res.status(code).json({ kind: 'Status', status: 'Failure', code, reason, message });
}
