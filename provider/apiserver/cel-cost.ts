// CEL cost limits, as kube-apiserver enforces them: a rule whose worst-case cost (from the sizes
// its schema allows: maxItems, maxLength, maxProperties — or what fits in a 3 MiB request when
// none is declared) exceeds the per-call limit, or rules whose total over the schema exceeds the
// CRD limit, are refused when the CRD is created; at run time each call is bounded by the same
// estimate taken over the object's actual sizes, and a request by a total budget, before anything
// is evaluated. cel-js has no cost accounting of its own, and evaluation is synchronous on the one
// thread every request shares, so a rule is priced before it runs, never interrupted.
//
// The model follows cel-go's estimator in shape (a comprehension costs its range's size times its
// body, string and list operations cost a tenth of a unit per element or character, a regex a
// quarter per character of the pattern on top) without
// claiming its exact numbers: it is an upper bound, so what it lets through is cheap.

import type { JSONSchemaProps } from './registry.js';

/** Kubernetes' limits (apiextensions-apiserver, k8s.io/apiserver/pkg/apis/cel) */
export const PER_CALL_LIMIT = 1_000_000;
export const STATIC_CRD_COST_LIMIT = 100_000_000;
export const RUNTIME_CEL_COST_BUDGET = 10_000_000;
const MAX_REQUEST_BYTES = 3 * 1024 * 1024;
/**
 * What a string without maxLength prices as — measured, not derived: kube-apiserver v1.36 prices
 * `s.contains('abc')` on such a string at 31,457 and `s.matches('^(a+)+$')` at 62,915, a tenth of a
 * 3 MiB request traversed at 0.1 (and twice for the regex's quarter of 7 characters, rounded up).
 */
const UNBOUNDED_STRING = Math.floor(MAX_REQUEST_BYTES / 10);
/** cel-go charges this per character or element traversed */
const TRAVERSAL = 0.1;

interface Node {
  op: string;
  args: unknown;
}

/** What an expression may be: how big it can get and what its parts look like. */
interface Shape {
  /** the most elements (list), entries (map) or characters (string) it may hold */
  size: number;
  field(name: string): Shape;
  elem(): Shape;
}

const UNKNOWN: Shape = {
  size: MAX_REQUEST_BYTES,
  field: () => UNKNOWN,
  elem: () => UNKNOWN,
};
const SCALAR: Shape = { size: 1, field: () => UNKNOWN, elem: () => UNKNOWN };

/** The smallest a JSON value of this schema serializes to, with its separator: what bounds an unbounded list. */
function minSize(s: JSONSchemaProps | undefined): number {
  switch (s?.type) {
    case 'string':
      return 3; // "",
    case 'object':
    case 'array':
      return 3; // {}, or [],
    case 'boolean':
      return 5; // true,
    default:
      return 2; // 0,
  }
}

/** Sizes as the schema allows them. */
export function schemaShape(s: JSONSchemaProps | undefined): Shape {
  if (!s) return UNKNOWN;
  const additional = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  let size = 1;
  if (s.type === 'array') size = num(s.maxItems) ?? Math.floor(MAX_REQUEST_BYTES / minSize(s.items));
  else if (s.type === 'string') size = num(s.maxLength) ?? UNBOUNDED_STRING;
  else if (s.type === 'object' && (additional || s['x-kubernetes-preserve-unknown-fields']))
    size = num(s.maxProperties) ?? Math.floor(MAX_REQUEST_BYTES / (minSize(additional) + 4));
  else if (s.type === 'object') size = Object.keys(s.properties ?? {}).length || 1;
  else if (!s.type && s['x-kubernetes-preserve-unknown-fields']) size = MAX_REQUEST_BYTES;
  return {
    size,
    field: (name) => (s.properties?.[name] ? schemaShape(s.properties[name]) : additional ? schemaShape(additional) : UNKNOWN),
    elem: () => (s.type === 'array' ? schemaShape(s.items) : additional ? schemaShape(additional) : UNKNOWN),
  };
}

