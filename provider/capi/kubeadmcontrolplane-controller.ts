// The KubeadmControlPlane reconciler (Cluster API's kubeadm control plane provider): makes the
// cluster's certificates and its `<cluster>-kubeconfig`, creates control plane Machines (each with a
// KubeadmConfig and an infrastructure machine cloned from the template) — the first runs kubeadm
// init, the rest join — scales up one machine at a time once the control plane is healthy, scales
// down and rolls out (maxSurge 0 or 1) by removing the oldest outdated machine and its etcd member,
// and remediates machines a MachineHealthCheck marked, keeping etcd quorum.
//
// The workload cluster is read as kubeadm leaves it: kube-system/kubeadm-config once `kubeadm init`
// ran, and per control plane node the static pods kube-apiserver-, kube-controller-manager-,
// kube-scheduler- and etcd-<node>; an etcd pod is the node's etcd member, so removing a member is
// deleting that pod's record.

import { cloneJson } from '../../lib/clone.js';
import type { KubeadmConfigSpec } from '../api/bootstrap.cluster.x-k8s.io/kubeadm.js';
import { clientCertKubeconfig, signCertificate } from '../apiserver/pki.js';
import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import {
  A,
  type ContractResolver,
  compareKubeVersions,
  condition,
  conditionOf,
  conditionTrue,
  isControlPlane,
  isPaused,
  K,
  L,
  listIn,
  obj,
  ownerOfKind,
  ownerRef,
  randomSuffix,
  shortHash,
  type Typed,
} from './common.js';
import { lookupOrGenerate } from './kubeadm/certificates.js';
import type { Machine } from './machine-controller.js';
import { cloneFromTemplate, deleteClones } from './machineset-controller.js';
import type { WorkloadClients } from './workload.js';

export const KCP_FINALIZER = 'kubeadm.controlplane.cluster.x-k8s.io';
const FIELD_MANAGER = 'capi-kubeadm-control-plane-manager';
export const CONFIG_HASH_ANNOTATION = 'controlplane.cluster.x-k8s.io/kubeadm-config-hash';
const COMPONENTS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'];

