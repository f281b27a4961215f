// The HTTP face of the API server: routing of Kubernetes REST paths, body decoding with limits,
// content negotiation (JSON, Table, PartialObjectMetadata, aggregated discovery), auth, and
// Status errors. Object semantics live in core.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry as MetricsRegistry } from 'prom-client';
import YAML from 'yaml';
import { cloneJson } from '../../lib/clone.js';
import type { ApiCore, DeleteOptions, Obj, PatchType, WriteOptions } from './core.js';
import { isObj } from './core.js';
import { AGGREGATED_V2, AGGREGATED_V2BETA1, aggregated, apiGroupDoc, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import { ApiError, errors, type StatusCause } from './errors.js';
import { hashDoc, v2Doc, v3Doc, v3Index } from './openapi.js';
import { jsonPatch, mergePatch } from './patch.js';
import { decodeProtobuf, isProtobuf } from './protobuf.js';
import { gvString, isPrimary, type ResourceDef, type VersionDef } from './registry.js';
import { fieldValue, matchFields, matchLabels, parseFieldSelector, parseLabelSelector, supportedFields } from './selectors.js';
import type { StoredObject } from './store.js';
import { columnsFor, table } from './table.js';
import { startWatch, validateWatchParams } from './watch.js';

export interface HttpOptions {
  core: ApiCore;
  token?: string;
  /** also accept a client certificate the TLS layer verified against the client CA */
  clientCertAuth?: boolean;
  serverAddress: string;
  maxBodyBytes: number;
  log: Logger;
  metrics: MetricsRegistry;
  version: { major: string; minor: string; gitVersion: string };
}

type Q = Record<string, string | undefined>;
// Resource requests are served straight from node's http objects (the hot path); express only
// routes the few fixed documents (discovery, OpenAPI, health, metrics).
type Request = IncomingMessage;
type Response = ServerResponse;

function pathOf(req: Request): string {
  const url = req.url ?? '/';
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

interface Target {
  def: ResourceDef;
  ver: VersionDef;
  version: string;
  ns: string;
  name?: string;
  sub?: string;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);

function query(req: Request): Q {
  const out: Q = {};
  const url = req.url ?? '/';
  const i = url.indexOf('?');
  if (i >= 0) for (const [k, v] of new URLSearchParams(url.slice(i + 1))) out[k] = v;
  return out;
}

function sendJSON(res: Response, code: number, body: unknown, contentType = 'application/json', warnings: string[] = []): void {
  if (warnings.length) res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(', '));
  res.statusCode = code;
  res.setHeader('Content-Type', contentType);
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sendError(res: Response, e: unknown, log: Logger): void {
  // a body nested within the parse limit can still be too deep for a recursive walk: the
  // request's fault, not the server's
  const err =
    e instanceof ApiError
      ? e
      : e instanceof RangeError && /call stack/.test(e.message)
        ? errors.badRequest('the request body is nested too deeply to be processed')
        : errors.internal((e as Error)?.message ?? String(e));
  if (err.code >= 500) log.error({ err: e }, 'request failed');
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJSON(res, err.code, err.toStatus());
}

/** Reads the body with a size cap; over the cap answers 413 without buffering the rest. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      reject(errors.tooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(errors.tooLarge(limit));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decodeBody(buf: Buffer, contentType: string, def: ResourceDef | undefined, kind?: string): unknown {
  const ct = contentType.split(';')[0].trim().toLowerCase();
  if (isProtobuf(ct)) {
    // custom resources have no protobuf form: kube-apiserver refuses it for them too
    if (!def?.builtin && !kind) throw errors.unsupportedMediaType(ct, ['application/json', 'application/yaml']);
    return decodeProtobuf(buf, kind ?? (def as ResourceDef).kind);
  }
  const text = buf.toString('utf8');
  if (text.trim() === '') throw errors.badRequest('the request body is empty');
  if (ct === 'application/yaml' || ct === 'application/apply-patch+yaml' || ct === 'application/apply-patch+cbor') {
    try {
      const docs = YAML.parseAllDocuments(text);
      if (docs.length !== 1) throw new Error('expected exactly one YAML document');
      if (docs[0].errors.length) throw docs[0].errors[0];
      const v = docs[0].toJS({ maxAliasCount: 100 });
      if (valueTooDeep(v, MAX_DEPTH)) throw new Error('exceeded max depth');
      return v;
    } catch (e) {
      throw errors.badRequest(`error decoding YAML: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  // Go's JSON decoder refuses nesting deeper than 10000; past that, parsing and every recursive
  // walk after it would exhaust the stack (a 500 instead of a 400)
  const tooDeep = jsonTooDeep(text, MAX_DEPTH);
  if (tooDeep) {
    throw errors.badRequest(
      `the object provided is unrecognized (must be of type ${kind ?? def?.kind ?? 'Object'}): couldn't get version/kind; json parse error: invalid character '${tooDeep}' exceeded max depth (${text.slice(0, 30)} ...)`,
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`the body of the request could not be decoded as JSON: ${(e as Error).message}`);
  }
}

// kube-apiserver's decoder takes up to 10000 levels; the embedded server's recursive walks
// (pruning, defaulting, validation, managed fields) stay within Node's stack only to about 4000,
// so it refuses at 1000 — no Kubernetes object nests nearly that deep (README: Differences)
const MAX_DEPTH = 1_000;

/** The bracket at which JSON text nests deeper than max, or null (one linear pass, strings skipped). */
export function jsonTooDeep(text: string, max: number): '{' | '[' | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92)
        i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (++depth > max) return c === 123 ? '{' : '[';
    } else if (c === 125 || c === 93) depth--;
  }
  return null;
}

