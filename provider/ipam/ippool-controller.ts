// The IPPool reconciler: one pool at a time hands out addresses to the IPClaims (ipam.metal3.io)
// and the Cluster API IPAddressClaims (ipam.cluster.x-k8s.io) that name it, and takes them back
// when a claim is deleted, as metal3-io/ip-address-manager does.
//
// Race-free by construction: a pool's claims are served by one worker (the queue never hands the
// same key to two), what is taken is read live from the IPAddress objects (never a cache that may
// lag), and an IPAddress is named after its address, so a second object for the same address fails
// with AlreadyExists instead of duplicating it. A controller killed between creating the IPAddress
// and writing the claim finds the address on its next pass and finishes the claim with it.

import { cloneJson } from '../../lib/clone.js';
import type { IPPool } from '../api/ipam.metal3.io/v1alpha1/ipam.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import { type Condition, setCondition } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import { semanticEqual } from '../kube/semantic.js';
import { canonicalIp } from './addresses.js';
import { type Allocation, AllocationError, addressName, allocate, preAllocated } from './allocator.js';

export const IPPOOL = { apiVersion: 'ipam.metal3.io/v1alpha1', kind: 'IPPool' };
export const IPCLAIM = { apiVersion: 'ipam.metal3.io/v1alpha1', kind: 'IPClaim' };
export const IPADDRESS = { apiVersion: 'ipam.metal3.io/v1alpha1', kind: 'IPAddress' };
export const CAPI_CLAIM = { apiVersion: 'ipam.cluster.x-k8s.io/v1beta2', kind: 'IPAddressClaim' };
export const CAPI_ADDRESS = { apiVersion: 'ipam.cluster.x-k8s.io/v1beta2', kind: 'IPAddress' };
export const CLUSTER = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster' };

export const F = {
  pool: 'ippool.ipam.metal3.io',
  claim: 'ipclaim.ipam.metal3.io',
  address: 'ipaddress.ipam.metal3.io',
  capiClaim: 'ipam.metal3.io/ipaddressclaim',
  capiAddress: 'ipam.metal3.io/ipaddress',
};

export const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';
export const PAUSED_ANNOTATION = 'cluster.x-k8s.io/paused';
/** A claim may ask for one address with this annotation. */
export const IP_ADDRESS_ANNOTATION = 'ipAddress';
const FIELD_MANAGER = 'ipam-controller';

type Meta = NonNullable<KubeObject['metadata']> & { name: string; namespace: string };

export interface IPClaim extends KubeObject {
  metadata: Meta;
  spec?: { pool?: { name?: string; namespace?: string } };
  status?: { address?: { name?: string; namespace?: string }; errorMessage?: string };
}

export interface IPAddressClaim extends KubeObject {
  metadata: Meta;
  spec?: { clusterName?: string; poolRef?: { name?: string; kind?: string; apiGroup?: string } };
  status?: { conditions?: Condition[]; addressRef?: { name?: string } };
}

export interface Metal3IPAddress extends KubeObject {
  metadata: Meta;
  spec: {
    address: string;
    prefix?: number;
    gateway?: string;
    dnsServers?: string[];
    pool: { name?: string; namespace?: string };
    claim: { name?: string; namespace?: string };
  };
}

export interface CapiIPAddress extends KubeObject {
  metadata: Meta;
  spec: {
    address: string;
    prefix: number;
    gateway?: string;
    poolRef: { name: string; kind: string; apiGroup: string };
    claimRef: { name: string };
  };
}

type Pool = IPPool & KubeObject;

/** Does a Cluster API claim ask this controller's kind of pool? */
export function claimsMetal3Pool(c: IPAddressClaim): boolean {
  const ref = c.spec?.poolRef;
  return !!ref?.name && ref.kind === 'IPPool' && ref.apiGroup === 'ipam.metal3.io';
}

async function listIn<T extends KubeObject>(client: KubeClient, kind: { apiVersion: string; kind: string }, ns: string): Promise<T[]> {
  try {
    return (await client.list<T>(kind.apiVersion, kind.kind, ns)).items;
  } catch (e) {
    // Cluster API's IPAM CRDs are optional: without them there are no such claims
    if (isNotFound(e)) return [];
    throw e;
  }
}

const ownerRef = (o: KubeObject) => ({
  apiVersion: String(o.apiVersion),
  kind: String(o.kind),
  name: String(o.metadata?.name),
  uid: String(o.metadata?.uid),
});

interface Book {
  /** canonical address → claim name ('' for a pre-allocation) */
  used: Map<string, string>;
  /** claim name → address, from the IPAddress objects */
  allocations: Map<string, string>;
}

