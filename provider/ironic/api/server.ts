// Ironic's v1 REST API on express: version documents, nodes, ports, drivers, conductors, the
// ramdisk (agent) endpoints, microversion negotiation on every response, HTTP Basic auth from an
// htpasswd file, and Ironic's error bodies for everything that goes wrong.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { Conductor } from '../conductor/conductor.js';
import { errorBody, IronicError } from '../errors.js';
import { InvalidStateRequested } from '../states.js';
import type { BasicAuth } from './auth.js';
import { driverRoutes } from './drivers.js';
import { mountMetrics } from './metrics.js';
import { HEADER, MAX_MINOR, MAX_VERSION, MIN_VERSION, requestedMinor } from './microversion.js';
import { nodeRoutes } from './nodes.js';
import { portRoutes } from './ports.js';
import { ramdiskRoutes } from './ramdisk.js';

export interface IronicApiOptions {
  conductor: Conductor;
  host?: string;
  port?: number;
  /** public base URL (links, next); derived from the listener when omitted */
  publicUrl?: string;
  auth?: BasicAuth | null;
  tls?: { certPem: string; keyPem: string } | null;
  log?: Logger;
  maxBodyBytes?: number;
  /** serve Prometheus metrics at /metrics */
  metrics?: boolean;
}

export interface IronicApi {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Ctx {
  conductor: Conductor;
  base(req: Request): string;
}

/** the microversion negotiated for this request */
export function minorOf(req: Request): number {
  return (req as Request & { ironicMinor: number }).ironicMinor;
}

/** wraps an async handler so thrown errors reach the error middleware */
export function h(fn: (req: Request, res: Response) => unknown): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    try {
      const r = fn(req, res);
      if (r instanceof Promise) r.catch(next);
    } catch (e) {
      next(e);
    }
  };
}

export function requireMinor(req: Request, min: number): void {
  if (minorOf(req) < min) throw new IronicError('NotFound', 'The resource could not be found.');
}

function versionDoc(base: string) {
  return {
    id: 'v1',
    links: [{ href: `${base}/v1/`, rel: 'self' }],
    status: 'CURRENT',
    min_version: MIN_VERSION,
    version: MAX_VERSION,
  };
}

