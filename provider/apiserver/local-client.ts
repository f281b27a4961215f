// A client of an API server that runs in the same process: reads and writes go straight to its core
// as the admin identity, with the same validation, admission, managed fields, storage and watch
// events as a request, but no connection, TLS or HTTP on either side. For the BMC emulator's own
// parts of a workload cluster that live beside its API server (the emulated kubelets and the
// node lifecycle loop): at 1,000 idle clusters their Lease beats over loopback HTTPS were most of
// the emulator's CPU. Everything outside the process (Cluster API, kubectl) still uses HTTPS.
// Errors are the KubeApiErrors a KubeClient throws, so callers handle either the same way.
import { KubeApiError, type KubeObject } from '../kube/client.js';
import type { ApiCore, Obj, PatchType } from './core.js';
import { ApiError } from './errors.js';
import type { ResourceDef } from './registry.js';
import { matchLabels, parseLabelSelector } from './selectors.js';

/** What the emulated kubelet and node lifecycle loop need of a client: KubeClient has the same. */
export interface NodeApi {
  get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T>;
  list<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query?: string,
  ): Promise<{ items: T[]; metadata: { resourceVersion: string } }>;
  create<T extends KubeObject>(o: T, fieldManager?: string): Promise<T>;
  /**
   * The stored object's resourceVersion without reading the object (undefined: no such object):
   * what a kubelet's informer would tell it for free. Only a client in the server's process has it.
   */
  resourceVersion?(apiVersion: string, kind: string, namespace: string | undefined, name: string): string | undefined;
  patch<T extends KubeObject>(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    type: PatchType,
    patch: unknown,
    opts?: { subresource?: 'status'; fieldManager?: string },
  ): Promise<T>;
}

/** The API server is not running (its last control plane node is down): as a refused connection. */
export class ServerDownError extends Error {
  readonly code = 'ECONNREFUSED';
  constructor(what: string) {
    super(`the API server at ${what} is not running`);
    this.name = 'ServerDownError';
  }
}

export class LocalClient implements NodeApi {
  /**
   * `core` answers the server running now, or undefined while none runs (it may stop and start
   * again at the same address); `what` names it in errors; `fieldManager` is the writer's name in
   * managedFields (a kubelet's is "kubelet").
   */
  constructor(
    private readonly core: () => ApiCore | undefined,
    private readonly what: string,
    private readonly fieldManager: string,
  ) {}

  private target(apiVersion: string, kind: string): { core: ApiCore; def: ResourceDef; version: string } {
    const core = this.core();
    if (!core) throw new ServerDownError(this.what);
    const i = apiVersion.lastIndexOf('/');
    const [group, version] = i < 0 ? ['', apiVersion] : [apiVersion.slice(0, i), apiVersion.slice(i + 1)];
    const def = core.registry.byKind(group, kind);
    if (!def || !def.versions.some((v) => v.name === version))
      throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${kind} ${apiVersion})`);
    return { core, def, version };
  }

  private static async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof ApiError) throw new KubeApiError(e.code, e.reason, e.message, e.toStatus());
      throw e;
    }
  }

  get<T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): Promise<T> {
    return LocalClient.call(async () => {
      const t = this.target(apiVersion, kind);
      return (await t.core.get(t.def, t.version, namespace ?? '', name)) as T;
    });
  }

  resourceVersion(apiVersion: string, kind: string, namespace: string | undefined, name: string): string | undefined {
    const t = this.target(apiVersion, kind);
    const s = t.core.getStored(t.def, namespace ?? '', name);
    return s ? String(s.rv) : undefined;
  }

  /** `query` may hold a labelSelector, as a KubeClient list's; other parameters are refused. */
  list<T extends KubeObject>(
    apiVersion: string,
    kind: string,
    namespace?: string,
    query = '',
  ): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
    return LocalClient.call(async () => {
      const t = this.target(apiVersion, kind);
      const q = new URLSearchParams(query);
      for (const k of q.keys())
        if (k !== 'labelSelector') throw new KubeApiError(400, 'BadRequest', `the in-process client does not take ${k}`);
      const selector = parseLabelSelector(q.get('labelSelector') ?? undefined);
      const rv = t.core.store.resourceVersion;
      const stored = t.core.store.list(t.def.storeId, t.def.namespaced ? namespace : undefined);
      const objs = stored.filter((s) => matchLabels(selector, s.labels)).map((s) => JSON.parse(s.json) as Obj);
      return { items: (await t.core.convertList(t.def, objs, t.version)) as T[], metadata: { resourceVersion: String(rv) } };
    });
  }

  create<T extends KubeObject>(o: T, fieldManager = this.fieldManager): Promise<T> {
    return LocalClient.call(async () => {
      const t = this.target(String(o.apiVersion), String(o.kind));
      if (t.def.namespaced && !o.metadata?.namespace) throw new KubeApiError(404, 'NotFound', 'a namespace is required');
      return (await t.core.create(t.def, t.version, o.metadata?.namespace ?? '', o as Obj, { fieldManager })).obj as T;
    });
  }

  patch<T extends KubeObject>(
    ref: { apiVersion: string; kind: string; namespace?: string; name: string },
    type: PatchType,
    patch: unknown,
    opts: { subresource?: 'status'; fieldManager?: string } = {},
  ): Promise<T> {
    return LocalClient.call(async () => {
      const t = this.target(ref.apiVersion, ref.kind);
      if (opts.subresource === 'status' && !t.def.versions.find((v) => v.name === t.version)?.statusSubresource)
        throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${t.def.plural}/status)`);
      const r = await t.core.patch(t.def, t.version, ref.namespace ?? '', ref.name, type, patch, {
        fieldManager: opts.fieldManager ?? this.fieldManager,
        subresource: opts.subresource ?? '',
      });
      return r.obj as T;
    });
  }
}
