// meta.k8s.io/v1 Table responses (what `kubectl get` prints) built from printer columns.
import type { PrinterColumn } from './registry.js';

type Obj = Record<string, unknown>;

/**
 * Evaluates the JSONPaths CRD printer columns use: .a.b, .a[0].b, .a['x.y'], .a.x\.y, and the filter Cluster
 * API's columns rely on, .status.conditions[?(@.type=="Ready")].status (the first match, as
 * kubectl prints a filtered column).
 */
export function jsonPathValue(obj: unknown, path: string): unknown {
  type Seg = { key: string } | { filter: { field: string; value: string } };
  const segs: Seg[] = [];
  // a dotted name may escape its own dots (\.), as in .metadata.labels.cluster\.x-k8s\.io/cluster-name
  const re = /\.((?:\\.|[^.[\]\\])+)|\[(\d+)\]|\['([^']+)'\]|\["([^"]+)"\]|\[\?\(@\.([\w.-]+)\s*==\s*(["'])(.*?)\6\)\]/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  // biome-ignore lint/suspicious/noAssignInExpressions: a regex scan loop
  while ((m = re.exec(path)) !== null) {
    if (m.index !== consumed) return undefined;
    consumed = re.lastIndex;
    if (m[5] !== undefined) segs.push({ filter: { field: m[5], value: m[7] } });
    else segs.push({ key: m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? m[4]) });
  }
  if (consumed !== path.length) return undefined;
  let cur: unknown = obj;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if ('filter' in s) {
      if (!Array.isArray(cur)) return undefined;
      const { field, value } = s.filter;
      cur = cur.find((e) => e !== null && typeof e === 'object' && String((e as Obj)[field]) === value);
      continue;
    }
    cur = (cur as Obj)[s.key];
  }
  return cur;
}

/** Kubernetes' HumanDuration (k8s.io/apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 60 * 2) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  if (h < 24 * 8) return h % 24 === 0 ? `${Math.floor(h / 24)}d` : `${Math.floor(h / 24)}d${h % 24}h`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24)}d`;
  if (h < 24 * 365 * 8) {
    const dy = Math.floor(h / 24) % 365;
    return dy === 0 ? `${Math.floor(h / 24 / 365)}y` : `${Math.floor(h / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(h / 24 / 365)}y`;
}

function cell(col: PrinterColumn, obj: Obj, now: number): unknown {
  const v = col.compute ? col.compute(obj) : col.jsonPath ? jsonPathValue(obj, col.jsonPath) : undefined;
  if (v === undefined || v === null) return null;
  if (col.type === 'date') {
    const t = Date.parse(String(v));
    if (Number.isNaN(t)) return '<unknown>';
    return col.format === 'rfc3339' ? String(v) : humanDuration(now - t);
  }
  if (typeof v === 'object') return JSON.stringify(v);
  if (col.type === 'integer' || col.type === 'number') return typeof v === 'number' ? v : Number(v);
  if (col.type === 'boolean') return typeof v === 'boolean' ? v : v === 'true';
  return typeof v === 'string' ? v : String(v);
}

export function columnsFor(printerColumns: PrinterColumn[]): PrinterColumn[] {
  return printerColumns.length > 0 ? printerColumns : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }];
}

export function columnDefinitions(cols: PrinterColumn[]): Obj[] {
  return [
    {
      name: 'Name',
      type: 'string',
      format: 'name',
      description: 'Name must be unique within a namespace.',
      priority: 0,
    },
    ...cols.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description ?? '',
      priority: c.priority ?? 0,
    })),
  ];
}

/** One row; the object is the partial metadata form unless includeObject=Object. */
export function row(cols: PrinterColumn[], obj: Obj, includeObject: string, now: number): Obj {
  const md = obj.metadata as Obj;
  const object =
    includeObject === 'None'
      ? undefined
      : includeObject === 'Object'
        ? obj
        : {
            kind: 'PartialObjectMetadata',
            apiVersion: 'meta.k8s.io/v1',
            metadata: md,
          };
  return { cells: [md.name, ...cols.map((c) => cell(c, obj, now))], ...(object ? { object } : {}) };
}

export function table(cols: PrinterColumn[], objs: Obj[], listMeta: Obj, includeObject: string, withDefs = true): Obj {
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: withDefs ? columnDefinitions(cols) : null,
    rows: objs.map((o) => row(cols, o, includeObject, now)),
  };
}
