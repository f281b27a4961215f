// Conversion between the served versions of a multi-version kind, hub and spoke as controller-runtime
// does it: every version converts to and from the storage ("hub") version. A spoke that cannot carry
// a hub field keeps the hub's spec and status in the `cluster.x-k8s.io/conversion-data` annotation
// (as Cluster API does), so hub → spoke → hub loses nothing.
import type { KindDefinition } from './crdgen.js';

type Obj = Record<string, unknown>;

export const CONVERSION_DATA = 'cluster.x-k8s.io/conversion-data';

/** What a conversion may ask of the cluster it runs in. */
export interface ConversionContext {
  /**
   * The apiVersion to write into a v1beta1-style reference to `kind` in `group`: the version the
   * kind's CRD names for the current contract (label `cluster.x-k8s.io/v1beta2`), as Cluster API does.
   */
  apiVersionFor(group: string, kind: string): string;
}

export interface KindConversion {
  /** A spoke object (its apiVersion names the spoke) → the hub shape; apiVersion is set by the caller. */
  toHub(o: Obj, fromVersion: string, ctx: ConversionContext): Obj;
  /** A hub object → the shape of the spoke version `toVersion`. */
  fromHub(o: Obj, toVersion: string, ctx: ConversionContext): Obj;
}

/** Thrown when a reference cannot be spelled in the requested version. */
export class ConversionError extends Error {
  readonly reason = 'ConversionFailed';
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Keys of `fill` missing from `base`, recursively (values present in `base` win, arrays included). */
export function fillMissing(base: unknown, fill: unknown): unknown {
  if (!isObj(base) || !isObj(fill)) return base === undefined ? fill : base;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(fill)) out[k] = k in base ? fillMissing(base[k], v) : v;
  return out;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function versionOf(apiVersion: unknown): string {
  const s = String(apiVersion ?? '');
  return s.slice(s.lastIndexOf('/') + 1);
}

function withoutConversionData(o: Obj): Obj {
  const md = isObj(o.metadata) ? { ...o.metadata } : undefined;
  if (!md || !isObj(md.annotations) || !(CONVERSION_DATA in md.annotations)) return o;
  const annotations = { ...md.annotations };
  delete annotations[CONVERSION_DATA];
  if (Object.keys(annotations).length) md.annotations = annotations;
  else delete md.annotations;
  return { ...o, metadata: md };
}

function payload(o: Obj): Obj {
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = o;
  return rest;
}

/** Converts one object of a kind with a KindConversion between any two of its versions. */
export function convertKind(def: KindDefinition, conv: KindConversion, o: Obj, toApiVersion: string, ctx: ConversionContext): Obj {
  const hub = (def.versions.find((v) => v.storage) ?? def.versions[0]).name;
  const from = versionOf(o.apiVersion);
  const to = versionOf(toApiVersion);
  if (from === to) return { ...o, apiVersion: toApiVersion };
  let hubObj: Obj;
  if (from === hub) hubObj = o;
  else {
    const md = isObj(o.metadata) ? o.metadata : {};
    const saved = isObj(md.annotations) ? md.annotations[CONVERSION_DATA] : undefined;
    hubObj = { ...conv.toHub(withoutConversionData(o), from, ctx), apiVersion: `${def.group}/${hub}`, kind: def.kind };
    if (typeof saved === 'string') {
      try {
        const restored = JSON.parse(saved) as Obj;
        hubObj = { ...(fillMissing(hubObj, restored) as Obj) };
      } catch {
        // a hand-edited annotation that is not JSON restores nothing
      }
    }
  }
  if (to === hub) return { ...hubObj, apiVersion: toApiVersion, kind: def.kind };
  const clean = withoutConversionData(hubObj);
  const spoke: Obj = { ...conv.fromHub(clean, to, ctx), apiVersion: toApiVersion, kind: def.kind };
  const back = { ...conv.toHub(spoke, to, ctx), apiVersion: clean.apiVersion, kind: def.kind };
  if (deepEqual(payload(back), payload(clean))) return spoke;
  const md = isObj(spoke.metadata) ? spoke.metadata : {};
  return {
    ...spoke,
    metadata: {
      ...md,
      annotations: { ...(isObj(md.annotations) ? md.annotations : {}), [CONVERSION_DATA]: JSON.stringify(payload(clean)) },
    },
  };
}

/** One converter per API group for the API server (it dispatches on kind). */
export function groupConverters(defs: KindDefinition[], ctx: ConversionContext): Map<string, (o: Obj, to: string) => Obj> {
  const byGroup = new Map<string, Map<string, KindDefinition>>();
  for (const d of defs) {
    if (!d.conversion) continue;
    const m = byGroup.get(d.group) ?? new Map<string, KindDefinition>();
    m.set(d.kind, d);
    byGroup.set(d.group, m);
  }
  const out = new Map<string, (o: Obj, to: string) => Obj>();
  for (const [group, m] of byGroup) {
    out.set(group, (o, to) => {
      const d = m.get(String(o.kind));
      if (!d?.conversion) return { ...o, apiVersion: to };
      return convertKind(d, d.conversion, o, to, ctx);
    });
  }
  return out;
}

/**
 * A ConversionContext over a set of CRDs: the version a contract label names (the newest of an
 * underscore-separated list), else the CRD's storage version.
 */
/**
 * The apiVersion a CRD's kind is served at for conversions and references: the version its
 * Cluster API contract label names, else its storage version; undefined when the CRD is not
 * for group/kind.
 */
export function crdApiVersion(crd: Obj, group: string, kind: string): string | undefined {
  const spec = isObj(crd.spec) ? crd.spec : {};
  const names = isObj(spec.names) ? spec.names : {};
  if (spec.group !== group || names.kind !== kind) return undefined;
  const md = isObj(crd.metadata) ? crd.metadata : {};
  const labels = isObj(md.labels) ? md.labels : {};
  const contract = labels['cluster.x-k8s.io/v1beta2'];
  if (typeof contract === 'string' && contract) return `${group}/${contract.split('_').at(-1)}`;
  const versions = Array.isArray(spec.versions) ? (spec.versions as Obj[]) : [];
  const storage = versions.find((v) => v.storage) ?? versions[0];
  return storage ? `${group}/${String(storage.name)}` : undefined;
}

export function contextFromCrds(list: () => Obj[]): ConversionContext {
  return {
    apiVersionFor(group, kind) {
      for (const crd of list()) {
        const v = crdApiVersion(crd, group, kind);
        if (v) return v;
      }
      throw new ConversionError(`failed to convert object: no CustomResourceDefinition for ${kind}.${group}`);
    },
  };
}

// ---- helpers the kinds' conversions share ----

/** A shallow copy of `o` with the value at dotted `from` moved to dotted `to` (absent stays absent). */
export function move(o: Obj, from: string, to: string): Obj {
  const val = getPath(o, from);
  if (val === undefined) return o;
  return setPath(deletePath(o, from), to, val);
}

export function getPath(o: unknown, path: string): unknown {
  let cur: unknown = o;
  for (const p of path.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** Copy-on-write set of a dotted path (intermediate objects are created). */
export function setPath(o: Obj, path: string, value: unknown): Obj {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) {
    const out = { ...o };
    if (value === undefined) delete out[head];
    else out[head] = value;
    return out;
  }
  const child = isObj(o[head]) ? (o[head] as Obj) : {};
  return { ...o, [head]: setPath(child, rest.join('.'), value) };
}

/** Copy-on-write delete of a dotted path; objects left empty by it are removed too. */
export function deletePath(o: Obj, path: string): Obj {
  const [head, ...rest] = path.split('.');
  if (!(head in o)) return o;
  const out = { ...o };
  if (rest.length === 0) {
    delete out[head];
    return out;
  }
  if (!isObj(o[head])) return o;
  const child = deletePath(o[head] as Obj, rest.join('.'));
  if (Object.keys(child).length === 0) delete out[head];
  else out[head] = child;
  return out;
}

/**
 * Cluster API's condition shuffle: a v1beta1 object keeps its own (v1beta1-style) conditions in
 * status.conditions and the new metav1 ones in status.v1beta2.conditions; a v1beta2 object keeps the
 * new ones in status.conditions and the old under status.deprecated.v1beta1.conditions.
 */
export function conditionsToV1beta2(o: Obj): Obj {
  let r = move(o, 'status.conditions', 'status.deprecated.v1beta1.conditions');
  r = move(r, 'status.v1beta2.conditions', 'status.conditions');
  return r;
}

export function conditionsToV1beta1(o: Obj): Obj {
  let r = move(o, 'status.conditions', 'status.v1beta2.conditions');
  r = move(r, 'status.deprecated.v1beta1.conditions', 'status.conditions');
  return r;
}

/** metav1.Duration as Go prints and parses it ("1h2m3s", "300s", "1.5m") → whole seconds. */
export function durationSeconds(d: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let matched = '';
  for (const m of d.matchAll(re)) {
    total += Number(m[1]) * unit[m[2]];
    matched += m[0];
  }
  if (!matched || matched !== d.replace(/^[+]/, '')) return d === '0' ? 0 : undefined;
  return Math.round(total);
}

export function secondsDuration(s: number): string {
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (s === 0) return '0s';
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}s`;
}

/** v1beta1's Duration field at `from` becomes v1beta2's `*Seconds` integer at `to`. */
export function durationToSeconds(o: Obj, from: string, to: string): Obj {
  const d = getPath(o, from);
  let r = deletePath(o, from);
  const secs = typeof d === 'string' ? durationSeconds(d) : undefined;
  if (secs !== undefined) r = setPath(r, to, secs);
  return r;
}

export function secondsToDuration(o: Obj, from: string, to: string): Obj {
  const s = getPath(o, from);
  let r = deletePath(o, from);
  if (typeof s === 'number') r = setPath(r, to, secondsDuration(s));
  return r;
}
