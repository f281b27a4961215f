// What a Cluster's managed topology should look like now (upstream: exp/topology/desiredstate): the
// ClusterClass's templates cloned and patched into an infrastructure cluster, a control plane with
// its machine template, and one MachineDeployment (with bootstrap and infrastructure templates) per
// worker topology — named, labelled and versioned as upstream does. Templates are compared with the
// ones in use: an unchanged template keeps its name, a changed one gets a new name (rotation), so
// a template in use is never edited. A version upgrade reaches the control plane first and the
// MachineDeployments one at a time after it has rolled out.

import { cloneJson } from '../../../lib/clone.js';
import { renderTemplate } from '../../../lib/go-template.js';
import type {
  ClusterClassSpec,
  MachineDeploymentClass,
  MachineDeploymentTopology,
  Topology,
} from '../../api/cluster.x-k8s.io/cluster-class.js';
import { A, L, type Obj, obj, ownerRef, randomSuffix } from '../common.js';
import { CapiError } from '../errors.js';
import { applyPatches, type PatchItem } from './patches.js';
import type { ClusterVariable } from './variables.js';

export const TL = {
  owned: 'topology.cluster.x-k8s.io/owned',
  deploymentName: 'topology.cluster.x-k8s.io/deployment-name',
};
export const TA = {
  upgradeConcurrency: 'topology.cluster.x-k8s.io/upgrade-concurrency',
};

export interface Blueprint {
  spec: ClusterClassSpec;
  infrastructureClusterTemplate: Obj;
  controlPlaneTemplate: Obj;
  controlPlaneMachineInfrastructureTemplate?: Obj;
  machineDeploymentClasses: Map<string, { cls: MachineDeploymentClass; bootstrapTemplate: Obj; infrastructureTemplate: Obj }>;
}

export interface CurrentMachineDeployment {
  md: Obj;
  bootstrapTemplate?: Obj;
  infrastructureTemplate?: Obj;
}

export interface CurrentState {
  infrastructureCluster?: Obj;
  controlPlane?: Obj;
  controlPlaneMachineInfrastructureTemplate?: Obj;
  /** keyed by the topology's MachineDeployment name */
  machineDeployments: Map<string, CurrentMachineDeployment>;
}

export interface DesiredMachineDeployment {
  topologyName: string;
  md: Obj;
  bootstrapTemplate: Obj;
  infrastructureTemplate: Obj;
}

export interface DesiredState {
  infrastructureCluster: Obj;
  controlPlane: Obj;
  controlPlaneMachineInfrastructureTemplate?: Obj;
  machineDeployments: DesiredMachineDeployment[];
  /** MachineDeployments of topologies that are gone */
  machineDeploymentsToDelete: Obj[];
  /** the MachineHealthChecks the class's (or the topology's) healthCheck asks for, named after their target */
  machineHealthChecks: Obj[];
  /** why the topology is not fully applied (upstream's TopologyReconciled reasons), when it is not */
  pending?: { reason: string; message: string };
}

const MAX_NAME = 63;

