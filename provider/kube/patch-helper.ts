// The patch helper: a reconciler changes a copy of the object it read; the helper sends only what
// changed, spec/metadata and status separately (status through its subresource), as JSON merge
// patches carrying the resourceVersion read, so a concurrent writer causes a 409 and the
// reconcile retries from fresh state instead of silently overwriting.

import { cloneJson } from '../../lib/clone.js';
import { isConflict, type KubeClient, type KubeObject } from './client.js';
import { semanticEqual } from './semantic.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386 merge patch turning `from` into `to` (null deletes a key; arrays are replaced). */
export function mergePatchFor(from: unknown, to: unknown): unknown {
  if (!isObj(from) || !isObj(to)) return semanticEqual(from, to) ? undefined : to;
  const out: Obj = {};
  for (const k of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (!(k in to)) out[k] = null;
    else if (!(k in from)) out[k] = to[k];
    else {
      const d = mergePatchFor(from[k], to[k]);
      if (d !== undefined) out[k] = d;
    }
  }
  return Object.keys(out).length ? out : undefined;
}

// ObjectMeta's maps and lists are `omitempty` in Kubernetes: an empty one is never stored or
// returned, so an empty one a reconciler made is no change (sending it would repeat for ever).
const OMIT_EMPTY_META = ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields'] as const;

function withoutEmptyMeta(o: Obj): Obj {
  const m = o.metadata as Obj | undefined;
  if (!m || !OMIT_EMPTY_META.some((k) => k in m && isEmpty(m[k]))) return o;
  const meta = { ...m };
  for (const k of OMIT_EMPTY_META) if (k in meta && isEmpty(meta[k])) delete meta[k];
  return { ...o, metadata: meta };
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) ? v.length === 0 : isObj(v) && Object.keys(v).length === 0);
}

export interface PatchResult<T> {
  object: T;
  patchedSpec: boolean;
  patchedStatus: boolean;
}

export async function patchObject<T extends KubeObject>(
  client: KubeClient,
  original: T,
  modified: T,
  opts: { fieldManager?: string; optimisticLock?: boolean } = {},
): Promise<PatchResult<T>> {
  const { status: origStatus, ...origRest } = withoutEmptyMeta(original as Obj);
  const { status: modStatus, ...modRest } = withoutEmptyMeta(modified as Obj);
  const ref = {
    apiVersion: String(original.apiVersion),
    kind: String(original.kind),
    namespace: original.metadata?.namespace,
    name: String(original.metadata?.name),
  };
  let current: T = modified;
  const lock = (p: Obj) =>
    opts.optimisticLock === false
      ? p
      : { ...p, metadata: { ...((p.metadata as Obj | undefined) ?? {}), resourceVersion: original.metadata?.resourceVersion } };
  const specPatch = mergePatchFor(origRest, modRest) as Obj | undefined;
  let patchedSpec = false;
  let patchedStatus = false;
  if (specPatch) {
    current = await client.patch<T>(ref, 'merge', lock(specPatch), { fieldManager: opts.fieldManager });
    patchedSpec = true;
  }
  const statusPatch = mergePatchFor({ status: origStatus }, { status: modStatus }) as Obj | undefined;
  if (statusPatch) {
    // after a spec patch the resourceVersion moved on; the status patch is locked to the new one
    const p =
      patchedSpec && opts.optimisticLock !== false
        ? { ...statusPatch, metadata: { resourceVersion: current.metadata?.resourceVersion } }
        : lock(statusPatch);
    current = await client.patch<T>(ref, 'merge', p, { subresource: 'status', fieldManager: opts.fieldManager });
    patchedStatus = true;
  }
  return { object: current, patchedSpec, patchedStatus };
}

/** Re-reads and re-applies `mutate` on 409 Conflict, up to `attempts` times. */
export async function updateWithRetry<T extends KubeObject>(
  client: KubeClient,
  ref: { apiVersion: string; kind: string; namespace?: string; name: string },
  mutate: (o: T) => T | undefined,
  opts: { attempts?: number; fieldManager?: string } = {},
): Promise<T | undefined> {
  for (let i = 0; ; i++) {
    const cur = await client.get<T>(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    const next = mutate(cloneJson(cur));
    if (!next) return cur;
    try {
      return (await patchObject(client, cur, next, { fieldManager: opts.fieldManager })).object;
    } catch (e) {
      if (!isConflict(e) || i + 1 >= (opts.attempts ?? 5)) throw e;
    }
  }
}
