// API discovery documents: legacy (APIVersions, APIGroupList, APIResourceList) and aggregated
// (apidiscovery.k8s.io/v2), both computed from the registry.
import { createHash } from 'node:crypto';
import type { Registry, ResourceDef, VersionDef } from './registry.js';

type Obj = Record<string, unknown>;

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

function storageHash(def: ResourceDef): string {
  return createHash('sha256').update(`${def.group}/${def.storageGroupVersion}/${def.kind}`).digest('base64').slice(0, 11);
}

function served(def: ResourceDef, version: string): VersionDef | undefined {
  return def.versions.find((v) => v.name === version && v.served);
}

export function apiVersions(serverAddress: string): Obj {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(reg: Registry): Obj {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: reg
      .groups()
      .filter((g) => g.name !== '')
      .map((g) => apiGroup(g.name, g.versions, g.preferred)),
  };
}

function apiGroup(name: string, versions: string[], preferred: string): Obj {
  return {
    name,
    versions: versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${preferred}`, version: preferred },
  };
}

export function apiGroupDoc(reg: Registry, group: string): Obj | undefined {
  const g = reg.groups().find((x) => x.name === group);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(g.name, g.versions, g.preferred) } : undefined;
}

export function apiResourceList(reg: Registry, group: string, version: string): Obj | undefined {
  const defs = reg.all().filter((d) => d.group === group && served(d, version));
  if (defs.length === 0) return undefined;
  const resources: Obj[] = [];
  for (const d of defs.sort((a, b) => (a.plural < b.plural ? -1 : 1))) {
    const v = served(d, version) as VersionDef;
    resources.push({
      name: d.plural,
      singularName: d.singular,
      namespaced: d.namespaced,
      kind: d.kind,
      verbs: d.verbs,
      ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
      ...(d.categories.length ? { categories: d.categories } : {}),
      storageVersionHash: storageHash(d),
    });
    if (v.statusSubresource) {
      resources.push({
        name: `${d.plural}/status`,
        singularName: '',
        namespaced: d.namespaced,
        kind: d.kind,
        verbs: ['get', 'patch', 'update'],
      });
    }
    if (v.scale) {
      resources.push({
        name: `${d.plural}/scale`,
        singularName: '',
        namespaced: d.namespaced,
        group: 'autoscaling',
        version: 'v1',
        kind: 'Scale',
        verbs: ['get', 'patch', 'update'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
}

/** Aggregated discovery for /api (legacy=true) or /apis. */
export function aggregated(reg: Registry, legacy: boolean, apiVersion: string): Obj {
  const items = reg
    .groups()
    .filter((g) => (legacy ? g.name === '' : g.name !== ''))
    .map((g) => ({
      metadata: legacy ? { creationTimestamp: null } : { name: g.name, creationTimestamp: null },
      versions: g.versions.map((version) => ({
        version,
        freshness: 'Current',
        resources: reg
          .all()
          .filter((d) => d.group === g.name && served(d, version))
          .sort((a, b) => (a.plural < b.plural ? -1 : 1))
          .map((d) => {
            const v = served(d, version) as VersionDef;
            const subresources: Obj[] = [];
            if (v.statusSubresource)
              subresources.push({
                subresource: 'status',
                responseKind: { group: d.group, version, kind: d.kind },
                verbs: ['get', 'patch', 'update'],
              });
            if (v.scale)
              subresources.push({
                subresource: 'scale',
                responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
                verbs: ['get', 'patch', 'update'],
              });
            return {
              resource: d.plural,
              responseKind: { group: d.group, version, kind: d.kind },
              scope: d.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: d.singular,
              verbs: d.verbs,
              ...(d.shortNames.length ? { shortNames: d.shortNames } : {}),
              ...(d.categories.length ? { categories: d.categories } : {}),
              ...(subresources.length ? { subresources } : {}),
            };
          }),
      })),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}
