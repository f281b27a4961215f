// Reads served from the manager's informers, as controller-runtime's client reads from its cache:
// a reconciler's GET of a kind some controller watches costs no request while the watch is open.
// Writes still go to the API server and carry the resourceVersion read (the patch helper's
// optimistic lock), so a stale read costs a 409 and a retry, never a lost update. A controller
// that just wrote an object reads it from the server until the watch has caught up with that
// write — the "requeue at once after a write" steps the state machines take would otherwise read
// their own write's predecessor and conflict on every step.
import type { KubeClient, KubeObject } from './client.js';
import type { Informer } from './informer.js';

/** The informer serving `apiVersion`/`kind`, if the manager has one. */
export type InformerLookup = (apiVersion: string, kind: string) => Informer | undefined;

/** Objects this client wrote whose write the watch had not shown yet (bounded; oldest go first). */
const MAX_PENDING_WRITES = 10_000;
/** marks an object this client deleted: read from the server until the watch has dropped it */
const DELETED = 'deleted';

// by group, not version: an object has one resourceVersion whichever version it is written at
const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
  `${apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''}/${kind}/${namespace ?? ''}/${name}`;

/**
 * Whether resourceVersion `have` is at least `want`. Both Kubernetes and the embedded server hand
 * out decimal counters; anything else is compared for equality only, as clients must treat
 * resourceVersions as opaque.
 */
function caughtUp(have: string | undefined, want: string): boolean {
  if (!have) return false;
  if (/^\d+$/.test(have) && /^\d+$/.test(want)) return BigInt(have) >= BigInt(want);
  return have === want;
}

/**
 * A client that answers `get` from `informers` when it can and forwards everything else to
 * `client` (it is `client` with its reads and writes wrapped, so connections and credentials are shared).
 */
export function cachedReadClient(client: KubeClient, informers: InformerLookup): KubeClient {
  const written = new Map<string, string>();
  const note = (key: string, rv: string) => {
    written.delete(key);
    written.set(key, rv);
    if (written.size > MAX_PENDING_WRITES) written.delete(written.keys().next().value as string);
  };
  const remember = (o: KubeObject | undefined, apiVersion: string, kind: string) => {
    const rv = o?.metadata?.resourceVersion;
    if (rv && o?.metadata?.name) note(keyOf(apiVersion, kind, o.metadata.namespace, o.metadata.name), rv);
  };
  const cached: KubeClient = Object.create(client);
  cached.get = async <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) => {
    const inf = informers(apiVersion, kind);
    if (inf?.isWatching) {
      const hit = inf.get(namespace, name);
      const key = keyOf(apiVersion, kind, namespace, name);
      const mine = written.get(key);
      if (mine === DELETED && !hit) written.delete(key);
      else if (hit && mine !== DELETED && (mine === undefined || caughtUp(hit.metadata?.resourceVersion, mine))) {
        if (mine !== undefined) written.delete(key);
        // reconcilers change what they read: never hand out the cache's own object
        return structuredClone(hit) as T;
      }
      // not in the cache (just created, or gone) or behind this client's own write: ask the server
    }
    return client.get<T>(apiVersion, kind, namespace, name);
  };
  cached.create = async <T extends KubeObject>(o: T, fieldManager?: string) => {
    const out = await client.create<T>(o, fieldManager);
    remember(out, String(o.apiVersion), String(o.kind));
    return out;
  };
  cached.update = async <T extends KubeObject>(o: T, opts?: Parameters<KubeClient['update']>[1]) => {
    const out = await client.update<T>(o, opts);
    remember(out, String(o.apiVersion), String(o.kind));
    return out;
  };
  cached.patch = async <T extends KubeObject>(
    ref: Parameters<KubeClient['patch']>[0],
    type: Parameters<KubeClient['patch']>[1],
    patch: unknown,
    opts?: Parameters<KubeClient['patch']>[3],
  ) => {
    const out = await client.patch<T>(ref, type, patch, opts);
    remember(out, ref.apiVersion, ref.kind);
    return out;
  };
  cached.delete = async (ref: Parameters<KubeClient['delete']>[0], propagationPolicy?: Parameters<KubeClient['delete']>[1]) => {
    await client.delete(ref, propagationPolicy);
    note(keyOf(ref.apiVersion, ref.kind, ref.namespace, ref.name), DELETED);
  };
  return cached;
}
