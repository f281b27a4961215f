// The MachineSet reconciler (Cluster API core): keeps `replicas` Machines matching its selector,
// each with a bootstrap config and an infrastructure machine cloned from the template's templates
// (annotated cloned-from-name/-groupkind); deletes surplus machines in upstream's order (those
// annotated delete-machine, then unhealthy, then by deletion.order Random|Newest|Oldest), replaces
// machines a MachineHealthCheck handed to their owner, and reports replica counters.

import { cloneJson } from '../../lib/clone.js';
import { isNotFound, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { isDeleting } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import {
  A,
  type ContractResolver,
  condition,
  conditionOf,
  conditionTrue,
  isPaused,
  K,
  L,
  labelSelectorString,
  listIn,
  matchesSelector,
  obj,
  ownerOfKind,
  ownerRef,
  randomSuffix,
  type Typed,
} from './common.js';
import type { Machine, MachineSpec } from './machine-controller.js';
import { SYNC_PERIOD_MS } from './workload.js';

const FIELD_MANAGER = 'capi-controller-manager';

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
export interface MachineTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: MachineSpec;
}
export interface MachineSetSpec {
  clusterName?: string;
  replicas?: number;
  selector?: Selector;
  template?: MachineTemplate;
  machineNaming?: { template?: string };
  deletion?: { order?: 'Random' | 'Newest' | 'Oldest' };
}
export type MachineSet = Typed<MachineSetSpec>;

/** Clones a template kind's `spec.template` into a new object named `name`. */
export async function cloneFromTemplate(
  ctx: ReconcileContext,
  contracts: ContractResolver,
  ref: { apiGroup?: string; kind?: string; name?: string },
  o: { name: string; namespace: string; labels: Record<string, string>; owner: KubeObject; fieldManager: string },
): Promise<{ apiGroup: string; kind: string; name: string }> {
  const apiVersion = await contracts.apiVersion(ref);
  const tmpl = await getOrNull<Typed>(ctx.client, { apiVersion, kind: String(ref.kind) }, o.namespace, String(ref.name));
  if (!tmpl) throw new Error(`${ref.kind} ${ref.name} does not exist`);
  const t = obj(obj(tmpl.spec).template) as {
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    spec?: unknown;
  };
  const kind = String(ref.kind).replace(/Template$/, '');
  try {
    await ctx.client.create(
      {
        apiVersion,
        kind,
        metadata: {
          name: o.name,
          namespace: o.namespace,
          labels: { ...(t.metadata?.labels ?? {}), ...o.labels },
          annotations: {
            ...(t.metadata?.annotations ?? {}),
            [A.clonedFromName]: String(ref.name),
            [A.clonedFromGroupKind]: `${ref.kind}.${ref.apiGroup}`,
          },
          ownerReferences: [ownerRef(o.owner)],
        },
        spec: cloneJson(t.spec ?? {}),
      },
      o.fieldManager,
    );
  } catch (e) {
    if ((e as { reason?: string }).reason !== 'AlreadyExists') throw e;
  }
  return { apiGroup: String(ref.apiGroup), kind, name: o.name };
}

/**
 * Deletes what was cloned for a Machine that could not be created, as upstream's MachineSet and
 * KubeadmControlPlane controllers do; one that cannot be deleted now is logged (a MachineSet sweeps
 * its orphans on its next reconcile).
 */
export async function deleteClones(
  ctx: ReconcileContext,
  namespace: string,
  clones: Array<{ apiVersion: string; kind: string; name: string }>,
): Promise<void> {
  for (const c of clones)
    await ctx.client.delete({ ...c, namespace }).catch((err: unknown) => {
      if (!isNotFound(err))
        ctx.log.warn({ kind: c.kind, name: c.name, err: String(err) }, 'could not delete a clone of a Machine not created');
    });
}

const created = (m: KubeObject) => Date.parse(String(m.metadata?.creationTimestamp ?? 0));

/** Which machines go first when scaling down, as upstream's deletion priorities order them. */
export function deletionOrder(machines: Machine[], order: 'Random' | 'Newest' | 'Oldest' = 'Random'): Machine[] {
  const prio = (m: Machine) => {
    if (A.deleteMachine in (m.metadata.annotations ?? {})) return 0;
    if (conditionOf(m, 'OwnerRemediated')?.status === 'False' || !conditionTrue(m, 'Ready')) return 1;
    return 2;
  };
  const tie = (a: Machine, b: Machine) => {
    if (order === 'Newest') return created(b) - created(a);
    if (order === 'Oldest') return created(a) - created(b);
    // Random, made stable per machine so successive reconciles agree on the victim
    return a.metadata.uid?.localeCompare(String(b.metadata.uid)) ?? 0;
  };
  return [...machines].sort((a, b) => prio(a) - prio(b) || tie(a, b));
}

