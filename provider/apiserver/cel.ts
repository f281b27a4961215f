// CEL validation rules (`x-kubernetes-validations`) evaluated with @marcbachmann/cel-js.
// Kubernetes adds library functions on top of standard CEL; those we add are registered here.
// A rule that does not compile (e.g. it calls a Kubernetes function we lack) is rejected when the
// CRD is created, so a rule is never silently skipped.
import { Environment } from '@marcbachmann/cel-js';
import {
  estimateCost,
  overBudget,
  PER_CALL_LIMIT,
  RUNTIME_CEL_COST_BUDGET,
  STATIC_CRD_COST_LIMIT,
  schemaShape,
  valueShape,
} from './cel-cost.js';
import type { StatusCause } from './errors.js';
import { Re2SyntaxError, re2, re2Find, re2FindAll, re2Test, withRe2Matches } from './re2.js';
import type { JSONSchemaProps } from './registry.js';

type Program = ((ctx: Record<string, unknown>) => unknown) & { ast?: unknown };

function makeEnv(): Environment {
  const env = new Environment({
    unlistedVariablesAreDyn: true,
    homogeneousAggregateLiterals: false,
    enableOptionalTypes: true,
  });
  env.registerVariable('self', 'dyn');
  env.registerVariable('oldSelf', 'dyn');
  // Kubernetes CEL list library (k8s.io/apiserver/pkg/cel/library/lists.go).
  env.registerFunction('list.isSorted(): bool', (l: unknown[]) => l.every((x, i) => i === 0 || cmp(l[i - 1], x) <= 0));
  env.registerFunction('list.sum(): dyn', (l: unknown[]) =>
    l.reduce<unknown>((a, b) => (a as bigint) + (b as bigint), typeof l[0] === 'bigint' ? 0n : 0),
  );
  env.registerFunction('list.min(): dyn', (l: unknown[]) => [...l].sort(cmp)[0]);
  env.registerFunction('list.max(): dyn', (l: unknown[]) => [...l].sort(cmp).at(-1));
  env.registerFunction('list.indexOf(dyn): int', (l: unknown[], v: unknown) => BigInt(l.indexOf(v)));
  env.registerFunction('list.lastIndexOf(dyn): int', (l: unknown[], v: unknown) => BigInt(l.lastIndexOf(v)));
  // Kubernetes string library additions.
  env.registerFunction('string.replace(string, string): string', (s: string, a: string, b: string) => s.split(a).join(b));
  // regular expressions run in RE2 (linear time), as Kubernetes runs them
  env.registerFunction('string.find(string): string', (s: string, re: string) => re2Call(() => re2Find(re, s)));
  env.registerFunction('string.findAll(string): list<string>', (s: string, re: string) => re2Call(() => re2FindAll(re, s)));
  env.registerFunction('string.re2_matches(string): bool', (s: string, re: string) => re2Call(() => re2Test(re, s)));
  env.registerFunction('re2_matches(string, string): bool', (s: string, re: string) => re2Call(() => re2Test(re, s)));
  return env;
}

function re2Call<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof Re2SyntaxError) throw new Error(`invalid regular expression: ${e.message}`);
    throw e;
  }
}

