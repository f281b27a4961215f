// Metal3DataTemplate, Metal3DataClaim and Metal3Data reconcilers (CAPM3): a machine's claim on a
// template gets the lowest free index and a Metal3Data `<template>-<index>`; the data claims an
// address from every pool the template reads (an IPClaim `<data>-<pool>`, or a Cluster API
// IPAddressClaim for other IPAM providers), renders meta data and network data once into Secrets
// `<m3m>-metadata` / `<m3m>-networkdata`, and releases its addresses when it is deleted.

import { cloneJson } from '../../lib/clone.js';
import { K, L, listIn, obj, ownerOfKind, ownerRef, type Typed } from '../capi/common.js';
import { CapiError } from '../capi/errors.js';
import type { Machine } from '../capi/machine-controller.js';
import { CAPI_ADDRESS, CAPI_CLAIM, IPADDRESS, IPCLAIM } from '../ipam/ippool-controller.js';
import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import { semanticEqual } from '../kube/semantic.js';
import { type PoolAddress, referencedPools, renderMetaData, renderNetworkData } from './data-renderer.js';
import { CAPM3_FIELD_MANAGER } from './metal3cluster-controller.js';
import { HOST_ANNOTATION, type Host } from './metal3machine-controller.js';

export const DATA_TEMPLATE_FINALIZER = 'metal3datatemplate.infrastructure.cluster.x-k8s.io';
export const DATA_CLAIM_FINALIZER = 'metal3dataclaim.infrastructure.cluster.x-k8s.io';
export const DATA_FINALIZER = 'metal3data.infrastructure.cluster.x-k8s.io';
const DATA_NAME_LABEL = 'infrastructure.cluster.x-k8s.io/data-name';
const POOL_NAME_LABEL = 'infrastructure.cluster.x-k8s.io/pool-name';

type DataTemplate = Typed<Record<string, unknown>, { indexes?: Array<{ name?: string; index?: number }>; lastUpdated?: string }>;
type DataClaim = Typed<{ template?: { name?: string } }, { renderedData?: { name?: string; namespace?: string }; errorMessage?: string }>;
type Data = Typed<
  {
    index?: number;
    template?: { name?: string; namespace?: string };
    claim?: { name?: string; namespace?: string };
    metaData?: { name?: string };
    networkData?: { name?: string };
  },
  { ready?: boolean; errorMessage?: string }
>;

const del = async (client: KubeClient, kind: { apiVersion: string; kind: string }, ns: string, name: string) =>
  client.delete({ ...kind, namespace: ns, name }).catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });

