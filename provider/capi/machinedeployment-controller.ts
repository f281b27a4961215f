// The MachineDeployment reconciler (Cluster API core): one MachineSet per machine template
// (labelled with the template's hash), scaled as Kubernetes Deployments scale ReplicaSets. A
// RollingUpdate surges the new MachineSet by up to maxSurge (default 1) above the desired count and
// shrinks old ones while at least replicas − maxUnavailable (default 0) machines stay available;
// OnDelete only replaces machines the user deletes. Paused deployments are left alone.

import { cloneJson } from '../../lib/clone.js';
import { isNotFound } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { isDeleting } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import {
  A,
  condition,
  isPaused,
  K,
  L,
  labelSelectorString,
  listIn,
  ownerOfKind,
  ownerRef,
  randomSuffix,
  shortHash,
  type Typed,
} from './common.js';
import type { MachineSet, MachineTemplate } from './machineset-controller.js';
import { SYNC_PERIOD_MS } from './workload.js';

const FIELD_MANAGER = 'capi-controller-manager';
const OUTDATED = 'ferrite.dev/outdated';

interface MdSpec {
  clusterName?: string;
  replicas?: number;
  selector?: { matchLabels?: Record<string, string> };
  template?: MachineTemplate;
  rollout?: {
    after?: string;
    strategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  };
  deletion?: { order?: 'Random' | 'Newest' | 'Oldest' };
  machineNaming?: { template?: string };
  paused?: boolean;
}
type Md = Typed<MdSpec>;

