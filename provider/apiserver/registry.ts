import type { ClientConfig } from './webhook-client.js';

// What the server serves: every resource (built-in or from a CRD), its versions, schemas and
// presentation. Discovery, OpenAPI, routing and validation all read from here, so a CRD becomes
// served and discoverable the moment it is registered.

export type JSONSchemaProps = {
  type?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  default?: unknown;
  enum?: unknown[];
  nullable?: boolean;
  description?: string;
  format?: string;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: Array<{
    rule: string;
    message?: string;
    messageExpression?: string;
    reason?: string;
    fieldPath?: string;
  }>;
  [k: string]: unknown;
};

export interface PrinterColumn {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  jsonPath?: string;
  /** Built-in kinds compute some cells (e.g. a Secret's key count) instead of a JSONPath. */
  compute?: (obj: Record<string, unknown>) => unknown;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface VersionDef {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: JSONSchemaProps;
  statusSubresource: boolean;
  scale?: ScaleSubresource;
  printerColumns: PrinterColumn[];
  deprecated?: boolean;
  deprecationWarning?: string;
  selectableFields?: string[];
}

/**
 * Converts an object to another apiVersion of its kind (a full apiVersion, since alias groups
 * share storage across groups); registered per group by Ferrite's APIs.
 */
export type Converter = (obj: Record<string, unknown>, toApiVersion: string) => Record<string, unknown>;

export interface ResourceDef {
  /** Store key shared by every version (and by alias groups, e.g. events.k8s.io events). */
  storeId: string;
  group: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  versions: VersionDef[];
  /** The version objects are persisted in (for alias groups, possibly another group's). */
  storageGroupVersion: string;
  builtin: boolean;
  /** Built-in kinds accept strategic merge patch; custom resources answer it with 415. */
  strategicMerge: boolean;
  verbs: string[];
  crdName?: string;
  conversion?: Converter;
  /** CRDs with `conversion.strategy: Webhook`: where ConversionReviews go. */
  webhookConversion?: ClientConfig;
  /** For kinds like SelfSubjectAccessReview: only create, nothing stored. */
  virtual?: boolean;
}

export const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The store key a resource owns; an alias (events.k8s.io events) points at another's instead. */
export function ownStoreId(group: string, plural: string): string {
  return `${group || 'core'}/${plural}`;
}

/** True when objects of `def` are stored under its own key rather than another group's. */
export function isPrimary(def: ResourceDef): boolean {
  return def.storeId === ownStoreId(def.group, def.plural);
}

export function gvString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

type Listener = () => void;

export class Registry {
  private readonly byKey = new Map<string, ResourceDef>();
  private readonly converters = new Map<string, Converter>();
  private readonly listeners = new Set<Listener>();
  private generation = 0;

  add(def: ResourceDef): void {
    const conv = this.converters.get(def.group);
    if (conv && !def.conversion) def.conversion = conv;
    this.byKey.set(`${def.group}/${def.plural}`, def);
    this.changed();
  }

  remove(group: string, plural: string): void {
    if (this.byKey.delete(`${group}/${plural}`)) this.changed();
  }

  /** Ferrite's own API groups convert between versions natively instead of via a webhook. */
  registerConverter(group: string, conv: Converter): void {
    this.converters.set(group, conv);
    for (const d of this.byKey.values()) if (d.group === group) d.conversion = conv;
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }

  /** Bumped on every change; discovery and OpenAPI caches key on it. */
  get version(): number {
    return this.generation;
  }

  get(group: string, plural: string): ResourceDef | undefined {
    return this.byKey.get(`${group}/${plural}`);
  }

  lookup(group: string, version: string, plural: string): { def: ResourceDef; ver: VersionDef } | undefined {
    const def = this.byKey.get(`${group}/${plural}`);
    const ver = def?.versions.find((v) => v.name === version && v.served);
    return def && ver ? { def, ver } : undefined;
  }

  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const d of this.byKey.values()) if (d.group === group && d.kind === kind) return d;
    return undefined;
  }

  byStoreId(storeId: string): ResourceDef[] {
    return [...this.byKey.values()].filter((d) => d.storeId === storeId);
  }

  /** The resource whose own storage a store key is (not an alias sharing it). */
  primary(storeId: string): ResourceDef | undefined {
    for (const d of this.byKey.values()) if (d.storeId === storeId && isPrimary(d)) return d;
    return undefined;
  }

  all(): ResourceDef[] {
    return [...this.byKey.values()];
  }

  /** Groups with their served versions, preferred (storage, else first served) version first. */
  groups(): Array<{ name: string; versions: string[]; preferred: string }> {
    const m = new Map<string, { versions: string[]; preferred?: string }>();
    for (const d of this.byKey.values()) {
      let g = m.get(d.group);
      if (!g) {
        g = { versions: [] };
        m.set(d.group, g);
      }
      for (const v of d.versions) {
        if (!v.served) continue;
        if (!g.versions.includes(v.name)) g.versions.push(v.name);
        if (v.storage && !g.preferred) g.preferred = v.name;
      }
    }
    return [...m.entries()]
      .filter(([, g]) => g.versions.length > 0)
      .map(([name, g]) => {
        const versions = sortVersions(g.versions);
        return { name, versions, preferred: g.preferred && versions.includes(g.preferred) ? g.preferred : versions[0] };
      })
      .sort((a, b) => groupRank(a.name) - groupRank(b.name) || (a.name < b.name ? -1 : 1));
  }
}

function groupRank(g: string): number {
  // The legacy and well-known built-in groups first, as kube-apiserver lists them.
  if (g === '') return 0;
  if (g.endsWith('.k8s.io') || !g.includes('.')) return 1;
  return 2;
}

/** Kubernetes version priority: GA > beta > alpha, then by number, descending. */
export function sortVersions(vs: string[]): string[] {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return { kind: -1, major: 0, minor: 0 };
    const kind = m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1;
    return { kind, major: Number(m[1]), minor: Number(m[3] ?? 0) };
  };
  return [...vs].sort((a, b) => {
    const x = parse(a);
    const y = parse(b);
    if (x.kind === -1 && y.kind === -1) return a < b ? -1 : 1;
    return y.kind - x.kind || y.major - x.major || y.minor - x.minor;
  });
}