/** Whether a decoded value nests deeper than max (iterative: the check itself cannot overflow). */
export function valueTooDeep(v: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop() as [unknown, number];
    if (x === null || typeof x !== 'object') continue;
    if (d > max) return true;
    for (const child of Object.values(x)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return false;
}

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

function writeOptions(q: Q, req: Request, sub?: string, patchType?: PatchType): WriteOptions {
  const kind = req.method === 'POST' ? 'CreateOptions' : req.method === 'PUT' ? 'UpdateOptions' : 'PatchOptions';
  const causes: StatusCause[] = [];
  if (q.dryRun !== undefined && q.dryRun !== 'All')
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ["${q.dryRun}"]: supported values: "All"`,
      field: 'dryRun',
    });
  const fv = q.fieldValidation;
  if (fv !== undefined && !['', 'Strict', 'Warn', 'Ignore'].includes(fv)) {
    causes.push({
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: "${fv}": supported values: "", "Ignore", "Strict", "Warn"`,
      field: 'fieldValidation',
    });
  }
  if (patchType === 'apply' && !q.fieldManager)
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' });
  if (patchType && patchType !== 'apply' && q.force !== undefined)
    causes.push({ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' });
  if (causes.length) throw errors.invalidOptions(kind, causes);
  const ua = String(req.headers['user-agent'] ?? 'unknown');
  return {
    dryRun: q.dryRun === 'All',
    fieldManager: q.fieldManager || ua.split('/')[0] || 'unknown',
    fieldValidation: (fv || undefined) as WriteOptions['fieldValidation'],
    subresource: (sub ?? '') as WriteOptions['subresource'],
    force: q.force === 'true',
  };
}

function acceptKind(req: Request): 'Table' | 'PartialObjectMetadata' | 'json' {
  const a = String(req.headers.accept ?? '');
  for (const part of a.split(',')) {
    if (/as=Table/.test(part) && /g=meta\.k8s\.io/.test(part) && /v=v1(;|$|\s)/.test(`${part};`)) return 'Table';
    if (/as=PartialObjectMetadata/.test(part) && /v=v1(;|$|\s)/.test(`${part};`)) return 'PartialObjectMetadata';
    if (/application\/json|\*\/\*/.test(part) && !/as=/.test(part)) return 'json';
  }
  return 'json';
}

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export function buildApp(o: HttpOptions): RequestListener {
  const { core, log } = o;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Requests by verb, group, resource and HTTP code.',
    labelNames: ['verb', 'group', 'resource', 'code'],
    registers: [o.metrics],
  });
  const latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Request latency by verb and resource (watches excluded).',
    labelNames: ['verb', 'resource'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [o.metrics],
  });
  const watches = new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Open watch streams.',
    labelNames: ['resource'],
    registers: [o.metrics],
  });
  new Gauge({
    name: 'apiserver_storage_objects',
    help: 'Stored objects per resource.',
    labelNames: ['resource'],
    registers: [o.metrics],
    collect() {
      this.reset();
      for (const r of core.store.resources()) this.set({ resource: r }, core.store.count(r));
    },
  });

  for (const p of ['/healthz', '/livez', '/readyz']) {
    app.get(p, (_req, res) => {
      res.status(200).type('text/plain').end('ok');
    });
  }
  app.get('/version', (_req, res) =>
    sendJSON(res, 200, {
      ...o.version,
      // compatibility versions (KEP-4330) are reported beside the version, as kube-apiserver does
      emulationMajor: o.version.major,
      emulationMinor: o.version.minor,
      minCompatibilityMajor: o.version.major,
      minCompatibilityMinor: String(Math.max(0, Number(o.version.minor) - 1)),
      gitCommit: 'ferrite',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      goVersion: `node${process.versions.node}`,
      compiler: 'tsc',
      platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
    }),
  );
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', o.metrics.contentType);
    res.end(await o.metrics.metrics());
  });

  const discovery = (req: Request, res: Response, legacy: boolean) => {
    const accept = String(req.headers.accept ?? '');
    const ct = accept.includes(AGGREGATED_V2) ? AGGREGATED_V2 : accept.includes(AGGREGATED_V2BETA1) ? AGGREGATED_V2BETA1 : undefined;
    if (ct) {
      const av = ct === AGGREGATED_V2 ? 'apidiscovery.k8s.io/v2' : 'apidiscovery.k8s.io/v2beta1';
      const body = JSON.stringify(aggregated(core.registry, legacy, av));
      res.setHeader('ETag', `"${hashDoc(body).slice(0, 32)}"`);
      res.setHeader('Vary', 'Accept');
      return sendJSON(res, 200, body, ct);
    }
    sendJSON(res, 200, legacy ? apiVersions(o.serverAddress) : apiGroupList(core.registry));
  };
  app.get('/api', (req, res) => discovery(req, res, true));
  app.get('/apis', (req, res) => discovery(req, res, false));
  app.get('/api/v1', (_req, res) => sendJSON(res, 200, apiResourceList(core.registry, '', 'v1')));
  app.get('/apis/:group', (req, res) => {
    const g = apiGroupDoc(core.registry, String(req.params.group));
    if (!g) return sendJSON(res, 404, new ApiError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    sendJSON(res, 200, g);
  });
  app.get('/apis/:group/:version', (req, res) => {
    const l = apiResourceList(core.registry, String(req.params.group), String(req.params.version));
    if (!l) return sendJSON(res, 404, new ApiError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    sendJSON(res, 200, l);
  });

  // OpenAPI documents are cached per registry generation: CRD changes invalidate them.
  let openapiGen = -1;
  const v3Cache = new Map<string, { body: string; hash: string }>();
  const v3Get = (key: string) => {
    if (openapiGen !== core.registry.version) {
      v3Cache.clear();
      openapiGen = core.registry.version;
    }
    let c = v3Cache.get(key);
    if (!c) {
      const [kind, ...rest] = key.split('/');
      const [group, version] = kind === 'api' ? ['', rest[0]] : [rest[0], rest[1]];
      const doc = v3Doc(core.registry, group, version);
      if (!doc) return undefined;
      const body = JSON.stringify(doc);
      c = { body, hash: hashDoc(body) };
      v3Cache.set(key, c);
    }
    return c;
  };
  app.get('/openapi/v3', (_req, res) =>
    sendJSON(
      res,
      200,
      v3Index(core.registry, (k) => v3Get(k)?.hash ?? ''),
    ),
  );
  app.get('/openapi/v3/{*rest}', (req, res) => {
    const key = (req.params as { rest: string[] }).rest.join('/');
    const c = v3Get(key);
    if (!c) return sendJSON(res, 404, new ApiError(404, 'NotFound', 'the server could not find the requested resource').toStatus());
    res.setHeader('Cache-Control', 'public, immutable');
    sendJSON(res, 200, c.body);
  });
  app.get('/openapi/v2', (req, res) => {
    if (String(req.headers.accept ?? '').includes('protobuf') && !String(req.headers.accept).includes('json')) {
      return sendJSON(res, 406, new ApiError(406, 'NotAcceptable', 'only application/json is served for /openapi/v2').toStatus());
    }
    sendJSON(res, 200, v2Doc(core.registry));
  });

  app.use((_req, res) => sendJSON(res, 404, new ApiError(404, 'NotFound', 'the server could not find the requested resource').toStatus()));

  const serveResource = (req: Request, res: Response, t: Target) => {
    const started = process.hrtime.bigint();
    let verb = (req.method ?? 'GET').toUpperCase();
    let resourceLabel = '';
    let groupLabel = '';
    res.on('finish', () => {
      requests.inc({ verb, group: groupLabel, resource: resourceLabel, code: String(res.statusCode) });
      if (verb !== 'WATCH') latency.observe({ verb, resource: resourceLabel }, Number(process.hrtime.bigint() - started) / 1e9);
    });
    handleResource(req, res, t, (v, g, r) => {
      verb = v;
      groupLabel = g;
      resourceLabel = r;
    }).catch((e) => sendError(res, e, log));
  };

  const resolve = (path: string): Target | undefined => {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1];
      version = segs[2];
      rest = segs.slice(3);
    } else return undefined;
    if (rest[0] === 'watch') rest = rest.slice(1);
    let ns = '';
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = core.registry.lookup(group, version, rest[2]);
      if (inner?.def.namespaced) {
        ns = rest[1];
        rest = rest.slice(2);
      }
    }
    const hit = core.registry.lookup(group, version, rest[0] ?? '');
    if (!hit || rest.length > 3) return undefined;
    if (hit.def.namespaced === false && ns) return undefined;
    return { def: hit.def, ver: hit.ver, version, ns, name: rest[1], sub: rest[2] };
  };

  async function handleResource(
    req: Request,
    res: Response,
    t: Target,
    label: (verb: string, group: string, resource: string) => void,
  ): Promise<void> {
    const q = query(req);
    const { def, version } = t;
    const isWatch = q.watch === 'true' || q.watch === '1' || pathOf(req).includes('/watch/');
    // kube-apiserver's verb values for apiserver_request_total (an apply patch is APPLY)
    const verb = requestVerb(req, t, isWatch);
    const apply = verb === 'patch' && String(req.headers['content-type'] ?? '').startsWith('application/apply-patch');
    label(apply ? 'APPLY' : (METRIC_VERBS[verb] ?? verb.toUpperCase()), def.group, def.plural);
    if (t.sub && t.sub !== 'status' && !(t.sub === 'scale' && t.ver.scale)) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${def.plural}/${t.sub})`);
    }
    if (t.sub === 'status' && !t.ver.statusSubresource) {
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${def.plural}/status)`);
    }
    if (def.namespaced && !t.ns && req.method !== 'GET') {
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource: a namespace is required');
    }
    if (def.virtual && req.method !== 'POST') throw errors.methodNotAllowed();
    const body = async (): Promise<unknown> =>
      decodeBody(await readBody(req, o.maxBodyBytes), String(req.headers['content-type'] ?? 'application/json'), def);

    switch (req.method) {
      case 'GET': {
        if (!t.name || isWatch) return listOrWatch(req, res, t, q, isWatch);
        if (t.sub === 'scale') return sendJSON(res, 200, toScale(await core.get(def, version, t.ns, t.name), t.ver));
        return sendObject(req, res, 200, t, await core.get(def, version, t.ns, t.name));
      }
      case 'POST': {
        if (t.name) throw errors.methodNotAllowed();
        const b = await body();
        if (!isObj(b)) throw errors.badRequest('the request body must be a JSON object');
        const r = await core.create(def, version, t.ns, b, writeOptions(q, req));
        log.debug({ verb: 'create', resource: def.plural, namespace: t.ns, name: (r.obj.metadata as Obj).name }, 'created');
        return sendObject(req, res, 201, t, r.obj, r.warnings);
      }
      case 'PUT': {
        if (!t.name) throw errors.methodNotAllowed();
        const b = await body();
        if (!isObj(b)) throw errors.badRequest('the request body must be a JSON object');
        if (t.sub === 'scale') return sendJSON(res, 200, toScale(await scaleWrite(t, b, q, req), t.ver));
        const r = await core.update(def, version, t.ns, t.name, b, writeOptions(q, req, t.sub));
        return sendObject(req, res, 200, t, r.obj, r.warnings);
      }
      case 'PATCH': {
        if (!t.name) throw errors.methodNotAllowed();
        const ct = String(req.headers['content-type'] ?? '')
          .split(';')[0]
          .trim();
        const pt = PATCH_TYPES[ct];
        if (!pt)
          throw errors.unsupportedPatchType(
            def.builtin ? null : ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'],
          );
        const b = await body();
        if (t.sub === 'scale') {
          const cur = toScale(await core.get(def, version, t.ns, t.name), t.ver);
          const next = pt === 'json' ? jsonPatch(cur, b) : (mergePatch(cur, b) as Obj);
          return sendJSON(res, 200, toScale(await scaleWrite(t, next, q, req), t.ver));
        }
        const r = await core.patch(def, version, t.ns, t.name, pt, b, writeOptions(q, req, t.sub, pt));
        return sendObject(req, res, r.created ? 201 : 200, t, r.obj, r.warnings);
      }
      case 'DELETE': {
        let opts: DeleteOptions = {};
        const raw = await readBody(req, o.maxBodyBytes);
        if (raw.length > 0 && raw.toString().trim() !== '') {
          const b = decodeBody(raw, String(req.headers['content-type'] ?? 'application/json'), undefined, 'DeleteOptions');
          if (isObj(b)) {
            opts = {
              propagationPolicy: b.propagationPolicy as DeleteOptions['propagationPolicy'],
              preconditions: b.preconditions as DeleteOptions['preconditions'],
              dryRun: Array.isArray(b.dryRun) && b.dryRun.includes('All'),
            };
            if (b.orphanDependents === true) opts.propagationPolicy = 'Orphan';
          }
        }
        if (q.propagationPolicy) opts.propagationPolicy = q.propagationPolicy as DeleteOptions['propagationPolicy'];
        if (q.dryRun === 'All') opts.dryRun = true;
        if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy)) {
          throw errors.invalidOptions('DeleteOptions', [
            {
              reason: 'FieldValueNotSupported',
              message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
              field: 'propagationPolicy',
            },
          ]);
        }
        if (!t.name) {
          // as kube-apiserver: Namespaces have no deletecollection (one request must not wipe a cluster)
          if (def.builtin && def.group === '' && def.kind === 'Namespace') throw errors.methodNotAllowed();
          const items = core.store.list(def.storeId, def.namespaced ? t.ns : undefined).filter(matcher(t, q));
          // as kube-apiserver: the answer lists what was deleted (or marked for deletion)
          const gone: Obj[] = [];
          for (const s of items) {
            const r = await core.delete(def, version, s.ns, s.name, opts).catch(() => undefined);
            if (r) gone.push(r.obj);
          }
          return sendJSON(res, 200, {
            kind: def.listKind,
            apiVersion: gvString(def.group, version),
            metadata: { resourceVersion: String(core.store.resourceVersion) },
            items: gone,
          });
        }
        const r = await core.delete(def, version, t.ns, t.name, opts);
        if (r.deleted) {
          const m = r.obj.metadata as Obj;
          return sendJSON(res, 200, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name: t.name, group: def.group, kind: def.plural, uid: m.uid },
          });
        }
        return sendObject(req, res, 200, t, r.obj);
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  async function scaleWrite(t: Target, scale: Obj, q: Q, req: Request): Promise<Obj> {
    const s = t.ver.scale as NonNullable<VersionDef['scale']>;
    const cur = await core.get(t.def, t.version, t.ns, t.name as string);
    const replicas = (scale.spec as Obj | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', String(t.name), [
        { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: must be a non-negative integer' },
      ]);
    }
    const next = cloneJson(cur);
    const path = s.specReplicasPath.replace(/^\./, '').split('.');
    let o: Obj = next;
    for (const p of path.slice(0, -1)) {
      if (!isObj(o[p])) o[p] = {};
      o = o[p] as Obj;
    }
    o[path[path.length - 1]] = replicas;
    return (await core.update(t.def, t.version, t.ns, t.name as string, next, writeOptions(q, req))).obj;
  }

  function matcher(t: Target, q: Q): (s: StoredObject) => boolean {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, supportedFields(t.def.group, t.def.plural, t.ver.selectableFields, t.def.builtin));
    const nameFromPath = t.name;
    const simple = fields.every((f) => f.field === 'metadata.name' || f.field === 'metadata.namespace');
    return (s: StoredObject) => {
      if (t.def.namespaced && t.ns && s.ns !== t.ns) return false;
      if (nameFromPath && s.name !== nameFromPath) return false;
      if (labels.length && !matchLabels(labels, s.labels)) return false;
      if (fields.length === 0) return true;
      if (simple) return matchFields(fields, (f) => (f === 'metadata.name' ? s.name : s.ns));
      // field selectors other than name/namespace read the stored object (metadata and the
      // built-in kinds' fields, which do not differ between versions)
      return matchFields(fields, (f) => fieldValue(JSON.parse(s.json) as Obj, f));
    };
  }

  function present(req: Request, t: Target, obj: Obj): Obj {
    const mode = acceptKind(req);
    if (mode === 'PartialObjectMetadata') return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    if (mode === 'Table' && !t.sub) {
      return table(
        columnsFor(t.ver.printerColumns),
        [obj],
        { resourceVersion: (obj.metadata as Obj).resourceVersion },
        query(req).includeObject ?? 'Metadata',
      );
    }
    return obj;
  }

  function sendObject(req: Request, res: Response, code: number, t: Target, obj: Obj, warnings: string[] = []): void {
    sendJSON(res, code, present(req, t, obj), 'application/json', warnings);
  }

  async function listOrWatch(req: Request, res: Response, t: Target, q: Q, isWatch: boolean): Promise<void> {
    const match = matcher(t, q);
    const { def, version } = t;
    const storageVersion = def.storageGroupVersion;
    const target = gvString(def.group, version);
    const mode = acceptKind(req);
    const cols = columnsFor(t.ver.printerColumns);
    const includeObject = q.includeObject ?? 'Metadata';
    const objsOf = (rows: StoredObject[]) =>
      core.convertList(
        def,
        rows.map((s) => JSON.parse(s.json) as Obj),
        version,
      );
    // stored rows already have the requested shape: send them as they are, without re-encoding
    const direct = storageVersion === target && isPrimary(def);
    if (isWatch) {
      const params = {
        resourceVersion: q.resourceVersion,
        resourceVersionMatch: q.resourceVersionMatch,
        sendInitialEvents: q.sendInitialEvents === undefined ? undefined : q.sendInitialEvents === 'true',
        allowWatchBookmarks: q.allowWatchBookmarks === 'true',
        timeoutSeconds: q.timeoutSeconds ? Number(q.timeoutSeconds) : undefined,
      };
      validateWatchParams(params);
      let first = true;
      const line = (type: string, body: string) => `{"type":"${type}","object":${body}}\n`;
      const encode = (type: string, s: StoredObject): string | Promise<string> => {
        if (direct && mode === 'json') return line(type, s.json);
        return objsOf([s]).then(([o]) => {
          if (mode === 'Table') {
            const t = JSON.stringify(table(cols, [o], { resourceVersion: String(s.rv) }, includeObject, first));
            first = false;
            return line(type, t);
          }
          if (mode === 'PartialObjectMetadata') {
            return line(type, JSON.stringify({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }));
          }
          return line(type, JSON.stringify(o));
        });
      };
      watches.inc({ resource: def.plural });
      startWatch({ core, def, version, matches: match, encode, params, res, onClose: () => watches.dec({ resource: def.plural }) });
      return;
    }
    // LIST
    const rvMatch = q.resourceVersionMatch;
    const currentRV = core.store.resourceVersion;
    if (rvMatch && !['Exact', 'NotOlderThan'].includes(rvMatch))
      throw errors.invalidOptions('ListOptions', [
        {
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: "${rvMatch}": supported values: "Exact", "NotOlderThan", ""`,
          field: 'resourceVersionMatch',
        },
      ]);
    if (rvMatch && q.resourceVersion === undefined)
      throw errors.invalidOptions('ListOptions', [
        {
          reason: 'FieldValueForbidden',
          message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
          field: 'resourceVersionMatch',
        },
      ]);
    if (q.resourceVersion !== undefined && q.resourceVersion !== '' && !/^\d+$/.test(q.resourceVersion))
      throw errors.badRequest(
        `invalid resource version: resourceVersion: Invalid value: "${q.resourceVersion}": strconv.ParseUint: parsing "${q.resourceVersion}": invalid syntax`,
      );
    const scope = def.namespaced && t.ns ? t.ns : undefined;
    const expired = (rv: number) => new ApiError(410, 'Expired', `too old resource version: ${rv} (${core.store.oldestResumableRV + 1})`);
    let listRV = currentRV;
    let start: string | undefined;
    if (q.continue) {
      let tok: { rv: number; start: string };
      try {
        tok = JSON.parse(Buffer.from(q.continue, 'base64url').toString());
        if (typeof tok.start !== 'string' || typeof tok.rv !== 'number') throw new Error('bad token');
      } catch {
        throw errors.badRequest('continue key is not valid: illegal base64 data or malformed token');
      }
      listRV = tok.rv;
      start = tok.start;
    } else if (rvMatch === 'Exact' && q.resourceVersion) {
      listRV = Number(q.resourceVersion);
      if (!Number.isInteger(listRV) || listRV < 0) throw errors.badRequest(`invalid resource version "${q.resourceVersion}"`);
      if (listRV > currentRV) throw new ApiError(504, 'Timeout', `Too large resource version: ${listRV}, current: ${currentRV}`);
    }
    // every page of a paginated list, and an Exact list, shows the state at one resourceVersion
    const snapshot = core.store.listAt(def.storeId, scope, listRV);
    if (snapshot === 'expired') {
      if (q.continue) {
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      throw expired(listRV);
    }
    let items = start === undefined ? snapshot : snapshot.filter((s) => `${s.ns}/${s.name}` > (start as string));
    let cont: string | undefined;
    items = items.filter(match);
    const limit = q.limit ? Number(q.limit) : 0;
    if (limit > 0 && items.length > limit) {
      items = items.slice(0, limit);
      const last = items[items.length - 1];
      cont = Buffer.from(JSON.stringify({ rv: listRV, start: `${last.ns}/${last.name}` })).toString('base64url');
    }
    const listMeta: Obj = { resourceVersion: String(listRV), ...(cont ? { continue: cont } : {}) };
    if (mode === 'Table') {
      sendJSON(res, 200, table(cols, await objsOf(items), listMeta, includeObject));
      return;
    }
    if (mode === 'PartialObjectMetadata') {
      sendJSON(res, 200, {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: listMeta,
        items: items.map((s) => ({
          kind: 'PartialObjectMetadata',
          apiVersion: 'meta.k8s.io/v1',
          metadata: (JSON.parse(s.json) as Obj).metadata,
        })),
      });
      return;
    }
    // rows are already serialized in the storage version: concatenate rather than re-encode
    const rows = direct ? items.map((s) => s.json) : (await objsOf(items)).map((o) => JSON.stringify(o));
    res.statusCode = 200;
    res.setHeader('Content-Type', 'application/json');
    res.end(`{"kind":"${def.listKind}","apiVersion":"${target}","metadata":${JSON.stringify(listMeta)},"items":[${rows.join(',')}]}`);
  }

  return (req, res) => {
    const path = pathOf(req);
    try {
      decodeURIComponent(path);
    } catch {
      // a malformed %-escape: Go's URL parser refuses the request line, so kube-apiserver answers 400
      sendJSON(res, 400, errors.badRequest(`invalid URL escape in ${JSON.stringify(path.slice(0, 200))}`).toStatus());
      return;
    }
    const certOk = o.clientCertAuth === true && (req.socket as import('node:tls').TLSSocket).authorized === true;
    const t = path.startsWith('/api/') || path.startsWith('/apis/') ? resolve(path) : undefined;
    if (o.token && !PUBLIC_PATHS.has(path) && !certOk && req.headers.authorization !== `Bearer ${o.token}`) {
      // credentials that do not authenticate are refused (401); none at all make the caller
      // system:anonymous, who may read only the public paths (403), as kube-apiserver's RBAC has it
      const anonymous =
        req.headers.authorization === undefined && !(req.socket as import('node:tls').TLSSocket).getPeerCertificate?.()?.subject;
      sendJSON(res, anonymous ? 403 : 401, (anonymous ? anonymousForbidden(req, path, t) : errors.unauthorized()).toStatus());
      return;
    }
    if (t) serveResource(req, res, t);
    else app(req as express.Request, res as express.Response);
  };
}

/** The request's verb as RBAC names it (get, list, watch, create, update, patch, delete, deletecollection). */
function requestVerb(req: IncomingMessage, t: Target, isWatch: boolean): string {
  const m = req.method ?? 'GET';
  if (m === 'GET') return isWatch ? 'watch' : t.name ? 'get' : 'list';
  if (m === 'DELETE') return t.name ? 'delete' : 'deletecollection';
  return { POST: 'create', PUT: 'update', PATCH: 'patch' }[m] ?? m.toLowerCase();
}

/** The same verb as apiserver_request_total's label spells it. */
const METRIC_VERBS: Record<string, string> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
};

/** What kube-apiserver answers system:anonymous for a path RBAC does not open to it. */
function anonymousForbidden(req: IncomingMessage, path: string, t: Target | undefined): ApiError {
  const who = 'User "system:anonymous"';
  if (!t) return new ApiError(403, 'Forbidden', `forbidden: ${who} cannot get path "${path}"`, {});
  const q = query(req as Request);
  const verb = requestVerb(req, t, q.watch === 'true' || q.watch === '1' || pathOf(req as Request).includes('/watch/'));
  const resource = t.def.group ? `${t.def.plural}.${t.def.group}` : t.def.plural;
  const sub = t.sub ? `${t.def.plural}/${t.sub}` : t.def.plural;
  const where = t.ns ? `in the namespace "${t.ns}"` : 'at the cluster scope';
  return new ApiError(
    403,
    'Forbidden',
    `${resource}${t.name ? ` "${t.name}"` : ''} is forbidden: ${who} cannot ${verb} resource "${sub}" in API group "${t.def.group}" ${where}`,
    { name: t.name, group: t.def.group, kind: t.def.plural },
  );
}

function toScale(obj: Obj, ver: VersionDef): Obj {
  const s = ver.scale as NonNullable<VersionDef['scale']>;
  const get = (p: string | undefined) => {
    if (!p) return undefined;
    let cur: unknown = obj;
    for (const k of p.replace(/^\./, '').split('.')) cur = isObj(cur) ? cur[k] : undefined;
    return cur;
  };
  const m = obj.metadata as Obj;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: get(s.specReplicasPath) ?? 0 },
    status: {
      replicas: get(s.statusReplicasPath) ?? 0,
      ...(s.labelSelectorPath && get(s.labelSelectorPath) ? { selector: get(s.labelSelectorPath) } : {}),
    },
  };
}