/** intstr: an absolute number or a percentage of `total` (rounded up for surge, down for unavailable). */
export function resolveIntOrPercent(v: number | string | undefined, total: number, dflt: number, roundUp: boolean): number {
  if (v === undefined) return dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || dflt;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** The template hash: what distinguishes one MachineSet generation from the next. */
export function templateHash(md: Md): string {
  const t = cloneJson(md.spec?.template ?? {});
  // the replica-independent part of the template; rollout.after forces a new generation
  return shortHash({ template: t, after: md.spec?.rollout?.after ?? '' });
}

export function machineDeploymentController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Md>(ctx.client, K.machineDeployment, req.namespace, req.name);
    if (!found || isDeleting(found)) return undefined;
    const md = found;
    const original = cloneJson(md);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, md, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = md.metadata.namespace;
    const spec = md.spec ?? {};
    const clusterName = spec.clusterName ?? '';
    const cluster = await getOrNull<Cluster>(ctx.client, K.cluster, ns, clusterName);
    if (!cluster) return { requeueAfterMs: 10_000 };
    if (md.metadata.labels?.[L.clusterName] !== clusterName) {
      md.metadata.labels = { ...(md.metadata.labels ?? {}), [L.clusterName]: clusterName };
      return save({ requeueAfterMs: 1 });
    }
    if (isPaused(cluster, md) || spec.paused === true) {
      condition(md, 'Paused', true, 'Paused');
      return save();
    }
    condition(md, 'Paused', false, 'NotPaused');
    const hash = templateHash(md);
    const sets = (await listIn<MachineSet>(ctx.client, K.machineSet, ns, { [L.clusterName]: clusterName })).filter(
      (s) => ownerOfKind(s, 'MachineDeployment')?.name === md.metadata.name,
    );
    const current = sets.find((s) => s.metadata.labels?.[L.templateHash] === hash && !isDeleting(s));
    const old = sets.filter((s) => s !== current && !isDeleting(s));
    const desired = spec.replicas ?? 1;
    const strategy = spec.rollout?.strategy?.type ?? 'RollingUpdate';
    if (!current) {
      const labels = {
        ...(spec.template?.metadata?.labels ?? {}),
        [L.clusterName]: clusterName,
        [L.deploymentName]: md.metadata.name,
        [L.templateHash]: hash,
      };
      const revision = Math.max(0, ...sets.map((s) => Number(s.metadata.annotations?.[A.revision] ?? 0))) + 1;
      const name = `${md.metadata.name}-${randomSuffix()}`;
      const first = sets.length === 0;
      await ctx.client.create(
        {
          apiVersion: K.machineSet.apiVersion,
          kind: 'MachineSet',
          metadata: {
            name,
            namespace: ns,
            labels,
            annotations: { [A.revision]: String(revision) },
            ownerReferences: [{ ...ownerRef(md), controller: true, blockOwnerDeletion: true }],
          },
          spec: {
            clusterName,
            // the first generation starts at full size; a rollout starts empty and surges
            replicas: first ? desired : 0,
            selector: { matchLabels: { ...(spec.selector?.matchLabels ?? {}), [L.templateHash]: hash } },
            template: {
              metadata: { ...(spec.template?.metadata ?? {}), labels },
              spec: { ...cloneJson(spec.template?.spec ?? {}), clusterName },
            },
            ...(spec.deletion ? { deletion: spec.deletion } : {}),
            ...(spec.machineNaming ? { machineNaming: spec.machineNaming } : {}),
          },
        },
        FIELD_MANAGER,
      );
      ctx.recorder.event(md, 'Normal', 'SuccessfulCreate', `Created MachineSet ${name}`);
      return save({ requeueAfterMs: 1_000 });
    }
    // old generations are marked so their machines report UpToDate=False
    for (const s of old) {
      if (s.metadata.annotations?.[OUTDATED] === undefined) {
        const before = cloneJson(s);
        s.metadata.annotations = { ...(s.metadata.annotations ?? {}), [OUTDATED]: 'true' };
        await patchObject(ctx.client, before, s, { fieldManager: FIELD_MANAGER });
      }
    }
    const replicasOf = (s: MachineSet) => s.spec?.replicas ?? 0;
    const scale = async (s: MachineSet, n: number) => {
      if (replicasOf(s) === n) return;
      const before = cloneJson(s);
      s.spec = { ...(s.spec ?? {}), replicas: n };
      await patchObject(ctx.client, before, s, { fieldManager: FIELD_MANAGER });
    };
    const avail = (s: MachineSet) => Number((s.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0);
    // settled, it waits for its MachineSets' events and the sync period, as upstream's does (a
    // 10 s poll of every idle deployment was most of an idle cluster's API traffic)
    let requeue = SYNC_PERIOD_MS;
    if (old.length === 0) {
      await scale(current, desired);
    } else if (strategy === 'OnDelete') {
      // the user deletes old machines; each one deleted makes room in the new set
      const oldCount = old.reduce((n, s) => n + Number((s.status as { replicas?: number } | undefined)?.replicas ?? replicasOf(s)), 0);
      for (const s of old) {
        const have = Number((s.status as { replicas?: number } | undefined)?.replicas ?? 0);
        if (replicasOf(s) > have) await scale(s, have);
      }
      await scale(current, Math.max(0, desired - oldCount));
      requeue = 5_000;
    } else {
      const maxSurge = resolveIntOrPercent(spec.rollout?.strategy?.rollingUpdate?.maxSurge, desired, 1, true);
      const maxUnavailable = resolveIntOrPercent(spec.rollout?.strategy?.rollingUpdate?.maxUnavailable, desired, 0, false);
      const total = [current, ...old].reduce((n, s) => n + replicasOf(s), 0);
      // scale up the new set within the surge budget
      const room = desired + maxSurge - total;
      if (room > 0 && replicasOf(current) < desired) await scale(current, Math.min(desired, replicasOf(current) + room));
      // scale down old sets while enough machines stay available
      const available = [current, ...old].reduce((n, s) => n + avail(s), 0);
      let canRemove = available - (desired - maxUnavailable);
      for (const s of [...old].sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)))) {
        if (canRemove <= 0) break;
        const n = Math.min(replicasOf(s), canRemove);
        if (n > 0) {
          await scale(s, replicasOf(s) - n);
          canRemove -= n;
        }
      }
      requeue = 3_000;
    }
    // empty old generations are removed once their machines are gone
    for (const s of old) {
      const left = Number((s.status as { replicas?: number } | undefined)?.replicas ?? 0);
      if (replicasOf(s) === 0 && left === 0) {
        await ctx.client.delete({ ...K.machineSet, namespace: ns, name: s.metadata.name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
      }
    }
    const st = (s: MachineSet) =>
      (s.status ?? {}) as { replicas?: number; readyReplicas?: number; availableReplicas?: number; upToDateReplicas?: number };
    const replicas = [current, ...old].reduce((n, s) => n + Number(st(s).replicas ?? 0), 0);
    const ready = [current, ...old].reduce((n, s) => n + Number(st(s).readyReplicas ?? 0), 0);
    const availableNow = [current, ...old].reduce((n, s) => n + Number(st(s).availableReplicas ?? 0), 0);
    const upToDate = Number(st(current).upToDateReplicas ?? 0);
    md.status = {
      ...(md.status ?? {}),
      selector: labelSelectorString({ matchLabels: spec.selector?.matchLabels }),
      replicas,
      readyReplicas: ready,
      availableReplicas: availableNow,
      upToDateReplicas: upToDate,
      phase: replicas < desired ? 'ScalingUp' : replicas > desired ? 'ScalingDown' : 'Running',
      observedGeneration: md.metadata.generation,
    } as never;
    const ok = availableNow >= desired - resolveIntOrPercent(spec.rollout?.strategy?.rollingUpdate?.maxUnavailable, desired, 0, false);
    condition(md, 'Available', ok, ok ? 'Available' : 'NotAvailable', ok ? '' : `${availableNow} of ${desired} machines available`);
    condition(
      md,
      'RollingOut',
      old.length > 0,
      old.length ? 'RollingOut' : 'NotRollingOut',
      old.length ? `rolling out to MachineSet ${current.metadata.name}` : '',
    );
    condition(md, 'ScalingUp', replicas < desired, replicas < desired ? 'ScalingUp' : 'NotScalingUp');
    condition(md, 'ScalingDown', replicas > desired, replicas > desired ? 'ScalingDown' : 'NotScalingDown');
    if (!ok || old.length || replicas !== desired) requeue = Math.min(requeue, 3_000);
    return save({ requeueAfterMs: requeue });
  }

  return { name: 'machinedeployment', for: K.machineDeployment, maxConcurrentReconciles: 4, owns: [K.machineSet], reconcile };
}