function cmp(a: unknown, b: unknown): number {
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

const env = makeEnv();
const cache = new Map<string, Program>();

export class CelCompileError extends Error {}

export function compileRule(rule: string): Program {
  let p = cache.get(rule);
  if (!p) {
    try {
      // a constant pattern is checked now, as Kubernetes' CEL compiler does
      for (const m of rule.matchAll(/\bmatches\s*\(\s*(?:'([^'\\]*)'|"([^"\\]*)")\s*\)/g)) {
        try {
          re2(m[1] ?? m[2] ?? '');
        } catch {
          throw new Error(`ERROR: <input>:1:${(m.index ?? 0) + 1}: invalid matches argument`);
        }
      }
      p = env.parse(withRe2Matches(rule)) as unknown as Program;
    } catch (e) {
      throw new CelCompileError(`compilation failed: ${(e as Error).message.split('\n')[0]}`);
    }
    cache.set(rule, p);
  }
  return p;
}

/** Checks every rule of a schema compiles; returns causes for the CRD that carries it. */
export function checkRules(schema: JSONSchemaProps | undefined, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  walkSchema(schema, path, (s, p) => {
    for (const [i, r] of (s['x-kubernetes-validations'] ?? []).entries()) {
      try {
        compileRule(r.rule);
      } catch (e) {
        out.push({
          reason: 'FieldValueInvalid',
          field: `${p}.x-kubernetes-validations[${i}].rule`,
          message: `Invalid value: ${JSON.stringify(r.rule)}: ${(e as Error).message}`,
        });
      }
    }
  });
  return out;
}

/**
 * Prices every rule against the sizes its schema allows, as kube-apiserver does when a CRD is
 * created: a rule over the per-call limit, or rules whose total (each counted once per element of
 * the lists and maps above it) is over the CRD limit, are refused. Call after checkRules.
 */
export function checkRuleCosts(schema: JSONSchemaProps | undefined, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  const priced: Array<{ field: string; cost: number }> = [];
  let total = 0;
  const visitCost = (s: JSONSchemaProps | undefined, p: string, times: number) => {
    if (!s) return;
    const shape = schemaShape(s);
    for (const [i, r] of (s['x-kubernetes-validations'] ?? []).entries()) {
      let cost = 0;
      try {
        cost = estimateCost(compileRule(r.rule).ast, { self: shape, oldSelf: shape });
        if (r.messageExpression) cost += estimateCost(compileRule(r.messageExpression).ast, { self: shape, oldSelf: shape });
      } catch {
        continue; // checkRules reports what does not compile
      }
      const field = `${p}.x-kubernetes-validations[${i}].rule`;
      if (cost > PER_CALL_LIMIT)
        out.push({
          reason: 'FieldValueForbidden',
          field,
          message: `Forbidden: estimated rule cost exceeds budget by factor of ${overBudget(cost, PER_CALL_LIMIT)} (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
        });
      total += cost * times;
      priced.push({ field, cost: cost * times });
    }
    for (const [k, sub] of Object.entries(s.properties ?? {})) visitCost(sub, `${p}.properties[${k}]`, times);
    if (s.items) visitCost(s.items, `${p}.items`, times * Math.max(1, shape.size));
    if (typeof s.additionalProperties === 'object')
      visitCost(s.additionalProperties, `${p}.additionalProperties`, times * Math.max(1, shape.size));
  };
  visitCost(schema, path, 1);
  if (total > STATIC_CRD_COST_LIMIT) {
    out.push({
      reason: 'FieldValueForbidden',
      field: path,
      message: `Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of ${overBudget(total, STATIC_CRD_COST_LIMIT)}`,
    });
    for (const x of priced)
      if (x.cost > STATIC_CRD_COST_LIMIT / 100)
        out.push({
          reason: 'FieldValueForbidden',
          field: x.field,
          message: 'Forbidden: contributed to estimated rule & messageExpression cost total exceeding cost limit',
        });
  }
  return out;
}

export function walkSchema(s: JSONSchemaProps | undefined, path: string, fn: (s: JSONSchemaProps, p: string) => void): void {
  if (!s) return;
  fn(s, path);
  for (const [k, sub] of Object.entries(s.properties ?? {})) walkSchema(sub, `${path}.properties[${k}]`, fn);
  if (s.items) walkSchema(s.items, `${path}.items`, fn);
  if (typeof s.additionalProperties === 'object') walkSchema(s.additionalProperties, `${path}.additionalProperties`, fn);
}

/** Converts JSON into CEL values: integers declared as such become CEL ints (bigint). */
function toCel(v: unknown, s: JSONSchemaProps | undefined): unknown {
  if (v === null || v === undefined) return v;
  if (typeof v === 'number') {
    const intish = s?.type === 'integer' || (s?.['x-kubernetes-int-or-string'] && Number.isInteger(v));
    return intish && Number.isInteger(v) ? BigInt(v) : v;
  }
  if (Array.isArray(v)) return v.map((x) => toCel(x, s?.items));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const sub = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
      out[k] = toCel(x, sub);
    }
    return out;
  }
  return v;
}

/** Evaluates every rule in the schema against obj (and old, for transition rules). */
export function evaluateRules(schema: JSONSchemaProps | undefined, obj: unknown, old: unknown, path: string[] = []): StatusCause[] {
  const out: StatusCause[] = [];
  visit(schema, obj, old, path, out, { left: RUNTIME_CEL_COST_BUDGET, stopped: false });
  return out;
}

/** What is left of a request's CEL cost budget; stopped once a limit was hit (no further rule runs). */
interface Budget {
  left: number;
  stopped: boolean;
}

function fieldPath(path: string[]): string {
  return path.join('').replace(/^\./, '');
}

function visit(s: JSONSchemaProps | undefined, v: unknown, old: unknown, path: string[], out: StatusCause[], budget: Budget): void {
  if (!s || v === undefined || v === null || budget.stopped) return;
  for (const r of s['x-kubernetes-validations'] ?? []) {
    const usesOld = /\boldSelf\b/.test(r.rule);
    if (usesOld && (old === undefined || old === null)) continue; // transition rules need an old value
    // priced over the actual sizes before it runs: nothing interrupts a running rule
    let cost = 0;
    try {
      cost = estimateCost(compileRule(r.rule).ast, { self: valueShape(v), oldSelf: valueShape(old) });
    } catch {
      // reported below, where the rule is evaluated
    }
    if (cost > PER_CALL_LIMIT || cost > budget.left) {
      budget.stopped = true;
      out.push({
        reason: 'FieldValueInvalid',
        field: fieldPath(path) || '<root>',
        message:
          cost > PER_CALL_LIMIT
            ? `Invalid value: "${typeName(v)}": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: ${r.rule}`
            : `Invalid value: "${typeName(v)}": validation failed due to running out of cost budget, no further validation rules will be run`,
      });
      return;
    }
    budget.left -= cost;
    let ok: unknown;
    try {
      ok = compileRule(r.rule)({ self: toCel(v, s), oldSelf: toCel(old, s) });
    } catch (e) {
      out.push({
        reason: 'FieldValueInvalid',
        field: fieldPath(path) || '<root>',
        message: `Invalid value: "object": rule ${JSON.stringify(r.rule)} could not be evaluated: ${(e as Error).message.split('\n')[0]}`,
      });
      continue;
    }
    if (ok !== true) {
      let message = r.message ?? `failed rule: ${r.rule}`;
      if (r.messageExpression) {
        try {
          const m = compileRule(r.messageExpression)({ self: toCel(v, s), oldSelf: toCel(old, s) });
          if (typeof m === 'string' && m) message = m;
        } catch {
          // kube-apiserver falls back to the static message when messageExpression fails
        }
      }
      const field = fieldPath(path) + (r.fieldPath ?? '');
      out.push({
        reason: r.reason ?? 'FieldValueInvalid',
        field: field.replace(/^\./, '') || '<root>',
        message: `Invalid value: "${typeName(v)}": ${message}`,
      });
    }
  }
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) visit(s.items, x, undefined, [...path, `[${i}]`], out, budget);
  } else if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const oo = old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined;
    for (const [k, x] of Object.entries(o)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      visit(sub, x, oo?.[k], [...path, s.properties?.[k] ? `.${k}` : `[${k}]`], out, budget);
    }
  }
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;
}
