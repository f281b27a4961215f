// The managed-topology reconciler (Cluster API core, core/reconcilers/topology/cluster): for a
// Cluster with spec.topology it reads the ClusterClass and its templates, computes the desired
// infrastructure cluster, control plane and MachineDeployments (desired-state.ts), and makes the
// world match — creating what is missing, patching what drifted, rotating changed templates and
// deleting the ones no MachineDeployment, MachineSet or control plane uses any more. The result is
// the Cluster's TopologyReconciled condition with upstream's reasons. Generated objects are owned
// by the Cluster, so deleting it (the Cluster controller removes descendants first) leaves nothing.

import { cloneJson } from '../../lib/clone.js';
import type { ClusterClassSpec, Topology } from '../api/cluster.x-k8s.io/cluster-class.js';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, GVK, ReconcileContext, Request, Result } from '../kube/controller.js';
import { isDeleting } from '../kube/finalizers.js';
import { patchObject, updateWithRetry } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import { type ContractResolver, condition, isPaused, K, L, listIn, type Obj, obj, type Typed } from './common.js';
import { CapiError } from './errors.js';
import {
  type Blueprint,
  type CurrentMachineDeployment,
  type CurrentState,
  computeDesiredState,
  contractRef,
  type DesiredState,
  isSubset,
  TL,
} from './topology/desired-state.js';
import { resolveClusterVariables } from './topology/variables.js';

const FIELD_MANAGER = 'capi-topology';
export const CLUSTER_CLASS: GVK = { apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'ClusterClass' };
const RESYNC_MS = 600_000;

type Cluster = Typed<{ topology?: Topology; infrastructureRef?: Obj; controlPlaneRef?: Obj; paused?: boolean }>;
type ClusterClass = Typed<ClusterClassSpec>;

const gvkOf = (ref: { apiVersion?: unknown; kind?: unknown }): GVK => ({ apiVersion: String(ref.apiVersion), kind: String(ref.kind) });

async function getTemplate(
  client: KubeClient,
  ref: { apiVersion: string; kind: string; name: string },
  ns: string,
  what: string,
): Promise<Obj> {
  const t = await getOrNull<KubeObject>(client, gvkOf(ref), ns, ref.name);
  if (!t) throw new CapiError('ReferenceNotFound', `${what} ${ref.kind} ${ns}/${ref.name} of the ClusterClass not found`);
  return t as unknown as Obj;
}

/** The ClusterClass with every template it names, read from the class's namespace. */
export async function loadBlueprint(client: KubeClient, cls: ClusterClass): Promise<Blueprint> {
  const ns = cls.metadata.namespace;
  const spec = cls.spec as ClusterClassSpec;
  const mdClasses: Blueprint['machineDeploymentClasses'] = new Map();
  for (const md of spec.workers?.machineDeployments ?? []) {
    mdClasses.set(md.class, {
      cls: md,
      bootstrapTemplate: await getTemplate(
        client,
        md.bootstrap.templateRef,
        ns,
        `bootstrap template of MachineDeployment class ${md.class}:`,
      ),
      infrastructureTemplate: await getTemplate(
        client,
        md.infrastructure.templateRef,
        ns,
        `infrastructure template of MachineDeployment class ${md.class}:`,
      ),
    });
  }
  const cpInfraRef = spec.controlPlane.machineInfrastructure?.templateRef;
  return {
    spec,
    infrastructureClusterTemplate: await getTemplate(client, spec.infrastructure.templateRef, ns, 'infrastructure cluster template'),
    controlPlaneTemplate: await getTemplate(client, spec.controlPlane.templateRef, ns, 'control plane template'),
    ...(cpInfraRef
      ? {
          controlPlaneMachineInfrastructureTemplate: await getTemplate(
            client,
            cpInfraRef,
            ns,
            'control plane machine infrastructure template',
          ),
        }
      : {}),
    machineDeploymentClasses: mdClasses,
  };
}