export async function startIronicApi(opts: IronicApiOptions): Promise<IronicApi> {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  let publicUrl = opts.publicUrl ?? '';
  const ctx: Ctx = { conductor: opts.conductor, base: () => publicUrl };

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    const id = `req-${randomUUID()}`;
    res.setHeader('X-OpenStack-Request-Id', id);
    res.setHeader('OpenStack-Request-Id', id);
    res.on('finish', () =>
      opts.log?.debug(
        { method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 },
        'request',
      ),
    );
    next();
  });

  const root = (_req: Request, res: Response) => {
    const v = versionDoc(publicUrl);
    res.json({
      name: 'OpenStack Ironic API',
      description: 'Ironic is an OpenStack project which enables the provision and management of baremetal machines.',
      default_version: v,
      versions: [v],
    });
  };
  app.get('/', root);
  if (opts.metrics) mountMetrics(app, opts.conductor, opts.auth);

  // microversion negotiation for everything under /v1
  app.use('/v1', (req, res, next) => {
    res.setHeader('X-OpenStack-Ironic-API-Minimum-Version', MIN_VERSION);
    res.setHeader('X-OpenStack-Ironic-API-Maximum-Version', MAX_VERSION);
    res.setHeader('Vary', `${HEADER}, OpenStack-API-Version`);
    try {
      const minor = requestedMinor(req.headers);
      (req as Request & { ironicMinor: number }).ironicMinor = minor;
      res.setHeader('X-OpenStack-Ironic-API-Version', `1.${minor}`);
      res.setHeader('OpenStack-API-Version', `baremetal 1.${minor}`);
      next();
    } catch (e) {
      next(e);
    }
  });

  const v1doc = (req: Request, res: Response) => {
    const base = publicUrl;
    const minor = minorOf(req);
    const lk = (p: string) => [
      { href: `${base}/v1/${p}/`, rel: 'self' },
      { href: `${base}/${p}/`, rel: 'bookmark' },
    ];
    const doc: Record<string, unknown> = {
      id: 'v1',
      links: [
        { href: `${base}/v1/`, rel: 'self' },
        { href: 'https://docs.openstack.org/ironic/latest/contributor/webapi.html', rel: 'describedby', type: 'text/html' },
      ],
      media_types: { base: 'application/json', type: 'application/vnd.openstack.ironic.v1+json' },
      chassis: lk('chassis'),
      ports: lk('ports'),
      nodes: lk('nodes'),
      drivers: lk('drivers'),
      version: versionDoc(base),
    };
    if (minor >= 22) {
      doc.lookup = lk('lookup');
      doc.heartbeat = lk('heartbeat');
    }
    if (minor >= 24) doc.portgroups = lk('portgroups');
    if (minor >= 32) doc.volume = lk('volume');
    if (minor >= 49) doc.conductors = lk('conductors');
    if (minor >= 52) doc.allocations = lk('allocations');
    if (minor >= 54) doc.events = lk('events');
    if (minor >= 55) doc.deploy_templates = lk('deploy_templates');
    if (minor >= 82) doc.shards = lk('shards');
    if (minor >= 84) doc.continue_inspection = lk('continue_inspection');
    if (minor >= 92) doc.runbooks = lk('runbooks');
    if (minor >= 96) doc.inspection_rules = lk('inspection_rules');
    res.json(doc);
  };
  app.get('/v1', v1doc);

  // the agent's endpoints are public, as in Ironic; everything else may need credentials
  // a query parameter given twice arrives as a list, which no Ironic parameter takes
  app.use('/v1', (req, _res, next) => {
    const twice = Object.entries(req.query).find(([, v]) => typeof v !== 'string');
    next(twice ? new IronicError('Invalid', `Query parameter ${twice[0]} may be given only once`) : undefined);
  });
  app.use('/v1', express.json({ limit: opts.maxBodyBytes ?? 8 * 1024 * 1024, strict: false, type: () => true }));
  ramdiskRoutes(app, ctx);
  if (opts.auth) {
    const auth = opts.auth;
    app.use('/v1', (req, res, next) => {
      if (auth.check(req.headers.authorization)) return next();
      res.setHeader('WWW-Authenticate', 'Basic realm="Baremetal API"');
      next(new IronicError('NotAuthorized', 'Incorrect username or password'));
    });
  }
  nodeRoutes(app, ctx);
  portRoutes(app, ctx);
  driverRoutes(app, ctx);
  // collections Ferrite keeps empty: the CLI lists them
  for (const [path, key, min] of [
    ['chassis', 'chassis', 1],
    ['portgroups', 'portgroups', 23],
    ['allocations', 'allocations', 52],
    ['deploy_templates', 'deploy_templates', 55],
    ['volume/connectors', 'connectors', 32],
    ['volume/targets', 'targets', 32],
    ['runbooks', 'runbooks', 92],
    ['shards', 'shards', 82],
    ['inspection_rules', 'inspection_rules', 96],
  ] as const)
    app.get(
      `/v1/${path}`,
      h((req, res) => {
        requireMinor(req, min);
        res.json({ [key]: [] });
      }),
    );
  app.get(
    '/v1/conductors',
    h((req, res) => {
      requireMinor(req, 49);
      res.json({
        conductors: [
          {
            hostname: opts.conductor.opts.hostname,
            conductor_group: '',
            alive: true,
            links: [{ href: `${publicUrl}/v1/conductors/${opts.conductor.opts.hostname}`, rel: 'self' }],
          },
        ],
      });
    }),
  );

  app.use((_req: Request, _res: Response, next: NextFunction) => next(new IronicError('NotFound', `The resource could not be found.`)));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = 'Internal server error';
    if (err instanceof IronicError) {
      status = err.status;
      message = err.message;
    } else if (err instanceof InvalidStateRequested) {
      status = 400;
      message = err.message;
    } else if (err && typeof err === 'object' && 'type' in err && (err as { type: string }).type === 'entity.parse.failed') {
      status = 400;
      message = `Invalid JSON in request body: ${(err as unknown as Error).message}`;
    } else if (err && typeof err === 'object' && 'type' in err && (err as { type: string }).type === 'entity.too.large') {
      status = 413;
      message = 'Request body is too large';
    } else if (err && typeof err === 'object' && 'type' in err && (err as { type: string }).type === 'charset.unsupported') {
      // the body parser reads JSON in UTF-8 (and UTF-16/32) only
      status = 415;
      message = `Unsupported Media Type: ${(err as unknown as Error).message}`;
    } else if (
      err &&
      typeof err === 'object' &&
      'status' in err &&
      Number((err as { status: number }).status) >= 400 &&
      Number((err as { status: number }).status) < 500
    ) {
      // any other client error the HTTP layer found (encoding, aborted body, …) stays a client error
      status = Number((err as { status: number }).status);
      message = (err as unknown as Error).message;
    } else {
      opts.log?.error({ err: err instanceof Error ? err.stack : String(err), path: req.path }, 'unhandled API error');
      message = `Internal server error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (!res.getHeader('X-OpenStack-Ironic-API-Version') && req.path.startsWith('/v1')) {
      res.setHeader('X-OpenStack-Ironic-API-Minimum-Version', MIN_VERSION);
      res.setHeader('X-OpenStack-Ironic-API-Maximum-Version', MAX_VERSION);
    }
    res.status(status).type('application/json').send(errorBody(status, message));
  });

  const server = opts.tls ? https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem }, app) : http.createServer(app);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6385, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = opts.host ?? '127.0.0.1';
  const hostForUrl = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `${opts.tls ? 'https' : 'http'}://${hostForUrl}:${port}`;
  if (!publicUrl) publicUrl = url;
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export { MAX_MINOR };
