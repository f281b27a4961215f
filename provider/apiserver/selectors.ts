// Label and field selectors in Kubernetes' string syntax. Hand-written: no maintained JS library
// parses the set-based label selector grammar (the design lists this as ours to write).
import { errors } from './errors.js';

export type LabelRequirement =
  | { op: 'exists' | '!'; key: string }
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'gt' | 'lt'; key: string; value: number };

export type LabelSelector = LabelRequirement[];

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(k: string, whole: string): string {
  if (!KEY.test(k)) throw errors.badRequest(`unable to parse requirement: invalid label key "${k}" in "${whole}"`);
  return k;
}

function checkValue(v: string, whole: string): string {
  if (!VALUE.test(v)) throw errors.badRequest(`unable to parse requirement: invalid label value: "${v}" in "${whole}"`);
  return v;
}

export function parseLabelSelector(s: string | undefined): LabelSelector {
  if (!s) return [];
  return splitTopLevel(s).map((req): LabelRequirement => {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(req);
    if (m) {
      const values = m[3]
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '')
        .map((x) => checkValue(x, req));
      return { op: m[2] as 'in' | 'notin', key: checkKey(m[1], req), values };
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(req);
    if (m) {
      return { op: m[2] === '!=' ? '!=' : '=', key: checkKey(m[1], req), value: checkValue(m[3], req) };
    }
    m = /^([^<>\s]+)\s*(<|>)\s*(\S+)$/.exec(req);
    if (m) {
      if (!/^-?\d+$/.test(m[3]))
        throw errors.badRequest(`unable to parse requirement: for 'gt', 'lt' operators, the value must be an integer in "${req}"`);
      return { op: m[2] === '>' ? 'gt' : 'lt', key: checkKey(m[1], req), value: Number(m[3]) };
    }
    m = /^!\s*(\S+)$/.exec(req);
    if (m) return { op: '!', key: checkKey(m[1], req) };
    if (!/\s/.test(req)) return { op: 'exists', key: checkKey(req, req) };
    throw errors.badRequest(`unable to parse requirement: "${req}"`);
  });
}

export function matchLabels(sel: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  for (const r of sel) {
    const v = labels?.[r.key];
    switch (r.op) {
      case 'exists':
        if (v === undefined) return false;
        break;
      case '!':
        if (v !== undefined) return false;
        break;
      case '=':
        if (v !== r.value) return false;
        break;
      case '!=':
        if (v === r.value) return false;
        break;
      case 'in':
        if (v === undefined || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (v !== undefined && r.values.includes(v)) return false;
        break;
      case 'gt':
      case 'lt':
        if (v === undefined || !/^-?\d+$/.test(v) || (r.op === 'gt' ? !(Number(v) > r.value) : !(Number(v) < r.value))) return false;
        break;
    }
  }
  return true;
}

// metav1.LabelSelector spells operators In/NotIn/Exists/DoesNotExist; apimachinery's
// selection.Operator (used by CAPM3's hostSelector) spells them in, notin, exists, !, =, ==, !=, gt, lt
const OPERATORS: Record<string, LabelRequirement['op']> = {
  in: 'in',
  notin: 'notin',
  exists: 'exists',
  doesnotexist: '!',
  '!': '!',
  '=': '=',
  '==': '=',
  '!=': '!=',
  gt: 'gt',
  lt: 'lt',
};

/**
 * A selector object (matchLabels + matchExpressions), in either operator spelling. An operator
 * it does not know selects nothing, rather than everything.
 */
export function fromLabelSelectorObject(o: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}): LabelSelector {
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(o.matchLabels ?? {})) out.push({ op: '=', key, value });
  for (const e of o.matchExpressions ?? []) {
    const op = OPERATORS[e.operator.toLowerCase()];
    const values = e.values ?? [];
    if (op === 'in' || op === 'notin') out.push({ op, key: e.key, values });
    else if (op === 'exists' || op === '!') out.push({ op, key: e.key });
    else if (op === '=' || op === '!=') out.push({ op, key: e.key, value: values[0] ?? '' });
    else if ((op === 'gt' || op === 'lt') && /^-?\d+$/.test(values[0] ?? '')) out.push({ op, key: e.key, value: Number(values[0]) });
    else out.push({ op: 'in', key: e.key, values: [] });
  }
  return out;
}

/** Whether labels match a selector object (matchLabels + matchExpressions). */
export function matchesSelectorObject(
  labels: Readonly<Record<string, string>> | undefined,
  sel: Parameters<typeof fromLabelSelectorObject>[0] | undefined,
): boolean {
  return matchLabels(fromLabelSelectorObject(sel ?? {}), labels);
}

export interface FieldRequirement {
  field: string;
  op: '=' | '!=';
  value: string;
}

export function parseFieldSelector(s: string | undefined, supported: ReadonlySet<string>): FieldRequirement[] {
  if (!s) return [];
  return splitTopLevel(s).map((req) => {
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(req);
    if (!m) throw errors.badRequest(`invalid selector: '${s}'; can't understand '${req}'`);
    const field = m[1].trim();
    if (!supported.has(field)) {
      // kinds that select by metadata only (and CRDs, by their selectableFields) list what they take
      // compiled-in kinds that select by metadata only list what they take; custom resources and
      // kinds with more selectable fields say the label is not supported
      if (!metadataOnlyBuiltin.has(supported)) throw errors.badRequest(`field label not supported: ${field}`);
      throw errors.badRequest(`"${field}" is not a known field selector: only ${[...supported].map((f) => `"${f}"`).join(', ')}`);
    }
    return { field, op: m[2] === '!=' ? '!=' : '=', value: m[3].trim() };
  });
}

export function matchFields(reqs: FieldRequirement[], get: (field: string) => string): boolean {
  for (const r of reqs) {
    const v = get(r.field);
    if (r.op === '=' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** Field selectors each kind supports, as kube-apiserver registers them. */
// the sets of compiled-in kinds that select by metadata.name and metadata.namespace alone
const metadataOnlyBuiltin = new WeakSet<ReadonlySet<string>>();

export function supportedFields(group: string, plural: string, selectable: string[] = [], builtin = false): Set<string> {
  const s = new Set(['metadata.name', 'metadata.namespace', ...selectable]);
  if (plural === 'events' && (group === '' || group === 'events.k8s.io')) {
    for (const f of [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
      'regarding.kind',
      'regarding.name',
      'regarding.namespace',
      'regarding.uid',
    ])
      s.add(f);
  }
  if (group === '' && plural === 'secrets') s.add('type');
  if (group === '' && plural === 'namespaces') s.add('status.phase');
  if (group === '' && plural === 'nodes') s.add('spec.unschedulable');
  if (builtin && s.size === 2) metadataOnlyBuiltin.add(s);
  return s;
}

/** Reads a dotted field path from an object as the string a field selector compares. */
export function fieldValue(obj: Record<string, unknown>, field: string): string {
  let path = field;
  if (field === 'source') path = 'source.component';
  let cur: unknown = obj;
  for (const seg of path.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[seg] : undefined;
  if (cur === undefined || cur === null) return '';
  return String(cur);
}