/** The Cluster's variables (and each MachineDeployment's overrides) defaulted and checked against the class. */
export function resolveTopologyVariables(spec: ClusterClassSpec, topology: Topology) {
  const errors: string[] = [];
  const top = resolveClusterVariables(spec.variables, topology.variables, 'spec.topology.variables');
  errors.push(...top.errors);
  const overrides = new Map<string, { name: string; value?: unknown }[]>();
  (topology.workers?.machineDeployments ?? []).forEach((md, i) => {
    if (!md.variables?.overrides?.length) return;
    const r = resolveClusterVariables(
      spec.variables,
      md.variables.overrides,
      `spec.topology.workers.machineDeployments[${i}].variables.overrides`,
      {
        overrides: true,
      },
    );
    errors.push(...r.errors);
    overrides.set(md.name, r.values);
  });
  let controlPlaneOverrides: { name: string; value?: unknown }[] | undefined;
  if (topology.controlPlane?.variables?.overrides?.length) {
    const r = resolveClusterVariables(
      spec.variables,
      topology.controlPlane.variables.overrides,
      'spec.topology.controlPlane.variables.overrides',
      {
        overrides: true,
      },
    );
    errors.push(...r.errors);
    controlPlaneOverrides = r.values;
  }
  return { variables: top.values, overrides, controlPlaneOverrides, errors };
}

/**
 * The one object of a template's kind this topology made (by its labels): what a Cluster whose
 * reference was not written yet (a conflict, a crash between create and update) already has.
 */
async function adopt(client: KubeClient, cluster: Cluster, template: Obj): Promise<Obj | undefined> {
  const gvk = { apiVersion: String(template.apiVersion), kind: String(template.kind).replace(/Template$/, '') };
  const found = await listIn<KubeObject>(client, gvk, cluster.metadata.namespace, {
    [L.clusterName]: cluster.metadata.name,
    [TL.owned]: '',
  });
  const mine = found.filter((o) => !isDeleting(o) && o.metadata?.ownerReferences?.some((r) => r.uid === cluster.metadata.uid));
  return mine.sort((a, b) => String(a.metadata?.creationTimestamp).localeCompare(String(b.metadata?.creationTimestamp)))[0] as
    | Obj
    | undefined;
}

/**
 * What the topology has now, each object read at the version of the class's template it came
 * from: desired and current are then spelled alike (a v1beta1 template's copy compared at v1beta2
 * would look changed on every pass and rotate forever).
 */
async function currentState(client: KubeClient, contracts: ContractResolver, cluster: Cluster, bp: Blueprint): Promise<CurrentState> {
  const ns = cluster.metadata.namespace;
  const spec = cluster.spec ?? {};
  const byRef = async (ref: unknown, like?: Obj): Promise<Obj | undefined> => {
    const r = obj(ref);
    if (!r.name || !r.kind) return undefined;
    // the version of the class's template it came from: a template's copy has the template's kind,
    // a stamped object the kind without "Template"
    const fromLike = like && (like.kind === r.kind || String(like.kind).replace(/Template$/, '') === r.kind);
    const at = fromLike ? like.apiVersion : r.apiVersion;
    if (at)
      return ((await getOrNull<KubeObject>(client, gvkOf({ apiVersion: at, kind: r.kind }), ns, String(r.name))) ?? undefined) as
        | Obj
        | undefined;
    return ((await contracts.get<KubeObject>(r as { apiGroup: string; kind: string; name: string }, ns)) ?? undefined) as Obj | undefined;
  };
  const infrastructureCluster =
    (await byRef(spec.infrastructureRef, bp.infrastructureClusterTemplate)) ??
    (await adopt(client, cluster, bp.infrastructureClusterTemplate));
  const controlPlane =
    (await byRef(spec.controlPlaneRef, bp.controlPlaneTemplate)) ?? (await adopt(client, cluster, bp.controlPlaneTemplate));
  const mt = obj(obj(controlPlane?.spec).machineTemplate);
  const cpInfraRef = obj(mt.spec).infrastructureRef ?? mt.infrastructureRef;
  const controlPlaneMachineInfrastructureTemplate = controlPlane
    ? await byRef(cpInfraRef, bp.controlPlaneMachineInfrastructureTemplate)
    : undefined;
  const classOf = new Map((spec.topology?.workers?.machineDeployments ?? []).map((m) => [m.name, m.class]));
  const machineDeployments = new Map<string, CurrentMachineDeployment>();
  const mds = await listIn<KubeObject>(client, K.machineDeployment, ns, { [L.clusterName]: cluster.metadata.name, [TL.owned]: '' });
  for (const md of mds) {
    const name = md.metadata?.labels?.[TL.deploymentName];
    if (!name || isDeleting(md)) continue;
    const ts = obj(obj(obj(md as unknown as Obj).spec).template).spec;
    const cls = bp.machineDeploymentClasses.get(classOf.get(name) ?? '');
    machineDeployments.set(name, {
      md: md as unknown as Obj,
      bootstrapTemplate: await byRef(obj(obj(ts).bootstrap).configRef, cls?.bootstrapTemplate),
      infrastructureTemplate: await byRef(obj(ts).infrastructureRef, cls?.infrastructureTemplate),
    });
  }
  return { infrastructureCluster, controlPlane, controlPlaneMachineInfrastructureTemplate, machineDeployments };
}

