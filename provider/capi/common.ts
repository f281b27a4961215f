// What the Cluster API controllers (core, kubeadm bootstrap and control plane, CAPM3) share: the
// kinds they read, upstream's well-known labels and annotations, contract-versioned references,
// owner references, conditions and the client for a workload cluster.
import { createHash, randomBytes } from 'node:crypto';
import { crdApiVersion } from '../api/versioning.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import type { Condition } from '../kube/conditions.js';
import type { GVK } from '../kube/controller.js';
import { getOrNull } from '../kube/read.js';
import { CapiError } from './errors.js';

export const K = {
  cluster: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster' },
  machine: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Machine' },
  machineSet: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineSet' },
  machineDeployment: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineDeployment' },
  machineHealthCheck: { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'MachineHealthCheck' },
  kubeadmConfig: { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfig' },
  kubeadmConfigTemplate: { apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2', kind: 'KubeadmConfigTemplate' },
  kubeadmControlPlane: { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2', kind: 'KubeadmControlPlane' },
  metal3Cluster: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3Cluster' },
  metal3Machine: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3Machine' },
  metal3MachineTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3MachineTemplate' },
  metal3DataTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3DataTemplate' },
  metal3Data: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3Data' },
  metal3DataClaim: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3DataClaim' },
  metal3Remediation: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3Remediation' },
  metal3RemediationTemplate: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2', kind: 'Metal3RemediationTemplate' },
  bmh: { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost' },
  secret: { apiVersion: 'v1', kind: 'Secret' },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap' },
  node: { apiVersion: 'v1', kind: 'Node' },
  pod: { apiVersion: 'v1', kind: 'Pod' },
} satisfies Record<string, GVK>;

export const L = {
  clusterName: 'cluster.x-k8s.io/cluster-name',
  controlPlane: 'cluster.x-k8s.io/control-plane',
  controlPlaneName: 'cluster.x-k8s.io/control-plane-name',
  deploymentName: 'cluster.x-k8s.io/deployment-name',
  setName: 'cluster.x-k8s.io/set-name',
  templateHash: 'machine-template-hash',
};

export const A = {
  paused: 'cluster.x-k8s.io/paused',
  clonedFromName: 'cluster.x-k8s.io/cloned-from-name',
  clonedFromGroupKind: 'cluster.x-k8s.io/cloned-from-groupkind',
  deleteMachine: 'cluster.x-k8s.io/delete-machine',
  revision: 'machinedeployment.clusters.x-k8s.io/revision',
};

export type Obj = Record<string, unknown>;
export type Meta = NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
export interface Typed<S = Obj, T = Obj> extends KubeObject {
  metadata: Meta;
  spec?: S;
  status?: T & { conditions?: Condition[] };
}

export const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});

/** Kubernetes-style random suffix (5 lowercase alphanumerics without vowels, as apimachinery's). */
export function randomSuffix(n = 5): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(n);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

/** A short stable hash of a value (template hashes, label values). */
export function shortHash(v: unknown, len = 10): string {
  const canon = (x: unknown): string => {
    if (Array.isArray(x)) return `[${x.map(canon).join(',')}]`;
    if (x && typeof x === 'object') {
      return `{${Object.keys(x as Obj)
        .sort()
        .filter((k) => (x as Obj)[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${canon((x as Obj)[k])}`)
        .join(',')}}`;
    }
    return JSON.stringify(x);
  };
  return createHash('sha256').update(canon(v)).digest('hex').slice(0, len);
}

export function ownerRef(o: KubeObject, controller = false) {
  return {
    apiVersion: String(o.apiVersion),
    kind: String(o.kind),
    name: String(o.metadata?.name),
    uid: String(o.metadata?.uid),
    ...(controller ? { controller: true, blockOwnerDeletion: true } : {}),
  };
}

/** Adds `owner` to o's owner references (as controller if asked and none is); true when changed. */
export function ensureOwner(o: KubeObject, owner: KubeObject, controller = false): boolean {
  const refs = [...(o.metadata?.ownerReferences ?? [])];
  const i = refs.findIndex((r) => r.uid === owner.metadata?.uid);
  const hasController = refs.some((r) => r.controller && r.uid !== owner.metadata?.uid);
  const want = ownerRef(owner, controller && !hasController);
  if (i >= 0) {
    if (Boolean(refs[i].controller) === Boolean(want.controller)) return false;
    refs[i] = want;
  } else refs.push(want);
  o.metadata = { ...(o.metadata ?? {}), ownerReferences: refs };
  return true;
}

export function ownerOfKind(o: KubeObject, kind: string): { name: string; uid: string; apiVersion: string } | undefined {
  const r = (o.metadata?.ownerReferences ?? []).find((x) => x.kind === kind);
  return r ? { name: r.name, uid: r.uid, apiVersion: r.apiVersion } : undefined;
}

export function isPaused(cluster: KubeObject | null, o: KubeObject): boolean {
  if (A.paused in (o.metadata?.annotations ?? {})) return true;
  return obj((cluster as Obj | null)?.spec).paused === true;
}

export function conditionTrue(o: unknown, type: string): boolean {
  const conds = obj(obj(o).status).conditions;
  return Array.isArray(conds) && (conds as Condition[]).some((c) => c.type === type && c.status === 'True');
}

export function conditionOf(o: unknown, type: string): Condition | undefined {
  const conds = obj(obj(o).status).conditions;
  return Array.isArray(conds) ? (conds as Condition[]).find((c) => c.type === type) : undefined;
}

/**
 * apiVersion for a contract-versioned reference: the version the kind's CRD names for the v1beta2
 * contract (label `cluster.x-k8s.io/v1beta2`, newest of an underscore list), else its storage version.
 */
export class ContractResolver {
  private cache = new Map<string, { apiVersion: string; at: number }>();

  constructor(private readonly client: KubeClient) {}

  async apiVersion(ref: { apiGroup?: string; kind?: string }): Promise<string> {
    const group = String(ref.apiGroup ?? '');
    const kind = String(ref.kind ?? '');
    if (!group || !kind) throw new CapiError('InvalidReference', `reference needs apiGroup and kind, got ${JSON.stringify(ref)}`);
    const key = `${kind}.${group}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < 300_000) return hit.apiVersion;
    const crds = await this.client.list<KubeObject>('apiextensions.k8s.io/v1', 'CustomResourceDefinition');
    for (const crd of crds.items) {
      const apiVersion = crdApiVersion(crd as unknown as Obj, group, kind);
      if (apiVersion) {
        this.cache.set(key, { apiVersion, at: Date.now() });
        return apiVersion;
      }
    }
    throw new CapiError('ReferenceNotFound', `no CustomResourceDefinition for ${key}`);
  }

  async get<T extends KubeObject>(ref: { apiGroup?: string; kind?: string; name?: string }, namespace: string): Promise<T | null> {
    const apiVersion = await this.apiVersion(ref);
    return getOrNull<T>(this.client, { apiVersion, kind: String(ref.kind) }, namespace, String(ref.name));
  }
}

