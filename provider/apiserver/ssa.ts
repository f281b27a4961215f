// Server-side apply and managedFields bookkeeping (the structured-merge-diff model, written here
// because no JS implementation exists): field sets per manager in FieldsV1 form, conflicts when
// an applier changes a field another manager owns, forced ownership transfer, and removal of
// fields an applier stopped applying and nobody else owns.

import { cloneJson } from '../../lib/clone.js';
import { ApiError } from './errors.js';
import type { JSONSchemaProps } from './registry.js';

type Obj = Record<string, unknown>;

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Obj;
  subresource?: string;
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const SEP = '\u0000';

/** Metadata fields ownership is tracked for; identity fields (name, uid, ...) are not owned. */
const OWNED_META = new Set(['labels', 'annotations', 'finalizers', 'ownerReferences']);

type ListKind = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

function listKind(s: JSONSchemaProps | undefined, field: string, inMeta: boolean): ListKind {
  if (inMeta && field === 'ownerReferences') return { type: 'map', keys: ['uid'] };
  if (inMeta && field === 'finalizers') return { type: 'set' };
  const lt = s?.['x-kubernetes-list-type'];
  if (lt === 'map') return { type: 'map', keys: s?.['x-kubernetes-list-map-keys'] ?? [] };
  if (lt === 'set') return { type: 'set' };
  return { type: 'atomic' };
}

function sub(s: JSONSchemaProps | undefined, k: string): JSONSchemaProps | undefined {
  if (!s) return undefined;
  return s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
}

function itemKey(item: unknown, keys: string[]): string {
  const o: Obj = {};
  for (const k of keys) o[k] = isObj(item) ? item[k] : undefined;
  return `k:${JSON.stringify(o)}`;
}

/** The leaf paths (and list-item markers) an object sets: what its applier will own. */
export function fieldSet(obj: Obj, schema: JSONSchemaProps | undefined): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'metadata') {
      if (!isObj(v)) continue;
      for (const [mk, mv] of Object.entries(v)) {
        if (!OWNED_META.has(mk)) continue;
        walk(mv, undefined, ['f:metadata', `f:${mk}`], out, mk, true);
      }
      continue;
    }
    walk(v, sub(schema, k), [`f:${k}`], out, k, false);
  }
  return out;
}

function walk(v: unknown, s: JSONSchemaProps | undefined, path: string[], out: Set<string>, field: string, inMeta: boolean): void {
  if (Array.isArray(v)) {
    const lk = listKind(s, field, inMeta);
    if (lk.type === 'atomic' || v.length === 0) {
      out.add(path.join(SEP));
      return;
    }
    for (const item of v) {
      if (lk.type === 'set') out.add([...path, `v:${JSON.stringify(item)}`].join(SEP));
      else {
        const p = [...path, itemKey(item, lk.keys)];
        out.add([...p, '.'].join(SEP));
        if (isObj(item)) for (const [k, x] of Object.entries(item)) walk(x, sub(s?.items, k), [...p, `f:${k}`], out, k, false);
      }
    }
    return;
  }
  if (isObj(v) && Object.keys(v).length > 0 && s?.['x-kubernetes-map-type'] !== 'atomic') {
    for (const [k, x] of Object.entries(v)) walk(x, sub(s, k), [...path, `f:${k}`], out, k, inMeta && path.length < 2);
    return;
  }
  out.add(path.join(SEP));
}

export function toFieldsV1(set: Set<string>): Obj {
  const root: Obj = {};
  for (const p of [...set].sort()) {
    let cur = root;
    for (const seg of p.split(SEP)) {
      if (!isObj(cur[seg])) cur[seg] = {};
      cur = cur[seg] as Obj;
    }
  }
  return root;
}

