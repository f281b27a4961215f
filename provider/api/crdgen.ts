// CRDs are generated from Ferrite's own TypeScript API types: each kind is a zod schema (the
// single source of its static type, its validation and its OpenAPI schema) plus the CRD facts
// that are not part of the shape (names, scope, printer columns, subresources).
import { z } from 'zod';
import type { JSONSchemaProps, PrinterColumn } from '../apiserver/registry.js';
import type { KindConversion } from './versioning.js';

type Obj = Record<string, unknown>;

/** intstr.IntOrString: an integer or a string such as "25%". */
export const intOrString = z.union([z.number().int(), z.string()]).meta({ 'x-kubernetes-int-or-string': true });

export interface KindVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  /** The spec/status shape; apiVersion, kind and metadata are added. */
  schema: z.ZodObject;
  description?: string;
  printerColumns?: Array<Omit<PrinterColumn, 'compute'>>;
  status?: boolean;
  scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
}

export interface KindDefinition {
  group: string;
  kind: string;
  plural: string;
  singular?: string;
  listKind?: string;
  shortNames?: string[];
  categories?: string[];
  scope: 'Namespaced' | 'Cluster';
  labels?: Record<string, string>;
  versions: KindVersion[];
  /** For kinds served at more than one version: how each converts to and from the storage version. */
  conversion?: KindConversion;
}

/** Where a cluster's API server sends ConversionReviews for Ferrite's multi-version kinds. */
export const CONVERSION_WEBHOOK = { namespace: 'ferrite-system', name: 'ferrite-webhook-service', path: '/convert' };

const SAFE = 9007199254740991;

/** `.meta({ [REQUIRED_WITH_DEFAULT]: true })` on a defaulted field keeps it in its parent's required list. */
export const REQUIRED_WITH_DEFAULT = 'x-ferrite-required';

/** Turns zod's JSON Schema into a Kubernetes structural schema. */
export function toStructural(s: unknown): JSONSchemaProps {
  if (Array.isArray(s)) return s.map(toStructural) as unknown as JSONSchemaProps;
  if (s === null || typeof s !== 'object') return s as JSONSchemaProps;
  const src = s as Obj;
  const out: Obj = {};
  const extraRequired: string[] = [];
  for (const [k, v] of Object.entries(src)) {
    if (k === '$schema' || k === 'propertyNames' || k === 'id' || k === '$id') continue;
    if ((k === 'minimum' && v === -SAFE) || (k === 'maximum' && v === SAFE)) continue;
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'additionalProperties' && typeof v === 'object' && v !== null && Object.keys(v).length === 0) {
      out['x-kubernetes-preserve-unknown-fields'] = true;
      continue;
    }
    if (k === 'properties') {
      const props: Obj = {};
      for (const [pk, pv] of Object.entries(v as Obj)) {
        props[pk] = toStructural(pv);
        // a field with a default is optional to zod's input schema, but kubebuilder can still
        // require it (the server defaults it before validating): REQUIRED_WITH_DEFAULT says so
        if ((props[pk] as Obj)[REQUIRED_WITH_DEFAULT]) {
          delete (props[pk] as Obj)[REQUIRED_WITH_DEFAULT];
          extraRequired.push(pk);
        }
      }
      // an empty struct has no properties at all: kube-apiserver drops an empty map, so the CRD
      // would not read back as applied
      if (Object.keys(props).length) out.properties = props;
      continue;
    }
    out[k] = typeof v === 'object' ? toStructural(v) : v;
  }
  if (extraRequired.length) out.required = [...new Set([...((src.required as string[] | undefined) ?? []), ...extraRequired])];
  // zod renders a nullable scalar as `type: [T, "null"]`: Kubernetes has one type per schema and
  // spells the rest `nullable: true` (a real kube-apiserver refuses the array outright)
  if (Array.isArray(src.type)) {
    const types = (src.type as string[]).filter((t) => t !== 'null');
    if (types.length !== 1) throw new Error(`no structural schema has several types: ${JSON.stringify(src.type)}`);
    out.type = types[0];
    if ((src.type as string[]).includes('null')) out.nullable = true;
  }
  // zod renders .nullable() as anyOf [T, null]; Kubernetes spells it `nullable: true` on T
  if (Array.isArray(out.anyOf) && out.anyOf.length === 2) {
    const branches = out.anyOf as Obj[];
    const nonNull = branches.find((b) => b.type !== 'null');
    if (nonNull && branches.some((b) => b.type === 'null')) {
      delete out.anyOf;
      Object.assign(out, nonNull, { nullable: true });
    }
  }
  if (out['x-kubernetes-int-or-string']) {
    delete out.anyOf;
    delete out.type;
  }
  // zod renders "any" as {}: Kubernetes needs an explicit escape hatch for unstructured values
  if (Object.keys(src).length === 0) return { 'x-kubernetes-preserve-unknown-fields': true };
  // …and so is a described "any" (a JSON value such as a ClusterClass variable's)
  if (Object.keys(src).every((k) => k === 'description')) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  if (out.type === 'object' && !out.properties && !out.additionalProperties && !out['x-kubernetes-preserve-unknown-fields']) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out as JSONSchemaProps;
}

export function openAPISchema(v: KindVersion, def: KindDefinition): JSONSchemaProps {
  const body = toStructural(z.toJSONSchema(v.schema, { io: 'input', unrepresentable: 'any' })) as JSONSchemaProps;
  return {
    description: v.description ?? `${def.kind} is the Schema for the ${def.plural} API.`,
    type: 'object',
    properties: {
      apiVersion: {
        description: 'APIVersion defines the versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: {
        description: 'Kind is a string value representing the REST resource this object represents.',
        type: 'string',
      },
      metadata: { type: 'object' },
      ...(body.properties ?? {}),
    },
    ...(body.required ? { required: body.required } : {}),
  };
}

export function crdFor(def: KindDefinition): Obj {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${def.group}`,
      ...(def.labels ? { labels: def.labels } : {}),
      annotations: { 'ferrite.dev/generated-from': 'provider/api (TypeScript types)' },
    },
    spec: {
      group: def.group,
      names: {
        kind: def.kind,
        listKind: def.listKind ?? `${def.kind}List`,
        plural: def.plural,
        singular: def.singular ?? def.kind.toLowerCase(),
        ...(def.shortNames ? { shortNames: def.shortNames } : {}),
        ...(def.categories ? { categories: def.categories } : {}),
      },
      scope: def.scope,
      versions: def.versions.map((v, i) => ({
        name: v.name,
        served: v.served ?? true,
        storage: v.storage ?? i === 0,
        ...(v.printerColumns ? { additionalPrinterColumns: v.printerColumns } : {}),
        schema: { openAPIV3Schema: openAPISchema(v, def) },
        ...(v.status || v.scale ? { subresources: { ...(v.status ? { status: {} } : {}), ...(v.scale ? { scale: v.scale } : {}) } } : {}),
      })),
      ...(def.conversion
        ? {
            conversion: {
              strategy: 'Webhook',
              webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { ...CONVERSION_WEBHOOK } } },
            },
          }
        : {}),
    },
  };
}
