// PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, via fast-json-patch) and
// strategic merge patch for built-in kinds.
import fastJsonPatch from 'fast-json-patch';
import { cloneJson } from '../../lib/clone.js';
import { ApiError, errors } from './errors.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return cloneJson(patch);
  const out: Obj = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// fast-json-patch's errors about the patch's own shape; the rest are about the document (422, as kube-apiserver)
const MALFORMED = new Set(['SEQUENCE_NOT_AN_ARRAY', 'OPERATION_NOT_AN_OBJECT', 'OPERATION_OP_INVALID', 'OPERATION_PATH_INVALID']);

export function jsonPatch(target: Obj, ops: unknown): Obj {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch must be a JSON array of operations');
  const refuse = (e: unknown) => {
    const name = (e as { name?: string }).name ?? '';
    const msg = (e as Error).message.split('\n')[0];
    if (MALFORMED.has(name)) return errors.badRequest(`the json patch is invalid: ${msg}`);
    // a failed `test`, a path that does not exist, or a write to __proto__ (refused: it would reach Object.prototype)
    return new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${msg}`);
  };
  let err: unknown;
  try {
    err = fastJsonPatch.validate(ops as fastJsonPatch.Operation[], target);
  } catch (e) {
    err = e;
  }
  if (err) throw refuse(err);
  try {
    return fastJsonPatch.applyPatch(cloneJson(target), ops as fastJsonPatch.Operation[], false, false).newDocument as Obj;
  } catch (e) {
    throw refuse(e);
  }
}

/**
 * Merge keys for the lists of built-in kinds that strategic merge patch merges element-wise
 * (from the patchMergeKey tags of k8s.io/api); every other list is replaced.
 */
const MERGE_KEYS: Record<string, string> = {
  ownerReferences: 'uid',
  conditions: 'type',
  addresses: 'type',
  taints: 'key',
  webhooks: 'name',
  subjects: 'name',
};

const SET_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return cloneJson(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return cloneJson(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Obj = isObj(target) ? { ...target } : {};
  const retain = patch.$retainKeys as string[] | undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const name = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = Array.isArray(out[name]) ? (out[name] as unknown[]) : [];
      out[name] = cur.filter((x) => !(v as unknown[]).includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, k);
      continue;
    }
    const merged = strategicMergePatch(out[k], v);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  if (retain) for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  return out;
}

function mergeList(cur: unknown, patch: unknown[], field: string): unknown[] {
  const existing = Array.isArray(cur) ? cur : [];
  if (SET_LISTS.has(field)) return [...new Set([...existing, ...patch])];
  const key = MERGE_KEYS[field];
  if (!key) return cloneJson(patch).filter((x) => !(isObj(x) && x.$patch));
  const out = existing.map((x) => cloneJson(x));
  for (const item of patch) {
    if (!isObj(item)) continue;
    const idx = out.findIndex((x) => isObj(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
    else out.push(strategicMergePatch(undefined, item));
  }
  return out;
}