export function fromFieldsV1(f: Obj | undefined): Set<string> {
  const out = new Set<string>();
  const rec = (o: Obj, path: string[]) => {
    const keys = Object.keys(o);
    if (keys.length === 0 && path.length > 0) out.add(path.join(SEP));
    for (const k of keys) {
      if (k === '.') {
        out.add([...path, '.'].join(SEP));
        continue;
      }
      if (isObj(o[k])) rec(o[k] as Obj, [...path, k]);
    }
  };
  if (f) rec(f, []);
  return out;
}

function readPath(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) cur = isObj(cur) ? cur[seg.slice(2)] : undefined;
    else if (seg.startsWith('k:')) {
      const want = JSON.parse(seg.slice(2)) as Obj;
      cur = Array.isArray(cur) ? cur.find((x) => isObj(x) && Object.entries(want).every(([k, v]) => x[k] === v)) : undefined;
    } else if (seg.startsWith('v:')) {
      const want = seg.slice(2);
      cur = Array.isArray(cur) ? cur.find((x) => JSON.stringify(x) === want) : undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removePath(obj: Obj, path: string[]): void {
  const last = path[path.length - 1];
  const parentPath = last === '.' ? path.slice(0, -2) : path.slice(0, -1);
  const target = last === '.' ? path[path.length - 2] : last;
  const parent = readPath(obj, parentPath);
  if (target.startsWith('f:')) {
    if (isObj(parent)) delete parent[target.slice(2)];
  } else if (Array.isArray(parent)) {
    const item = readPath(parent, [target]);
    const i = parent.indexOf(item);
    if (i >= 0) parent.splice(i, 1);
  }
}

function mergeApplied(live: unknown, applied: unknown, s: JSONSchemaProps | undefined, field: string, inMeta: boolean): unknown {
  if (Array.isArray(applied)) {
    const lk = listKind(s, field, inMeta);
    const cur = Array.isArray(live) ? live : [];
    if (lk.type === 'set') return [...cur, ...applied.filter((x) => !cur.some((c) => JSON.stringify(c) === JSON.stringify(x)))];
    if (lk.type === 'map') {
      const out = cur.map((x) => cloneJson(x));
      for (const item of applied) {
        const k = itemKey(item, lk.keys);
        const i = out.findIndex((x) => itemKey(x, lk.keys) === k);
        if (i >= 0) out[i] = mergeApplied(out[i], item, s?.items, '', false);
        else out.push(cloneJson(item));
      }
      return out;
    }
    return cloneJson(applied);
  }
  if (isObj(applied) && s?.['x-kubernetes-map-type'] !== 'atomic') {
    const out: Obj = isObj(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      out[k] = mergeApplied(out[k], v, sub(s, k), k, inMeta && field === 'metadata');
    }
    return out;
  }
  return cloneJson(applied);
}

export interface ApplyInput {
  live: Obj | undefined;
  applied: Obj;
  manager: string;
  force: boolean;
  schema: JSONSchemaProps | undefined;
  apiVersion: string;
  now: string;
  subresource?: string;
}

/** Applies a configuration; returns the merged object with updated managedFields, or throws 409. */
export function apply(input: ApplyInput): Obj {
  const { live, applied, manager, force, schema } = input;
  const managed = ((live?.metadata as Obj | undefined)?.managedFields as ManagedFieldsEntry[] | undefined) ?? [];
  const appliedSet = fieldSet(applied, schema);
  const conflicts: Array<{ manager: string; path: string }> = [];
  const others = managed.filter((m) => !(m.manager === manager && m.operation === 'Apply'));
  const otherSets = others.map((m) => ({ entry: m, set: fromFieldsV1(m.fieldsV1) }));
  for (const { entry, set } of otherSets) {
    for (const p of appliedSet) {
      if (!set.has(p)) continue;
      const path = p.split(SEP);
      const a = readPath(applied, path);
      const l = readPath(live, path);
      if (JSON.stringify(a) !== JSON.stringify(l)) {
        if (force) set.delete(p);
        else conflicts.push({ manager: entry.manager, path: p });
      }
    }
  }
  if (conflicts.length > 0) {
    // the message names manager and field; each cause names the manager (its field beside it)
    const causes = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}"`,
      field: pretty(c.path),
    }));
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${causes.map((c) => `${c.message}: ${c.field}`).join('\n')}`,
      { causes },
    );
  }
  let merged = (live ? cloneJson(live) : {}) as Obj;
  // fields this manager applied before, no longer applies, and nobody else owns are removed
  const previous = managed.find((m) => m.manager === manager && m.operation === 'Apply');
  if (previous) {
    const ownedByOthers = new Set<string>();
    for (const { set } of otherSets) for (const p of set) ownedByOthers.add(p);
    for (const p of fromFieldsV1(previous.fieldsV1)) {
      if (!appliedSet.has(p) && !ownedByOthers.has(p)) removePath(merged, p.split(SEP));
    }
  }
  for (const [k, v] of Object.entries(applied)) {
    if (k === 'metadata') {
      const mm = isObj(merged.metadata) ? { ...merged.metadata } : {};
      for (const [mk, mv] of Object.entries(v as Obj)) {
        if (OWNED_META.has(mk)) mm[mk] = mergeApplied(mm[mk], mv, undefined, mk, true);
        else if (mm[mk] === undefined) mm[mk] = mv;
      }
      merged.metadata = mm;
    } else merged[k] = mergeApplied(merged[k], v, sub(schema, k), k, false);
  }
  const entries: ManagedFieldsEntry[] = [];
  for (const { entry, set } of otherSets) if (set.size > 0) entries.push({ ...entry, fieldsV1: toFieldsV1(set) });
  entries.push({
    manager,
    operation: 'Apply',
    apiVersion: input.apiVersion,
    time: input.now,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(appliedSet),
    ...(input.subresource ? { subresource: input.subresource } : {}),
  });
  merged = { ...merged, metadata: { ...(merged.metadata as Obj), managedFields: entries } };
  return merged;
}

function pretty(p: string): string {
  return p
    .split(SEP)
    .map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : s === '.' ? '' : `[${s.slice(2)}]`))
    .join('');
}

/**
 * Records an Update (PUT/PATCH/create) by `manager`: it takes ownership of every field whose value
 * it changed, and other managers lose those fields.
 */
export function recordUpdate(
  old: Obj | undefined,
  next: Obj,
  manager: string,
  schema: JSONSchemaProps | undefined,
  apiVersion: string,
  now: string,
  subresource?: string,
): ManagedFieldsEntry[] {
  const managed =
    (((old?.metadata as Obj | undefined)?.managedFields ?? (next.metadata as Obj | undefined)?.managedFields) as
      | ManagedFieldsEntry[]
      | undefined) ?? [];
  const nextSet = fieldSet(next, schema);
  const changed = new Set<string>();
  for (const p of nextSet) {
    const path = p.split(SEP);
    if (!old || JSON.stringify(readPath(old, path)) !== JSON.stringify(readPath(next, path))) changed.add(p);
  }
  const entries: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  let mineEntry: ManagedFieldsEntry | undefined;
  for (const m of managed) {
    const set = fromFieldsV1(m.fieldsV1);
    // fields that no longer exist are owned by nobody
    for (const p of set) if (!nextSet.has(p)) set.delete(p);
    const isMine = m.manager === manager && m.operation === 'Update' && (m.subresource ?? '') === (subresource ?? '');
    if (isMine) {
      mine = set;
      mineEntry = m;
      continue;
    }
    for (const p of changed) set.delete(p);
    if (set.size > 0) entries.push({ ...m, fieldsV1: toFieldsV1(set) });
  }
  if (changed.size === 0 && !mine) return entries;
  const own = mine ?? new Set<string>();
  for (const p of changed) own.add(p);
  if (own.size > 0) {
    entries.push({
      manager,
      operation: 'Update',
      apiVersion,
      time: changed.size > 0 ? now : (mineEntry?.time ?? now),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(own),
      ...(subresource ? { subresource } : {}),
    });
  }
  return entries;
}
