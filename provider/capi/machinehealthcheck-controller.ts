// The MachineHealthCheck reconciler (Cluster API core): watches the Machines its selector picks
// (those a MachineSet or control plane owns), marks one unhealthy when its Node is gone, never came
// up within nodeStartupTimeoutSeconds, or holds an unhealthy condition longer than its timeout;
// then, when triggerIf allows, asks for remediation — an external remediation object cloned from
// remediation.templateRef (e.g. a Metal3Remediation named like the Machine), or the owner's own
// (OwnerRemediated=False: the MachineSet or control plane replaces the Machine).

import { cloneJson } from '../../lib/clone.js';
import { isAlreadyExists, isNotFound, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import { condition, conditionOf, ensureOwner, isPaused, K, L, listIn, matchesSelector, obj, ownerRef, type Typed } from './common.js';
import type { Machine } from './machine-controller.js';
import { resolveIntOrPercent } from './machinedeployment-controller.js';
import type { WorkloadClients } from './workload.js';

const FIELD_MANAGER = 'capi-controller-manager';
const DEFAULT_NODE_STARTUP_S = 600;

interface MhcSpec {
  clusterName?: string;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  checks?: {
    nodeStartupTimeoutSeconds?: number;
    unhealthyNodeConditions?: Array<{ type: string; status: string; timeoutSeconds?: number }>;
    unhealthyMachineConditions?: Array<{ type: string; status: string; timeoutSeconds?: number }>;
  };
  remediation?: {
    triggerIf?: { unhealthyLessThanOrEqualTo?: number | string; unhealthyInRange?: string };
    templateRef?: { apiVersion?: string; kind?: string; name?: string };
  };
}
type Mhc = Typed<MhcSpec>;
type NodeObj = KubeObject & { status?: { conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> } };

/** Why a Machine is unhealthy (null when healthy), and when to look again (ms) if it may become so. */
export function assess(
  m: Machine,
  node: NodeObj | null | undefined,
  checks: MhcSpec['checks'],
  now: number,
): { why: string | null; recheckMs?: number } {
  const nodeName = m.status?.nodeRef?.name;
  if (nodeName && node === null) return { why: `NodeNotFound: Node ${nodeName} has been deleted` };
  if (!nodeName) {
    const timeout = (checks?.nodeStartupTimeoutSeconds ?? DEFAULT_NODE_STARTUP_S) * 1000;
    if (timeout === 0) return { why: null };
    const infra = conditionOf(m, 'InfrastructureReady');
    const since = infra?.status === 'True' ? Date.parse(infra.lastTransitionTime) : Date.parse(String(m.metadata.creationTimestamp));
    const left = since + timeout - now;
    return left <= 0 ? { why: `NodeStartupTimeout: no Node after ${timeout / 1000}s` } : { why: null, recheckMs: left };
  }
  let recheck: number | undefined;
  for (const c of checks?.unhealthyNodeConditions ?? []) {
    const nc = node?.status?.conditions?.find((x) => x.type === c.type);
    if (!nc || nc.status !== c.status) continue;
    const left = Date.parse(String(nc.lastTransitionTime)) + (c.timeoutSeconds ?? 0) * 1000 - now;
    if (left <= 0) return { why: `UnhealthyNode: Node ${nodeName} has ${c.type}=${c.status} for more than ${c.timeoutSeconds ?? 0}s` };
    recheck = Math.min(recheck ?? left, left);
  }
  for (const c of checks?.unhealthyMachineConditions ?? []) {
    const mc = conditionOf(m, c.type);
    if (!mc || mc.status !== c.status) continue;
    const left = Date.parse(mc.lastTransitionTime) + (c.timeoutSeconds ?? 0) * 1000 - now;
    if (left <= 0) return { why: `UnhealthyMachine: Machine has ${c.type}=${c.status} for more than ${c.timeoutSeconds ?? 0}s` };
    recheck = Math.min(recheck ?? left, left);
  }
  return { why: null, recheckMs: recheck };
}

/** triggerIf: remediate only while the unhealthy count is within bounds. */
export function remediationAllowed(unhealthy: number, total: number, t: NonNullable<MhcSpec['remediation']>['triggerIf']): boolean {
  if (t?.unhealthyInRange) {
    const r = /^\[(\d+)-(\d+)\]$/.exec(t.unhealthyInRange.trim());
    if (!r) return false;
    return unhealthy >= Number(r[1]) && unhealthy <= Number(r[2]);
  }
  if (t?.unhealthyLessThanOrEqualTo !== undefined)
    return unhealthy <= resolveIntOrPercent(t.unhealthyLessThanOrEqualTo, total, total, false);
  return true;
}

export function machineHealthCheckController(o: { workload: WorkloadClients }): ControllerSpec {
  // the MachineHealthChecks of each cluster, learnt as they are reconciled: a Machine or workload
  // Node of the cluster changing re-judges them (upstream watches both) instead of a 30 s poll
  const byCluster = new Map<string, Set<string>>();
  const mhcsOf = (ns: string, cluster: string): Request[] =>
    [...(byCluster.get(`${ns}/${cluster}`) ?? [])].map((name) => ({ namespace: ns, name }));

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Mhc>(ctx.client, K.machineHealthCheck, req.namespace, req.name);
    if (!found || found.metadata.deletionTimestamp) {
      for (const [k, set] of byCluster) if (k.startsWith(`${req.namespace}/`)) set.delete(req.name);
      return undefined;
    }
    const mhc = found;
    const original = cloneJson(mhc);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, mhc, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = mhc.metadata.namespace;
    const spec = mhc.spec ?? {};
    const learnt = byCluster.get(`${ns}/${spec.clusterName}`) ?? new Set<string>();
    byCluster.set(`${ns}/${spec.clusterName}`, learnt.add(mhc.metadata.name));
    const cluster = await getOrNull<Cluster>(ctx.client, K.cluster, ns, String(spec.clusterName));
    if (!cluster) return { requeueAfterMs: 10_000 };
    mhc.metadata.labels = { ...(mhc.metadata.labels ?? {}), [L.clusterName]: cluster.metadata.name };
    ensureOwner(mhc, cluster);
    if (isPaused(cluster, mhc)) {
      condition(mhc, 'Paused', true, 'Paused');
      return save();
    }
    condition(mhc, 'Paused', false, 'NotPaused');
    const machines = (await listIn<Machine>(ctx.client, K.machine, ns, { [L.clusterName]: cluster.metadata.name })).filter(
      (m) =>
        !m.metadata.deletionTimestamp &&
        matchesSelector(m.metadata.labels, spec.selector) &&
        (m.metadata.ownerReferences ?? []).some((r) => r.controller),
    );
    let nodes: Map<string, NodeObj> | null = null;
    if (obj(cluster.status?.initialization).controlPlaneInitialized === true) {
      const w = await o.workload.get(ns, cluster.metadata.name).catch(() => null);
      if (w) {
        try {
          const items =
            (o.workload.cachedNodes(ns, cluster.metadata.name) as NodeObj[] | null) ?? (await w.list<NodeObj>('v1', 'Node')).items;
          nodes = new Map(items.map((n) => [String(n.metadata?.name), n]));
        } catch (e) {
          ctx.log.info({ mhc: req.name, err: (e as Error).message }, 'workload cluster not reachable; health not judged this round');
          return save({ requeueAfterMs: 5_000 });
        }
      }
    }
    const now = Date.now();
    // with the cluster's Node watch open only timeouts need a timer (and the 10-minute sync period)
    let recheck = o.workload.settledRequeueMs(ns, cluster.metadata.name, 30_000);
    const unhealthy: Array<{ m: Machine; why: string }> = [];
    for (const m of machines) {
      const nodeName = m.status?.nodeRef?.name;
      const node = nodeName ? (nodes ? (nodes.get(nodeName) ?? null) : undefined) : undefined;
      const a = assess(m, node, spec.checks, now);
      if (a.recheckMs !== undefined) recheck = Math.min(recheck, Math.max(1_000, a.recheckMs));
      if (a.why) unhealthy.push({ m, why: a.why });
    }
    const allowed = remediationAllowed(unhealthy.length, machines.length, spec.remediation?.triggerIf);
    const tmpl = spec.remediation?.templateRef;
    for (const m of machines) {
      const bad = unhealthy.find((u) => u.m === m);
      const before = cloneJson(m);
      condition(m, 'HealthCheckSucceeded', !bad, bad ? bad.why.split(':')[0] : 'HealthCheckSucceeded', bad?.why ?? '');
      if (bad && allowed && !tmpl) condition(m, 'OwnerRemediated', false, 'WaitingForRemediation', bad.why);
      await patchObject(ctx.client, before, m, { fieldManager: FIELD_MANAGER }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      if (!tmpl?.name) continue;
      const kind = String(tmpl.kind).replace(/Template$/, '');
      const apiVersion = String(tmpl.apiVersion);
      if (bad && allowed) {
        const t = await getOrNull<Typed>(ctx.client, { apiVersion, kind: String(tmpl.kind) }, ns, tmpl.name);
        if (!t) {
          condition(mhc, 'RemediationAllowed', false, 'RemediationTemplateNotFound', `${tmpl.kind} ${tmpl.name} does not exist`);
          continue;
        }
        try {
          await ctx.client.create(
            {
              apiVersion,
              kind,
              metadata: {
                name: m.metadata.name,
                namespace: ns,
                labels: { [L.clusterName]: cluster.metadata.name },
                ownerReferences: [{ ...ownerRef(m), controller: true }],
              },
              spec: cloneJson(obj(obj(obj(t.spec).template).spec)),
            },
            FIELD_MANAGER,
          );
          ctx.recorder.event(mhc, 'Normal', 'RemediationRequestCreated', `Created ${kind} ${m.metadata.name}: ${bad.why}`);
        } catch (e) {
          if (!isAlreadyExists(e)) throw e;
        }
      } else if (!bad) {
        // healthy again: the remediation request has done its work
        await ctx.client.delete({ apiVersion, kind, namespace: ns, name: m.metadata.name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    mhc.status = {
      ...(mhc.status ?? {}),
      expectedMachines: machines.length,
      currentHealthy: machines.length - unhealthy.length,
      remediationsAllowed: allowed ? Math.max(0, machines.length - unhealthy.length) : 0,
      targets: machines.map((m) => m.metadata.name).sort(),
      observedGeneration: mhc.metadata.generation,
    } as never;
    condition(
      mhc,
      'RemediationAllowed',
      allowed,
      allowed ? 'RemediationAllowed' : 'TooManyUnhealthy',
      allowed ? '' : `${unhealthy.length} of ${machines.length} machines are unhealthy`,
    );
    return save({ requeueAfterMs: recheck });
  }

  return {
    name: 'machinehealthcheck',
    for: K.machineHealthCheck,
    maxConcurrentReconciles: 2,
    watches: [
      {
        ...K.machine,
        map: (m) => mhcsOf(String(m.metadata?.namespace), String((m as { spec?: { clusterName?: string } }).spec?.clusterName ?? '')),
      },
    ],
    sources: [(enqueue) => o.workload.onNode((ns, cluster) => mhcsOf(ns, cluster).forEach(enqueue))],
    reconcile,
  };
}
