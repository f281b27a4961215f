// ClusterClass variables: the class's definitions checked as upstream's webhook checks them
// (internal/topology/variables), a Cluster's values defaulted and validated against each schema
// with the API server's own structural-schema code, and the lookups patches make (`name.a[0].b`).

import { cloneJson } from '../../../lib/clone.js';
import type { ClusterClassVariable } from '../../api/cluster.x-k8s.io/cluster-class.js';
import type { JSONSchemaProps } from '../../apiserver/registry.js';
import { applyDefaults, checkSchemaCompiles, prune, validate } from '../../apiserver/schema.js';

type Obj = Record<string, unknown>;
export interface ClusterVariable {
  name: string;
  value?: unknown;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The variable's schema as the API server's validator takes it (x-metadata is documentation only). */
export function variableSchema(v: ClusterClassVariable): JSONSchemaProps {
  const strip = (s: unknown): unknown => {
    if (Array.isArray(s)) return s.map(strip);
    if (!isObj(s)) return s;
    const out: Obj = {};
    for (const [k, x] of Object.entries(s)) {
      if (k === 'x-metadata') continue;
      // enum, default and example hold values, not schemas
      out[k] = k === 'enum' || k === 'default' || k === 'example' ? x : strip(x);
    }
    return out;
  };
  return strip(v.schema.openAPIV3Schema) as JSONSchemaProps;
}

/** Wraps a value's schema so the object-rooted validator can judge any JSON value. */
const wrap = (s: JSONSchemaProps): JSONSchemaProps => ({ type: 'object', properties: { value: s } });

function valueErrors(schema: JSONSchemaProps, value: unknown, path: string, name: string): string[] {
  const root = { value: cloneJson(value) } as Obj;
  const errs: string[] = [];
  const pruned = prune(wrap(schema), root);
  if (pruned.length)
    errs.push(
      `${path}: Invalid value: ${JSON.stringify(JSON.stringify(value))}: failed validation: ${JSON.stringify(
        pruned.map((p) => p.replace(/^\.?value\.?/, '')).join(','),
      )} field(s) are not specified in the variable schema of variable ${JSON.stringify(name)}`,
    );
  for (const c of validate(wrap(schema), root)) {
    const field = (c.field ?? '').replace(/^value/, `${path}.value`);
    // the validator names the wrapped value `value`: say where it is in the Cluster instead
    errs.push(`${field}: ${c.message.replace(/(^|\s)value((?:\.|\[)\S*)? in body/, `$1${path}.value$2 in body`)}`);
  }
  return errs;
}

/** ClusterClass.spec.variables as the ClusterClass webhook judges them. */
export function validateClassVariables(vars: ClusterClassVariable[] | undefined): string[] {
  const errs: string[] = [];
  const seen = new Set<string>();
  (vars ?? []).forEach((v, i) => {
    const path = `spec.variables[${v.name}]`;
    if (!v.name) errs.push(`spec.variables[${i}].name: Required value: variable name must be defined`);
    if (seen.has(v.name))
      errs.push(
        `${path}.name: Invalid value: ${JSON.stringify(v.name)}: variable name must be unique. Variable with name ${JSON.stringify(v.name)} is defined more than once`,
      );
    seen.add(v.name);
    if (v.name === 'builtin') errs.push(`${path}.name: Invalid value: "builtin": "builtin" is a reserved variable name`);
    if (v.name.includes('.')) errs.push(`${path}.name: Invalid value: ${JSON.stringify(v.name)}: variable name cannot contain "."`);
    const schema = variableSchema(v);
    const compileErr = checkSchemaCompiles(wrap(schema));
    if (compileErr) {
      errs.push(`${path}.schema.openAPIV3Schema: Invalid value: "": ${compileErr}`);
      return;
    }
    if (schema.properties && schema.additionalProperties)
      errs.push(`${path}.schema.openAPIV3Schema: Forbidden: additionalProperties and properties are mutually exclusive`);
    // defaults and examples must themselves be valid values
    const walk = (s: JSONSchemaProps | undefined, p: string) => {
      if (!s) return;
      if (s.default !== undefined)
        for (const e of valueErrors(s, s.default, `${p}.default`, v.name)) errs.push(e.replace(`${p}.default.value`, `${p}.default`));
      for (const [k, sub] of Object.entries(s.properties ?? {})) walk(sub, `${p}.properties[${k}]`);
      if (s.items && !Array.isArray(s.items)) walk(s.items as JSONSchemaProps, `${p}.items`);
    };
    walk(schema, `${path}.schema.openAPIV3Schema`);
  });
  return errs;
}

/**
 * A Cluster's variables against its class: unknown names refused, required ones present (after
 * defaulting), every value valid. Returns the defaulted values and the errors found.
 */
export function resolveClusterVariables(
  defs: ClusterClassVariable[] | undefined,
  values: ClusterVariable[] | undefined,
  path: string,
  opts: { overrides?: boolean } = {},
): { values: ClusterVariable[]; errors: string[] } {
  const errors: string[] = [];
  const byName = new Map((defs ?? []).map((d) => [d.name, d]));
  const given = new Map<string, ClusterVariable>();
  for (const v of values ?? []) {
    const p = `${path}[${v.name}]`;
    if (given.has(v.name)) errors.push(`${p}: Invalid value: ${JSON.stringify(v.name)}: variable names must be unique`);
    given.set(v.name, v);
    if (!byName.has(v.name))
      errors.push(`${p}: Invalid value: ${JSON.stringify(JSON.stringify(v.value ?? null))}: variable is not defined`);
  }
  const out: ClusterVariable[] = [];
  for (const d of defs ?? []) {
    const p = `${path}[${d.name}]`;
    const schema = variableSchema(d);
    let v = given.get(d.name);
    if (v === undefined && !opts.overrides && schema.default !== undefined) v = { name: d.name, value: cloneJson(schema.default) };
    if (v === undefined) {
      if (d.required && !opts.overrides) errors.push(`${path}: Required value: required variable ${JSON.stringify(d.name)} must be set`);
      continue;
    }
    const value = cloneJson(v.value);
    if (isObj(value) || Array.isArray(value)) {
      const holder = { value } as Obj;
      applyDefaults(wrap(schema), holder);
      v = { name: d.name, value: holder.value };
    } else v = { name: d.name, value };
    errors.push(...valueErrors(schema, v.value, p, d.name));
    out.push(v);
  }
  return { values: out, errors };
}

/**
 * The value at `path` of the variables map: `name`, `name.field`, `name.list[0].field` (what
 * valueFrom.variable accepts).
 */
export function variableValue(vars: Obj, path: string): unknown {
  const parts = path.split('.').flatMap((seg) => {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(seg);
    if (!m) return [seg];
    const idx = [...m[2].matchAll(/\[(\d+)\]/g)].map((x) => Number(x[1]));
    return [m[1], ...idx].filter((x) => x !== '');
  });
  let cur: unknown = vars;
  let seen = '';
  for (const p of parts) {
    seen = seen ? `${seen}.${p}` : String(p);
    if (typeof p === 'number') {
      if (!Array.isArray(cur) || p >= cur.length) throw new Error(`variable ${JSON.stringify(path)}: index ${p} out of range at ${seen}`);
      cur = cur[p];
    } else {
      if (!isObj(cur) || !(p in cur)) throw new Error(`variable ${JSON.stringify(seen)} not found`);
      cur = cur[p];
    }
  }
  return cur;
}
