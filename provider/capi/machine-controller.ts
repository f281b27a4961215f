// The Machine reconciler (Cluster API core): owns the machine's bootstrap config and
// infrastructure machine, copies the bootstrap data Secret name once it exists and the providerID,
// addresses and failure domain once the infrastructure is provisioned, finds the workload Node by
// providerID and keeps Cluster API's labels and annotations on it, and reports phase and
// conditions the way `kubectl get machines` shows them upstream. Deleting a Machine deletes its
// infrastructure and bootstrap objects, then its Node, before the finalizer goes.

import { cloneJson } from '../../lib/clone.js';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import {
  type ContractResolver,
  condition,
  conditionOf,
  conditionTrue,
  ensureOwner,
  isPaused,
  K,
  L,
  obj,
  ownerOfKind,
  type Typed,
} from './common.js';
import type { WorkloadClients } from './workload.js';

export const MACHINE_FINALIZER = 'machine.cluster.x-k8s.io';
const FIELD_MANAGER = 'capi-controller-manager';

type Ref = { apiGroup?: string; kind?: string; name?: string };
export interface MachineSpec {
  clusterName?: string;
  bootstrap?: { configRef?: Ref; dataSecretName?: string };
  infrastructureRef?: Ref;
  version?: string;
  providerID?: string;
  failureDomain?: string;
  minReadySeconds?: number;
  deletion?: { nodeDrainTimeoutSeconds?: number; nodeDeletionTimeoutSeconds?: number };
}
export interface MachineStatus {
  initialization?: { infrastructureProvisioned?: boolean; bootstrapDataSecretCreated?: boolean };
  nodeRef?: { name?: string };
  nodeInfo?: Record<string, string>;
  addresses?: Array<{ type: string; address: string }>;
  failureDomain?: string;
  phase?: string;
  lastUpdated?: string;
  observedGeneration?: number;
}
export type Machine = Typed<MachineSpec, MachineStatus>;

interface NodeObj extends KubeObject {
  spec?: { providerID?: string; taints?: Array<{ key: string; effect: string }>; unschedulable?: boolean };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>; nodeInfo?: Record<string, string> };
}

/** Label domains Cluster API keeps in sync from a Machine to its Node. */
const SYNCED_LABEL = /^(node-role\.kubernetes\.io\/|node-restriction\.kubernetes\.io\/|node\.cluster\.x-k8s\.io\/)/;
const UNINITIALIZED_TAINT = 'node.cluster.x-k8s.io/uninitialized';

