// The Cluster reconciler (Cluster API core): owns its infrastructure cluster and control plane,
// takes the control plane endpoint and failure domains from the infrastructure once it is
// provisioned, follows control plane initialization, summarises control plane and worker replicas,
// and on deletion removes its descendants — workers first, then the control plane, then the
// infrastructure — before it goes itself.

import { cloneJson } from '../../lib/clone.js';
import { isNotFound, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import {
  type ContractResolver,
  condition,
  conditionOf,
  conditionTrue,
  ensureOwner,
  isControlPlane,
  isPaused,
  K,
  L,
  listIn,
  obj,
  type Typed,
} from './common.js';
import { SYNC_PERIOD_MS } from './workload.js';

export const CLUSTER_FINALIZER = 'cluster.cluster.x-k8s.io';
const FIELD_MANAGER = 'capi-controller-manager';

type Ref = { apiGroup?: string; kind?: string; name?: string };
export interface ClusterSpec {
  paused?: boolean;
  controlPlaneEndpoint?: { host?: string; port?: number };
  controlPlaneRef?: Ref;
  infrastructureRef?: Ref;
  clusterNetwork?: {
    apiServerPort?: number;
    services?: { cidrBlocks?: string[] };
    pods?: { cidrBlocks?: string[] };
    serviceDomain?: string;
  };
}
export type Cluster = Typed<ClusterSpec>;

const counters = (ms: KubeObject[], desired: number) => ({
  desiredReplicas: desired,
  replicas: ms.length,
  readyReplicas: ms.filter((m) => conditionTrue(m, 'Ready')).length,
  availableReplicas: ms.filter((m) => conditionTrue(m, 'Available')).length,
  upToDateReplicas: ms.filter((m) => conditionTrue(m, 'UpToDate')).length,
});

export function clusterController(o: { contracts: ContractResolver }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Cluster>(ctx.client, K.cluster, req.namespace, req.name);
    if (!found) return undefined;
    const c = found;
    const original = cloneJson(c);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, c, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const spec = c.spec ?? {};
    if (isDeleting(c)) return save(await reconcileDelete(c, ctx));
    if (addFinalizer(c, CLUSTER_FINALIZER)) return save({ requeueAfterMs: 1 });
    if (isPaused(c, c)) {
      condition(c, 'Paused', true, 'Paused');
      return save();
    }
    condition(c, 'Paused', false, 'NotPaused');
    const status = { ...(c.status ?? {}) } as Record<string, unknown>;
    const init = { ...obj(status.initialization) };
    let requeue: Result | undefined;

    // infrastructure: owned by the Cluster, provisioned → endpoint and failure domains
    if (spec.infrastructureRef?.name) {
      const infra = await o.contracts.get<Typed>(spec.infrastructureRef, c.metadata.namespace);
      if (!infra) {
        condition(
          c,
          'InfrastructureReady',
          false,
          'InfrastructureDoesNotExist',
          `${spec.infrastructureRef.kind} ${spec.infrastructureRef.name} does not exist`,
        );
        requeue = { requeueAfterMs: 10_000 };
      } else {
        await adopt(ctx, infra, c);
        const provisioned = obj(obj(infra.status).initialization).provisioned === true;
        init.infrastructureProvisioned = provisioned;
        const ready = conditionOf(infra, 'Ready');
        condition(
          c,
          'InfrastructureReady',
          provisioned,
          provisioned ? 'Ready' : (ready?.reason ?? 'NotReady'),
          provisioned ? '' : (ready?.message ?? `${infra.kind} is not provisioned yet`),
        );
        const ep = obj(obj(infra.spec).controlPlaneEndpoint);
        if (provisioned && !spec.controlPlaneEndpoint?.host && ep.host) {
          c.spec = { ...spec, controlPlaneEndpoint: { host: String(ep.host), port: Number(ep.port ?? 6443) } };
        }
        const fds = obj(infra.status).failureDomains ?? obj(infra.spec).failureDomains;
        if (Array.isArray(fds) && fds.length) status.failureDomains = fds;
      }
    } else {
      init.infrastructureProvisioned = true;
      condition(c, 'InfrastructureReady', true, 'NoInfrastructureRef');
    }

    // control plane: owned by the Cluster; initialized once its API server answers
    let cpDesired = 0;
    if (spec.controlPlaneRef?.name) {
      const cp = await o.contracts.get<Typed>(spec.controlPlaneRef, c.metadata.namespace);
      if (!cp) {
        condition(
          c,
          'ControlPlaneInitialized',
          false,
          'ControlPlaneDoesNotExist',
          `${spec.controlPlaneRef.kind} ${spec.controlPlaneRef.name} does not exist`,
        );
        requeue = { requeueAfterMs: 10_000 };
      } else {
        await adopt(ctx, cp, c);
        const initialized = obj(obj(cp.status).initialization).controlPlaneInitialized === true;
        init.controlPlaneInitialized = initialized;
        condition(c, 'ControlPlaneInitialized', initialized, initialized ? 'Initialized' : 'NotInitialized');
        const available = conditionTrue(cp, 'Available');
        condition(
          c,
          'ControlPlaneAvailable',
          available,
          available ? 'Available' : 'NotAvailable',
          conditionOf(cp, 'Available')?.message ?? '',
        );
        cpDesired = Number(obj(cp.spec).replicas ?? 0);
      }
    }
    const machines = await listIn<Typed>(ctx.client, K.machine, c.metadata.namespace, { [L.clusterName]: c.metadata.name });
    const cps = machines.filter(isControlPlane);
    const workers = machines.filter((m) => !isControlPlane(m));
    const mds = await listIn<Typed>(ctx.client, K.machineDeployment, c.metadata.namespace, { [L.clusterName]: c.metadata.name });
    const workersDesired = mds.reduce((n, md) => n + Number(obj(md.spec).replicas ?? 1), 0);
    status.controlPlane = counters(cps, cpDesired);
    status.workers = counters(workers, workersDesired);
    const workersOk = workers.filter((m) => conditionTrue(m, 'Available')).length >= workersDesired;
    condition(c, 'WorkersAvailable', workersOk, workersOk ? 'Available' : 'NotAvailable');
    status.initialization = init;
    const ok = init.infrastructureProvisioned === true && conditionTrue(c, 'ControlPlaneAvailable') && workersOk;
    condition(c, 'Available', ok, ok ? 'Available' : 'NotAvailable');
    const endpointSet = Boolean(c.spec?.controlPlaneEndpoint?.host);
    status.phase =
      init.infrastructureProvisioned === true && endpointSet ? 'Provisioned' : spec.infrastructureRef?.name ? 'Provisioning' : 'Pending';
    status.observedGeneration = c.metadata.generation;
    c.status = { ...(c.status ?? {}), ...status, conditions: c.status?.conditions };
    // everything read above is watched (Machines, the control plane, Metal3Cluster, MachineDeployments):
    // an available Cluster waits for those events and the 10-minute sync period, as upstream's does
    return save(requeue ?? (ok ? { requeueAfterMs: SYNC_PERIOD_MS } : { requeueAfterMs: 5_000 }));
  }

  async function adopt(ctx: ReconcileContext, child: Typed, c: Cluster) {
    const before = cloneJson(child);
    const changed = ensureOwner(child, c, true);
    const labels = child.metadata.labels ?? {};
    if (changed || labels[L.clusterName] !== c.metadata.name) {
      child.metadata.labels = { ...labels, [L.clusterName]: c.metadata.name };
      await patchObject(ctx.client, before, child, { fieldManager: FIELD_MANAGER });
    }
  }

  async function deleteAll(ctx: ReconcileContext, objs: KubeObject[]): Promise<void> {
    for (const x of objs) {
      if (x.metadata?.deletionTimestamp) continue;
      try {
        await ctx.client.delete({
          apiVersion: String(x.apiVersion),
          kind: String(x.kind),
          namespace: x.metadata?.namespace,
          name: String(x.metadata?.name),
        });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
  }

  async function reconcileDelete(c: Cluster, ctx: ReconcileContext): Promise<Result | undefined> {
    const ns = c.metadata.namespace;
    const sel = { [L.clusterName]: c.metadata.name };
    condition(c, 'Deleting', true, 'Deleting');
    c.status = { ...(c.status ?? {}), phase: 'Deleting' };
    // workers first: MachineDeployments, MachineSets, then any worker Machine left
    const mds = await listIn(ctx.client, K.machineDeployment, ns, sel);
    const mss = await listIn(ctx.client, K.machineSet, ns, sel);
    const workers = (await listIn(ctx.client, K.machine, ns, sel)).filter((m) => !isControlPlane(m));
    await deleteAll(ctx, [...mds, ...mss, ...workers]);
    if (mds.length + mss.length + workers.length > 0) return { requeueAfterMs: 2_000 };
    for (const ref of [c.spec?.controlPlaneRef, c.spec?.infrastructureRef]) {
      if (!ref?.name) continue;
      const child = await o.contracts.get(ref, ns).catch((e: unknown) => {
        if (isNotFound(e)) return null;
        throw e;
      });
      if (child) {
        await deleteAll(ctx, [child]);
        return { requeueAfterMs: 2_000 };
      }
    }
    removeFinalizer(c, CLUSTER_FINALIZER);
    return undefined;
  }

  const byClusterLabel = (x: KubeObject): Request[] => {
    const name = x.metadata?.labels?.[L.clusterName];
    return name ? [{ namespace: String(x.metadata?.namespace), name }] : [];
  };
  return {
    name: 'cluster',
    for: K.cluster,
    maxConcurrentReconciles: 4,
    watches: [
      { ...K.machine, map: byClusterLabel },
      { ...K.kubeadmControlPlane, map: byClusterLabel },
      { ...K.metal3Cluster, map: byClusterLabel },
      { ...K.machineDeployment, map: byClusterLabel },
    ],
    reconcile,
  };
}
