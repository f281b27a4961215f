// The one client every Ferrite controller uses: kubeconfig loading and authentication come from
// @kubernetes/client-node (tokens, client certificates, exec plugins, CA bundles); requests go by
// REST path for any kind, including subresources, which client-node's generic API lacks.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { AgentOptions, RequestOptions } from 'node:https';
import { Agent as HttpsAgent, request } from 'node:https';
import { createSecureContext } from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { AgentPools, closedWhileIdle, IDLE_SOCKET_MS } from '../../lib/keep-alive.js';

export type Obj = Record<string, unknown>;

const SERVICEACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: Array<{
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** A Kubernetes API error as the server reported it (a Status object). */
export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly status?: Obj,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export const isNotFound = (e: unknown) => e instanceof KubeApiError && e.code === 404;
export const isConflict = (e: unknown) => e instanceof KubeApiError && e.code === 409;
export const isAlreadyExists = (e: unknown) => e instanceof KubeApiError && e.reason === 'AlreadyExists';
export const isGone = (e: unknown) => e instanceof KubeApiError && e.code === 410;

export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

export type PatchType = 'merge' | 'json' | 'apply' | 'strategic';
const PATCH_CT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
  strategic: 'application/strategic-merge-patch+json',
};

export interface ResponseStream {
  on(ev: 'data', fn: (chunk: Buffer) => void): void;
  on(ev: 'end' | 'close', fn: () => void): void;
  on(ev: 'error', fn: (e: Error) => void): void;
  destroy(): void;
}

/** A kubeconfig that cannot be used, named by its file. */
export class KubeconfigError extends Error {
  constructor(
    readonly reason: 'Missing' | 'Invalid' | 'NoCluster',
    message: string,
  ) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

/** A kubeconfig whose exec plugin rotates client certificates makes a new agent per certificate;
 * only the newest few are kept. */
const MAX_AGENTS = 4;

export class KubeClient {
  private readonly resources = new Map<string, Resource>();
  /** One keep-alive agent per TLS identity (CA, client certificate, server name): every request to
   * this server reuses its connections instead of paying a handshake on both ends. */
  private readonly agents = new AgentPools<HttpsAgent | HttpAgent>(MAX_AGENTS);
  readonly server: string;

  /** `source` names where the kubeconfig came from in connection errors (its file). */
  constructor(
    readonly kc: KubeConfig,
    readonly source?: string,
  ) {
    const c = kc.getCurrentCluster();
    if (!c) throw new KubeconfigError('NoCluster', `kubeconfig${source ? ` ${source}` : ''} has no current cluster`);
    this.server = c.server.replace(/\/$/, '');
  }

  static fromFile(path: string): KubeClient {
    if (!existsSync(path)) throw new KubeconfigError('Missing', `kubeconfig ${path} does not exist`);
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(path);
    } catch (e) {
      throw new KubeconfigError('Invalid', `kubeconfig ${path} is not a valid kubeconfig: ${(e as Error).message.split('\n')[0]}`);
    }
    return new KubeClient(kc, path);
  }

  /**
   * A pod's own credentials: the service-account token (re-read as the kubelet rotates it) and CA
   * under /var/run/secrets/kubernetes.io/serviceaccount, the server from KUBERNETES_SERVICE_HOST/PORT.
   * `root` prefixes that path (a test or a chroot supplies its own).
   */
  static inCluster(root = process.env.FERRITE_SERVICEACCOUNT_ROOT ?? ''): KubeClient {
    const dir = `${root}${SERVICEACCOUNT_DIR}`;
    if (!process.env.KUBERNETES_SERVICE_HOST || !process.env.KUBERNETES_SERVICE_PORT) {
      throw new KubeconfigError('Missing', 'no kubeconfig was given and this is not a pod (KUBERNETES_SERVICE_HOST/PORT are unset)');
    }
    for (const f of ['token', 'ca.crt']) {
      if (!existsSync(`${dir}/${f}`)) throw new KubeconfigError('Missing', `in-cluster configuration: ${dir}/${f} does not exist`);
    }
    const kc = new KubeConfig();
    kc.loadFromCluster(root);
    return new KubeClient(kc, `service account ${dir}`);
  }

