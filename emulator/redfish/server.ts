// The Redfish HTTP(S) listener: routing, authentication, header rules (OData-Version, Accept,
// Content-Type), ETags with If-Match/If-None-Match, 405 with Allow, and Redfish error bodies.
// Written on node:http directly: per-request overhead decides how many BMCs one process can fake.

import { createHash, randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Clock, realClock } from '../machine/clock.js';
import { MachineError } from '../machine/errors.js';
import type { Machine } from '../machine/machine.js';
import type { FleetMetrics } from '../metrics.js';
import { AuthService, type Principal, unauthorized } from './auth.js';
import type { Handler, Method, RedfishContext, RfRequest, RfResult, Route } from './context.js';
import { errorBody, fromMachineError, RedfishError } from './errors.js';
import { EventService } from './events.js';
import { faultRoutes } from './faults.js';
import { managerRoutes } from './managers.js';
import { Overlay } from './personalities/overlay.js';
import type { Quirks } from './personalities/quirks.js';
import { serviceRoutes } from './service.js';
import { sysPath, systemRoutes } from './systems.js';
import { TaskService } from './tasks.js';
import { updateServiceRoutes } from './update-service.js';

export interface RedfishOptions {
  machines: Machine[];
  /** BMC credentials per machine */
  credentials: { machineUuid: string; username: string; password: string }[];
  clock: Clock;
  /**
   * The clock session idle timeouts run on: real time unless given. Clients (Ironic, sushy) pace
   * their requests in real time whatever the machines' time scale, so at time scale 100 a
   * 30-minute timeout on the machines' clock would drop a session after 18 s of a client's
   * silence — every operation would then log in again, and one queued for 18 s under load fails.
   */
  sessionClock?: Clock;
  address?: string;
  port?: number;
  tls?: { certPem: string; keyPem: string } | null;
  sessionTimeoutS?: number;
  maxSessions?: number;
  /** scratch space for firmware images */
  tmpDir: string;
  /** event destinations allowed besides loopback */
  allowEventDestinations?: string[];
  maxBodyBytes?: number;
  /** Prometheus metrics: served at /metrics (outside /redfish, no auth) and fed per request */
  metrics?: FleetMetrics;
  log?: (obj: Record<string, unknown>, msg: string) => void;
  /** the personality's quirks every machine on this listener shows (emulator/redfish/personalities) */
  quirks?: Quirks;
}

export interface RedfishServer {
  url: string;
  port: number;
  ctx: RedfishContext;
  close(): Promise<void>;
}

const METHODS: Method[] = ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'];
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface CompiledRoute {
  route: Route;
  segs: string[];
  allow: string;
}

function compile(routes: Route[]): Map<number, CompiledRoute[]> {
  const byLen = new Map<number, CompiledRoute[]>();
  for (const route of routes) {
    const segs = route.pattern.split('/').slice(1);
    const methods = Object.keys(route.handlers) as Method[];
    if (methods.includes('GET')) methods.splice(methods.indexOf('GET') + 1, 0, 'HEAD');
    const list = byLen.get(segs.length) ?? [];
    list.push({ route, segs, allow: methods.join(', ') });
    byLen.set(segs.length, list);
  }
  // literal segments first, so /Registries/Base beats /Registries/{reg}
  for (const list of byLen.values())
    list.sort((a, b) => b.segs.filter((s) => !s.startsWith('{')).length - a.segs.filter((s) => !s.startsWith('{')).length);
  return byLen;
}