/** Create `want`, or patch `have` where `want` says something else (labels, annotations, spec). */
async function ensure(client: KubeClient, want: Obj, have: Obj | undefined): Promise<Obj> {
  if (!have) return (await client.create(want as KubeObject, FIELD_MANAGER)) as unknown as Obj;
  const wm = obj(want.metadata);
  const hm = obj(have.metadata);
  if (isSubset(want.spec, have.spec) && isSubset(wm.labels ?? {}, hm.labels ?? {}) && isSubset(wm.annotations ?? {}, hm.annotations ?? {}))
    return have;
  const next = cloneJson(have) as KubeObject & Obj;
  next.metadata = {
    ...(next.metadata ?? {}),
    labels: { ...(hm.labels as Record<string, string>), ...(wm.labels as Record<string, string>) },
    annotations: { ...(hm.annotations as Record<string, string>), ...(wm.annotations as Record<string, string>) },
  };
  next.spec = overlay(have.spec, want.spec);
  return (await patchObject(client, have as KubeObject, next, { fieldManager: FIELD_MANAGER })).object as unknown as Obj;
}

/** `want` laid over `have`: objects merge key by key, anything else is replaced. */
function overlay(have: unknown, want: unknown): unknown {
  if (want === undefined) return have;
  if (want === null || typeof want !== 'object' || Array.isArray(want) || have === null || typeof have !== 'object' || Array.isArray(have))
    return cloneJson(want);
  const out: Obj = { ...(have as Obj) };
  for (const [k, v] of Object.entries(want as Obj)) out[k] = overlay((have as Obj)[k], v);
  return out;
}

async function deleteQuietly(client: KubeClient, o: Obj): Promise<void> {
  const m = obj(o.metadata);
  await client.delete({ ...gvkOf(o), namespace: String(m.namespace), name: String(m.name) }).catch((e: unknown) => {
    if (!isNotFound(e)) throw e;
  });
}

/**
 * Templates this topology made that nothing uses any more: not the control plane's, not a
 * MachineDeployment's, not one a MachineSet still clones machines from.
 */
async function deleteUnusedTemplates(client: KubeClient, cluster: Cluster, desired: DesiredState): Promise<string[]> {
  const ns = cluster.metadata.namespace;
  const inUse = new Set<string>();
  const key = (kind: unknown, name: unknown) => `${String(kind)}/${String(name)}`;
  const kinds = new Map<string, GVK>();
  const note = (t: Obj | undefined) => {
    if (!t) return;
    inUse.add(key(t.kind, obj(t.metadata).name));
    kinds.set(String(t.kind), gvkOf(t));
  };
  note(desired.controlPlaneMachineInfrastructureTemplate);
  for (const md of desired.machineDeployments) {
    note(md.bootstrapTemplate);
    note(md.infrastructureTemplate);
  }
  const sets = await listIn<KubeObject>(client, K.machineSet, ns, { [L.clusterName]: cluster.metadata.name });
  for (const s of sets) {
    const ts = obj(obj(obj(s as unknown as Obj).spec).template).spec;
    const b = obj(obj(ts).bootstrap).configRef;
    inUse.add(key(obj(b).kind, obj(b).name));
    inUse.add(key(obj(obj(ts).infrastructureRef).kind, obj(obj(ts).infrastructureRef).name));
  }
  const deleted: string[] = [];
  for (const gvk of kinds.values()) {
    const owned = await listIn<KubeObject>(client, gvk, ns, { [L.clusterName]: cluster.metadata.name, [TL.owned]: '' });
    for (const t of owned) {
      if (inUse.has(key(t.kind, t.metadata?.name)) || isDeleting(t)) continue;
      await deleteQuietly(client, t as unknown as Obj);
      deleted.push(`${String(t.kind)} ${String(t.metadata?.name)}`);
    }
  }
  return deleted;
}