type Ref = { apiGroup?: string; kind?: string; name?: string };
interface KcpSpec {
  replicas?: number;
  version?: string;
  machineTemplate?: {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: { infrastructureRef?: Ref; readinessGates?: unknown[]; deletion?: Record<string, number>; taints?: unknown[] };
  };
  kubeadmConfigSpec?: KubeadmConfigSpec;
  rollout?: { after?: string; strategy?: { rollingUpdate?: { maxSurge?: number | string } } };
  remediation?: { maxRetry?: number; retryPeriodSeconds?: number };
}
type Kcp = Typed<KcpSpec>;
type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { phase?: string } };

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function kubeadmControlPlaneController(o: { contracts: ContractResolver; workload: WorkloadClients }): ControllerSpec {
  async function ensureKubeconfig(ctx: ReconcileContext, kcp: Kcp, cluster: Cluster, ca: { certPem: string; keyPem: string }) {
    const name = `${cluster.metadata.name}-kubeconfig`;
    if (await getOrNull(ctx.client, K.secret, kcp.metadata.namespace, name)) return;
    const ep = cluster.spec?.controlPlaneEndpoint ?? {};
    const host = String(ep.host);
    const server = `https://${host.includes(':') ? `[${host}]` : host}:${ep.port ?? 6443}`;
    const admin = await signCertificate({ ca, cn: 'kubernetes-admin', organizations: ['system:masters'], client: true });
    const text = clientCertKubeconfig({
      server,
      caPem: ca.certPem,
      certPem: admin.certPem,
      keyPem: admin.keyPem,
      cluster: cluster.metadata.name,
      user: `${cluster.metadata.name}-admin`,
    });
    try {
      await ctx.client.create(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          type: 'cluster.x-k8s.io/secret',
          metadata: {
            name,
            namespace: kcp.metadata.namespace,
            labels: { [L.clusterName]: cluster.metadata.name },
            ownerReferences: [{ ...ownerRef(kcp), controller: true }],
          },
          data: { value: b64(text) },
        },
        FIELD_MANAGER,
      );
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }

  function configHash(spec: KcpSpec): string {
    return shortHash({ kubeadmConfigSpec: spec.kubeadmConfigSpec ?? {}, version: spec.version });
  }

  function outdated(m: Machine, kcp: Kcp): string | null {
    const spec = kcp.spec ?? {};
    if (m.spec?.version !== spec.version) return `version ${m.spec?.version} ≠ ${spec.version}`;
    const want = spec.machineTemplate?.spec?.infrastructureRef?.name;
    const from = m.metadata.annotations?.[A.clonedFromName];
    if (want && from && from !== want) return `infrastructure template ${from} ≠ ${want}`;
    const h = m.metadata.annotations?.[CONFIG_HASH_ANNOTATION];
    if (h && h !== configHash(spec)) return 'KubeadmConfigSpec changed';
    const after = spec.rollout?.after ? Date.parse(spec.rollout.after) : Number.NaN;
    if (!Number.isNaN(after) && after <= Date.now() && Date.parse(String(m.metadata.creationTimestamp)) < after)
      return 'rollout.after passed';
    return null;
  }

  async function createMachine(ctx: ReconcileContext, kcp: Kcp, cluster: Cluster, init: boolean, failureDomain?: string): Promise<string> {
    const spec = kcp.spec ?? {};
    const ns = kcp.metadata.namespace;
    const name = `${kcp.metadata.name}-${randomSuffix()}`;
    const infraRef = spec.machineTemplate?.spec?.infrastructureRef ?? {};
    const labels = {
      ...(spec.machineTemplate?.metadata?.labels ?? {}),
      [L.clusterName]: cluster.metadata.name,
      [L.controlPlane]: '',
      [L.controlPlaneName]: kcp.metadata.name,
    };
    const infra = await cloneFromTemplate(ctx, o.contracts, infraRef, {
      name,
      namespace: ns,
      labels,
      owner: kcp,
      fieldManager: FIELD_MANAGER,
    });
    const cs = cloneJson(spec.kubeadmConfigSpec ?? {}) as KubeadmConfigSpec;
    if (init) delete cs.joinConfiguration;
    else {
      delete cs.initConfiguration;
      delete cs.clusterConfiguration;
      cs.joinConfiguration = { ...(cs.joinConfiguration ?? {}), controlPlane: cs.joinConfiguration?.controlPlane ?? {} };
    }
    const clones = [{ apiVersion: await o.contracts.apiVersion(infraRef), kind: infra.kind, name: infra.name }];
    try {
      await ctx.client.create(
        {
          apiVersion: K.kubeadmConfig.apiVersion,
          kind: 'KubeadmConfig',
          metadata: { name, namespace: ns, labels, ownerReferences: [ownerRef(kcp)] },
          spec: cs,
        },
        FIELD_MANAGER,
      );
      clones.push({ apiVersion: K.kubeadmConfig.apiVersion, kind: 'KubeadmConfig', name });
      await ctx.client.create(
        {
          apiVersion: K.machine.apiVersion,
          kind: 'Machine',
          metadata: {
            name,
            namespace: ns,
            labels,
            annotations: {
              ...(spec.machineTemplate?.metadata?.annotations ?? {}),
              [A.clonedFromName]: String(infraRef.name),
              [CONFIG_HASH_ANNOTATION]: configHash(spec),
            },
            ownerReferences: [{ ...ownerRef(kcp), controller: true, blockOwnerDeletion: true }],
          },
          spec: {
            clusterName: cluster.metadata.name,
            version: spec.version,
            bootstrap: { configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'KubeadmConfig', name } },
            infrastructureRef: infra,
            ...(failureDomain ? { failureDomain } : {}),
            ...(spec.machineTemplate?.spec?.deletion ? { deletion: spec.machineTemplate.spec.deletion } : {}),
            ...(spec.machineTemplate?.spec?.readinessGates ? { readinessGates: spec.machineTemplate.spec.readinessGates } : {}),
          },
        },
        FIELD_MANAGER,
      );
    } catch (e) {
      await deleteClones(ctx, ns, clones);
      throw e;
    }
    ctx.recorder.event(kcp, 'Normal', 'SuccessfulCreate', `Created Machine ${name}${init ? ' (kubeadm init)' : ' (kubeadm join)'}`);
    return name;
  }

  /** Removes the node's etcd member (its etcd pod record), then the Machine. */
  async function removeMachine(ctx: ReconcileContext, kcp: Kcp, m: Machine, w: KubeClient | null, why: string) {
    const node = m.status?.nodeRef?.name;
    if (w && node) {
      await w.delete({ ...K.pod, namespace: 'kube-system', name: `etcd-${node}` }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
    }
    await ctx.client.delete({ ...K.machine, namespace: m.metadata.namespace, name: m.metadata.name }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    ctx.recorder.event(kcp, 'Normal', 'SuccessfulDelete', `Deleted Machine ${m.metadata.name}: ${why}`);
  }

  function pickFailureDomain(cluster: Cluster, machines: Machine[]): string | undefined {
    const fds = (obj(cluster.status).failureDomains as Array<{ name: string; controlPlane?: boolean }> | undefined) ?? [];
    const cp = fds.filter((f) => f.controlPlane !== false).map((f) => f.name);
    if (!cp.length) return undefined;
    const count = (n: string) => machines.filter((m) => m.spec?.failureDomain === n).length;
    return [...cp].sort((a, b) => count(a) - count(b) || a.localeCompare(b))[0];
  }

  // the control plane of each cluster, learnt as it is reconciled: a workload Node's change
  // reconciles it (upstream names this watch as the alternative to polling; here it exists anyway)
  const ofCluster = new Map<string, string>();

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Kcp>(ctx.client, K.kubeadmControlPlane, req.namespace, req.name);
    if (!found) return undefined;
    const kcp = found;
    const original = cloneJson(kcp);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, kcp, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = kcp.metadata.namespace;
    const owner = ownerOfKind(kcp, 'Cluster');
    if (!owner) return undefined;
    const cluster = await getOrNull<Cluster>(ctx.client, K.cluster, ns, owner.name);
    if (!cluster) return { requeueAfterMs: 5_000 };
    if (isDeleting(kcp)) ofCluster.delete(`${ns}/${owner.name}`);
    else ofCluster.set(`${ns}/${owner.name}`, kcp.metadata.name);
    if (isPaused(cluster, kcp)) {
      condition(kcp, 'Paused', true, 'Paused');
      return save();
    }
    condition(kcp, 'Paused', false, 'NotPaused');
    const machines = (await listIn<Machine>(ctx.client, K.machine, ns, { [L.clusterName]: cluster.metadata.name }))
      .filter(isControlPlane)
      .filter(
        (m) =>
          ownerOfKind(m, 'KubeadmControlPlane')?.name === kcp.metadata.name ||
          m.metadata.labels?.[L.controlPlaneName] === kcp.metadata.name,
      );
    const w = await o.workload.get(ns, cluster.metadata.name).catch(() => null);
    if (isDeleting(kcp)) return save(await reconcileDelete(ctx, kcp, cluster, machines, w));
    if (addFinalizer(kcp, KCP_FINALIZER) || kcp.metadata.labels?.[L.clusterName] !== cluster.metadata.name) {
      kcp.metadata.labels = { ...(kcp.metadata.labels ?? {}), [L.clusterName]: cluster.metadata.name };
      return save({ requeueAfterMs: 1 });
    }
    const cinit = obj(cluster.status?.initialization);
    if (cinit.infrastructureProvisioned !== true || !cluster.spec?.controlPlaneEndpoint?.host) {
      condition(kcp, 'Available', false, 'WaitingForClusterInfrastructure');
      return save({ requeueAfterMs: 5_000 });
    }
    const certs = await lookupOrGenerate(ctx.client, ns, cluster.metadata.name, kcp);
    condition(kcp, 'CertificatesAvailable', true, 'Available');
    await ensureKubeconfig(ctx, kcp, cluster, certs.ca);

    // what the workload cluster says: initialized, and which components run on which node
    let initialized = obj(kcp.status).initialization !== undefined && obj(obj(kcp.status).initialization).controlPlaneInitialized === true;
    const pods = new Map<string, Pod>();
    let reachable = false;
    if (w) {
      try {
        if (!initialized) initialized = (await getOrNull(w, K.configMap, 'kube-system', 'kubeadm-config')) !== null;
        for (const p of (await w.list<Pod>('v1', 'Pod', 'kube-system')).items) pods.set(String(p.metadata?.name), p);
        reachable = true;
      } catch (e) {
        ctx.log.info({ kcp: req.name, err: (e as Error).message }, 'workload cluster not reachable');
      }
    }
    const running = (n: string) => pods.get(n)?.status?.phase === 'Running';
    const healthy = (m: Machine) => {
      const node = m.status?.nodeRef?.name;
      return Boolean(node) && COMPONENTS.every((c) => running(`${c}-${node}`));
    };
    const live = machines.filter((m) => !isDeleting(m));
    const nodesWithMachines = new Set(live.map((m) => m.status?.nodeRef?.name).filter(Boolean));
    const strayMembers = [...pods.keys()].filter((n) => n.startsWith('etcd-') && !nodesWithMachines.has(n.slice(5)));
    const etcdOk =
      reachable &&
      live.filter((m) => m.status?.nodeRef?.name).every((m) => running(`etcd-${m.status?.nodeRef?.name}`)) &&
      strayMembers.length === 0;
    const componentsOk = reachable && live.length > 0 && live.filter((m) => m.status?.nodeRef?.name).every(healthy);
    condition(
      kcp,
      'EtcdClusterHealthy',
      etcdOk,
      etcdOk ? 'Healthy' : reachable ? 'NotHealthy' : 'ConnectionDown',
      strayMembers.length ? `etcd members without a machine: ${strayMembers.join(', ')}` : '',
    );
    condition(kcp, 'ControlPlaneComponentsHealthy', componentsOk, componentsOk ? 'Healthy' : reachable ? 'NotHealthy' : 'ConnectionDown');
    // members of machines that are gone are removed, as upstream's reconcileEtcdMembers does
    if (w && initialized && etcdOk === false && strayMembers.length && live.every((m) => m.status?.nodeRef?.name)) {
      for (const n of strayMembers) await w.delete({ ...K.pod, namespace: 'kube-system', name: n }).catch(() => undefined);
    }

    // per-machine UpToDate, and the counters `kubectl get kcp` shows
    const stale = new Map<string, string>();
    for (const m of live) {
      const why = outdated(m, kcp);
      if (why) stale.set(m.metadata.name, why);
      const want = !why;
      if (conditionOf(m, 'UpToDate')?.status !== (want ? 'True' : 'False')) {
        const before = cloneJson(m);
        condition(m, 'UpToDate', want, want ? 'UpToDate' : 'NotUpToDate', why ?? '');
        await patchObject(ctx.client, before, m, { fieldManager: FIELD_MANAGER }).catch(() => undefined);
      }
    }
    const desired = kcp.spec?.replicas ?? 1;
    // the lowest version any machine (a leaving one included) runs, as upstream reports it
    const versions = [...new Set(machines.map((m) => m.spec?.version).filter(Boolean))] as string[];
    kcp.status = {
      ...(kcp.status ?? {}),
      selector: `${L.clusterName}=${cluster.metadata.name},${L.controlPlane}`,
      replicas: machines.length,
      readyReplicas: live.filter((m) => conditionTrue(m, 'Ready')).length,
      availableReplicas: live.filter((m) => conditionTrue(m, 'Available')).length,
      upToDateReplicas: live.filter((m) => !stale.has(m.metadata.name)).length,
      ...(versions.length ? { version: versions.sort((a, b) => compareKubeVersions(a, b) || a.localeCompare(b))[0] } : {}),
      initialization: { controlPlaneInitialized: initialized },
      observedGeneration: kcp.metadata.generation,
    } as never;
    condition(kcp, 'Initialized', initialized, initialized ? 'Initialized' : 'NotInitialized');
    const available = initialized && etcdOk && live.some(healthy);
    condition(kcp, 'Available', available, available ? 'Available' : 'NotAvailable');
    const allReady = live.length > 0 && live.every((m) => conditionTrue(m, 'Ready'));
    condition(kcp, 'MachinesReady', allReady, allReady ? 'Ready' : 'NotReady');
    condition(
      kcp,
      'RollingOut',
      stale.size > 0,
      stale.size ? 'RollingOut' : 'NotRollingOut',
      [...stale].map(([n, w2]) => `${n}: ${w2}`).join('; '),
    );

    // what to do next: one step per reconcile
    if (machines.length === 0) {
      await createMachine(ctx, kcp, cluster, true, pickFailureDomain(cluster, machines));
      condition(kcp, 'ScalingUp', true, 'ScalingUp', `creating the first control plane machine`);
      return save({ requeueAfterMs: 2_000 });
    }
    if (!initialized) {
      condition(kcp, 'ScalingUp', desired > machines.length, 'WaitingForInitialization', 'waiting for kubeadm init on the first machine');
      return save({ requeueAfterMs: 3_000 });
    }
    if (machines.some(isDeleting)) return save({ requeueAfterMs: 2_000 });
    const unhealthy = live.find((m) => conditionOf(m, 'OwnerRemediated')?.status === 'False');
    if (unhealthy) {
      const healthyOthers = live.filter((m) => m !== unhealthy && healthy(m)).length;
      // quorum: the healthy members left must be a majority of the smaller cluster; a lone
      // control plane machine is never remediated once initialized (there would be nothing left)
      if (live.length > 1 && healthyOthers >= Math.floor((live.length - 1) / 2) + 1) {
        await removeMachine(ctx, kcp, unhealthy, w, 'remediating an unhealthy machine');
        const last = obj(obj(kcp.status).lastRemediation);
        (kcp.status as Record<string, unknown>).lastRemediation = {
          machine: unhealthy.metadata.name,
          time: nowIso(),
          retryCount: last.machine === unhealthy.metadata.name ? Number(last.retryCount ?? 0) + 1 : 0,
        };
        condition(kcp, 'Remediating', true, 'RemediationInProgress', `deleted ${unhealthy.metadata.name}`);
        return save({ requeueAfterMs: 2_000 });
      }
      condition(kcp, 'Remediating', false, 'RemediationDeferred', 'remediating would lose etcd quorum');
    } else condition(kcp, 'Remediating', false, 'NotRemediating');
    const maxSurge = Number(kcp.spec?.rollout?.strategy?.rollingUpdate?.maxSurge ?? 1);
    // upstream's preflight checks: every machine has its Node and healthy components before the
    // control plane grows or shrinks (a rollout never removes the old machine while the new one provisions)
    const stableOk = componentsOk && etcdOk && live.every((m) => m.status?.nodeRef?.name);
    if (stale.size > 0) {
      if (live.length < desired + maxSurge) {
        if (!stableOk) return save({ requeueAfterMs: 3_000 });
        await createMachine(ctx, kcp, cluster, false, pickFailureDomain(cluster, live));
        condition(kcp, 'ScalingUp', true, 'RollingOut', 'creating an up-to-date machine');
        return save({ requeueAfterMs: 2_000 });
      }
      const oldest = live
        .filter((m) => stale.has(m.metadata.name))
        .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))[0];
      if (!stableOk) return save({ requeueAfterMs: 3_000 });
      await removeMachine(ctx, kcp, oldest, w, `rolling out: ${stale.get(oldest.metadata.name)}`);
      condition(kcp, 'ScalingDown', true, 'RollingOut', `deleting ${oldest.metadata.name}`);
      return save({ requeueAfterMs: 2_000 });
    }
    if (live.length < desired) {
      condition(kcp, 'ScalingUp', true, 'ScalingUp', `scaling up to ${desired} replicas (actual ${live.length})`);
      condition(kcp, 'ScalingDown', false, 'NotScalingDown');
      if (!stableOk) return save({ requeueAfterMs: 3_000 });
      await createMachine(ctx, kcp, cluster, false, pickFailureDomain(cluster, live));
      return save({ requeueAfterMs: 2_000 });
    }
    if (live.length > desired) {
      condition(kcp, 'ScalingDown', true, 'ScalingDown', `scaling down to ${desired} replicas (actual ${live.length})`);
      condition(kcp, 'ScalingUp', false, 'NotScalingUp');
      if (!stableOk) return save({ requeueAfterMs: 3_000 });
      const oldest = [...live].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))[0];
      await removeMachine(ctx, kcp, oldest, w, 'scaling down');
      return save({ requeueAfterMs: 2_000 });
    }
    condition(kcp, 'ScalingUp', false, 'NotScalingUp');
    condition(kcp, 'ScalingDown', false, 'NotScalingDown');
    // healthy, upstream leaves a control plane to events and the 10-minute sync period; so do we
    // once the cluster's Node watch is open (Node changes reconcile it), else every 30 s
    const settled = o.workload.settledRequeueMs(ns, cluster.metadata.name, 30_000);
    return save({ requeueAfterMs: available && allReady ? settled : 5_000 });
  }

  async function reconcileDelete(
    ctx: ReconcileContext,
    kcp: Kcp,
    cluster: Cluster,
    machines: Machine[],
    w: KubeClient | null,
  ): Promise<Result | undefined> {
    // the workers go first: the control plane outlives every node that needs it
    const workers = (
      await listIn<Machine>(ctx.client, K.machine, kcp.metadata.namespace, { [L.clusterName]: cluster.metadata.name })
    ).filter((m) => !isControlPlane(m));
    if (workers.length) {
      condition(kcp, 'Deleting', true, 'WaitingForWorkersDeletion', `${workers.length} worker machines still exist`);
      return { requeueAfterMs: 3_000 };
    }
    for (const m of machines) if (!isDeleting(m)) await removeMachine(ctx, kcp, m, w, 'deleting the control plane');
    if (machines.length) {
      condition(kcp, 'Deleting', true, 'WaitingForMachineDeletion', `${machines.length} control plane machines still exist`);
      return { requeueAfterMs: 3_000 };
    }
    removeFinalizer(kcp, KCP_FINALIZER);
    return undefined;
  }

  return {
    name: 'kubeadmcontrolplane',
    for: K.kubeadmControlPlane,
    maxConcurrentReconciles: 4,
    owns: [K.machine],
    sources: [
      (enqueue) =>
        o.workload.onNode((ns, cluster) => {
          const name = ofCluster.get(`${ns}/${cluster}`);
          if (name) enqueue({ namespace: ns, name });
        }),
    ],
    reconcile,
  };
}
