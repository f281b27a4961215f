// OpenAPI v3 (per group-version) and v2 documents generated from the registry's schemas. kubectl
// uses them for `explain`, and to learn that the server validates fields itself
// (a PATCH operation declaring the fieldValidation parameter), which turns on server-side
// validation for `kubectl apply`.
import { createHash } from 'node:crypto';
import type { JSONSchemaProps, Registry, ResourceDef } from './registry.js';

type Obj = Record<string, unknown>;

const META_REF = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

const objectMeta: Obj = {
  description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
  type: 'object',
  properties: {
    name: { type: 'string', description: 'Name must be unique within a namespace.' },
    generateName: { type: 'string', description: 'Optional prefix used by the server to generate a unique name.' },
    namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
    uid: { type: 'string', description: 'UID is the unique in time and space value for this object.' },
    resourceVersion: { type: 'string', description: 'An opaque value that represents the internal version of this object.' },
    generation: {
      type: 'integer',
      format: 'int64',
      description: 'A sequence number representing a specific generation of the desired state.',
    },
    creationTimestamp: { type: 'string', format: 'date-time', description: 'Time at which this object was created.' },
    deletionTimestamp: { type: 'string', format: 'date-time', description: 'Time at which this resource will be deleted.' },
    labels: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Map of string keys and values for organizing objects.',
    },
    annotations: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Unstructured key value map stored with a resource.',
    },
    finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before the object is deleted from the registry.' },
    ownerReferences: {
      type: 'array',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      description: 'Objects depended on by this object.',
    },
    managedFields: {
      type: 'array',
      items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      description: 'Which managers own which fields.',
    },
  },
};

export function schemaName(group: string, version: string, kind: string): string {
  const g = group ? group.split('.').reverse().join('.') : 'io.k8s.api.core';
  return `${g}.${version}.${kind}`;
}

function kindSchema(def: ResourceDef, version: string, ref: (n: string) => string): Obj {
  const v = def.versions.find((x) => x.name === version);
  const s: JSONSchemaProps = structuredClone(v?.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  const props = { ...(s.properties ?? {}) } as Obj;
  props.apiVersion = {
    type: 'string',
    description: 'APIVersion defines the versioned schema of this representation of an object.',
  };
  props.kind = { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' };
  props.metadata = { allOf: [{ $ref: ref(META_REF) }], description: 'Standard object metadata.' };
  return {
    ...s,
    type: 'object',
    properties: props,
    'x-kubernetes-group-version-kind': [{ group: def.group, version, kind: def.kind }],
  };
}

function fieldValidationParam(): Obj {
  return {
    name: 'fieldValidation',
    in: 'query',
    description: 'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.',
    schema: { type: 'string', uniqueItems: true },
  };
}

export function v3Doc(reg: Registry, group: string, version: string): Obj | undefined {
  const defs = reg.all().filter((d) => d.group === group && d.versions.some((v) => v.name === version && v.served));
  if (defs.length === 0) return undefined;
  const ref = (n: string) => `#/components/schemas/${n}`;
  const schemas: Obj = { [META_REF]: objectMeta };
  const paths: Obj = {};
  const prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
  for (const d of defs) {
    const name = schemaName(d.group, version, d.kind);
    schemas[name] = kindSchema(d, version, ref);
    const gvk = { group: d.group, version, kind: d.kind };
    const body = { content: { 'application/json': { schema: { $ref: ref(name) } } } };
    const resp = { responses: { '200': body } };
    const base = d.namespaced ? `${prefix}/namespaces/{namespace}/${d.plural}` : `${prefix}/${d.plural}`;
    paths[base] = {
      get: { operationId: `list${d.kind}`, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, ...resp },
      post: {
        operationId: `create${d.kind}`,
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk,
        requestBody: body,
        parameters: [fieldValidationParam()],
        ...resp,
      },
    };
    paths[`${base}/{name}`] = {
      get: { operationId: `read${d.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, ...resp },
      put: {
        operationId: `replace${d.kind}`,
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk,
        requestBody: body,
        parameters: [fieldValidationParam()],
        ...resp,
      },
      patch: {
        operationId: `patch${d.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
        parameters: [fieldValidationParam(), { name: 'force', in: 'query', schema: { type: 'boolean' } }],
        requestBody: { content: { 'application/merge-patch+json': { schema: { type: 'object' } } } },
        ...resp,
      },
      delete: { operationId: `delete${d.kind}`, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, ...resp },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    components: { schemas },
  };
}

export function v3Index(reg: Registry, docHash: (gv: string) => string): Obj {
  const paths: Obj = {};
  for (const g of reg.groups()) {
    for (const v of g.versions) {
      const key = g.name ? `apis/${g.name}/${v}` : `api/${v}`;
      paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${docHash(key)}` };
    }
  }
  return { paths };
}

export function hashDoc(doc: unknown): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 64).toUpperCase();
}

/** Swagger 2.0: the same schemas under `definitions` (older clients and tooling). */
export function v2Doc(reg: Registry): Obj {
  const definitions: Obj = { [META_REF]: objectMeta };
  const ref = (n: string) => `#/definitions/${n}`;
  for (const d of reg.all()) {
    for (const v of d.versions.filter((x) => x.served)) definitions[schemaName(d.group, v.name, d.kind)] = kindSchema(d, v.name, ref);
  }
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions };
}