/** A name from one of the class's naming templates (`{{ .cluster.name }}`, `{{ .random }}`, …), as upstream renders it. */
export function generateName(template: string, data: Obj): string {
  let name: string;
  try {
    name = renderTemplate(template, { ...data, random: randomSuffix() }, { missingKeyError: true });
  } catch (e) {
    throw new CapiError('TopologyInvalid', `failed to generate name from template ${JSON.stringify(template)}: ${(e as Error).message}`);
  }
  return name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 5)}${randomSuffix()}` : name;
}

const prefixed = (prefix: string) => `${prefix.slice(0, MAX_NAME - 5)}${randomSuffix()}`;

/** Is every field `want` sets the same in `have`? (What the server defaulted into `have` does not count.) */
export function isSubset(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) return Array.isArray(have) && want.length === have.length && want.every((w, i) => isSubset(w, have[i]));
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want as Obj).every(([k, v]) => v === undefined || isSubset(v, (have as Obj)[k]));
  }
  return want === have;
}

/** The group of an apiVersion ("" for the core group). */
export const groupOf = (apiVersion: unknown) => {
  const s = String(apiVersion ?? '');
  return s.includes('/') ? s.slice(0, s.indexOf('/')) : '';
};
/** A contract-versioned reference (apiGroup, kind, name) to an object. */
export const contractRef = (o: Obj) => ({ apiGroup: groupOf(o.apiVersion), kind: o.kind, name: obj(o.metadata).name });
const merge = (...maps: Array<Record<string, string> | undefined>): Record<string, string> => Object.assign({}, ...maps.filter(Boolean));
const clean = (o: Obj): Obj => JSON.parse(JSON.stringify(o)) as Obj;

function specReplicas(o: Obj | undefined): number | undefined {
  const r = obj(o?.spec).replicas;
  return typeof r === 'number' ? r : undefined;
}

/** Has a control plane rolled out `version` on all its machines? */
export function controlPlaneSettled(cp: Obj | undefined, version: string): boolean {
  if (!cp) return false;
  const st = obj(cp.status);
  const replicas = specReplicas(cp) ?? 1;
  return (
    obj(cp.spec).version === version &&
    st.version === version &&
    Number(st.replicas ?? -1) === replicas &&
    Number(st.upToDateReplicas ?? st.updatedReplicas ?? -1) === replicas &&
    Number(st.availableReplicas ?? st.readyReplicas ?? -1) === replicas &&
    Number(st.observedGeneration ?? 0) >= Number(obj(cp.metadata).generation ?? 0)
  );
}

/** Is a MachineDeployment still rolling out (machines not all up to date, or not at its size)? */
export function machineDeploymentRolling(md: Obj): boolean {
  const st = obj(md.status);
  const replicas = specReplicas(md) ?? 1;
  return (
    Number(st.observedGeneration ?? 0) < Number(obj(md.metadata).generation ?? 0) ||
    Number(st.replicas ?? -1) !== replicas ||
    Number(st.upToDateReplicas ?? -1) !== replicas ||
    Number(st.availableReplicas ?? -1) !== replicas
  );
}

const mdVersion = (md: Obj | undefined) => obj(obj(obj(md?.spec).template).spec).version as string | undefined;

/** The templates' clone of `template`, named `name`, owned by the cluster. */
function templateClone(template: Obj, name: string, cluster: Obj, labels: Record<string, string>): Obj {
  const meta = obj(template.metadata);
  return {
    apiVersion: template.apiVersion,
    kind: template.kind,
    metadata: {
      name,
      namespace: obj(cluster.metadata).namespace,
      labels: merge(meta.labels as Record<string, string>, labels),
      annotations: merge(meta.annotations as Record<string, string>, {
        [A.clonedFromName]: String(meta.name),
        [A.clonedFromGroupKind]: `${String(template.kind)}.${groupOf(template.apiVersion)}`,
      }),
      ownerReferences: [ownerRef(cluster as never)],
    },
    spec: cloneJson(template.spec),
  };
}

/** The object a template stamps out: its kind without "Template", its spec.template's metadata and spec. */
function fromTemplate(template: Obj): { apiVersion: unknown; kind: string; metadata: Obj; spec: Obj } {
  const t = obj(obj(template.spec).template);
  return {
    apiVersion: template.apiVersion,
    kind: String(template.kind).replace(/Template$/, ''),
    metadata: obj(t.metadata),
    spec: cloneJson(obj(t.spec)),
  };
}

function varsMap(values: ClusterVariable[]): Obj {
  const out: Obj = {};
  for (const v of values) out[v.name] = cloneJson(v.value);
  return out;
}

type HealthCheck = { enabled?: boolean; checks?: Obj; remediation?: Obj };
const defined = (h: HealthCheck | undefined) =>
  Boolean(h && (Object.keys(h.checks ?? {}).length || Object.keys(h.remediation ?? {}).length));

/**
 * A MachineHealthCheck for a control plane or MachineDeployment when its class or its topology
 * defines a health check (the topology's wins) and the topology does not disable it.
 */
function machineHealthCheck(
  target: Obj,
  cluster: Obj,
  selector: Record<string, string>,
  cls?: HealthCheck,
  topo?: HealthCheck,
): Obj | undefined {
  if ((!defined(cls) && !defined(topo)) || topo?.enabled === false) return undefined;
  const h = defined(topo) ? (topo as HealthCheck) : (cls as HealthCheck);
  const { maxInFlight: _m, ...remediation } = (h.remediation ?? {}) as Obj;
  return {
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'MachineHealthCheck',
    metadata: {
      name: obj(target.metadata).name,
      namespace: obj(target.metadata).namespace,
      labels: { [TL.owned]: '' },
      ownerReferences: [ownerRef(cluster as never)],
    },
    spec: clean({
      clusterName: obj(cluster.metadata).name,
      selector: { matchLabels: selector },
      ...(h.checks ? { checks: h.checks } : {}),
      ...(Object.keys(remediation).length ? { remediation } : {}),
    }),
  };
}

export interface DesiredInput {
  cluster: Obj;
  topology: Topology;
  blueprint: Blueprint;
  current: CurrentState;
  /** the Cluster's variables, defaulted and validated */
  variables: ClusterVariable[];
  /** per MachineDeployment topology: its overrides, defaulted and validated */
  overrides: Map<string, ClusterVariable[]>;
  controlPlaneOverrides?: ClusterVariable[];
}

export function computeDesiredState(input: DesiredInput): DesiredState {
  const { cluster, topology, blueprint: bp, current } = input;
  const cmeta = obj(cluster.metadata);
  const clusterName = String(cmeta.name);
  const namespace = String(cmeta.namespace);
  const version = topology.version;
  const ownedLabels = { [L.clusterName]: clusterName, [TL.owned]: '' };

  // ---- versions: control plane first, then the MachineDeployments one (or upgrade-concurrency) at a time ----
  const cpCurrent = current.controlPlane;
  const cpCurrentVersion = cpCurrent ? (obj(cpCurrent.spec).version as string | undefined) : undefined;
  const mdsBehindControlPlane = [...current.machineDeployments.values()]
    .filter((m) => cpCurrentVersion && mdVersion(m.md) !== cpCurrentVersion)
    .map((m) => String(obj(m.md.metadata).name));
  let cpVersion = version;
  let pending: DesiredState['pending'];
  if (cpCurrent && cpCurrentVersion && cpCurrentVersion !== version && mdsBehindControlPlane.length) {
    // a previous upgrade is still reaching the workers: the control plane waits for them
    cpVersion = cpCurrentVersion;
    pending = {
      reason: 'ControlPlaneUpgradePending',
      message: `Control plane upgrade to ${version} on hold. MachineDeployment(s) ${mdsBehindControlPlane.join(', ')} are upgrading`,
    };
  }
  const cpSettled = controlPlaneSettled(cpCurrent, version);
  const concurrency = Math.max(1, Number(obj(cmeta.annotations)[TA.upgradeConcurrency] ?? 1) || 1);
  let upgrading = [...current.machineDeployments.values()].filter(
    (m) => mdVersion(m.md) === version && machineDeploymentRolling(m.md) && cpCurrentVersion === version,
  ).length;
  const mdsPending: string[] = [];
  const mdsCreatePending: string[] = [];

  // ---- builtin variables ----
  const network = obj(obj(cluster.spec).clusterNetwork);
  const clusterBuiltin: Obj = clean({
    name: clusterName,
    namespace,
    uid: cmeta.uid,
    metadata: { labels: cmeta.labels ?? {}, annotations: cmeta.annotations ?? {} },
    topology: {
      version,
      class: topology.classRef.name,
      classNamespace: topology.classRef.namespace ?? namespace,
      classRef: { name: topology.classRef.name, namespace: topology.classRef.namespace ?? namespace },
    },
    network: {
      serviceDomain: network.serviceDomain,
      services: obj(network.services).cidrBlocks,
      pods: obj(network.pods).cidrBlocks,
    },
  });
  const spec = bp.spec;
  const infraName =
    (obj(current.infrastructureCluster?.metadata).name as string | undefined) ??
    generateName(spec.infrastructure.naming?.template ?? '{{ .cluster.name }}-{{ .random }}', { cluster: { name: clusterName } });
  const cpName =
    (obj(cpCurrent?.metadata).name as string | undefined) ??
    generateName(spec.controlPlane.naming?.template ?? '{{ .cluster.name }}-{{ .random }}', { cluster: { name: clusterName } });
  const cpReplicas = topology.controlPlane?.replicas ?? specReplicas(cpCurrent);
  const cpMachineMeta = {
    labels: merge(spec.controlPlane.metadata?.labels, topology.controlPlane?.metadata?.labels),
    annotations: merge(spec.controlPlane.metadata?.annotations, topology.controlPlane?.metadata?.annotations),
  };
  const cpInfraCurrentName = obj(current.controlPlaneMachineInfrastructureTemplate?.metadata).name as string | undefined;
  const controlPlaneBuiltin: Obj = clean({
    name: cpName,
    replicas: cpReplicas,
    version: cpVersion,
    metadata: cpMachineMeta,
    ...(cpInfraCurrentName ? { machineTemplate: { infrastructureRef: { name: cpInfraCurrentName } } } : {}),
  });
  const globalVars: Obj = { ...varsMap(input.variables), builtin: { cluster: clusterBuiltin, controlPlane: controlPlaneBuiltin } };

  // ---- the templates as this Cluster's patches leave them ----
  const items: PatchItem[] = [];
  const infraItem: PatchItem = {
    holder: { role: 'infrastructureCluster' },
    object: cloneJson(bp.infrastructureClusterTemplate),
    variables: globalVars,
  };
  const cpVars = input.controlPlaneOverrides?.length ? { ...globalVars, ...varsMap(input.controlPlaneOverrides) } : globalVars;
  const cpItem: PatchItem = { holder: { role: 'controlPlane' }, object: cloneJson(bp.controlPlaneTemplate), variables: cpVars };
  const cpInfraItem: PatchItem | undefined = bp.controlPlaneMachineInfrastructureTemplate
    ? { holder: { role: 'controlPlane' }, object: cloneJson(bp.controlPlaneMachineInfrastructureTemplate), variables: cpVars }
    : undefined;
  items.push(infraItem, cpItem);
  if (cpInfraItem) items.push(cpInfraItem);

  interface MdPlan {
    topo: MachineDeploymentTopology;
    cls: MachineDeploymentClass;
    name: string;
    version: string;
    bootstrap: PatchItem;
    infra: PatchItem;
    current?: CurrentMachineDeployment;
  }
  const plans: MdPlan[] = [];
  for (const topo of topology.workers?.machineDeployments ?? []) {
    const entry = bp.machineDeploymentClasses.get(topo.class);
    if (!entry)
      throw new CapiError(
        'TopologyInvalid',
        `MachineDeployment class ${JSON.stringify(topo.class)} is not defined in ClusterClass ${topology.classRef.name}`,
      );
    const cur = current.machineDeployments.get(topo.name);
    let v = version;
    if (!cur) {
      if (cpCurrent && !cpSettled) {
        mdsCreatePending.push(topo.name);
        continue;
      }
    } else {
      const curV = mdVersion(cur.md) ?? version;
      if (curV !== version) {
        if (cpSettled && upgrading < concurrency) upgrading++;
        else {
          v = curV;
          mdsPending.push(String(obj(cur.md.metadata).name));
        }
      }
    }
    const name =
      (obj(cur?.md.metadata).name as string | undefined) ??
      generateName(entry.cls.naming?.template ?? '{{ .cluster.name }}-{{ .machineDeployment.topologyName }}-{{ .random }}', {
        cluster: { name: clusterName },
        machineDeployment: { topologyName: topo.name },
      });
    const mdMeta = {
      labels: merge(entry.cls.metadata?.labels, topo.metadata?.labels),
      annotations: merge(entry.cls.metadata?.annotations, topo.metadata?.annotations),
    };
    const mdBuiltin = clean({
      version: v,
      class: topo.class,
      name,
      topologyName: topo.name,
      replicas: topo.replicas ?? specReplicas(cur?.md),
      metadata: mdMeta,
      ...(cur?.bootstrapTemplate ? { bootstrap: { configRef: { name: obj(cur.bootstrapTemplate.metadata).name } } } : {}),
      ...(cur?.infrastructureTemplate ? { infrastructureRef: { name: obj(cur.infrastructureTemplate.metadata).name } } : {}),
    });
    const overrides = input.overrides.get(topo.name) ?? [];
    const vars = { ...globalVars, ...varsMap(overrides), builtin: { ...(globalVars.builtin as Obj), machineDeployment: mdBuiltin } };
    const plan: MdPlan = {
      topo,
      cls: entry.cls,
      name,
      version: v,
      current: cur,
      bootstrap: {
        holder: { role: 'machineDeployment', class: topo.class },
        object: cloneJson(entry.bootstrapTemplate),
        variables: vars,
      },
      infra: {
        holder: { role: 'machineDeployment', class: topo.class },
        object: cloneJson(entry.infrastructureTemplate),
        variables: vars,
      },
    };
    plans.push(plan);
    items.push(plan.bootstrap, plan.infra);
  }
  applyPatches(spec.patches, items);

  // ---- the objects ----
  const owner = { ...ownerRef(cluster as never, true) };
  const ic = fromTemplate(infraItem.object);
  const infrastructureCluster: Obj = {
    apiVersion: ic.apiVersion,
    kind: ic.kind,
    metadata: {
      name: infraName,
      namespace,
      labels: merge(obj(ic.metadata).labels as Record<string, string>, ownedLabels),
      annotations: merge(obj(ic.metadata).annotations as Record<string, string>, {
        [A.clonedFromName]: String(obj(bp.infrastructureClusterTemplate.metadata).name),
        [A.clonedFromGroupKind]: `${String(bp.infrastructureClusterTemplate.kind)}.${groupOf(bp.infrastructureClusterTemplate.apiVersion)}`,
      }),
      ownerReferences: [owner],
    },
    spec: ic.spec,
  };

  // a template keeps its name while its content is what the class asks for; otherwise it rotates
  const rotate = (want: Obj, have: Obj | undefined, prefix: string, labels: Record<string, string>) => {
    if (have && obj(have).kind === want.kind && obj(have).apiVersion === want.apiVersion && isSubset(want.spec, have.spec))
      return templateClone(want, String(obj(have.metadata).name), cluster, labels);
    return templateClone(want, prefixed(prefix), cluster, labels);
  };
  const cpInfraTemplate = cpInfraItem
    ? rotate(cpInfraItem.object, current.controlPlaneMachineInfrastructureTemplate, `${clusterName}-`, ownedLabels)
    : undefined;

  const cp = fromTemplate(cpItem.object);
  const tmplMachine = obj(cp.spec.machineTemplate);
  const deletion = clean({ ...(spec.controlPlane.deletion ?? {}), ...(topology.controlPlane?.deletion ?? {}) });
  const readinessGates = topology.controlPlane?.readinessGates ?? spec.controlPlane.readinessGates;
  const v1beta1 = String(cpItem.object.apiVersion).endsWith('/v1beta1');
  const machineMeta = {
    labels: merge(obj(tmplMachine.metadata).labels as Record<string, string>, cpMachineMeta.labels, ownedLabels),
    annotations: merge(obj(tmplMachine.metadata).annotations as Record<string, string>, cpMachineMeta.annotations),
  };
  const machineTemplate: Obj = v1beta1
    ? clean({
        ...tmplMachine,
        metadata: machineMeta,
        ...(cpInfraTemplate
          ? {
              infrastructureRef: {
                apiVersion: cpInfraTemplate.apiVersion,
                kind: cpInfraTemplate.kind,
                name: obj(cpInfraTemplate.metadata).name,
                namespace,
              },
            }
          : {}),
      })
    : clean({
        ...tmplMachine,
        metadata: machineMeta,
        spec: {
          ...obj(tmplMachine.spec),
          ...(cpInfraTemplate ? { infrastructureRef: contractRef(cpInfraTemplate) } : {}),
          ...(Object.keys(deletion).length ? { deletion: { ...obj(obj(tmplMachine.spec).deletion), ...deletion } } : {}),
          ...(readinessGates ? { readinessGates } : {}),
        },
      });
  const controlPlane: Obj = {
    apiVersion: cp.apiVersion,
    kind: cp.kind,
    metadata: {
      name: cpName,
      namespace,
      labels: merge(cpMachineMeta.labels, ownedLabels),
      annotations: merge(cpMachineMeta.annotations, {
        [A.clonedFromName]: String(obj(bp.controlPlaneTemplate.metadata).name),
        [A.clonedFromGroupKind]: `${String(bp.controlPlaneTemplate.kind)}.${groupOf(bp.controlPlaneTemplate.apiVersion)}`,
      }),
      ownerReferences: [owner],
    },
    spec: clean({
      ...cp.spec,
      ...(cpReplicas !== undefined ? { replicas: cpReplicas } : {}),
      version: cpVersion,
      machineTemplate,
      ...(topology.controlPlane?.rollout?.after
        ? { rollout: { ...obj(cp.spec.rollout), after: topology.controlPlane.rollout.after } }
        : {}),
    }),
  };

  const machineDeployments: DesiredMachineDeployment[] = plans.map((p) => {
    const labels = { ...ownedLabels, [TL.deploymentName]: p.topo.name };
    const bootstrapTemplate = rotate(p.bootstrap.object, p.current?.bootstrapTemplate, `${clusterName}-${p.topo.name}-`, labels);
    const infrastructureTemplate = rotate(p.infra.object, p.current?.infrastructureTemplate, `${clusterName}-${p.topo.name}-`, labels);
    const meta = {
      labels: merge(p.cls.metadata?.labels, p.topo.metadata?.labels, labels),
      annotations: merge(p.cls.metadata?.annotations, p.topo.metadata?.annotations),
    };
    const mdDeletion = clean({ ...(p.cls.deletion ?? {}), ...(p.topo.deletion ?? {}) });
    const { order, ...machineDeletion } = mdDeletion as { order?: string } & Obj;
    const strategy = p.topo.rollout?.strategy ?? p.cls.rollout?.strategy;
    const md: Obj = {
      apiVersion: 'cluster.x-k8s.io/v1beta2',
      kind: 'MachineDeployment',
      metadata: { name: p.name, namespace, labels: meta.labels, annotations: meta.annotations, ownerReferences: [owner] },
      spec: clean({
        clusterName,
        ...(p.topo.replicas !== undefined ? { replicas: p.topo.replicas } : {}),
        selector: { matchLabels: labels },
        template: {
          metadata: meta,
          spec: {
            clusterName,
            version: p.version,
            bootstrap: { configRef: contractRef(bootstrapTemplate) },
            infrastructureRef: contractRef(infrastructureTemplate),
            failureDomain: p.topo.failureDomain ?? p.cls.failureDomain,
            minReadySeconds: p.topo.minReadySeconds ?? p.cls.minReadySeconds,
            readinessGates: p.topo.readinessGates ?? p.cls.readinessGates,
            ...(Object.keys(machineDeletion).length ? { deletion: machineDeletion } : {}),
          },
        },
        ...(strategy || p.topo.rollout?.after ? { rollout: { after: p.topo.rollout?.after, strategy } } : {}),
        ...(order ? { deletion: { order } } : {}),
      }),
    };
    return { topologyName: p.topo.name, md, bootstrapTemplate, infrastructureTemplate };
  });

  const machineHealthChecks: Obj[] = [];
  if (bp.controlPlaneMachineInfrastructureTemplate) {
    const mhc = machineHealthCheck(
      controlPlane,
      cluster,
      { [TL.owned]: '', [L.controlPlane]: '' },
      spec.controlPlane.healthCheck as HealthCheck | undefined,
      topology.controlPlane?.healthCheck as HealthCheck | undefined,
    );
    if (mhc) machineHealthChecks.push(mhc);
  }
  for (const [i, p] of plans.entries()) {
    const mhc = machineHealthCheck(
      machineDeployments[i].md,
      cluster,
      { [TL.owned]: '', [TL.deploymentName]: p.topo.name },
      p.cls.healthCheck as HealthCheck | undefined,
      p.topo.healthCheck as HealthCheck | undefined,
    );
    if (mhc) machineHealthChecks.push(mhc);
  }

  const wanted = new Set((topology.workers?.machineDeployments ?? []).map((m) => m.name));
  const machineDeploymentsToDelete = [...current.machineDeployments.entries()].filter(([n]) => !wanted.has(n)).map(([, m]) => m.md);

  if (!pending && mdsPending.length)
    pending = {
      reason: 'MachineDeploymentsUpgradePending',
      message: `MachineDeployment(s) ${mdsPending.join(', ')} upgrade to version ${version} on hold. ${
        cpSettled ? 'Waiting for the MachineDeployments upgrading before them' : `Control plane is upgrading to version ${version}`
      }`,
    };
  if (!pending && mdsCreatePending.length)
    pending = {
      reason: 'MachineDeploymentsCreatePending',
      message: `MachineDeployment(s) for topologies ${mdsCreatePending.join(', ')} creation on hold. Control plane is upgrading to version ${version}`,
    };
  return {
    infrastructureCluster,
    controlPlane,
    ...(cpInfraTemplate ? { controlPlaneMachineInfrastructureTemplate: cpInfraTemplate } : {}),
    machineDeployments,
    machineDeploymentsToDelete,
    machineHealthChecks,
    ...(pending ? { pending } : {}),
  };
}
