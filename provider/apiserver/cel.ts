// CEL validation rules (`x-kubernetes-validations`) evaluated with @marcbachmann/cel-js.
// Kubernetes adds library functions on top of standard CEL; those we add are registered here.
// A rule that does not compile (e.g. it calls a Kubernetes function we lack) is rejected when the
// CRD is created, so a rule is never silently skipped.
import { Environment } from '@marcbachmann/cel-js';
import type { StatusCause } from './errors.js';
import { Re2SyntaxError, re2, re2Find, re2FindAll, re2Test, withRe2Matches } from './re2.js';
import type { JSONSchemaProps } from './registry.js';

type Program = (ctx: Record<string, unknown>) => unknown;

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
  visit(schema, obj, old, path, out);
  return out;
}

function fieldPath(path: string[]): string {
  return path.join('').replace(/^\./, '');
}

function visit(s: JSONSchemaProps | undefined, v: unknown, old: unknown, path: string[], out: StatusCause[]): void {
  if (!s || v === undefined || v === null) return;
  for (const r of s['x-kubernetes-validations'] ?? []) {
    const usesOld = /\boldSelf\b/.test(r.rule);
    if (usesOld && (old === undefined || old === null)) continue; // transition rules need an old value
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
    for (const [i, x] of v.entries()) visit(s.items, x, undefined, [...path, `[${i}]`], out);
  } else if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const oo = old && typeof old === 'object' && !Array.isArray(old) ? (old as Record<string, unknown>) : undefined;
    for (const [k, x] of Object.entries(o)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      visit(sub, x, oo?.[k], [...path, s.properties?.[k] ? `.${k}` : `[${k}]`], out);
    }
  }
}

function typeName(v: unknown): string {
  return Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v;
}
