// CustomResourceDefinition handling: validation of the CRD itself and its translation into a
// served resource.
import { checkRuleCosts, checkRules, walkSchema } from './cel.js';
import type { StatusCause } from './errors.js';
import { re2 } from './re2.js';
import { ALL_VERBS, type JSONSchemaProps, ownStoreId, type PrinterColumn, type ResourceDef, type VersionDef } from './registry.js';
import { checkSchemaCompiles } from './schema.js';
import type { ClientConfig } from './webhook-client.js';

type Obj = Record<string, unknown>;

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: Obj; scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string } };
  additionalPrinterColumns?: PrinterColumn[];
  selectableFields?: Array<{ jsonPath: string }>;
}

export interface CrdSpec {
  group?: string;
  scope?: string;
  names?: { plural?: string; singular?: string; kind?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions?: CrdVersion[];
  conversion?: { strategy?: string; webhook?: { clientConfig?: ClientConfig; conversionReviewVersions?: string[] } };
  preserveUnknownFields?: boolean;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateCrd(crd: Obj): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = (crd.spec ?? {}) as CrdSpec;
  const name = String((crd.metadata as Obj | undefined)?.name ?? '');
  const req = (field: string) => causes.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
  if (!spec.group) req('spec.group');
  else if (!spec.group.includes('.'))
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.group',
      message: `Invalid value: "${spec.group}": should be a domain with at least one dot`,
    });
  if (!spec.names?.plural) req('spec.names.plural');
  else if (!DNS_LABEL.test(spec.names.plural))
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.names.plural',
      message: `Invalid value: "${spec.names.plural}": a lowercase RFC 1123 label is required`,
    });
  if (!spec.names?.kind) req('spec.names.kind');
  if (spec.group && spec.names?.plural && name !== `${spec.names.plural}.${spec.group}`)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": must be spec.names.plural+"."+spec.group`,
    });
  if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.scope',
      message: `Unsupported value: "${spec.scope ?? ''}": supported values: "Cluster", "Namespaced"`,
    });
  const versions = spec.versions ?? [];
  if (versions.length === 0) req('spec.versions');
  const storage = versions.filter((v) => v.storage);
  if (versions.length > 0 && storage.length !== 1)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.versions',
      message: `Invalid value: ${JSON.stringify(versions.map((v) => v.name))}: must have exactly one version marked as storage version`,
    });
  const strategy = spec.conversion?.strategy ?? 'None';
  if (strategy !== 'None' && strategy !== 'Webhook')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.conversion.strategy',
      message: `Unsupported value: "${strategy}": supported values: "None", "Webhook"`,
    });
  if (strategy === 'Webhook') {
    const wh = spec.conversion?.webhook;
    if (!wh?.clientConfig?.url && !wh?.clientConfig?.service) req('spec.conversion.webhook.clientConfig');
    if (!(wh?.conversionReviewVersions ?? []).includes('v1')) {
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.conversion.webhook.conversionReviewVersions',
        message: `Unsupported value: ${JSON.stringify(wh?.conversionReviewVersions ?? [])}: must include at least one of v1`,
      });
    }
  }
  versions.forEach((v, i) => {
    const p = `spec.versions[${i}]`;
    if (!v.name) req(`${p}.name`);
    const schema = v.schema?.openAPIV3Schema;
    if (!schema) {
      req(`${p}.schema.openAPIV3Schema`);
      return;
    }
    if (schema.type !== 'object')
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${p}.schema.openAPIV3Schema.type`,
        message: `Invalid value: "${schema.type ?? ''}": must be object at the root`,
      });
    const err = checkSchemaCompiles(schema);
    if (err) causes.push({ reason: 'FieldValueInvalid', field: `${p}.schema.openAPIV3Schema`, message: `Invalid value: "object": ${err}` });
    const ruleErrors = checkRules(schema, `${p}.schema.openAPIV3Schema`);
    causes.push(...ruleErrors);
    if (!ruleErrors.length) causes.push(...checkRuleCosts(schema, `${p}.schema.openAPIV3Schema`));
    // patterns are RE2, as kube-apiserver compiles them
    walkSchema(schema, `${p}.schema.openAPIV3Schema`, (s, at) => {
      if (typeof s.pattern !== 'string') return;
      try {
        re2(s.pattern);
      } catch (e) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: `${at}.pattern`,
          message: `Invalid value: ${JSON.stringify(s.pattern)}: must be a valid regular expression, but isn't: ${(e as Error).message}`,
        });
      }
    });
  });
  return causes;
}

export function crdToResource(crd: Obj): ResourceDef {
  const spec = crd.spec as CrdSpec;
  const names = spec.names ?? {};
  const group = spec.group as string;
  const kind = names.kind as string;
  const versions: VersionDef[] = (spec.versions ?? []).map((v) => ({
    name: v.name,
    served: v.served !== false,
    storage: v.storage === true,
    schema: v.schema?.openAPIV3Schema,
    statusSubresource: v.subresources?.status !== undefined,
    scale: v.subresources?.scale,
    printerColumns: v.additionalPrinterColumns ?? [],
    deprecated: v.deprecated,
    deprecationWarning: v.deprecationWarning,
    selectableFields: (v.selectableFields ?? []).map((f) => f.jsonPath.replace(/^\./, '')),
  }));
  const storage = versions.find((v) => v.storage) ?? versions[0];
  return {
    storeId: ownStoreId(group, names.plural as string),
    group,
    plural: names.plural as string,
    singular: names.singular || kind.toLowerCase(),
    kind,
    listKind: names.listKind || `${kind}List`,
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    versions,
    storageGroupVersion: `${group}/${storage.name}`,
    builtin: false,
    strategicMerge: false,
    verbs: ALL_VERBS,
    crdName: String((crd.metadata as Obj).name),
    ...(spec.conversion?.strategy === 'Webhook' && spec.conversion.webhook?.clientConfig
      ? { webhookConversion: spec.conversion.webhook.clientConfig }
      : {}),
  };
}

/** The status kube-apiserver's CRD controllers would write: names accepted, established. */
export function crdStatus(crd: Obj, now: string): Obj {
  // runs before validation: the spec may be missing or anything at all
  const spec = (crd.spec && typeof crd.spec === 'object' ? crd.spec : {}) as CrdSpec;
  const prev = ((crd.status as Obj | undefined)?.storedVersions as string[] | undefined) ?? [];
  const storage = (spec.versions ?? []).find((v) => v.storage)?.name;
  const stored = storage && !prev.includes(storage) ? [...prev, storage] : prev;
  const cond = (type: string, reason: string, message: string) => ({
    type,
    status: 'True',
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    conditions: [
      cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
      cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
    ],
    acceptedNames: {
      plural: spec.names?.plural,
      singular: spec.names?.singular || spec.names?.kind?.toLowerCase(),
      kind: spec.names?.kind,
      listKind: spec.names?.listKind || `${spec.names?.kind}List`,
      ...(spec.names?.shortNames ? { shortNames: spec.names.shortNames } : {}),
      ...(spec.names?.categories ? { categories: spec.names.categories } : {}),
    },
    storedVersions: stored,
  };
}