/** The template hands out indexes: lowest free first, one Metal3Data per claim. */
export function metal3DataTemplateController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<DataTemplate>(ctx.client, K.metal3DataTemplate, req.namespace, req.name);
    if (!found) return undefined;
    const t = found;
    const original = cloneJson(t);
    const ns = t.metadata.namespace;
    const datas = (await listIn<Data>(ctx.client, K.metal3Data, ns)).filter((d) => d.spec?.template?.name === t.metadata.name);
    const claims = (await listIn<DataClaim>(ctx.client, K.metal3DataClaim, ns)).filter((c) => c.spec?.template?.name === t.metadata.name);
    if (isDeleting(t)) {
      if (datas.length === 0 && claims.length === 0) removeFinalizer(t, DATA_TEMPLATE_FINALIZER);
      await patchObject(ctx.client, original, t, { fieldManager: CAPM3_FIELD_MANAGER });
      return datas.length ? { requeueAfterMs: 3_000 } : undefined;
    }
    addFinalizer(t, DATA_TEMPLATE_FINALIZER);
    const clusterName = obj(t.spec).clusterName as string | undefined;
    if (clusterName) t.metadata.labels = { ...(t.metadata.labels ?? {}), [L.clusterName]: clusterName };
    const byClaim = new Map(datas.map((d) => [d.spec?.claim?.name, d]));
    const used = new Set(datas.map((d) => d.spec?.index));
    let retry = false;
    for (const c of claims) {
      if (isDeleting(c)) continue;
      let d = byClaim.get(c.metadata.name);
      if (!d) {
        let index = 0;
        while (used.has(index)) index++;
        used.add(index);
        const name = `${t.metadata.name}-${index}`;
        const m3m = ownerOfKind(c, 'Metal3Machine');
        try {
          d = await ctx.client.create<Data>(
            {
              apiVersion: K.metal3Data.apiVersion,
              kind: 'Metal3Data',
              metadata: {
                name,
                namespace: ns,
                labels: { ...(clusterName ? { [L.clusterName]: clusterName } : {}) },
                ownerReferences: [
                  { ...ownerRef(c), controller: true },
                  ...(m3m ? [{ apiVersion: m3m.apiVersion, kind: 'Metal3Machine', name: m3m.name, uid: m3m.uid }] : []),
                ],
              },
              spec: { index, template: { name: t.metadata.name, namespace: ns }, claim: { name: c.metadata.name, namespace: ns } },
            },
            CAPM3_FIELD_MANAGER,
          );
        } catch (e) {
          // the index went to another claim meanwhile (or a Metal3Data of that name lingers): next pass
          if (!isAlreadyExists(e)) throw e;
          retry = true;
          continue;
        }
      }
      if (c.status?.renderedData?.name !== d.metadata.name) {
        const before = cloneJson(c);
        c.status = { ...(c.status ?? {}), renderedData: { name: d.metadata.name, namespace: ns } };
        await patchObject(ctx.client, before, c, { fieldManager: CAPM3_FIELD_MANAGER });
      }
    }
    const indexes = datas
      .filter((d) => d.spec?.claim?.name)
      .map((d) => ({ name: String(d.spec?.claim?.name), index: Number(d.spec?.index) }))
      .sort((a, b) => a.index - b.index);
    if (!semanticEqual(indexes, t.status?.indexes ?? [])) {
      t.status = { ...(t.status ?? {}), ...(indexes.length ? { indexes } : {}), lastUpdated: nowIso() };
      if (!indexes.length) delete t.status.indexes;
    }
    await patchObject(ctx.client, original, t, { fieldManager: CAPM3_FIELD_MANAGER });
    return retry ? { requeueAfterMs: 500 } : undefined;
  }
  const toTemplate = (x: KubeObject): Request[] => {
    const name = obj(obj((x as Typed).spec).template).name;
    return name ? [{ namespace: String(x.metadata?.namespace), name: String(name) }] : [];
  };
  return {
    name: 'metal3datatemplate',
    for: K.metal3DataTemplate,
    maxConcurrentReconciles: 1,
    watches: [
      { ...K.metal3DataClaim, map: toTemplate },
      { ...K.metal3Data, map: toTemplate },
    ],
    reconcile,
  };
}

/** A claim keeps its finalizer until the Metal3Data it got is gone. */
export function metal3DataClaimController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<DataClaim>(ctx.client, K.metal3DataClaim, req.namespace, req.name);
    if (!found) return undefined;
    const c = found;
    const original = cloneJson(c);
    if (!isDeleting(c)) {
      if (addFinalizer(c, DATA_CLAIM_FINALIZER)) await patchObject(ctx.client, original, c, { fieldManager: CAPM3_FIELD_MANAGER });
      return undefined;
    }
    const ns = c.metadata.namespace;
    const datas = (await listIn<Data>(ctx.client, K.metal3Data, ns)).filter((d) => d.spec?.claim?.name === c.metadata.name);
    for (const d of datas) if (!isDeleting(d)) await del(ctx.client, K.metal3Data, ns, d.metadata.name);
    if (datas.length) return { requeueAfterMs: 2_000 };
    removeFinalizer(c, DATA_CLAIM_FINALIZER);
    await patchObject(ctx.client, original, c, { fieldManager: CAPM3_FIELD_MANAGER });
    return undefined;
  }
  return { name: 'metal3dataclaim', for: K.metal3DataClaim, maxConcurrentReconciles: 2, owns: [K.metal3Data], reconcile };
}