  /** The namespace of the pod's service account, when running in one. */
  static inClusterNamespace(root = process.env.FERRITE_SERVICEACCOUNT_ROOT ?? ''): string | undefined {
    const f = `${root}${SERVICEACCOUNT_DIR}/namespace`;
    return existsSync(f) ? readFileSync(f, 'utf8').trim() || undefined : undefined;
  }

  /** A transport failure (refused, reset, DNS) that says which server, and from which kubeconfig. */
  private netError(e: Error): Error {
    const w = new Error(
      `${e.message} (API server ${this.server}${this.source ? `, kubeconfig ${this.source}` : ''})`,
    ) as NodeJS.ErrnoException;
    w.code = (e as NodeJS.ErrnoException).code;
    w.cause = e;
    return w;
  }

  /** From kubeconfig text, e.g. a Cluster API `<cluster>-kubeconfig` Secret's `value`. */
  static fromString(text: string): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromString(text);
    return new KubeClient(kc);
  }

  private async options(method: string, path: string, headers: Record<string, string>): Promise<RequestOptions & { url: URL }> {
    const url = new URL(this.server + path);
    const opts: RequestOptions = { method, headers: { accept: 'application/json', 'user-agent': 'ferrite/controller', ...headers } };
    // client-node resolves credentials each time (token files re-read, exec plugins run) and hands
    // back a fresh agent, which would pool nothing: keep its TLS options, use our pooled agent
    await this.kc.applyToHTTPSOptions(opts);
    if (!this.kc.getCurrentCluster()?.proxyUrl)
      opts.agent = this.pooled(url.protocol, (opts.agent as HttpsAgent | undefined)?.options ?? {});
    return { ...opts, url };
  }

  private pooled(protocol: string, tls: AgentOptions): HttpsAgent | HttpAgent {
    const h = createHash('sha256').update(protocol);
    for (const k of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const) {
      const v = tls[k];
      h.update(`\0${k}=`);
      if (v !== undefined) h.update(Array.isArray(v) ? v.map(String).join('\0') : String(v));
    }
    return this.agents.get(h.digest('hex'), () =>
      protocol === 'https:'
        ? new HttpsAgent({
            // one TLS context for every connection of the pool: each new connection would otherwise
            // parse the CA, certificate and private key again
            secureContext: createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, pfx: tls.pfx, passphrase: tls.passphrase }),
            ...(tls.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: tls.rejectUnauthorized }),
            servername: tls.servername,
            keepAlive: true,
            timeout: IDLE_SOCKET_MS,
          })
        : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    );
  }

  /** Closes the pooled connections (in-flight requests and watches included). */
  close(): void {
    this.agents.clear();
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeApiError on >= 400. */
  async raw(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Obj> {
    const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return this.send(method, path, data, contentType, false);
  }

  private async send(method: string, path: string, data: string | undefined, contentType: string, retried: boolean): Promise<Obj> {
    const { url, ...opts } = await this.options(method, path, data ? { 'content-type': contentType } : {});
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? request : httpRequest)(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: Obj = {};
          try {
            parsed = text ? (JSON.parse(text) as Obj) : {};
          } catch {
            parsed = { message: text };
          }
          const code = res.statusCode ?? 0;
          if (code >= 400) {
            reject(new KubeApiError(code, String(parsed.reason ?? 'Unknown'), String(parsed.message ?? `HTTP ${code}`), parsed));
          } else resolve(parsed);
        });
        res.on('error', reject);
      });
      req.on('error', (e) => {
        // a pooled connection the server closed while idle fails before the request reached it:
        // one retry on a fresh connection, as Node's documentation advises
        if (closedWhileIdle(req, e) && !retried) {
          resolve(this.send(method, path, data, contentType, true));
        } else reject(this.netError(e));
      });
      // a peer that accepts the connection and then says nothing must not hang a reconcile
      req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer from ${this.server} in 60s`)));
      if (data) req.write(data);
      req.end();
    });
  }

  /** A streaming GET (watches); the caller reads lines and destroys the stream to stop. */
  async stream(path: string): Promise<ResponseStream> {
    const { url, ...opts } = await this.options('GET', path, {});
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? request : httpRequest)(url, opts, (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const s = safeJson(Buffer.concat(chunks).toString());
            reject(new KubeApiError(res.statusCode ?? 0, String(s.reason ?? 'Unknown'), String(s.message ?? 'watch failed'), s));
          });
          return;
        }
        resolve({
          on: (ev: string, fn: (...a: never[]) => void) => res.on(ev, fn as never),
          destroy: () => req.destroy(),
        } as ResponseStream);
      });
      req.on('error', (e) => reject(this.netError(e)));
      req.end();
    });
  }

  /** Resolves apiVersion + kind to a REST resource through discovery (cached, refreshed on miss). */
  async resource(apiVersion: string, kind: string): Promise<Resource> {
    const key = `${apiVersion}/${kind}`;
    let r = this.resources.get(key);
    if (r) return r;
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const list = await this.raw('GET', group ? `/apis/${group}/${version}` : `/api/${version}`);
    for (const res of (list.resources as Array<{ name: string; kind: string; namespaced: boolean }>) ?? []) {
      if (res.name.includes('/')) continue;
      this.resources.set(`${apiVersion}/${res.kind}`, { group, version, plural: res.name, kind: res.kind, namespaced: res.namespaced });
    }
    r = this.resources.get(key);
    if (!r) throw new KubeApiError(404, 'NotFound', `no resource for kind ${kind} in ${apiVersion}`);
    return r;
  }

  path(r: Resource, namespace?: string, name?: string, sub?: string): string {
    let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
    p += `/${r.plural}`;
    if (name) p += `/${encodeURIComponent(name)}`;
    if (sub) p += `/${sub}`;
    return p;
  }

  private async target(o: KubeObject) {
    if (!o.apiVersion || !o.kind) throw new Error('object needs apiVersion and kind');
    return this.resource(o.apiVersion, o.kind);
  }

  async get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T> {
    const r = await this.resource(apiVersion, kind);
    return (await this.raw('GET', this.path(r, namespace, name))) as T;
  }

  async list<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query = '',
  ): Promise<{ items: T[]; metadata: { resourceVersion: string; continue?: string } }> {
    const r = await this.resource(apiVersion, kind);
    return (await this.raw('GET', this.path(r, namespace) + (query ? `?${query}` : ''))) as never;
  }

  async create<T extends KubeObject>(o: T, fieldManager = 'ferrite'): Promise<T> {
    const r = await this.target(o);
    return (await this.raw('POST', `${this.path(r, o.metadata?.namespace)}?fieldManager=${fieldManager}`, o)) as T;
  }

  async update<T extends KubeObject>(o: T, opts: { subresource?: 'status'; fieldManager?: string } = {}): Promise<T> {
    const r = await this.target(o);
    const p = this.path(r, o.metadata?.namespace, o.metadata?.name, opts.subresource);
    return (await this.raw('PUT', `${p}?fieldManager=${opts.fieldManager ?? 'ferrite'}`, o)) as T;
  }

  async patch<T extends KubeObject>(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    type: PatchType,
    patch: unknown,
    opts: { subresource?: 'status'; fieldManager?: string; force?: boolean } = {},
  ): Promise<T> {
    const r = await this.resource(ref.apiVersion, ref.kind);
    const q = new URLSearchParams({ fieldManager: opts.fieldManager ?? 'ferrite' });
    if (opts.force) q.set('force', 'true');
    return (await this.raw('PATCH', `${this.path(r, ref.namespace, ref.name, opts.subresource)}?${q}`, patch, PATCH_CT[type])) as T;
  }

  async delete(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    propagationPolicy?: 'Background' | 'Foreground' | 'Orphan',
  ): Promise<void> {
    const r = await this.resource(ref.apiVersion, ref.kind);
    await this.raw(
      'DELETE',
      this.path(r, ref.namespace, ref.name),
      propagationPolicy ? { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy } : undefined,
    );
  }
}

function safeJson(t: string): Obj {
  try {
    return JSON.parse(t) as Obj;
  } catch {
    return { message: t };
  }
}