export function clusterTopologyController(deps: { contracts: ContractResolver }): ControllerSpec {
  // which Clusters use which ClusterClass, learnt as they reconcile (a class change requeues them)
  const usersOfClass = new Map<string, Set<string>>();
  const learn = (classKey: string, clusterKey: string) => {
    for (const [k, set] of usersOfClass) if (k !== classKey) set.delete(clusterKey);
    const set = usersOfClass.get(classKey) ?? new Set<string>();
    usersOfClass.set(classKey, set);
    set.add(clusterKey);
  };

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Cluster>(ctx.client, K.cluster, req.namespace, req.name);
    if (!found?.spec?.topology || isDeleting(found)) return undefined;
    const cluster = found;
    const original = cloneJson(cluster);
    const topology = cluster.spec?.topology as Topology;
    const setReconciled = async (ok: boolean, reason: string, message = '', requeueAfterMs?: number): Promise<Result> => {
      condition(cluster, 'TopologyReconciled', ok, reason, message);
      await patchObject(ctx.client, original, cluster, { fieldManager: FIELD_MANAGER });
      return { requeueAfterMs: requeueAfterMs ?? (ok ? RESYNC_MS : 10_000) };
    };
    if (isPaused(null, cluster) || cluster.spec?.paused === true) return setReconciled(false, 'Paused', 'Cluster is paused');
    const classNs = topology.classRef.namespace ?? cluster.metadata.namespace;
    learn(`${classNs}/${topology.classRef.name}`, `${req.namespace}/${req.name}`);
    const cls = await getOrNull<ClusterClass>(ctx.client, CLUSTER_CLASS, classNs, topology.classRef.name);
    if (!cls) return setReconciled(false, 'ReconcileFailed', `ClusterClass ${classNs}/${topology.classRef.name} not found`, 30_000);
    let desired: DesiredState;
    let current: CurrentState;
    try {
      const vars = resolveTopologyVariables(cls.spec as ClusterClassSpec, topology);
      if (vars.errors.length) throw new CapiError('TopologyInvalid', vars.errors.join('; '));
      const blueprint = await loadBlueprint(ctx.client, cls);
      current = await currentState(ctx.client, deps.contracts, cluster, blueprint);
      desired = computeDesiredState({ cluster: cluster as unknown as Obj, topology, blueprint, current, ...vars });
    } catch (e) {
      if (!(e instanceof CapiError)) throw e;
      ctx.recorder.event(cluster, 'Warning', 'TopologyReconcileFailed', e.message);
      return setReconciled(false, 'ReconcileFailed', e.message, 30_000);
    }

    // infrastructure cluster and control plane (its machine template first: the control plane points at it)
    const infra = await ensure(ctx.client, desired.infrastructureCluster, current.infrastructureCluster);
    const cpTemplate = desired.controlPlaneMachineInfrastructureTemplate;
    const cpTemplateCurrent = current.controlPlaneMachineInfrastructureTemplate;
    if (cpTemplate && obj(cpTemplate.metadata).name !== obj(cpTemplateCurrent?.metadata).name) {
      await ctx.client.create(cpTemplate as KubeObject, FIELD_MANAGER);
      ctx.recorder.event(
        cluster,
        'Normal',
        'TopologyCreate',
        `Created ${String(cpTemplate.kind)} ${String(obj(cpTemplate.metadata).name)}`,
      );
    }
    const cp = await ensure(ctx.client, desired.controlPlane, current.controlPlane);
    if (!current.controlPlane)
      ctx.recorder.event(cluster, 'Normal', 'TopologyCreate', `Created ${String(cp.kind)} ${String(obj(cp.metadata).name)}`);
    const refs = { infrastructureRef: contractRef(infra), controlPlaneRef: contractRef(cp) };
    if (!isSubset(refs, cluster.spec) || cluster.metadata.labels?.[TL.owned] === undefined) {
      // written at once (and again on a conflict with the Cluster controller) so no reconcile makes a second set
      const updated = await updateWithRetry<Cluster>(
        ctx.client,
        { ...K.cluster, namespace: req.namespace, name: req.name },
        (c) => {
          c.spec = { ...(c.spec ?? {}), ...refs };
          c.metadata.labels = { ...(c.metadata.labels ?? {}), [L.clusterName]: c.metadata.name, [TL.owned]: '' };
          return c;
        },
        { fieldManager: FIELD_MANAGER },
      );
      if (updated) {
        original.metadata = cloneJson(updated.metadata);
        original.spec = cloneJson(updated.spec);
        cluster.metadata = cloneJson(updated.metadata);
        cluster.spec = cloneJson(updated.spec);
      }
    }

    // workers: templates before the MachineDeployment that names them
    for (const md of desired.machineDeployments) {
      const cur = current.machineDeployments.get(md.topologyName);
      for (const [t, had] of [
        [md.bootstrapTemplate, cur?.bootstrapTemplate],
        [md.infrastructureTemplate, cur?.infrastructureTemplate],
      ] as const) {
        if (obj(t.metadata).name !== obj(had?.metadata).name) await ctx.client.create(t as KubeObject, FIELD_MANAGER);
      }
      await ensure(ctx.client, md.md, cur?.md);
      if (!cur) ctx.recorder.event(cluster, 'Normal', 'TopologyCreate', `Created MachineDeployment ${String(obj(md.md.metadata).name)}`);
    }
    for (const md of desired.machineDeploymentsToDelete) {
      await deleteQuietly(ctx.client, md);
      ctx.recorder.event(cluster, 'Normal', 'TopologyDelete', `Deleted MachineDeployment ${String(obj(md.metadata).name)}`);
    }
    // health checks the class asks for; the ones it no longer asks for go
    const mhcs = (await listIn<KubeObject>(ctx.client, K.machineHealthCheck, req.namespace, { [TL.owned]: '' })).filter(
      (m) => obj((m as unknown as Obj).spec).clusterName === req.name,
    );
    for (const mhc of desired.machineHealthChecks) {
      const have = mhcs.find((m) => m.metadata?.name === obj(mhc.metadata).name);
      await ensure(ctx.client, mhc, have as Obj | undefined);
    }
    const keep = new Set(desired.machineHealthChecks.map((m) => String(obj(m.metadata).name)));
    for (const m of mhcs) if (!keep.has(String(m.metadata?.name))) await deleteQuietly(ctx.client, m as unknown as Obj);
    await deleteUnusedTemplates(ctx.client, cluster, desired);

    if (desired.pending) return setReconciled(false, desired.pending.reason, desired.pending.message, 5_000);
    // still rolling out somewhere: look again soon (changes of the generated objects also requeue)
    return setReconciled(true, 'ReconcileSucceeded', '', RESYNC_MS);
  }

  const byClusterLabel = (o: KubeObject): Request[] => {
    const name = o.metadata?.labels?.[L.clusterName];
    return name && TL.owned in (o.metadata?.labels ?? {}) ? [{ namespace: String(o.metadata?.namespace), name }] : [];
  };
  return {
    name: 'topology/cluster',
    for: K.cluster,
    maxConcurrentReconciles: 4,
    watches: [
      { ...K.machineDeployment, map: byClusterLabel },
      { ...K.kubeadmControlPlane, map: byClusterLabel },
      {
        ...CLUSTER_CLASS,
        map: (o) =>
          [...(usersOfClass.get(`${o.metadata?.namespace}/${o.metadata?.name}`) ?? [])].map((k) => {
            const i = k.indexOf('/');
            return { namespace: k.slice(0, i), name: k.slice(i + 1) };
          }),
      },
    ],
    reconcile,
  };
}
