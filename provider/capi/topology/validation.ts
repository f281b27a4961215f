// Admission for ClusterClasses and topology Clusters, with upstream's field paths and messages
// (core/webhooks/admission clusterclass.go, cluster.go, patch_validation.go,
// internal/topology/check and variables). One addition, said in docs/cluster-api.md: a Cluster
// whose class's patches cannot be applied to the class's templates with its variables (a patch to a
// path that does not exist, a template that does not render) is refused here, before anything is
// created, instead of failing later in the topology controller.
import { isDeepStrictEqual } from 'node:util';
import { checkTemplate } from '../../../lib/go-template.js';
import type { ClusterClassPatch, ClusterClassSpec, JSONPatch, Topology } from '../../api/cluster.x-k8s.io/cluster-class.js';
import type { KubeClient, KubeObject } from '../../kube/client.js';
import { getOrNull } from '../../kube/read.js';
import type { WebhookDef } from '../../kube/webhooks.js';
import { CLUSTER_CLASS, loadBlueprint, resolveTopologyVariables } from '../cluster-topology-controller.js';
import { compareKubeVersions, K, type Obj, obj } from '../common.js';
import { CapiError } from '../errors.js';
import { computeDesiredState, groupOf } from './desired-state.js';
import { classNameMatches } from './patches.js';
import { validateClassVariables } from './variables.js';

const BUILTINS = new Set([
  'builtin',
  'builtin.cluster',
  'builtin.cluster.name',
  'builtin.cluster.namespace',
  'builtin.cluster.uid',
  'builtin.cluster.metadata.labels',
  'builtin.cluster.metadata.annotations',
  'builtin.cluster.topology',
  'builtin.cluster.topology.classRef.name',
  'builtin.cluster.topology.classRef.namespace',
  'builtin.cluster.topology.class',
  'builtin.cluster.topology.classNamespace',
  'builtin.cluster.topology.version',
  'builtin.cluster.network',
  'builtin.cluster.network.serviceDomain',
  'builtin.cluster.network.services',
  'builtin.cluster.network.pods',
  'builtin.controlPlane',
  'builtin.controlPlane.name',
  'builtin.controlPlane.replicas',
  'builtin.controlPlane.version',
  'builtin.controlPlane.metadata.labels',
  'builtin.controlPlane.metadata.annotations',
  'builtin.controlPlane.machineTemplate.infrastructureRef.name',
  'builtin.machineDeployment',
  'builtin.machineDeployment.class',
  'builtin.machineDeployment.name',
  'builtin.machineDeployment.replicas',
  'builtin.machineDeployment.topologyName',
  'builtin.machineDeployment.version',
  'builtin.machineDeployment.metadata.labels',
  'builtin.machineDeployment.metadata.annotations',
  'builtin.machineDeployment.bootstrap.configRef.name',
  'builtin.machineDeployment.infrastructureRef.name',
]);

const show = (v: unknown) => JSON.stringify(v);
const sameRef = (sel: { apiVersion: string; kind: string }, ref: { apiVersion: string; kind: string } | undefined) =>
  !!ref && sel.apiVersion === ref.apiVersion && sel.kind === ref.kind;