export function machineController(o: { contracts: ContractResolver; workload: WorkloadClients }): ControllerSpec {
  async function child(ref: Ref | undefined, ns: string): Promise<Typed | null> {
    if (!ref?.name) return null;
    return o.contracts.get<Typed>(ref, ns);
  }

  async function adopt(ctx: ReconcileContext, c: Typed, m: Machine) {
    const before = cloneJson(c);
    const changed = ensureOwner(c, m, true);
    const labels = c.metadata.labels ?? {};
    const clusterName = m.spec?.clusterName ?? '';
    if (changed || labels[L.clusterName] !== clusterName) {
      c.metadata.labels = { ...labels, [L.clusterName]: clusterName };
      await patchObject(ctx.client, before, c, { fieldManager: FIELD_MANAGER });
    }
  }

  /** The Node with this providerID: from the cluster's Node watch when it is open, else listed. */
  async function workloadNode(w: KubeClient, ns: string, cluster: string, providerID: string): Promise<NodeObj | null> {
    const nodes = (o.workload.cachedNodes(ns, cluster) as NodeObj[] | null) ?? (await w.list<NodeObj>('v1', 'Node')).items;
    return nodes.find((n) => n.spec?.providerID === providerID) ?? null;
  }

  // which Machine a workload Node's providerID belongs to, learnt as Machines are reconciled: a
  // Node event reconciles its Machine (as Cluster API's ClusterCache watch does) instead of every
  // Running Machine polling its cluster's Nodes
  const byProvider = new Map<string, string>();
  const providerKey = (ns: string, cluster: string, pid: string) => `${ns}\0${cluster}\0${pid}`;

  async function syncNode(w: KubeClient, node: NodeObj, m: Machine) {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.metadata.labels ?? {})) if (SYNCED_LABEL.test(k)) labels[k] = v;
    const owner = (m.metadata.ownerReferences ?? []).find((r) => r.controller);
    const annotations: Record<string, string> = {
      'cluster.x-k8s.io/cluster-name': String(m.spec?.clusterName ?? ''),
      'cluster.x-k8s.io/cluster-namespace': m.metadata.namespace,
      'cluster.x-k8s.io/machine': m.metadata.name,
      ...(owner ? { 'cluster.x-k8s.io/owner-kind': owner.kind, 'cluster.x-k8s.io/owner-name': owner.name } : {}),
    };
    const haveL = node.metadata?.labels ?? {};
    const haveA = node.metadata?.annotations ?? {};
    const taints = node.spec?.taints ?? [];
    const needs =
      Object.entries(labels).some(([k, v]) => haveL[k] !== v) ||
      Object.entries(annotations).some(([k, v]) => haveA[k] !== v) ||
      taints.some((t) => t.key === UNINITIALIZED_TAINT);
    if (!needs) return;
    await w.patch({ apiVersion: 'v1', kind: 'Node', name: String(node.metadata?.name) }, 'merge', {
      metadata: { labels, annotations },
      ...(taints.some((t) => t.key === UNINITIALIZED_TAINT)
        ? { spec: { taints: taints.filter((t) => t.key !== UNINITIALIZED_TAINT) } }
        : {}),
    });
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Machine>(ctx.client, K.machine, req.namespace, req.name);
    if (!found) return undefined;
    const m = found;
    const original = cloneJson(m);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, m, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = m.metadata.namespace;
    const spec = m.spec ?? {};
    const clusterName = spec.clusterName ?? '';
    const cluster = clusterName ? await getOrNull<Cluster>(ctx.client, K.cluster, ns, clusterName) : null;
    if (!isDeleting(m)) {
      if (addFinalizer(m, MACHINE_FINALIZER) || m.metadata.labels?.[L.clusterName] !== clusterName) {
        m.metadata.labels = { ...(m.metadata.labels ?? {}), [L.clusterName]: clusterName };
        return save({ requeueAfterMs: 1 });
      }
    }
    if (cluster && isPaused(cluster, m)) {
      condition(m, 'Paused', true, 'Paused');
      return save();
    }
    condition(m, 'Paused', false, 'NotPaused');
    if (isDeleting(m)) {
      if (spec.providerID) byProvider.delete(providerKey(ns, clusterName, spec.providerID));
      return save(await reconcileDelete(m, cluster, ctx));
    }
    if (!cluster) {
      condition(m, 'Ready', false, 'WaitingForCluster', `Cluster ${clusterName} does not exist`);
      return save({ requeueAfterMs: 10_000 });
    }
    const status: MachineStatus = { ...(m.status ?? {}) };
    const init = { ...(status.initialization ?? {}) };

    // bootstrap
    const cfg = await child(spec.bootstrap?.configRef, ns);
    if (spec.bootstrap?.configRef?.name && !cfg) {
      condition(
        m,
        'BootstrapConfigReady',
        false,
        'BootstrapConfigDoesNotExist',
        `${spec.bootstrap.configRef.kind} ${spec.bootstrap.configRef.name} does not exist`,
      );
    } else if (cfg) {
      await adopt(ctx, cfg, m);
      const created = obj(obj(cfg.status).initialization).dataSecretCreated === true;
      const secret = obj(cfg.status).dataSecretName as string | undefined;
      if (created && secret && spec.bootstrap?.dataSecretName !== secret)
        m.spec = { ...spec, bootstrap: { ...spec.bootstrap, dataSecretName: secret } };
      const c = conditionOf(cfg, 'Ready');
      condition(m, 'BootstrapConfigReady', created, created ? 'Ready' : (c?.reason ?? 'NotReady'), created ? '' : (c?.message ?? ''));
    } else condition(m, 'BootstrapConfigReady', Boolean(spec.bootstrap?.dataSecretName), 'DataSecretProvided');
    init.bootstrapDataSecretCreated = Boolean(m.spec?.bootstrap?.dataSecretName);

    // infrastructure
    const infra = await child(spec.infrastructureRef, ns);
    if (!infra) {
      condition(
        m,
        'InfrastructureReady',
        false,
        'InfrastructureMachineDoesNotExist',
        `${spec.infrastructureRef?.kind} ${spec.infrastructureRef?.name} does not exist`,
      );
    } else {
      await adopt(ctx, infra, m);
      const provisioned = obj(obj(infra.status).initialization).provisioned === true;
      init.infrastructureProvisioned = provisioned || init.infrastructureProvisioned === true;
      const pid = obj(infra.spec).providerID as string | undefined;
      if (provisioned && pid && m.spec?.providerID !== pid) m.spec = { ...(m.spec ?? {}), providerID: pid };
      const addrs = obj(infra.status).addresses;
      if (Array.isArray(addrs)) status.addresses = addrs as MachineStatus['addresses'];
      const fd = obj(infra.spec).failureDomain ?? obj(infra.status).failureDomain;
      if (fd) status.failureDomain = String(fd);
      const c = conditionOf(infra, 'Ready');
      condition(
        m,
        'InfrastructureReady',
        provisioned,
        provisioned ? 'Ready' : (c?.reason ?? 'NotReady'),
        provisioned ? '' : (c?.message ?? ''),
      );
    }
    status.initialization = init;

    // the Node, by providerID
    let nodeReady: boolean | 'Unknown' = false;
    let requeue = 5_000;
    const pid = m.spec?.providerID;
    if (pid && obj(cluster.status?.initialization).controlPlaneInitialized === true) {
      try {
        const w = await o.workload.get(ns, clusterName);
        byProvider.set(providerKey(ns, clusterName, pid), m.metadata.name);
        const node = w ? await workloadNode(w, ns, clusterName, pid) : null;
        if (w && node) {
          status.nodeRef = { name: String(node.metadata?.name) };
          if (node.status?.nodeInfo) status.nodeInfo = node.status.nodeInfo;
          await syncNode(w, node, m);
          const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
          nodeReady = ready?.status === 'True' ? true : ready?.status === 'False' ? false : 'Unknown';
          condition(m, 'NodeReady', nodeReady, ready?.reason ?? 'NodeReady', ready?.message ?? '');
          condition(m, 'NodeHealthy', nodeReady === true, nodeReady === true ? 'NodeHealthy' : 'NodeNotHealthy');
          // with the Node watch open, a change of the Node reconciles this Machine: only the sync
          // period (controller-runtime's 10 minutes) remains as a safety net
          requeue = o.workload.settledRequeueMs(ns, clusterName, 15_000);
        } else if (status.nodeRef?.name) {
          condition(m, 'NodeReady', 'Unknown', 'NodeDeleted', `Node ${status.nodeRef.name} has been deleted`);
          condition(m, 'NodeHealthy', false, 'NodeDeleted', `Node ${status.nodeRef.name} has been deleted`);
        } else {
          condition(m, 'NodeReady', false, 'NodeDoesNotExist', `waiting for a Node with spec.providerID ${pid} to exist`);
          condition(m, 'NodeHealthy', false, 'NodeDoesNotExist');
        }
      } catch (e) {
        condition(m, 'NodeReady', 'Unknown', 'NodeInspectionFailed', `failed to reach the workload cluster: ${(e as Error).message}`);
      }
    } else {
      condition(
        m,
        'NodeReady',
        false,
        'WaitingForNode',
        pid ? 'waiting for the control plane to be initialized' : 'waiting for a providerID',
      );
      condition(m, 'NodeHealthy', false, 'WaitingForNode');
    }
    const ready = conditionTrue(m, 'BootstrapConfigReady') && conditionTrue(m, 'InfrastructureReady') && nodeReady === true;
    condition(m, 'Ready', ready, ready ? 'Ready' : 'NotReady');
    const wasAvailable = conditionTrue(m, 'Available');
    const readySince = conditionOf(m, 'Ready')?.lastTransitionTime;
    const minReady = (spec.minReadySeconds ?? 0) * 1000;
    const available = ready && (minReady === 0 || (readySince !== undefined && Date.now() - Date.parse(readySince) >= minReady));
    condition(m, 'Available', available, available ? 'Available' : 'NotAvailable');
    if (!conditionOf(m, 'UpToDate')) condition(m, 'UpToDate', true, 'UpToDate');
    if (ready && !available) requeue = Math.min(requeue, minReady);
    status.phase =
      status.nodeRef?.name && init.infrastructureProvisioned
        ? 'Running'
        : m.spec?.providerID
          ? 'Provisioned'
          : init.bootstrapDataSecretCreated
            ? 'Provisioning'
            : 'Pending';
    if (status.phase !== m.status?.phase || available !== wasAvailable) status.lastUpdated = nowIso();
    status.observedGeneration = m.metadata.generation;
    m.status = { ...status, conditions: m.status?.conditions };
    return save({ requeueAfterMs: requeue });
  }

  async function reconcileDelete(m: Machine, cluster: Cluster | null, ctx: ReconcileContext): Promise<Result | undefined> {
    const ns = m.metadata.namespace;
    condition(m, 'Deleting', true, 'Deleting');
    m.status = { ...(m.status ?? {}), phase: 'Deleting' };
    // cordon the node first so nothing new lands on a machine that is going away
    const nodeName = m.status?.nodeRef?.name;
    const w = cluster ? await o.workload.get(ns, cluster.metadata.name).catch(() => null) : null;
    if (w && nodeName) {
      await w.patch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, 'merge', { spec: { unschedulable: true } }).catch(() => undefined);
    }
    let waiting = false;
    for (const ref of [m.spec?.infrastructureRef, m.spec?.bootstrap?.configRef]) {
      const c = await child(ref, ns).catch((e: unknown) => {
        if (isNotFound(e)) return null;
        throw e;
      });
      if (!c) continue;
      waiting = true;
      if (!c.metadata.deletionTimestamp) {
        await ctx.client
          .delete({ apiVersion: String(c.apiVersion), kind: String(c.kind), namespace: ns, name: c.metadata.name })
          .catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          });
      }
    }
    if (waiting) {
      condition(
        m,
        'Deleting',
        true,
        'WaitingForInfrastructureDeletion',
        'waiting for the infrastructure machine and bootstrap config to be deleted',
      );
      return { requeueAfterMs: 2_000 };
    }
    if (w && nodeName) {
      try {
        await w.delete({ apiVersion: 'v1', kind: 'Node', name: nodeName });
      } catch (e) {
        // a gone Node, or a workload cluster that is gone with the last control plane machine
        if (!isNotFound(e)) ctx.log.info({ machine: m.metadata.name, err: (e as Error).message }, 'could not delete the node; going on');
      }
    }
    removeFinalizer(m, MACHINE_FINALIZER);
    return undefined;
  }

  const byControllerOwner =
    (kind: string) =>
    (x: KubeObject): Request[] => {
      const r = ownerOfKind(x, kind);
      return r ? [{ namespace: String(x.metadata?.namespace), name: r.name }] : [];
    };
  return {
    name: 'machine',
    for: K.machine,
    maxConcurrentReconciles: 8,
    watches: [
      { ...K.kubeadmConfig, map: byControllerOwner('Machine') },
      { ...K.metal3Machine, map: byControllerOwner('Machine') },
    ],
    sources: [
      (enqueue) =>
        o.workload.onNode((ns, cluster, node) => {
          const name = node.spec?.providerID ? byProvider.get(providerKey(ns, cluster, node.spec.providerID)) : undefined;
          if (name) enqueue({ namespace: ns, name });
        }),
    ],
    reconcile,
  };
}
