// Structural-schema handling for custom resources, in kube-apiserver's order: prune unknown
// fields, apply defaults, validate against the OpenAPI schema, then run CEL rules.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { evaluateRules } from './cel.js';
import type { StatusCause } from './errors.js';
import { ajvRe2 } from './re2.js';
import type { JSONSchemaProps } from './registry.js';

type Obj = Record<string, unknown>;

// `pattern` in RE2 (linear time, Go's syntax) as kube-apiserver checks it
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, useDefaults: false, code: { regExp: ajvRe2 } });
const compiled = new WeakMap<JSONSchemaProps, ValidateFunction>();

/** Rewrites Kubernetes' OpenAPI extensions into plain JSON Schema that ajv understands. */
function toAjv(s: JSONSchemaProps, root = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-kubernetes-') || k === 'default' || k === 'description' || k === 'example') continue;
    if (k === 'properties') {
      const props: Record<string, unknown> = {};
      for (const [pk, pv] of Object.entries(v as Record<string, JSONSchemaProps>)) props[pk] = toAjv(pv, false);
      out.properties = props;
    } else if (k === 'items' || k === 'not') {
      out[k] = toAjv(v as JSONSchemaProps, false);
    } else if (k === 'additionalProperties') {
      out[k] = typeof v === 'object' ? toAjv(v as JSONSchemaProps, false) : v;
    } else if (k === 'allOf' || k === 'anyOf' || k === 'oneOf') {
      out[k] = (v as JSONSchemaProps[]).map((x) => toAjv(x, false));
    } else if (k === 'nullable') {
      // handled with type below
    } else {
      out[k] = v;
    }
  }
  if (s['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [...((out.anyOf as unknown[]) ?? []), { type: 'integer' }, { type: 'string' }];
  }
  if (s['x-kubernetes-embedded-resource']) {
    out.required = [...new Set([...((out.required as string[]) ?? []), 'apiVersion', 'kind'])];
  }
  if (s.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (root) {
    // metadata is validated as ObjectMeta by the server itself
    if (out.properties) delete (out.properties as Obj).metadata;
  }
  return out;
}

function validator(s: JSONSchemaProps): ValidateFunction {
  let v = compiled.get(s);
  if (!v) {
    v = ajv.compile(toAjv(s));
    compiled.set(s, v);
  }
  return v;
}

/** Checks a schema compiles as a validator; used at CRD creation. */
export function checkSchemaCompiles(s: JSONSchemaProps): string | undefined {
  try {
    validator(s);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function fieldFromPointer(pointer: string, data: unknown): string {
  let out = '';
  let cur: unknown = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
    cur = cur && typeof cur === 'object' ? (cur as Obj)[seg] : undefined;
  }
  return out;
}

function valueAt(pointer: string, data: unknown): unknown {
  let cur = data;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    cur = cur && typeof cur === 'object' ? (cur as Obj)[seg] : undefined;
  }
  return cur;
}

function render(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (typeof v === 'object') return `"${Array.isArray(v) ? 'array' : 'object'}"`;
  return String(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** kube-openapi's wording of a schema failure (what kube-apiserver says), where it differs from ajv's. */
function openapiWords(e: ErrorObject): string | undefined {
  const p = e.params as { limit?: number; comparison?: string; pattern?: string; multipleOf?: number };
  switch (e.keyword) {
    case 'minLength':
      return `should be at least ${p.limit} chars long`;
    case 'maxLength':
      return `may not be longer than ${p.limit}`;
    case 'minItems':
      return `should have at least ${p.limit} items`;
    case 'maxItems':
      return `must have at most ${p.limit} items`;
    case 'minimum':
      return p.comparison === '>' ? `should be greater than ${p.limit}` : `should be greater than or equal to ${p.limit}`;
    case 'maximum':
      return p.comparison === '<' ? `should be less than ${p.limit}` : `should be less than or equal to ${p.limit}`;
    case 'exclusiveMinimum':
      return `should be greater than ${p.limit}`;
    case 'exclusiveMaximum':
      return `should be less than ${p.limit}`;
    case 'pattern':
      return `should match '${p.pattern}'`;
    case 'multipleOf':
      return `should be a multiple of ${p.multipleOf}`;
    case 'minProperties':
      return `should have at least ${p.limit} properties`;
    case 'maxProperties':
      return `should have at most ${p.limit} properties`;
    default:
      return undefined;
  }
}

function causeFor(e: ErrorObject, data: unknown): StatusCause | undefined {
  const base = fieldFromPointer(e.instancePath, data);
  const value = valueAt(e.instancePath, data);
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { reason: 'FieldValueRequired', field: base ? `${base}.${missing}` : missing, message: 'Required value' };
    }
    case 'type':
      return {
        reason: 'FieldValueTypeInvalid',
        field: base,
        // kube-openapi names the type the value has, not the value
        message: `Invalid value: "${typeName(value)}": ${base} in body must be of type ${(e.params as { type: string }).type}: "${typeName(value)}"`,
      };
    case 'enum':
      return {
        reason: 'FieldValueNotSupported',
        field: base,
        message: `Unsupported value: ${render(value)}: supported values: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((x) => JSON.stringify(x)).join(', ')}`,
      };
    case 'anyOf':
    case 'oneOf':
    case 'if':
      return undefined; // the branch errors already say what is wrong
    default:
      return {
        reason: 'FieldValueInvalid',
        field: base,
        message: `Invalid value: ${render(value)}: ${base} in body ${openapiWords(e) ?? e.message ?? 'is invalid'}`,
      };
  }
}

export function validate(schema: JSONSchemaProps, obj: Obj, old?: Obj): StatusCause[] {
  const v = validator(schema);
  const causes: StatusCause[] = [];
  if (!v(obj)) {
    const seen = new Set<string>();
    for (const e of v.errors ?? []) {
      const c = causeFor(e, obj);
      if (!c) continue;
      const k = `${c.field}|${c.message}`;
      if (!seen.has(k)) {
        seen.add(k);
        causes.push(c);
      }
    }
    // int-or-string: the two anyOf branch type errors collapse into one clear message
    for (const c of causes) {
      if (c.reason === 'FieldValueTypeInvalid' && causes.filter((x) => x.field === c.field).length > 1) {
        c.message = c.message.replace(/must be of type \w+/, 'must be of type integer or string');
      }
    }
    const dedup = new Map(causes.map((c) => [`${c.field}|${c.reason}`, c]));
    causes.length = 0;
    causes.push(...dedup.values());
  }
  causes.push(...listTypeCauses(schema, obj, []));
  // CEL rules are skipped only after a type error (kube-apiserver's "blocking" errors): a value of
  // the wrong type cannot be evaluated, while a pattern or range failure leaves the rules to run
  if (!causes.some((c) => c.reason === 'FieldValueTypeInvalid'))
    causes.push(...evaluateRules(schema, stripMeta(obj), old ? stripMeta(old) : undefined));
  return causes;
}

function stripMeta(o: Obj): Obj {
  const { metadata: _m, ...rest } = o;
  return { ...rest, metadata: { name: (o.metadata as Obj | undefined)?.name } };
}

/** x-kubernetes-list-type set/map: items (or their keys) must be unique. */
function listTypeCauses(s: JSONSchemaProps | undefined, v: unknown, path: string[]): StatusCause[] {
  if (!s || v === null || v === undefined) return [];
  const out: StatusCause[] = [];
  const here = path.join('').replace(/^\./, '');
  if (Array.isArray(v)) {
    const lt = s['x-kubernetes-list-type'];
    if (lt === 'set' || lt === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        const k = lt === 'set' ? JSON.stringify(item) : JSON.stringify(keys.map((key) => (item as Obj | null)?.[key] ?? null));
        if (seen.has(k)) out.push({ reason: 'FieldValueDuplicate', field: `${here}[${i}]`, message: `Duplicate value: ${k}` });
        seen.add(k);
      });
    }
    for (const [i, x] of v.entries()) out.push(...listTypeCauses(s.items, x, [...path, `[${i}]`]));
  } else if (typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Obj)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      out.push(...listTypeCauses(sub, x, [...path, `.${k}`]));
    }
  }
  return out;
}