/** Sizes as they are in a value (the run-time estimate). */
export function valueShape(v: unknown): Shape {
  if (Array.isArray(v)) {
    // the largest element stands for all: an upper bound for what a comprehension's body meets
    return { size: v.length, field: () => UNKNOWN, elem: () => largest(v) };
  }
  if (typeof v === 'string') return { size: v.length, field: () => UNKNOWN, elem: () => SCALAR };
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    return { size: keys.length, field: (k) => (k in o ? valueShape(o[k]) : SCALAR), elem: () => largest(keys.map((k) => o[k])) };
  }
  return SCALAR;
}

function largest(vs: unknown[]): Shape {
  let best: Shape = SCALAR;
  let bestWeight = -1;
  for (const x of vs) {
    const w = weight(x);
    if (w > bestWeight) {
      bestWeight = w;
      best = valueShape(x);
    }
  }
  return best;
}

/** A rough measure of a value's bulk (elements and characters, recursively). */
function weight(v: unknown): number {
  if (Array.isArray(v)) return v.reduce<number>((a, x) => a + 1 + weight(x), 1);
  if (typeof v === 'string') return v.length;
  if (v && typeof v === 'object') return Object.values(v).reduce<number>((a, x) => a + 1 + weight(x), 1);
  return 1;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

const MACROS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
/** functions whose cost grows with the string or list they are called on */
const LINEAR = new Set([
  'contains',
  'startsWith',
  'endsWith',
  'matches',
  're2_matches',
  'find',
  'findAll',
  'replace',
  'split',
  'lowerAscii',
  'upperAscii',
  'trim',
  'indexOf',
  'lastIndexOf',
  'join',
  'isSorted',
  'sum',
  'min',
  'max',
  'substring',
  'charAt',
  'format',
  'quote',
]);

interface Estimate {
  cost: number;
  shape: Shape;
}

/** The worst-case cost of evaluating `ast` with `vars` (self, oldSelf, comprehension variables). */
export function estimateCost(ast: unknown, vars: Record<string, Shape>): number {
  return walk(ast as Node, vars).cost;
}

function walk(n: Node, vars: Record<string, Shape>): Estimate {
  if (!n || typeof n !== 'object') return { cost: 0, shape: SCALAR };
  const a = n.args as unknown[];
  switch (n.op) {
    case 'value':
      return { cost: 0, shape: typeof n.args === 'string' ? { ...SCALAR, size: n.args.length } : SCALAR };
    case 'id':
      return { cost: 1, shape: vars[String(n.args)] ?? UNKNOWN };
    case '.':
    case '.?': {
      const t = walk(a[0] as Node, vars);
      return { cost: t.cost + 1, shape: t.shape.field(String(a[1])) };
    }
    case '[]':
    case '[?]': {
      const t = walk(a[0] as Node, vars);
      const i = walk(a[1] as Node, vars);
      return { cost: t.cost + i.cost + 1, shape: t.shape.elem() };
    }
    case 'list': {
      const items = (Array.isArray(n.args) ? n.args : []).map((x) => walk(x as Node, vars));
      const elem = items.reduce<Shape>((m, x) => (x.shape.size > m.size ? x.shape : m), SCALAR);
      return { cost: 10 + sum(items.map((x) => x.cost)), shape: { size: items.length, field: () => UNKNOWN, elem: () => elem } };
    }
    case 'map': {
      const entries = (Array.isArray(n.args) ? n.args : []).flat().map((x) => walk(x as Node, vars));
      return { cost: 30 + sum(entries.map((x) => x.cost)), shape: { size: entries.length / 2, field: () => UNKNOWN, elem: () => UNKNOWN } };
    }
    case '==':
    case '!=':
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const [l, r] = [walk(a[0] as Node, vars), walk(a[1] as Node, vars)];
      return { cost: l.cost + r.cost + 1 + Math.ceil(Math.min(l.shape.size, r.shape.size) * TRAVERSAL), shape: SCALAR };
    }
    case 'in': {
      const [l, r] = [walk(a[0] as Node, vars), walk(a[1] as Node, vars)];
      return { cost: l.cost + r.cost + 1 + r.shape.size, shape: SCALAR };
    }
    case '+': {
      const [l, r] = [walk(a[0] as Node, vars), walk(a[1] as Node, vars)];
      const size = l.shape.size + r.shape.size;
      const elem = l.shape.elem();
      return { cost: l.cost + r.cost + 1 + Math.ceil(size * TRAVERSAL), shape: { size, field: () => UNKNOWN, elem: () => elem } };
    }
    case '?:': {
      const [c, t, f] = (a as Node[]).map((x) => walk(x, vars));
      return { cost: c.cost + Math.max(t.cost, f.cost), shape: t.shape.size >= f.shape.size ? t.shape : f.shape };
    }
    case 'call':
      return call(String(a[0]), null, (a[1] as Node[]) ?? [], vars);
    case 'rcall':
      return call(String(a[0]), a[1] as Node, (a[2] as Node[]) ?? [], vars);
    default: {
      // operators (&&, ||, !, arithmetic, unary minus): the sum of their operands, plus one
      const parts = (Array.isArray(n.args) ? n.args : [n.args]).filter((x) => x && typeof x === 'object' && 'op' in (x as object));
      return { cost: 1 + sum(parts.map((x) => walk(x as Node, vars).cost)), shape: SCALAR };
    }
  }
}