export function metal3DataController(): ControllerSpec {
  async function claimAddress(
    ctx: ReconcileContext,
    d: Data,
    pool: { name: string; apiGroup: string; kind: string },
  ): Promise<PoolAddress | string | null> {
    const ns = d.metadata.namespace;
    const name = `${d.metadata.name}-${pool.name}`;
    const labels = {
      [DATA_NAME_LABEL]: d.metadata.name,
      [POOL_NAME_LABEL]: pool.name,
      ...(d.metadata.labels?.[L.clusterName] ? { [L.clusterName]: d.metadata.labels[L.clusterName] } : {}),
    };
    const metal3 = pool.apiGroup === 'ipam.metal3.io' && pool.kind === 'IPPool';
    const kind = metal3 ? IPCLAIM : CAPI_CLAIM;
    let claim = await getOrNull<Typed>(ctx.client, kind, ns, name);
    // a claim left over from an earlier Metal3Data of the same name must not be reused (CAPM3#1354)
    if (claim && (isDeleting(claim) || !(claim.metadata.ownerReferences ?? []).some((r) => r.uid === d.metadata.uid))) return null;
    if (!claim) {
      claim = await ctx.client.create<Typed>(
        {
          apiVersion: kind.apiVersion,
          kind: kind.kind,
          metadata: { name, namespace: ns, labels, ownerReferences: [{ ...ownerRef(d), controller: true }] },
          spec: metal3
            ? { pool: { name: pool.name, namespace: ns } }
            : { poolRef: { name: pool.name, apiGroup: pool.apiGroup, kind: pool.kind } },
        },
        CAPM3_FIELD_MANAGER,
      );
    }
    if (metal3) {
      const err = obj(claim.status).errorMessage as string | undefined;
      if (err) return `IPClaim ${name}: ${err}`;
      const ref = obj(obj(claim.status).address).name as string | undefined;
      if (!ref) return null;
      const a = await getOrNull<Typed<{ address: string; prefix?: number; gateway?: string; dnsServers?: string[] }>>(
        ctx.client,
        IPADDRESS,
        ns,
        ref,
      );
      return a?.spec ? { address: a.spec.address, prefix: a.spec.prefix, gateway: a.spec.gateway, dnsServers: a.spec.dnsServers } : null;
    }
    const failed = ((obj(claim.status).conditions as Array<{ type: string; status: string; message?: string }> | undefined) ?? []).find(
      (c) => c.type === 'Ready' && c.status === 'False',
    );
    if (failed) return `IPAddressClaim ${name}: ${failed.message ?? 'allocation failed'}`;
    const ref = obj(obj(claim.status).addressRef).name as string | undefined;
    if (!ref) return null;
    const a = await getOrNull<Typed<{ address: string; prefix?: number; gateway?: string }>>(ctx.client, CAPI_ADDRESS, ns, ref);
    return a?.spec ? { address: a.spec.address, prefix: a.spec.prefix, gateway: a.spec.gateway } : null;
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Data>(ctx.client, K.metal3Data, req.namespace, req.name);
    if (!found) return undefined;
    const d = found;
    const original = cloneJson(d);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, d, { fieldManager: CAPM3_FIELD_MANAGER });
      return r;
    };
    const ns = d.metadata.namespace;
    if (isDeleting(d)) {
      // release every address this data claimed, and wait for the claims to go
      const mine = async (kind: { apiVersion: string; kind: string }) =>
        (await listIn<Typed>(ctx.client, kind, ns, { [DATA_NAME_LABEL]: d.metadata.name }).catch((e: unknown) => {
          if (isNotFound(e)) return [];
          throw e;
        })) as Typed[];
      const claims = [...(await mine(IPCLAIM)), ...(await mine(CAPI_CLAIM))];
      for (const c of claims)
        if (!isDeleting(c)) await del(ctx.client, { apiVersion: String(c.apiVersion), kind: String(c.kind) }, ns, c.metadata.name);
      if (claims.length) return { requeueAfterMs: 1_000 };
      removeFinalizer(d, DATA_FINALIZER);
      return save();
    }
    if (addFinalizer(d, DATA_FINALIZER)) return save({ requeueAfterMs: 1 });
    if (d.status?.ready === true) return undefined;
    const fail = (msg: string, ms = 5_000) => {
      d.status = { ...(d.status ?? {}), ready: false, errorMessage: msg };
      return save({ requeueAfterMs: ms });
    };
    const template = await getOrNull<DataTemplate>(ctx.client, K.metal3DataTemplate, ns, String(d.spec?.template?.name));
    if (!template) return fail(`Metal3DataTemplate ${d.spec?.template?.name} not found`);
    const claim = await getOrNull<DataClaim>(ctx.client, K.metal3DataClaim, ns, String(d.spec?.claim?.name));
    const m3mRef = claim ? ownerOfKind(claim, 'Metal3Machine') : undefined;
    const m3m = m3mRef ? await getOrNull<Typed>(ctx.client, K.metal3Machine, ns, m3mRef.name) : null;
    if (!m3m) return fail('waiting for the Metal3Machine of the claim');
    const hostRef = m3m.metadata.annotations?.[HOST_ANNOTATION];
    if (!hostRef) return fail(`waiting for Metal3Machine ${m3m.metadata.name} to be associated with a host`);
    const host = await getOrNull<Host>(ctx.client, K.bmh, ns, hostRef.slice(hostRef.indexOf('/') + 1));
    const machineRef = ownerOfKind(m3m, 'Machine');
    const machine = machineRef ? await getOrNull<Machine>(ctx.client, K.machine, ns, machineRef.name) : null;
    if (!host || !machine) return fail('waiting for the host and the Machine');
    const pools: Record<string, PoolAddress> = {};
    for (const p of referencedPools(template.spec ?? {})) {
      const a = await claimAddress(ctx, d, p);
      if (typeof a === 'string') return fail(a, 10_000);
      if (!a) return fail(`waiting for an address from pool ${p.name}`, 2_000);
      pools[p.name] = a;
    }
    let metaData: string | null;
    let networkData: string | null;
    try {
      const input = {
        index: Number(d.spec?.index ?? 0),
        namespace: ns,
        m3m: { name: m3m.metadata.name, labels: m3m.metadata.labels, annotations: m3m.metadata.annotations },
        machine: { name: machine.metadata.name, labels: machine.metadata.labels, annotations: machine.metadata.annotations },
        bmh: {
          name: host.metadata.name,
          labels: host.metadata.labels,
          annotations: host.metadata.annotations,
          bootMACAddress: host.spec?.bootMACAddress,
          nics: host.status?.hardware?.nics ?? [],
        },
        pools,
      };
      metaData = renderMetaData(template.spec ?? {}, input);
      networkData = renderNetworkData(template.spec ?? {}, input);
    } catch (e) {
      if (e instanceof CapiError) return fail(e.message, 10_000);
      throw e;
    }
    const secret = async (name: string, key: string, value: string) => {
      try {
        await ctx.client.create(
          {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name, namespace: ns, labels: d.metadata.labels ?? {}, ownerReferences: [{ ...ownerRef(d), controller: true }] },
            type: 'Opaque',
            data: { [key]: Buffer.from(value).toString('base64') },
          },
          CAPM3_FIELD_MANAGER,
        );
      } catch (e) {
        // rendered once: an existing Secret keeps what it has
        if (!isAlreadyExists(e)) throw e;
      }
    };
    const spec = { ...(d.spec ?? {}) };
    if (metaData !== null) {
      await secret(`${m3m.metadata.name}-metadata`, 'metaData', metaData);
      spec.metaData = { name: `${m3m.metadata.name}-metadata` };
    }
    if (networkData !== null) {
      await secret(`${m3m.metadata.name}-networkdata`, 'networkData', networkData);
      spec.networkData = { name: `${m3m.metadata.name}-networkdata` };
    }
    d.spec = spec;
    d.status = { ready: true };
    return save();
  }

  const byData = (x: KubeObject): Request[] => {
    const n = x.metadata?.labels?.[DATA_NAME_LABEL];
    return n ? [{ namespace: String(x.metadata?.namespace), name: n }] : [];
  };
  return {
    name: 'metal3data',
    for: K.metal3Data,
    maxConcurrentReconciles: 4,
    watches: [
      { ...IPCLAIM, map: byData },
      { ...CAPI_CLAIM, map: byData },
    ],
    reconcile,
  };
}