function match(table: Map<number, CompiledRoute[]>, segs: string[]): { c: CompiledRoute; params: Record<string, string> } | null {
  for (const c of table.get(segs.length) ?? []) {
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < segs.length; i++) {
      const p = c.segs[i];
      if (p.charCodeAt(0) === 123 /* { */) params[p.slice(1, -1)] = segs[i];
      else if (p !== segs[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return { c, params };
  }
  return null;
}

/** The JSON schema a payload follows: `#ComputerSystem.v1_20_0.ComputerSystem` → ComputerSystem.v1_20_0.json */
function describedBy(odataType: string): string {
  const parts = odataType.replace(/^#/, '').split('.');
  const name = parts.length === 3 ? `${parts[0]}.${parts[1]}` : parts[0];
  return `https://redfish.dmtf.org/schemas/v1/${name}.json`;
}

/** The ETag of a resource body; a clock reading (DateTime) is not part of the resource's state. */
function resourceEtag(body: unknown, json?: string): string {
  const b = body as Record<string, unknown>;
  if (b && typeof b === 'object' && 'DateTime' in b) {
    const { DateTime: _, ...rest } = b;
    return etagOf(JSON.stringify(rest));
  }
  return etagOf(json ?? JSON.stringify(body));
}

function etagOf(json: string): string {
  return `"${createHash('sha1').update(json).digest('base64url').slice(0, 20)}"`;
}

function accepts(accept: string | undefined, produces: string): boolean {
  if (!accept) return true;
  const family = `${produces.split('/')[0]}/*`;
  return accept.split(',').some((part) => {
    const t = part.split(';')[0].trim().toLowerCase();
    return t === '*/*' || t === family || t === produces;
  });
}

export async function startRedfish(opts: RedfishOptions): Promise<RedfishServer> {
  const byId = new Map(opts.machines.map((m) => [m.uuid, m]));
  const byName = new Map(opts.machines.map((m) => [m.name, m]));
  const overlay = new Overlay(opts.quirks ?? {});
  const auth = new AuthService(
    opts.sessionClock ?? realClock,
    opts.sessionTimeoutS ?? 1800,
    opts.quirks?.maxSessions ?? opts.maxSessions ?? 256,
  );
  for (const c of opts.credentials) auth.addCredentials(c.username, c.password, c.machineUuid);
  const log = opts.log ?? (() => {});
  const ctx: RedfishContext = {
    machines: opts.machines,
    byId,
    clock: opts.clock,
    auth,
    tasks: new TaskService(opts.clock),
    events: new EventService(opts.clock, opts.allowEventDestinations ?? [], (msg) => log({}, msg)),
    serviceUuid: randomUUID(),
    product: 'Ferrite BMC Emulator',
    vendor: 'Ferrite',
  };
  for (const m of opts.machines) {
    m.on('event', (e: { messageId: string; message: string; args: string[]; severity: string }) =>
      ctx.events.publish({
        MessageId: `Ferrite.1.0.${e.messageId}`,
        Message: e.message,
        MessageArgs: e.args,
        Severity: e.severity,
        OriginOfCondition: sysPath(m),
      }),
    );
  }
  const routes = [
    ...serviceRoutes(ctx),
    ...systemRoutes(ctx),
    ...managerRoutes(ctx),
    ...updateServiceRoutes(ctx, opts.tmpDir),
    ...ctx.tasks.routes(),
    ...ctx.events.routes(),
    ...faultRoutes(ctx),
  ];
  const table = compile(routes);
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;

  const send = (res: ServerResponse, method: string, r: RfResult, allow?: string, reqEtag?: string) => {
    const headers: Record<string, string> = overlay.responseHeaders({ 'OData-Version': '4.0', 'Cache-Control': 'no-cache', ...r.headers });
    if (allow) headers.Allow = allow;
    let payload: string | undefined;
    if (r.body !== undefined) {
      if (typeof r.body === 'string') {
        payload = r.body;
        headers['Content-Type'] ??= 'text/plain; charset=utf-8';
      } else {
        payload = JSON.stringify(r.body);
        headers['Content-Type'] = 'application/json; charset=utf-8';
        const odataType = (r.body as Record<string, unknown>)['@odata.type'];
        if (typeof odataType === 'string') headers.Link = `<${describedBy(odataType)}>; rel=describedby`;
        if ((r.status ?? 200) === 200 && (r.body as Record<string, unknown>)['@odata.id'] && !overlay.etagsDisabled) {
          const tag = resourceEtag(r.body, payload);
          headers.ETag = tag;
          payload = `{"@odata.etag":${JSON.stringify(tag)},${payload.slice(1)}`;
          if (reqEtag?.split(',').some((t) => t.trim() === tag || t.trim() === `W/${tag}`)) {
            res.writeHead(304, headers);
            res.end();
            return;
          }
        }
      }
    }
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    res.writeHead(r.status ?? (payload === undefined ? 204 : 200), headers);
    res.end(method === 'HEAD' ? undefined : payload);
  };

  const fail = (res: ServerResponse, method: string, e: RedfishError, allow?: string) => {
    const b = overlay.errorBody(errorBody(e) as Record<string, unknown>);
    send(
      res,
      method,
      { status: e.status, body: b.body, headers: { ...e.headers, ...(b.contentType ? { 'Content-Type': b.contentType } : {}) } },
      allow,
    );
  };

  const drain = (req: IncomingMessage) => {
    let discarded = 0;
    req.on('data', (c: Buffer) => {
      discarded += c.length;
      if (discarded > 64 * maxBody) req.destroy();
    });
    req.resume();
  };

  const readBody = (req: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const tooLarge = () => new RedfishError(413, { messageId: 'GeneralError', args: [`request body larger than ${maxBody} bytes`] });
      // Refused bodies are drained, not cut off: closing a socket with unread data resets it, and the
      // client would never read the 413. A client that keeps sending past a generous bound is cut off.
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > maxBody) {
        reject(tooLarge());
        drain(req);
        return;
      }
      const onData = (c: Buffer) => {
        size += c.length;
        if (size > maxBody) {
          req.off('data', onData);
          reject(tooLarge());
          drain(req);
          return;
        }
        chunks.push(c);
      };
      req.on('data', onData);
      req.on('error', reject);
      req.on('end', () => {
        if (size === 0) return resolve(undefined);
        const ct = String(req.headers['content-type'] ?? '').toLowerCase();
        if (ct && !ct.startsWith('application/json')) return reject(new RedfishError(415, { messageId: 'UnsupportedMediaType' }));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new RedfishError(400, { messageId: 'MalformedJSON' }));
        }
      });
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase() as Method;
    if (!overlay.admit()) {
      req.resume();
      return fail(res, method, new RedfishError(503, { messageId: 'ServiceTemporarilyUnavailable', args: ['5'] }, { 'Retry-After': '5' }));
    }
    res.once('close', () => overlay.release());
    await overlay.delay();
    const refused = overlay.checkHeaders(req.headers);
    if (refused) {
      req.resume();
      return fail(res, method, refused);
    }
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    let path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
    let segs: string[];
    try {
      segs = path.split('/').slice(1).map(decodeURIComponent);
    } catch {
      return fail(res, method, new RedfishError(400, { messageId: 'ResourceMissingAtURI', args: [path] }));
    }
    let found = match(table, segs);
    // a POST to a collection's Members property is a POST to the collection
    if (method === 'POST' && segs.at(-1) === 'Members' && !found?.c.route.handlers.POST) {
      const parent = match(table, segs.slice(0, -1));
      if (parent?.c.route.handlers.POST) found = parent;
    }
    if (!found || overlay.hides(path)) {
      return fail(res, method, new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [path] }));
    }
    const { c, params } = found;
    const handler: Handler | undefined = method === 'HEAD' ? c.route.handlers.GET : c.route.handlers[method];
    if (!handler || !METHODS.includes(method))
      return fail(res, method, new RedfishError(405, { messageId: 'OperationNotAllowed' }), c.allow);
    const odataVersion = req.headers['odata-version'];
    if (odataVersion !== undefined && odataVersion !== '4.0')
      return fail(res, method, new RedfishError(412, { messageId: 'PreconditionFailed' }), c.allow);
    const produces = c.route.produces ?? 'application/json';
    if (!accepts(req.headers.accept, produces))
      return fail(
        res,
        method,
        new RedfishError(406, {
          messageId: 'GeneralError',
          args: [`the requested media type is not available: this resource is ${produces}`],
        }),
        c.allow,
      );
    for (const k of query.keys()) {
      if (k.startsWith('$') || k === 'only' || k === 'excerpt')
        return fail(res, method, new RedfishError(501, { messageId: 'QueryNotSupported' }), c.allow);
    }
    let principal: Principal | null;
    const isPublic = overlay.isPublic(path, c.route.public?.includes(method) ?? false);
    try {
      if (overlay.refusesBasic(req.headers)) throw unauthorized();
      principal = isPublic ? safeAuth(auth, req) : auth.authenticate(req.headers);
      if (!principal && !isPublic) throw unauthorized();
    } catch (e) {
      return fail(res, method, e as RedfishError, c.allow);
    }
    let machine = undefined as unknown as Machine;
    if (params.sys !== undefined) {
      const m = byId.get(params.sys) ?? (UUID_RE.test(params.sys) ? byId.get(params.sys.toLowerCase()) : undefined);
      const alias = m ? undefined : byName.get(params.sys);
      if (alias && segs[2] === 'Systems') {
        // a system addressed by name answers with a redirect to its canonical (UUID) URI
        segs[3] = alias.uuid;
        res.writeHead(307, { Location: `/${segs.map(encodeURIComponent).join('/')}`, 'OData-Version': '4.0', 'Content-Length': '0' });
        res.end();
        return;
      }
      if (!m) return fail(res, method, new RedfishError(404, { messageId: 'ResourceNotFound', args: ['ComputerSystem', params.sys] }));
      if (!principal?.account.systems.has(m.uuid))
        return fail(res, method, new RedfishError(403, { messageId: 'InsufficientPrivilege' }), c.allow);
      machine = m;
    }
    const rq: RfRequest = { method, path, params, query, headers: req.headers, body: undefined, principal, machine, raw: req, res };
    try {
      if (method === 'POST' || method === 'PATCH' || method === 'PUT') rq.body = await readBody(req);
      else req.resume();
      const ifMatch = req.headers['if-match'];
      const ifMatchRule = method !== 'GET' && method !== 'HEAD' ? overlay.ifMatch(method, req.headers, !!c.route.handlers.GET) : null;
      if (ifMatchRule instanceof RedfishError) throw ifMatchRule;
      if (ifMatch && ifMatchRule !== 'skip' && method !== 'GET' && method !== 'HEAD' && c.route.handlers.GET && ifMatch.trim() !== '*') {
        const get: RfRequest = { ...rq, method: 'GET', body: undefined };
        const cur = overlay.after(get, await c.route.handlers.GET(get));
        const tag = resourceEtag(cur.body);
        if (!ifMatch.split(',').some((t) => t.trim() === tag || t.trim() === `W/${tag}`))
          throw new RedfishError(412, { messageId: 'PreconditionFailed' });
      }
      const result = overlay.after(rq, overlay.before(rq) ?? (await handler(rq)));
      if (result.streamed) return;
      send(
        res,
        method,
        result,
        c.allow,
        method === 'GET' || method === 'HEAD' ? (req.headers['if-none-match'] as string | undefined) : undefined,
      );
    } catch (e) {
      if (e instanceof RedfishError) return fail(res, method, e, c.allow);
      if (e instanceof MachineError) return fail(res, method, fromMachineError(e), c.allow);
      log({ err: (e as Error).message, path, method }, 'redfish request failed');
      fail(res, method, new RedfishError(500, { messageId: 'InternalError' }), c.allow);
    }
  }

  const metrics = opts.metrics;
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    if (metrics) {
      if (req.url === '/metrics' && req.method === 'GET') {
        metrics.registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
          res.end(text);
        });
        return;
      }
      const t0 = process.hrtime.bigint();
      res.once('finish', () => metrics.redfishRequest(req.method ?? 'GET', res.statusCode, Number(process.hrtime.bigint() - t0) / 1e9));
    }
    handle(req, res).catch((e: unknown) => {
      log({ err: (e as Error).message }, 'redfish handler crashed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = opts.tls
    ? https.createServer({ cert: opts.tls.certPem, key: opts.tls.keyPem, minVersion: 'TLSv1.2' }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.requestTimeout = 120_000;
  server.on('clientError', (e: NodeJS.ErrnoException, sock) => {
    if (!sock.writable) return sock.destroy();
    // methods the HTTP parser does not know are unsupported methods (501), not malformed requests
    if (e.code === 'HPE_INVALID_METHOD') {
      const body = JSON.stringify(errorBody(new RedfishError(501, { messageId: 'OperationNotAllowed' })));
      sock.end(
        `HTTP/1.1 501 Not Implemented\r\nConnection: close\r\nOData-Version: 4.0\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    sock.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 8000, opts.address ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = (opts.address ?? '127.0.0.1').includes(':') ? `[${opts.address}]` : (opts.address ?? '127.0.0.1');
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    ctx,
    async close() {
      await ctx.events.close();
      for (const t of ctx.tasks.tasks.values()) t.abort.abort(new Error('emulator stopping'));
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function safeAuth(auth: AuthService, req: IncomingMessage): Principal | null {
  try {
    return auth.authenticate(req.headers);
  } catch {
    return null;
  }
}