function call(name: string, target: Node | null, args: Node[], vars: Record<string, Shape>): Estimate {
  if (target && MACROS.has(name) && (args.length === 2 || args.length === 3) && args[0]?.op === 'id') {
    const range = walk(target, vars);
    // all(k, v, body) and friends bind two variables (key or index, and value)
    const twoVars = args.length === 3 && args[1]?.op === 'id' && name !== 'map' && name !== 'filter';
    const inner = { ...vars, [String(args[0].args)]: twoVars ? SCALAR : range.shape.elem() };
    if (twoVars) inner[String(args[1].args)] = range.shape.elem();
    const bodies = args.slice(twoVars ? 2 : 1).map((b) => walk(b, inner));
    const per = 1 + sum(bodies.map((b) => b.cost));
    const produced = bodies.at(-1)?.shape ?? SCALAR;
    return {
      cost: range.cost + range.shape.size * per,
      shape: name === 'map' || name === 'filter' ? { size: range.shape.size, field: () => UNKNOWN, elem: () => produced } : SCALAR,
    };
  }
  if (name === 'has' || name === 'size' || name === 'dyn' || name === 'type') {
    const parts = (target ? [target, ...args] : args).map((x) => walk(x, vars));
    return { cost: 1 + sum(parts.map((p) => p.cost)), shape: SCALAR };
  }
  const t = target ? walk(target, vars) : null;
  const as = args.map((x) => walk(x, vars));
  let cost = 1 + (t?.cost ?? 0) + sum(as.map((x) => x.cost));
  const subject = t?.shape ?? as[0]?.shape ?? SCALAR;
  if (LINEAR.has(name)) {
    // a regular expression costs its subject times a quarter of its own length (cel-go's factors)
    const factor = name.includes('match') || name.startsWith('find') ? Math.max(1, Math.ceil((as.at(-1)?.shape.size ?? 1) * 0.25)) : 1;
    cost += Math.ceil(subject.size * TRAVERSAL * factor);
  }
  return { cost, shape: name === 'lowerAscii' || name === 'upperAscii' || name === 'trim' || name === 'replace' ? subject : SCALAR };
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** Kubernetes' wording for how far over budget an estimate is. */
export function overBudget(cost: number, limit: number): string {
  const f = cost / limit;
  return f > 100 ? 'more than 100x' : `${(Math.ceil(f * 10) / 10).toFixed(1)}x`;
}