export interface IPPoolControllerOptions {
  /** The cached pools, so a Cluster appearing or pausing wakes the pools that name it. */
  pools?: () => KubeObject[];
}

export function ipPoolController(o: IPPoolControllerOptions = {}): ControllerSpec {
  async function book(client: KubeClient, pool: Pool): Promise<Book> {
    const ns = pool.metadata.namespace;
    const used = isDeleting(pool) ? new Map<string, string>() : preAllocated(pool.spec ?? { namePrefix: '' });
    const allocations = new Map<string, string>();
    for (const a of await listIn<Metal3IPAddress>(client, IPADDRESS, ns)) {
      if (a.spec?.pool?.name !== pool.metadata.name) continue;
      const ip = canonicalIp(a.spec.address) ?? a.spec.address;
      used.set(ip, a.spec.claim?.name ?? '');
      allocations.set(a.spec.claim?.name ?? '', ip);
    }
    for (const a of await listIn<CapiIPAddress>(client, CAPI_ADDRESS, ns)) {
      if (a.spec?.poolRef?.name !== pool.metadata.name || a.spec.poolRef.kind !== 'IPPool') continue;
      const ip = canonicalIp(a.spec.address) ?? a.spec.address;
      used.set(ip, a.spec.claimRef?.name ?? '');
      allocations.set(a.spec.claimRef?.name ?? '', ip);
    }
    return { used, allocations };
  }

  /** Creates the address object; false when its name is taken (the book was stale: try again). */
  async function createAddress(client: KubeClient, obj: KubeObject): Promise<boolean> {
    try {
      await client.create(obj, FIELD_MANAGER);
      return true;
    } catch (e) {
      if (isAlreadyExists(e)) return false;
      throw e;
    }
  }

  async function deleteAddress(
    client: KubeClient,
    kind: { apiVersion: string; kind: string },
    ns: string,
    name: string,
    finalizer: string,
  ) {
    const a = await getOrNull<KubeObject>(client, kind, ns, name);
    if (!a) return;
    if (removeFinalizer(a, finalizer)) {
      try {
        await client.update(a, { fieldManager: FIELD_MANAGER });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    try {
      await client.delete({ ...kind, namespace: ns, name });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  /** The address a claim gets: the one it already has, or a fresh allocation (throws AllocationError). */
  function choose(pool: Pool, b: Book, claim: KubeObject & { metadata: Meta }): { existing?: string; fresh?: Allocation } {
    const have = b.allocations.get(claim.metadata.name);
    if (have) return { existing: have };
    const fresh = allocate(pool.spec ?? { namePrefix: '' }, {
      claimName: claim.metadata.name,
      requested: claim.metadata.annotations?.[IP_ADDRESS_ANNOTATION],
      used: b.used,
    });
    return { fresh };
  }

  function taken(b: Book, claimName: string, address: string) {
    b.used.set(address, claimName);
    b.allocations.set(claimName, address);
  }

  function release(pool: Pool, b: Book, claimName: string) {
    const ip = b.allocations.get(claimName);
    if (ip === undefined) return;
    b.allocations.delete(claimName);
    if (!(claimName in (pool.spec?.preAllocations ?? {})) || isDeleting(pool)) b.used.delete(ip);
  }

  async function serveMetal3Claim(client: KubeClient, pool: Pool, b: Book, claim: IPClaim): Promise<'stale' | undefined> {
    const original = cloneJson(claim);
    const ns = pool.metadata.namespace;
    const prefix = pool.spec?.namePrefix ?? pool.metadata.name;
    if (isDeleting(claim)) {
      // another owner still needs the claim: its address stays until that finalizer goes
      if ((claim.metadata.finalizers ?? []).some((f) => f !== F.claim)) return undefined;
      const ip = b.allocations.get(claim.metadata.name);
      if (ip) await deleteAddress(client, IPADDRESS, ns, addressName(prefix, ip), F.address);
      release(pool, b, claim.metadata.name);
      removeFinalizer(claim, F.claim);
      claim.status = { ...(claim.status ?? {}) };
      delete claim.status.address;
      await patchClaim(client, original, claim);
      return undefined;
    }
    addFinalizer(claim, F.claim);
    claim.status = { ...(claim.status ?? {}) };
    delete claim.status.errorMessage;
    try {
      const { existing, fresh } = choose(pool, b, claim);
      if (fresh) {
        const obj: Metal3IPAddress = {
          apiVersion: IPADDRESS.apiVersion,
          kind: IPADDRESS.kind,
          metadata: {
            name: addressName(prefix, fresh.address),
            namespace: ns,
            finalizers: [F.address],
            ownerReferences: [ownerRef(pool), ownerRef(claim)],
            ...(claim.metadata.labels ? { labels: claim.metadata.labels } : {}),
          },
          spec: {
            address: fresh.address,
            pool: { name: pool.metadata.name, namespace: ns },
            claim: { name: claim.metadata.name, namespace: ns },
            ...(fresh.prefix ? { prefix: fresh.prefix } : {}),
            ...(fresh.gateway ? { gateway: fresh.gateway } : {}),
            ...(fresh.dnsServers ? { dnsServers: fresh.dnsServers } : {}),
          },
        };
        if (!(await createAddress(client, obj))) return 'stale';
        taken(b, claim.metadata.name, fresh.address);
      }
      const ip = existing ?? (fresh as Allocation).address;
      claim.status.address = { name: addressName(prefix, ip), namespace: ns };
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      claim.status.errorMessage = e.message;
    }
    await patchClaim(client, original, claim);
    return undefined;
  }

  async function serveCapiClaim(client: KubeClient, pool: Pool, b: Book, claim: IPAddressClaim): Promise<'stale' | undefined> {
    const original = cloneJson(claim);
    const ns = pool.metadata.namespace;
    const prefix = pool.spec?.namePrefix ?? pool.metadata.name;
    if (isDeleting(claim)) {
      if ((claim.metadata.finalizers ?? []).some((f) => f !== F.capiClaim)) return undefined;
      const ip = b.allocations.get(claim.metadata.name);
      if (ip) await deleteAddress(client, CAPI_ADDRESS, ns, addressName(prefix, ip), F.capiAddress);
      release(pool, b, claim.metadata.name);
      removeFinalizer(claim, F.capiClaim);
      await patchClaim(client, original, claim);
      return undefined;
    }
    addFinalizer(claim, F.capiClaim);
    claim.status = { ...(claim.status ?? {}) };
    try {
      const { existing, fresh } = choose(pool, b, claim);
      if (fresh) {
        const obj: CapiIPAddress = {
          apiVersion: CAPI_ADDRESS.apiVersion,
          kind: CAPI_ADDRESS.kind,
          metadata: {
            name: addressName(prefix, fresh.address),
            namespace: ns,
            finalizers: [F.capiAddress],
            ownerReferences: [ownerRef(pool), ownerRef(claim)],
            ...(claim.metadata.labels ? { labels: claim.metadata.labels } : {}),
          },
          spec: {
            address: fresh.address,
            prefix: fresh.prefix,
            ...(fresh.gateway ? { gateway: fresh.gateway } : {}),
            poolRef: { name: pool.metadata.name, kind: 'IPPool', apiGroup: 'ipam.metal3.io' },
            claimRef: { name: claim.metadata.name },
          },
        };
        if (!(await createAddress(client, obj))) return 'stale';
        taken(b, claim.metadata.name, fresh.address);
      }
      const ip = existing ?? (fresh as Allocation).address;
      claim.status.addressRef = { name: addressName(prefix, ip) };
      claim.status.conditions = setCondition(claim.status.conditions, { type: 'Ready', status: 'True', reason: 'Ready', message: '' });
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      claim.status.conditions = setCondition(claim.status.conditions, {
        type: 'Ready',
        status: 'False',
        reason: e.reason === 'Exhausted' ? 'PoolExhausted' : 'AllocationFailed',
        message: e.message,
      });
    }
    await patchClaim(client, original, claim);
    return undefined;
  }

  async function patchClaim(client: KubeClient, original: KubeObject, claim: KubeObject) {
    try {
      await patchObject(client, original, claim, { fieldManager: FIELD_MANAGER });
    } catch (e) {
      // a claim deleted meanwhile has nothing left to record
      if (!isNotFound(e)) throw e;
    }
  }

  /** A deleted claim of a pool that is gone holds no address: its finalizer has nothing to wait for. */
  async function releaseOrphans(client: KubeClient, req: Request): Promise<undefined> {
    const orphans: Array<[KubeObject, string]> = [];
    for (const c of await listIn<IPClaim>(client, IPCLAIM, req.namespace)) {
      if (c.spec?.pool?.name === req.name && isDeleting(c)) orphans.push([c, F.claim]);
    }
    for (const c of await listIn<IPAddressClaim>(client, CAPI_CLAIM, req.namespace)) {
      if (c.spec?.poolRef?.name === req.name && claimsMetal3Pool(c) && isDeleting(c)) orphans.push([c, F.capiClaim]);
    }
    for (const [c, f] of orphans) {
      const original = cloneJson(c);
      if (removeFinalizer(c, f)) await patchClaim(client, original, c);
    }
    return undefined;
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Pool>(ctx.client, IPPOOL, req.namespace, req.name);
    if (!found) return releaseOrphans(ctx.client, req);
    const pool = found;
    const original = cloneJson(pool);
    const savePool = async () => {
      try {
        await patchObject(ctx.client, original, pool, { fieldManager: FIELD_MANAGER });
      } catch (e) {
        if (isConflict(e) || isNotFound(e)) return { requeue: true } as Result;
        throw e;
      }
      return undefined;
    };
    const clusterName = pool.spec?.clusterName;
    if (clusterName) {
      pool.metadata.labels = {
        ...(pool.metadata.labels ?? {}),
        [CLUSTER_NAME_LABEL]: clusterName,
        'cluster.x-k8s.io/provider': 'ipam-metal3',
      };
      // without Cluster API installed the lookup is a NotFound too: the pool waits like upstream's
      const cluster = await getOrNull<KubeObject & { spec?: { paused?: boolean } }>(
        ctx.client,
        CLUSTER,
        pool.metadata.namespace,
        clusterName,
      );
      if (!cluster && !isDeleting(pool)) {
        ctx.log.info({ pool: req.name, cluster: clusterName }, 'waiting for the cluster the pool belongs to');
        return (await savePool()) ?? { requeueAfterMs: 60_000 };
      }
      if (cluster) {
        const refs = pool.metadata.ownerReferences ?? [];
        if (!refs.some((r) => r.uid === cluster.metadata?.uid)) pool.metadata.ownerReferences = [...refs, ownerRef(cluster)];
        if (cluster.spec?.paused === true || PAUSED_ANNOTATION in (pool.metadata.annotations ?? {})) {
          return (await savePool()) ?? { requeueAfterMs: 20_000 };
        }
      }
    }
    if (!isDeleting(pool)) addFinalizer(pool, F.pool);
    const b = await book(ctx.client, pool);
    let stale = false;
    for (const claim of await listIn<IPClaim>(ctx.client, IPCLAIM, pool.metadata.namespace)) {
      if (claim.spec?.pool?.name !== pool.metadata.name) continue;
      if ((claim.spec.pool.namespace ?? claim.metadata.namespace) !== pool.metadata.namespace) continue;
      if (!isDeleting(claim) && (claim.status?.address?.name || claim.status?.errorMessage)) continue;
      if ((await serveMetal3Claim(ctx.client, pool, b, claim)) === 'stale') stale = true;
    }
    for (const claim of await listIn<IPAddressClaim>(ctx.client, CAPI_CLAIM, pool.metadata.namespace)) {
      if (claim.spec?.poolRef?.name !== pool.metadata.name || !claimsMetal3Pool(claim)) continue;
      const failed = (claim.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'False');
      if (!isDeleting(claim) && (claim.status?.addressRef?.name || failed)) continue;
      if ((await serveCapiClaim(ctx.client, pool, b, claim)) === 'stale') stale = true;
    }
    const indexes = Object.fromEntries([...b.allocations].sort(([x], [y]) => x.localeCompare(y)));
    if (!semanticEqual(indexes, pool.status?.indexes ?? {})) {
      pool.status = { ...(pool.status ?? {}), indexes, lastUpdated: nowIso() };
    } else if (!pool.status?.lastUpdated) {
      pool.status = { ...(pool.status ?? {}), lastUpdated: String(pool.metadata.creationTimestamp ?? nowIso()) };
    }
    // a deleted pool goes once nothing it handed out is left
    if (isDeleting(pool) && b.allocations.size === 0) removeFinalizer(pool, F.pool);
    const r = await savePool();
    if (stale) return { requeue: true };
    return r;
  }

  const toPool = (ns: string | undefined, name: string | undefined): Request[] => (ns && name ? [{ namespace: ns, name }] : []);
  return {
    name: 'ippool',
    for: IPPOOL,
    maxConcurrentReconciles: 4,
    watches: [
      {
        ...IPCLAIM,
        map: (o) => {
          const c = o as IPClaim;
          return toPool(c.spec?.pool?.namespace || c.metadata?.namespace, c.spec?.pool?.name);
        },
      },
      ...(o.pools
        ? [
            {
              ...CLUSTER,
              map: (c: KubeObject) =>
                (o.pools?.() ?? [])
                  .filter((p) => p.metadata?.namespace === c.metadata?.namespace && (p as Pool).spec?.clusterName === c.metadata?.name)
                  .flatMap((p) => toPool(p.metadata?.namespace, p.metadata?.name)),
            },
          ]
        : []),
      {
        ...CAPI_CLAIM,
        map: (o) => {
          const c = o as IPAddressClaim;
          return claimsMetal3Pool(c) ? toPool(c.metadata?.namespace, c.spec?.poolRef?.name) : [];
        },
      },
    ],
    reconcile,
  };
}