/** Kubernetes versions in order (v1.9.0 before v1.10.0; pre-release and build suffixes ignored), not as strings. */
export function compareKubeVersions(a: string, b: string): number {
  const n = (v: string) => v.replace(/^v/, '').split(/[-+]/)[0].split('.').map(Number);
  const [x, y] = [n(a), n(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The machines of a cluster's control plane or its workers, from a Machine list. */
export const isControlPlane = (m: KubeObject) => L.controlPlane in (m.metadata?.labels ?? {});

export function labelSelectorString(sel: { matchLabels?: Record<string, string> } | undefined): string {
  return Object.entries(sel?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Does a label set satisfy a LabelSelector (matchLabels and matchExpressions, either operator spelling)? */
export { matchesSelectorObject as matchesSelector } from '../apiserver/selectors.js';
export { condition } from '../kube/conditions.js';

export async function listIn<T extends KubeObject>(
  client: KubeClient,
  kind: GVK,
  namespace: string,
  labels?: Record<string, string>,
): Promise<T[]> {
  const q = labels
    ? `labelSelector=${encodeURIComponent(
        Object.entries(labels)
          .map(([k, v]) => (v === '' ? k : `${k}=${v}`))
          .join(','),
      )}`
    : '';
  return (await client.list<T>(kind.apiVersion, kind.kind, namespace, q)).items;
}