/**
 * Removes fields the schema does not declare (unless preserved) and returns their paths, so
 * the caller can reject them under fieldValidation=Strict or warn under Warn.
 */
export function prune(schema: JSONSchemaProps, obj: Obj): string[] {
  const removed: string[] = [];
  for (const k of Object.keys(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'metadata') continue;
    pruneValue(schema, obj, k, k, removed);
  }
  return removed;
}

function pruneValue(parentSchema: JSONSchemaProps, parent: Obj, key: string, path: string, removed: string[]): void {
  const preserve = parentSchema['x-kubernetes-preserve-unknown-fields'] === true;
  const sub =
    parentSchema.properties?.[key] ??
    (typeof parentSchema.additionalProperties === 'object' ? parentSchema.additionalProperties : undefined);
  if (!sub) {
    if (!preserve && parentSchema.additionalProperties !== true) {
      delete parent[key];
      removed.push(path);
    }
    return;
  }
  // as kube-apiserver: a null where the schema does not allow one is dropped before defaulting
  // and validation (a default then fills it), not refused
  if (parent[key] === null && sub.nullable !== true) {
    delete parent[key];
    return;
  }
  pruneInto(sub, parent[key], path, removed);
}

function pruneInto(s: JSONSchemaProps, v: unknown, path: string, removed: string[]): void {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    if (s.items) for (const [i, x] of v.entries()) pruneInto(s.items, x, `${path}[${i}]`, removed);
    return;
  }
  const o = v as Obj;
  for (const k of Object.keys(o)) {
    if (s['x-kubernetes-embedded-resource'] && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    if (!s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) {
      // an object schema with neither properties nor additionalProperties keeps nothing
      if (s.type === 'object') {
        delete o[k];
        removed.push(`${path}.${k}`);
      }
      continue;
    }
    pruneValue(s, o, k, `${path}.${k}`, removed);
  }
}

/** Applies schema defaults in place (recursing into present objects and list items). */
export function applyDefaults(s: JSONSchemaProps | undefined, v: unknown): void {
  if (!s || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) applyDefaults(s.items, x);
    return;
  }
  const o = v as Obj;
  for (const [k, sub] of Object.entries(s.properties ?? {})) {
    if (k === 'metadata' && !s['x-kubernetes-embedded-resource'] && o.apiVersion !== undefined) continue;
    if (o[k] === undefined && sub.default !== undefined) o[k] = structuredClone(sub.default);
    applyDefaults(sub, o[k]);
  }
  if (typeof s.additionalProperties === 'object') {
    for (const k of Object.keys(o)) if (!s.properties?.[k]) applyDefaults(s.additionalProperties, o[k]);
  }
}
