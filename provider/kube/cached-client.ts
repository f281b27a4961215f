// Reads served from the manager's informers, as controller-runtime's client reads from its cache:
// a reconciler's GET or LIST of a kind some controller watches costs no request while the watch is
// open. Writes still go to the API server and carry the resourceVersion read (the patch helper's
// optimistic lock), so a stale read costs a 409 and a retry, never a lost update. A controller
// that just wrote an object reads it from the server until the watch has caught up with that
// write — the "requeue at once after a write" steps the state machines take would otherwise read
// their own write's predecessor and conflict on every step. Lists follow the same rule for every
// object of their kind and namespace this client wrote: a MachineSet that just created a Machine
// lists from the server until the watch shows it, so it never counts too few and creates another
// (upstream's MachineSet waits for its cache to show what it created, to the same end).

import { cloneJson } from '../../lib/clone.js';
import { type LabelSelector, matchLabels, parseLabelSelector } from '../apiserver/selectors.js';
import type { KubeClient, KubeObject } from './client.js';
import type { Informer } from './informer.js';

/** The informer serving `apiVersion`/`kind`, if the manager has one. */
export type InformerLookup = (apiVersion: string, kind: string) => Informer | undefined;

/** Objects this client wrote whose write the watch had not shown yet (bounded; oldest go first). */
const MAX_PENDING_WRITES = 10_000;
/** marks an object this client deleted: read from the server until the watch has dropped it */
const DELETED = 'deleted';

// by group, not version: an object has one resourceVersion whichever version it is written at
const bucketOf = (apiVersion: string, kind: string, namespace: string | undefined) =>
  `${apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : ''}/${kind}/${namespace ?? ''}`;
const keyOf = (apiVersion: string, kind: string, namespace: string | undefined, name: string) =>
  `${bucketOf(apiVersion, kind, namespace)}/${name}`;

/**
 * This client's writes the watch may not have shown yet: object key → the resourceVersion written
 * (or DELETED), indexed by kind and namespace for lists. Bounded; the oldest go first.
 */
class PendingWrites {
  private readonly byKey = new Map<string, { bucket: string; namespace: string | undefined; name: string; rv: string }>();
  private readonly byBucket = new Map<string, Set<string>>();

  get(key: string): string | undefined {
    return this.byKey.get(key)?.rv;
  }

  note(apiVersion: string, kind: string, namespace: string | undefined, name: string, rv: string): void {
    const bucket = bucketOf(apiVersion, kind, namespace);
    const key = `${bucket}/${name}`;
    this.drop(key);
    this.byKey.set(key, { bucket, namespace, name, rv });
    const keys = this.byBucket.get(bucket) ?? new Set<string>();
    this.byBucket.set(bucket, keys);
    keys.add(key);
    if (this.byKey.size > MAX_PENDING_WRITES) this.drop(this.byKey.keys().next().value as string);
  }

  drop(key: string): void {
    const w = this.byKey.get(key);
    if (!w) return;
    this.byKey.delete(key);
    const keys = this.byBucket.get(w.bucket);
    keys?.delete(key);
    if (keys?.size === 0) this.byBucket.delete(w.bucket);
  }

  /**
   * Whether `inf`'s cache shows every write this client made to the kind in `namespace` (all
   * namespaces when undefined); writes it shows are forgotten on the way.
   */
  settledIn(apiVersion: string, kind: string, namespace: string | undefined, inf: Informer): boolean {
    const buckets =
      namespace === undefined
        ? [...this.byBucket.keys()].filter((b) => b.startsWith(bucketOf(apiVersion, kind, '')))
        : [bucketOf(apiVersion, kind, namespace)];
    let settled = true;
    for (const bucket of buckets) {
      for (const key of [...(this.byBucket.get(bucket) ?? [])]) {
        const w = this.byKey.get(key);
        if (!w) continue;
        if (shows(inf.get(w.namespace, w.name), w.rv)) this.drop(key);
        else settled = false;
      }
    }
    return settled;
  }
}

/**
 * The label selector of a list query a cache can answer: one with a selector the cache can parse
 * and nothing else (no paging, fields or versions). Anything else is the server's to answer — or
 * to refuse, with its own message.
 */
function cacheableSelector(query: string): LabelSelector | undefined {
  const q = new URLSearchParams(query);
  for (const k of q.keys()) if (k !== 'labelSelector') return undefined;
  try {
    return parseLabelSelector(q.get('labelSelector') ?? undefined);
  } catch {
    return undefined;
  }
}

const byNamespaceAndName = (a: KubeObject, b: KubeObject) => {
  const x = `${a.metadata?.namespace ?? ''}/${a.metadata?.name ?? ''}`;
  const y = `${b.metadata?.namespace ?? ''}/${b.metadata?.name ?? ''}`;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** Whether the cache's copy of an object (`hit`) shows this client's write of it (`rv`, or DELETED). */
function shows(hit: KubeObject | undefined, rv: string): boolean {
  return rv === DELETED ? !hit : caughtUp(hit?.metadata?.resourceVersion, rv);
}

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
  const written = new PendingWrites();
  const remember = (o: KubeObject | undefined, apiVersion: string, kind: string) => {
    const rv = o?.metadata?.resourceVersion;
    if (rv && o?.metadata?.name) written.note(apiVersion, kind, o.metadata.namespace, o.metadata.name, rv);
  };
  const cached: KubeClient = Object.create(client);
  cached.get = async <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) => {
    const inf = informers(apiVersion, kind);
    if (inf?.isWatching) {
      const hit = inf.get(namespace, name);
      const key = keyOf(apiVersion, kind, namespace, name);
      const mine = written.get(key);
      const current = mine === undefined || shows(hit, mine);
      if (current && mine !== undefined) written.drop(key);
      // reconcilers change what they read: never hand out the cache's own object
      if (current && hit) return cloneJson(hit) as T;
      // not in the cache (just created, or gone) or behind this client's own write: ask the server
    }
    return client.get<T>(apiVersion, kind, namespace, name);
  };
  cached.list = async <T extends KubeObject>(apiVersion: string, kind: string, namespace?: string, query = '') => {
    const inf = informers(apiVersion, kind);
    const sel = inf?.isWatching && inf.isWhole ? cacheableSelector(query) : undefined;
    if (inf && sel && written.settledIn(apiVersion, kind, namespace, inf)) {
      const items = inf
        .list()
        .filter((o) => (namespace === undefined || o.metadata?.namespace === namespace) && matchLabels(sel, o.metadata?.labels))
        .sort(byNamespaceAndName)
        .map((o) => cloneJson(o) as T);
      return { items, metadata: { resourceVersion: inf.resourceVersion } };
    }
    return client.list<T>(apiVersion, kind, namespace, query);
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
    written.note(ref.apiVersion, ref.kind, ref.namespace, ref.name, DELETED);
  };
  return cached;
}