export function machineSetController(o: { contracts: ContractResolver }): ControllerSpec {
  async function createMachine(ctx: ReconcileContext, ms: MachineSet, cluster: Cluster): Promise<void> {
    const spec = ms.spec ?? {};
    const t = spec.template ?? {};
    const ns = ms.metadata.namespace;
    const name = `${ms.metadata.name}-${randomSuffix()}`;
    const labels = {
      ...(t.metadata?.labels ?? {}),
      ...(spec.selector?.matchLabels ?? {}),
      [L.clusterName]: cluster.metadata.name,
      [L.setName]: ms.metadata.name,
    };
    const base = { namespace: ns, labels, owner: ms, fieldManager: FIELD_MANAGER };
    const ms0 = t.spec ?? {};
    // what was cloned for this Machine, deleted again if the Machine cannot be made (as upstream
    // does): otherwise each failed try leaves an infrastructure machine and a bootstrap config behind
    const clones: Array<{ apiVersion: string; kind: string; name: string }> = [];
    const clone = async (ref: { apiGroup?: string; kind?: string; name?: string }) => {
      const made = await cloneFromTemplate(ctx, o.contracts, ref, { ...base, name });
      clones.push({ apiVersion: await o.contracts.apiVersion(ref), kind: made.kind, name: made.name });
      return made;
    };
    try {
      const infra = ms0.infrastructureRef?.name ? await clone(ms0.infrastructureRef) : undefined;
      const boot = ms0.bootstrap?.configRef?.name ? await clone(ms0.bootstrap.configRef) : undefined;
      await ctx.client.create(
        {
          apiVersion: K.machine.apiVersion,
          kind: 'Machine',
          metadata: {
            name,
            namespace: ns,
            labels,
            annotations: t.metadata?.annotations ?? {},
            ownerReferences: [{ ...ownerRef(ms), controller: true, blockOwnerDeletion: true }],
          },
          spec: {
            ...cloneJson(ms0),
            clusterName: cluster.metadata.name,
            ...(boot ? { bootstrap: { configRef: boot } } : {}),
            ...(infra ? { infrastructureRef: infra } : {}),
          },
        },
        FIELD_MANAGER,
      );
    } catch (e) {
      await deleteClones(ctx, ns, clones);
      throw e;
    }
    ctx.recorder.event(ms, 'Normal', 'SuccessfulCreate', `Created Machine ${name}`);
  }

  /**
   * Infrastructure machines and bootstrap configs this MachineSet cloned that no Machine of it
   * names (a Machine create that failed before its clones could be deleted, a restart between the
   * two): deleted, as upstream's MachineSet controller does before it scales.
   */
  async function deleteOrphanedClones(ctx: ReconcileContext, ms: MachineSet, machines: Machine[]): Promise<void> {
    const spec = ms.spec ?? {};
    const named = new Set(machines.flatMap((m) => [m.spec?.infrastructureRef?.name, m.spec?.bootstrap?.configRef?.name]));
    for (const ref of [spec.template?.spec?.infrastructureRef, spec.template?.spec?.bootstrap?.configRef]) {
      if (!ref?.kind || !ref.apiGroup) continue;
      const kind = ref.kind.replace(/Template$/, '');
      const apiVersion = await o.contracts.apiVersion(ref);
      const objs = await listIn<KubeObject>(ctx.client, { apiVersion, kind }, ms.metadata.namespace, spec.selector?.matchLabels ?? {});
      for (const x of objs) {
        const name = String(x.metadata?.name);
        if (named.has(name) || isDeleting(x)) continue;
        if (!x.metadata?.ownerReferences?.some((r) => r.kind === 'MachineSet' && r.uid === ms.metadata.uid)) continue;
        await ctx.client.delete({ apiVersion, kind, namespace: ms.metadata.namespace, name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
        ctx.recorder.event(ms, 'Normal', 'SuccessfulDelete', `Deleted ${kind} ${name}: no Machine of this MachineSet uses it`);
      }
    }
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<MachineSet>(ctx.client, K.machineSet, req.namespace, req.name);
    if (!found || isDeleting(found)) return undefined;
    const ms = found;
    const original = cloneJson(ms);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, ms, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = ms.metadata.namespace;
    const spec = ms.spec ?? {};
    const clusterName = spec.clusterName ?? '';
    const cluster = await getOrNull<Cluster>(ctx.client, K.cluster, ns, clusterName);
    if (!cluster) return { requeueAfterMs: 10_000 };
    if (isPaused(cluster, ms)) {
      condition(ms, 'Paused', true, 'Paused');
      return save();
    }
    condition(ms, 'Paused', false, 'NotPaused');
    if (ms.metadata.labels?.[L.clusterName] !== clusterName)
      ms.metadata.labels = { ...(ms.metadata.labels ?? {}), [L.clusterName]: clusterName };
    const all = await listIn<Machine>(ctx.client, K.machine, ns, { [L.clusterName]: clusterName });
    const mine = all.filter(
      (m) => ownerOfKind(m, 'MachineSet')?.name === ms.metadata.name && matchesSelector(m.metadata.labels, spec.selector),
    );
    const live = mine.filter((m) => !isDeleting(m));
    // machines handed back by a health check are deleted; their replacements come below
    for (const m of live.filter((x) => conditionOf(x, 'OwnerRemediated')?.status === 'False')) {
      await ctx.client.delete({ ...K.machine, namespace: ns, name: m.metadata.name }).catch((e: unknown) => {
        if (!isNotFound(e)) throw e;
      });
      ctx.recorder.event(ms, 'Normal', 'MachineRemediated', `Deleted unhealthy Machine ${m.metadata.name}`);
    }
    await deleteOrphanedClones(ctx, ms, mine);
    const healthyLive = live.filter((x) => conditionOf(x, 'OwnerRemediated')?.status !== 'False');
    const desired = spec.replicas ?? 1;
    // settled, it waits for its Machines' events and the sync period, as upstream's does
    let requeue = SYNC_PERIOD_MS;
    if (healthyLive.length < desired) {
      for (let i = healthyLive.length; i < desired; i++) await createMachine(ctx, ms, cluster);
      requeue = 2_000;
    } else if (healthyLive.length > desired) {
      for (const m of deletionOrder(healthyLive, spec.deletion?.order).slice(0, healthyLive.length - desired)) {
        await ctx.client.delete({ ...K.machine, namespace: ns, name: m.metadata.name }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
        ctx.recorder.event(ms, 'Normal', 'SuccessfulDelete', `Deleted Machine ${m.metadata.name}`);
      }
      requeue = 2_000;
    }
    // a MachineSet is up to date when its owner deployment still wants its template
    const md = ownerOfKind(ms, 'MachineDeployment');
    const upToDate = !md || ms.metadata.annotations?.['ferrite.dev/outdated'] === undefined;
    for (const m of live) {
      if ((conditionOf(m, 'UpToDate')?.status === 'True') !== upToDate) {
        const before = cloneJson(m);
        condition(
          m,
          'UpToDate',
          upToDate,
          upToDate ? 'UpToDate' : 'NotUpToDate',
          upToDate ? '' : 'the MachineDeployment rolls out a newer template',
        );
        await patchObject(ctx.client, before, m, { fieldManager: FIELD_MANAGER }).catch(() => undefined);
      }
    }
    const ready = live.filter((m) => conditionTrue(m, 'Ready')).length;
    const available = live.filter((m) => conditionTrue(m, 'Available')).length;
    ms.status = {
      ...(ms.status ?? {}),
      selector: labelSelectorString(spec.selector),
      replicas: mine.length,
      readyReplicas: ready,
      availableReplicas: available,
      upToDateReplicas: upToDate ? live.length : 0,
      observedGeneration: ms.metadata.generation,
    } as never;
    const scalingUp = mine.length < desired;
    const scalingDown = mine.length > desired;
    condition(
      ms,
      'ScalingUp',
      scalingUp,
      scalingUp ? 'ScalingUp' : 'NotScalingUp',
      scalingUp ? `Scaling up from ${mine.length} to ${desired} replicas` : '',
    );
    condition(
      ms,
      'ScalingDown',
      scalingDown,
      scalingDown ? 'ScalingDown' : 'NotScalingDown',
      scalingDown ? `Scaling down from ${mine.length} to ${desired} replicas` : '',
    );
    const machinesReady = live.every((m) => conditionTrue(m, 'Ready'));
    condition(ms, 'MachinesReady', machinesReady, machinesReady ? 'Ready' : 'NotReady');
    if (ready < desired) requeue = Math.min(requeue, 5_000);
    return save({ requeueAfterMs: requeue });
  }

  return {
    name: 'machineset',
    for: K.machineSet,
    maxConcurrentReconciles: 4,
    owns: [K.machine],
    reconcile,
  };
}