function validateJsonPatch(p: JSONPatch, path: string, variables: Set<string>): string[] {
  const errs: string[] = [];
  if (!['add', 'replace', 'remove'].includes(p.op))
    errs.push(`${path}.op: Unsupported value: ${show(p.op)}: supported values: "add", "remove", "replace"`);
  if (!p.path.startsWith('/spec')) errs.push(`${path}.path: Invalid value: ${show(p.path)}: jsonPatch path must start with "/spec"`);
  for (const part of p.path.split('/')) {
    if (!/^\d+$/.test(part)) continue;
    if (p.op === 'add' && part !== '0')
      errs.push(`${path}.path: Invalid value: ${show(p.path)}: arrays can only be accessed using "0" (prepend) or "-" (append)`);
    if (p.op === 'replace' || p.op === 'remove')
      errs.push(`${path}.path: Invalid value: ${show(p.path)}: elements in arrays can not be accessed in a ${p.op} operation`);
  }
  if (p.op !== 'add' && p.op !== 'replace') return errs;
  if (p.value === undefined && !p.valueFrom)
    errs.push(`${path}: Invalid value: ${show(p)}: jsonPatch must define one of value or valueFrom`);
  if (p.value !== undefined && p.valueFrom)
    errs.push(`${path}: Invalid value: ${show(p)}: jsonPatch can not define both value and valueFrom`);
  const vf = p.valueFrom;
  if (vf && !vf.template && !vf.variable)
    errs.push(`${path}.valueFrom: Invalid value: ${show(vf)}: valueFrom must set either template or variable`);
  if (vf?.template && vf.variable)
    errs.push(`${path}.valueFrom: Invalid value: ${show(vf)}: valueFrom can not set both template and variable`);
  if (vf?.template) {
    const e = checkTemplate(vf.template);
    if (e) errs.push(`${path}.valueFrom.template: Invalid value: ${show(vf.template)}: template can not be parsed: ${e}`);
  }
  if (vf?.variable) {
    if (vf.variable.startsWith('builtin.') || vf.variable === 'builtin') {
      if (!BUILTINS.has(vf.variable))
        errs.push(`${path}.valueFrom.variable: Invalid value: ${show(vf.variable)}: not a defined builtin variable`);
    } else if (!variables.has(vf.variable.split(/[.[]/)[0]))
      errs.push(`${path}.valueFrom.variable: Invalid value: ${show(vf.variable)}: variable with name ${vf.variable} cannot be found`);
  }
  return errs;
}

function validatePatches(spec: ClusterClassSpec): string[] {
  const errs: string[] = [];
  const variables = new Set((spec.variables ?? []).map((v) => v.name));
  const names = new Set<string>();
  (spec.patches ?? []).forEach((patch: ClusterClassPatch, i) => {
    const path = `spec.patches[${patch.name}]`;
    if (patch.name === 'inline') errs.push(`${path}.name: Required value: "inline" can not be used as the name of a patch`);
    if (names.has(patch.name))
      errs.push(
        `${path}.name: Invalid value: ${show(patch.name)}: patch names must be unique. Patch with name ${show(patch.name)} is defined more than once`,
      );
    names.add(patch.name);
    if (patch.enabledIf) {
      const e = checkTemplate(patch.enabledIf);
      if (e) errs.push(`${path}.enabledIf: Invalid value: ${show(patch.enabledIf)}: template can not be parsed: ${e}`);
    }
    if (!patch.definitions && !patch.external) errs.push(`${path}: Required value: one of definitions or external must be defined`);
    if (patch.definitions && patch.external)
      errs.push(`spec.patches[${i}]: Invalid value: "object": only one of definitions or external can be defined`);
    if (patch.external)
      errs.push(
        `${path}.external: Forbidden: patch.external can be used only if the RuntimeSDK feature flag is enabled (Ferrite does not serve Runtime SDK extensions)`,
      );
    (patch.definitions ?? []).forEach((d, j) => {
      const dp = `${path}.definitions[${j}]`;
      d.jsonPatches.forEach((jp, k) => {
        errs.push(...validateJsonPatch(jp, `${dp}.jsonPatches[${k}]`, variables));
      });
      const sel = d.selector;
      const m = sel.matchResources;
      const mdNames = m.machineDeploymentClass?.names ?? [];
      const mpNames = m.machinePoolClass?.names ?? [];
      if (!m.infrastructureCluster && !m.controlPlane && !mdNames.length && !mpNames.length) {
        errs.push(`${dp}.selector: Invalid value: ${show(JSON.stringify(sel))}: no selector enabled`);
        return;
      }
      if (m.infrastructureCluster && !sameRef(sel, spec.infrastructure.templateRef))
        errs.push(
          `${dp}.selector.matchResources.infrastructureCluster: Invalid value: true: selector is enabled but does not match the infrastructure ref`,
        );
      if (
        m.controlPlane &&
        !sameRef(sel, spec.controlPlane.templateRef) &&
        !sameRef(sel, spec.controlPlane.machineInfrastructure?.templateRef)
      )
        errs.push(
          `${dp}.selector.matchResources.controlPlane: Invalid value: true: selector is enabled but matches neither the controlPlane ref nor the controlPlane machineInfrastructure ref`,
        );
      mdNames.forEach((n, k) => {
        const np = `${dp}.selector.matchResources.machineDeploymentClass.names[${k}]`;
        if ((n.match(/\*/g) ?? []).length > 1) {
          errs.push(`${np}: Invalid value: ${show(n)}: selector can at most contain a single "*" rune`);
          return;
        }
        if (n.includes('*') && !n.startsWith('*') && !n.endsWith('*')) {
          errs.push(`${np}: Invalid value: ${show(n)}: "*" rune can only appear at the beginning, or ending of the selector`);
          return;
        }
        const hit = (spec.workers?.machineDeployments ?? []).some(
          (md) => classNameMatches(n, md.class) && (sameRef(sel, md.infrastructure.templateRef) || sameRef(sel, md.bootstrap.templateRef)),
        );
        if (!hit)
          errs.push(
            `${np}: Invalid value: ${show(n)}: selector is enabled but matches neither the bootstrap ref nor the infrastructure ref of a MachineDeployment class`,
          );
      });
    });
  });
  return errs;
}

function validateNaming(template: string | undefined, path: string, what: string): string[] {
  if (!template) return [];
  const e = checkTemplate(template);
  return e ? [`${path}.naming.template: Invalid value: ${show(template)}: invalid ${what} name template: ${e}`] : [];
}

/** ClusterClass create and update, as upstream's webhook. */
export function validateClusterClass(cc: KubeObject): string[] {
  const spec = (obj((cc as Obj).spec) as unknown as ClusterClassSpec) ?? {};
  const errs: string[] = [];
  const seen = new Set<string>();
  (spec.workers?.machineDeployments ?? []).forEach((md, i) => {
    if (seen.has(md.class))
      errs.push(
        `spec.workers.machineDeployments[${i}].class: Invalid value: ${show(md.class)}: MachineDeployment class must be unique. MachineDeployment with class ${show(md.class)} is defined more than once`,
      );
    seen.add(md.class);
    errs.push(...validateNaming(md.naming?.template, `spec.workers.machineDeployments[${i}]`, 'MachineDeployment'));
  });
  errs.push(...validateNaming(spec.infrastructure?.naming?.template, 'spec.infrastructure', 'InfraCluster'));
  errs.push(...validateNaming(spec.controlPlane?.naming?.template, 'spec.controlPlane', 'ControlPlane'));
  errs.push(...validateClassVariables(spec.variables));
  errs.push(...validatePatches(spec));
  return errs;
}

const groupKind = (ref: { apiVersion?: string; kind?: string } | undefined) => ({
  group: groupOf(ref?.apiVersion),
  kind: String(ref?.kind ?? ''),
});

function templateCompatible(
  cur: { apiVersion?: string; kind?: string } | undefined,
  want: { apiVersion?: string; kind?: string } | undefined,
  path: string,
): string[] {
  const [a, b] = [groupKind(cur), groupKind(want)];
  const errs: string[] = [];
  if (a.group !== b.group)
    errs.push(
      `${path}.apiVersion: Forbidden: group of apiVersion cannot be changed from ${show(a.group)} to ${show(b.group)} to prevent incompatible changes in the Clusters`,
    );
  if (a.kind !== b.kind)
    errs.push(
      `${path}.kind: Forbidden: kind cannot be changed from ${show(a.kind)} to ${show(b.kind)} to prevent incompatible changes in the Clusters`,
    );
  return errs;
}

/**
 * May Clusters built from `cur` continue from `want` (an updated class, or another class a Cluster
 * rebases onto)? The kinds of what the topology generated must stay: infrastructure cluster, control
 * plane, its machine template, each MachineDeployment class's machine template (upstream's
 * ClusterClassesAreCompatible).
 */
export function classesCompatible(cur: ClusterClassSpec, want: ClusterClassSpec): string[] {
  const errs = [
    ...templateCompatible(cur.infrastructure?.templateRef, want.infrastructure?.templateRef, 'spec.infrastructure.templateRef'),
    ...templateCompatible(cur.controlPlane?.templateRef, want.controlPlane?.templateRef, 'spec.controlPlane.templateRef'),
  ];
  if (cur.controlPlane?.machineInfrastructure || want.controlPlane?.machineInfrastructure)
    errs.push(
      ...templateCompatible(
        cur.controlPlane?.machineInfrastructure?.templateRef,
        want.controlPlane?.machineInfrastructure?.templateRef,
        'spec.controlPlane.machineInfrastructure.templateRef',
      ),
    );
  (want.workers?.machineDeployments ?? []).forEach((md, i) => {
    const old = (cur.workers?.machineDeployments ?? []).find((o) => o.class === md.class);
    if (old)
      errs.push(
        ...templateCompatible(
          old.infrastructure.templateRef,
          md.infrastructure.templateRef,
          `spec.workers.machineDeployments[${i}].infrastructure.templateRef`,
        ),
      );
  });
  return errs;
}

async function clustersUsing(client: KubeClient, cc: KubeObject): Promise<Array<KubeObject & { spec?: { topology?: Topology } }>> {
  const all = (await client.list<KubeObject & { spec?: { topology?: Topology } }>(K.cluster.apiVersion, K.cluster.kind)).items;
  return all.filter((c) => {
    const ref = c.spec?.topology?.classRef;
    return ref?.name === cc.metadata?.name && (ref?.namespace ?? c.metadata?.namespace) === cc.metadata?.namespace;
  });
}

const VERSION = /^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** A topology Cluster on create and update: its class, version, workers and variables. */
export async function validateTopologyCluster(c: KubeObject, old: KubeObject | undefined, client?: KubeClient): Promise<string[]> {
  const topology = obj((c as Obj).spec).topology as Topology | undefined;
  const oldTopology = old ? (obj((old as Obj).spec).topology as Topology | undefined) : undefined;
  // a Cluster on its way out (finalizers being removed) is not held to its class any more
  if (c.metadata?.deletionTimestamp) return [];
  if (!topology) {
    return oldTopology ? ['spec.topology: Forbidden: topology cannot be removed from an existing Cluster'] : [];
  }
  const errs: string[] = [];
  if (!topology.classRef?.name) return ['spec.topology.classRef.name: Required value: classRef.name cannot be empty'];
  if (!topology.version?.startsWith('v')) errs.push(`spec.topology.version: Invalid value: ${show(topology.version)}: must start with v`);
  else if (!VERSION.test(topology.version))
    errs.push(`spec.topology.version: Invalid value: ${show(topology.version)}: version must be a valid semantic version`);
  if (old && !oldTopology) errs.push('spec.topology.class: Forbidden: classRef cannot be set on an existing Cluster');
  if (oldTopology && VERSION.test(topology.version) && VERSION.test(oldTopology.version)) {
    const d = compareKubeVersions(topology.version, oldTopology.version);
    if (d < 0)
      errs.push(
        `spec.topology.version: Invalid value: ${show(topology.version)}: version cannot be decreased from ${show(oldTopology.version)} to ${show(topology.version)}`,
      );
    const [, oMin] = oldTopology.version.slice(1).split('.').map(Number);
    const [nMaj, nMin] = topology.version.slice(1).split('.').map(Number);
    if (d > 0 && (nMaj !== Number(oldTopology.version.slice(1).split('.')[0]) || nMin > oMin + 1))
      errs.push(
        `spec.topology.version: Invalid value: ${show(topology.version)}: version cannot be increased from ${show(oldTopology.version)} to ${show(topology.version)}`,
      );
  }
  const names = new Set<string>();
  (topology.workers?.machineDeployments ?? []).forEach((md, i) => {
    if (names.has(md.name))
      errs.push(
        `spec.topology.workers.machineDeployments[${i}].name: Invalid value: ${show(md.name)}: name must be unique. MachineDeployment with name ${show(md.name)} is defined more than once`,
      );
    names.add(md.name);
  });
  if (!client || errs.length) return errs;
  // an update that leaves the topology alone (labels, finalizers, the refs the controller sets) is not re-judged
  if (oldTopology && isDeepStrictEqual(topology, oldTopology)) return errs;
  const ns = topology.classRef.namespace ?? String(c.metadata?.namespace);
  const cls = await getOrNull<KubeObject & { spec?: ClusterClassSpec }>(client, CLUSTER_CLASS, ns, topology.classRef.name);
  if (!cls) {
    // upstream lets a Cluster in before its class (GitOps applies both at once) and reconciles it once the class exists
    return old ? [`spec.topology.class: Internal error: ClusterClass ${ns}/${topology.classRef.name} not found`] : [];
  }
  const spec = (cls.spec ?? {}) as ClusterClassSpec;
  if (
    oldTopology &&
    (oldTopology.classRef?.name !== topology.classRef.name || oldTopology.classRef?.namespace !== topology.classRef.namespace)
  ) {
    // a rebase onto another class: what the old class generated must fit the new one
    const oldNs = oldTopology.classRef?.namespace ?? String(c.metadata?.namespace);
    const was = await getOrNull<KubeObject & { spec?: ClusterClassSpec }>(client, CLUSTER_CLASS, oldNs, String(oldTopology.classRef?.name));
    if (was) {
      const why = classesCompatible((was.spec ?? {}) as ClusterClassSpec, spec);
      if (why.length)
        errs.push(
          `spec.topology.class: Forbidden: ClusterClass ${show(topology.classRef.name)} is not compatible with ${show(oldTopology.classRef?.name)}: ${why.join('; ')}`,
        );
    }
  }
  if (spec.kubernetesVersions?.length && !spec.kubernetesVersions.includes(topology.version))
    errs.push(
      `spec.topology.version: Invalid value: ${show(topology.version)}: version must match one of the versions defined in the ClusterClass`,
    );
  const classes = new Set((spec.workers?.machineDeployments ?? []).map((m) => m.class));
  (topology.workers?.machineDeployments ?? []).forEach((md, i) => {
    if (!classes.has(md.class))
      errs.push(
        `spec.topology.workers.machineDeployments[${i}].class: Invalid value: ${show(md.class)}: MachineDeploymentClass with name ${show(md.class)} does not exist in ClusterClass ${show(topology.classRef.name)}`,
      );
  });
  const vars = resolveTopologyVariables(spec, topology);
  errs.push(...vars.errors);
  if (errs.length) return errs;
  // dry run: the class's patches over its templates with these variables must apply
  try {
    const blueprint = await loadBlueprint(client, cls as never);
    computeDesiredState({
      cluster: c as unknown as Obj,
      topology,
      blueprint,
      current: { machineDeployments: new Map() },
      ...vars,
    });
  } catch (e) {
    if (!(e instanceof CapiError)) throw e;
    if (e.reason === 'PatchFailed' || e.reason === 'TopologyInvalid')
      errs.push(`spec.topology: Invalid value: ${show(topology.classRef.name)}: ${e.message}`);
  }
  return errs;
}

export const CAPI_WEBHOOKS: WebhookDef[] = [
  {
    name: 'validation.clusterclass.cluster.x-k8s.io',
    path: '/validate-cluster-x-k8s-io-v1beta2-clusterclass',
    group: 'cluster.x-k8s.io',
    version: 'v1beta2',
    resource: 'clusterclasses',
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    validate: async (o, old, ctx) => {
      if (ctx.operation === 'DELETE') {
        if (!ctx.client) return [];
        const users = await clustersUsing(ctx.client, o);
        if (!users.length) return [];
        const list = users.slice(0, 3).map((u) => `${u.metadata?.namespace}/${u.metadata?.name}`);
        return [`ClusterClass cannot be deleted because it is used by Cluster(s): ${list.join(', ')}${users.length > 3 ? ', ...' : ''}`];
      }
      const errs = validateClusterClass(o);
      if (ctx.operation === 'UPDATE' && old)
        errs.push(
          ...classesCompatible(obj((old as Obj).spec) as unknown as ClusterClassSpec, obj((o as Obj).spec) as unknown as ClusterClassSpec),
        );
      if (ctx.operation === 'UPDATE' && old && ctx.client && !errs.length) {
        const kept = new Set(
          ((obj(obj((o as Obj).spec).workers).machineDeployments ?? []) as Array<{ class: string }>).map((m) => m.class),
        );
        for (const c of await clustersUsing(ctx.client, o)) {
          for (const md of c.spec?.topology?.workers?.machineDeployments ?? []) {
            if (!kept.has(md.class))
              errs.push(
                `spec.workers.machineDeployments: Forbidden: MachineDeploymentClass ${show(md.class)} cannot be deleted because it is used by Cluster ${show(c.metadata?.name)}`,
              );
          }
        }
      }
      return errs;
    },
  },
  {
    name: 'validation.cluster.cluster.x-k8s.io',
    path: '/validate-cluster-x-k8s-io-v1beta2-cluster',
    group: 'cluster.x-k8s.io',
    version: 'v1beta2',
    resource: 'clusters',
    validate: (o, old, ctx) => validateTopologyCluster(o, old, ctx.client),
  },
];
