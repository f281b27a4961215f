// ClusterClass (cluster.x-k8s.io) at v1beta2 (storage) and v1beta1, and the typed Cluster topology
// both versions carry. Field names follow api/core/v1beta2 clusterclass_types.go and cluster_types.go;
// the v1beta1 spellings (`ref`, `template.bootstrap.ref`, Duration strings, `machineHealthCheck`,
// `namingStrategy`, `strategy`) convert as upstream's conversion does.
import { z } from 'zod';
import { intOrString, type KindDefinition } from '../crdgen.js';
import {
  conditionsToV1beta1,
  conditionsToV1beta2,
  durationToSeconds,
  getPath,
  isObj,
  move,
  secondsToDuration,
  setPath,
} from '../versioning.js';
import { age, condition, deprecatedV1beta1, machineTaint, objectMeta, readinessGate, v1beta1Condition } from './common.js';

type Obj = Record<string, unknown>;

const taint = machineTaint;
const availabilityGate = z.object({ conditionType: z.string().min(1), polarity: z.enum(['Positive', 'Negative']).optional() });
const naming = z.object({ template: z.string().min(1).max(1024).optional().describe('Go template for the generated names') });

/** A template the class points at: full apiVersion (templates are not contract-versioned). */
const templateRef = z
  .object({
    kind: z.string().min(1).max(63),
    name: z.string().min(1).max(253),
    apiVersion: z.string().min(1).max(317),
  })
  .describe('A template in the ClusterClass namespace, cloned for each Cluster that uses the class');
const v1beta1Ref = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
});
const localObjectTemplate = z.object({ ref: v1beta1Ref });

const nodeCondition = z.object({ type: z.string().min(1), status: z.string().min(1), timeoutSeconds: z.number().int().min(0).optional() });
const machineCondition = z.object({
  type: z.string().min(1),
  status: z.enum(['True', 'False', 'Unknown']),
  timeoutSeconds: z.number().int().min(0).optional(),
});
const checks = z.object({
  nodeStartupTimeoutSeconds: z.number().int().min(0).optional(),
  unhealthyNodeConditions: z.array(nodeCondition).max(100).optional(),
  unhealthyMachineConditions: z.array(machineCondition).max(100).optional(),
});
const triggerIf = z.object({ unhealthyLessThanOrEqualTo: intOrString.optional(), unhealthyInRange: z.string().max(32).optional() });
const remediationTemplateRef = z.object({ kind: z.string().min(1), name: z.string().min(1), apiVersion: z.string().min(1) });
const cpHealthCheck = z.object({
  checks: checks.optional(),
  remediation: z.object({ triggerIf: triggerIf.optional(), templateRef: remediationTemplateRef.optional() }).optional(),
});
const mdHealthCheck = z.object({
  checks: checks.optional(),
  remediation: z
    .object({ maxInFlight: intOrString.optional(), triggerIf: triggerIf.optional(), templateRef: remediationTemplateRef.optional() })
    .optional(),
});
const deletionSeconds = {
  nodeDrainTimeoutSeconds: z.number().int().min(0).optional(),
  nodeVolumeDetachTimeoutSeconds: z.number().int().min(0).optional(),
  nodeDeletionTimeoutSeconds: z.number().int().min(0).optional(),
};
const deletionOrder = z.enum(['Random', 'Newest', 'Oldest']);
const rollingUpdate = z.object({ maxUnavailable: intOrString.optional(), maxSurge: intOrString.optional() });
const rolloutStrategy = z.object({ type: z.enum(['RollingUpdate', 'OnDelete']).optional(), rollingUpdate: rollingUpdate.optional() });

const machineDeploymentClass = z.object({
  metadata: objectMeta.optional(),
  class: z.string().min(1).max(256).describe('The name other objects (Cluster topologies, patch selectors) use for this class'),
  bootstrap: z.object({ templateRef }),
  infrastructure: z.object({ templateRef }),
  healthCheck: mdHealthCheck.optional().describe('A MachineHealthCheck for every MachineDeployment of this class'),
  failureDomain: z.string().min(1).max(256).optional(),
  naming: naming.optional(),
  deletion: z.object({ order: deletionOrder.optional(), ...deletionSeconds }).optional(),
  taints: z.array(taint).max(64).optional(),
  minReadySeconds: z.number().int().min(0).optional(),
  readinessGates: z.array(readinessGate).max(32).optional(),
  rollout: z.object({ strategy: rolloutStrategy.optional() }).optional(),
});
const machinePoolClass = z.object({
  metadata: objectMeta.optional(),
  class: z.string().min(1).max(256),
  bootstrap: z.object({ templateRef }),
  infrastructure: z.object({ templateRef }),
  failureDomains: z.array(z.string()).optional(),
  naming: naming.optional(),
  deletion: z.object(deletionSeconds).optional(),
  taints: z.array(taint).max(64).optional(),
  minReadySeconds: z.number().int().min(0).optional(),
});

/**
 * A variable's OpenAPI schema: the top level typed, nested schemas kept as written (a structural
 * CRD schema cannot recurse); the admission webhook checks the whole tree.
 */
const jsonSchemaProps = z
  .object({
    description: z.string().optional(),
    example: z.unknown().optional(),
    type: z.string().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
    additionalProperties: z.record(z.string(), z.unknown()).optional(),
    maxProperties: z.number().int().optional(),
    minProperties: z.number().int().optional(),
    required: z.array(z.string()).optional(),
    items: z.record(z.string(), z.unknown()).optional(),
    maxItems: z.number().int().optional(),
    minItems: z.number().int().optional(),
    uniqueItems: z.boolean().optional(),
    format: z.string().optional(),
    maxLength: z.number().int().optional(),
    minLength: z.number().int().optional(),
    pattern: z.string().optional(),
    maximum: z.number().int().optional(),
    exclusiveMaximum: z.boolean().optional(),
    minimum: z.number().int().optional(),
    exclusiveMinimum: z.boolean().optional(),
    'x-kubernetes-preserve-unknown-fields': z.boolean().optional(),
    enum: z.array(z.unknown()).optional(),
    default: z.unknown().optional(),
    'x-kubernetes-validations': z
      .array(
        z.object({
          rule: z.string().min(1),
          message: z.string().optional(),
          messageExpression: z.string().optional(),
          reason: z.enum(['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate']).optional(),
          fieldPath: z.string().optional(),
        }),
      )
      .optional(),
    'x-metadata': objectMeta.optional(),
    'x-kubernetes-int-or-string': z.boolean().optional(),
    allOf: z.array(z.record(z.string(), z.unknown())).optional(),
    oneOf: z.array(z.record(z.string(), z.unknown())).optional(),
    anyOf: z.array(z.record(z.string(), z.unknown())).optional(),
    not: z.record(z.string(), z.unknown()).optional(),
  })
  .describe('The OpenAPI v3 schema a Cluster\u2019s value for this variable must satisfy');

const variable = z.object({
  name: z.string().min(1).max(256).describe('The name patches and Cluster topologies refer to; must not start with "builtin"'),
  required: z.boolean().describe('Whether every Cluster using the class must set this variable (a default counts)'),
  deprecatedV1Beta1Metadata: objectMeta.optional(),
  schema: z.object({ openAPIV3Schema: jsonSchemaProps }),
});
const v1beta1Variable = z.object({
  name: z.string().min(1),
  required: z.boolean(),
  metadata: objectMeta.optional(),
  schema: z.object({ openAPIV3Schema: jsonSchemaProps }),
});

const jsonPatch = z.object({
  op: z.enum(['add', 'replace', 'remove']).describe('add, replace or remove, as RFC 6902'),
  path: z.string().min(1).max(512).describe('A JSON pointer into the template, starting with /spec'),
  value: z.unknown().optional().describe('The literal value to add or replace with'),
  valueFrom: z
    .object({
      variable: z.string().min(1).max(256).optional().describe('A variable (or builtin.*) whose value is used, with .field paths'),
      template: z.string().min(1).max(10240).optional().describe('A Go template rendered over the variables, parsed as YAML'),
    })
    .optional(),
});
const selector = z.object({
  apiVersion: z.string().min(1).describe('The apiVersion of the templates this patch applies to'),
  kind: z.string().min(1).describe('The kind of the templates this patch applies to'),
  matchResources: z.object({
    controlPlane: z.boolean().optional(),
    infrastructureCluster: z.boolean().optional(),
    machineDeploymentClass: z.object({ names: z.array(z.string().min(1)).optional() }).optional(),
    machinePoolClass: z.object({ names: z.array(z.string().min(1)).optional() }).optional(),
  }),
});
const patch = z.object({
  name: z.string().min(1).max(256),
  description: z.string().max(1024).optional(),
  enabledIf: z.string().min(1).max(256).optional().describe('A Go template over the variables; the patch applies when it renders "true"'),
  definitions: z
    .array(z.object({ selector, jsonPatches: z.array(jsonPatch).max(100) }))
    .max(100)
    .optional(),
  external: z
    .object({
      generatePatchesExtension: z.string().optional(),
      validateTopologyExtension: z.string().optional(),
      discoverVariablesExtension: z.string().optional(),
      settings: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});
const statusVariable = z.object({
  name: z.string().min(1),
  definitionsConflict: z.boolean().optional(),
  definitions: z.array(
    z.object({
      from: z.string().min(1),
      required: z.boolean(),
      deprecatedV1Beta1Metadata: objectMeta.optional(),
      metadata: objectMeta.optional(),
      schema: z.object({ openAPIV3Schema: jsonSchemaProps }),
    }),
  ),
});

const v1beta2Schema = z.object({
  spec: z
    .object({
      availabilityGates: z.array(availabilityGate).max(32).optional(),
      infrastructure: z
        .object({ templateRef, naming: naming.optional() })
        .describe('The infrastructure cluster template (e.g. a Metal3ClusterTemplate)'),
      controlPlane: z
        .object({
          metadata: objectMeta.optional(),
          templateRef,
          machineInfrastructure: z.object({ templateRef }).optional().describe('The machine template of control plane machines'),
          healthCheck: cpHealthCheck.optional().describe('A MachineHealthCheck for the control plane machines'),
          naming: naming.optional(),
          deletion: z.object(deletionSeconds).optional(),
          taints: z.array(taint).max(64).optional(),
          readinessGates: z.array(readinessGate).max(32).optional(),
        })
        .describe('The control plane template (e.g. a KubeadmControlPlaneTemplate) and its machines'),
      workers: z
        .object({
          machineDeployments: z.array(machineDeploymentClass).max(100).optional(),
          machinePools: z.array(machinePoolClass).max(100).optional(),
        })
        .optional(),
      variables: z.array(variable).max(1000).optional().describe('The variables a Cluster using this class may or must set'),
      patches: z.array(patch).max(1000).optional().describe('Changes to the cloned templates, applied in order'),
      upgrade: z.object({ external: z.object({ generateUpgradePlanExtension: z.string().optional() }).optional() }).optional(),
      kubernetesVersions: z.array(z.string().min(1).max(256)).max(100).optional(),
    })
    .optional(),
  status: z
    .object({
      conditions: z.array(condition).max(32).optional(),
      variables: z.array(statusVariable).max(1000).optional(),
      observedGeneration: z.number().int().optional(),
      deprecated: deprecatedV1beta1().optional(),
    })
    .optional(),
});

const durations = {
  nodeDrainTimeout: z.string().optional(),
  nodeVolumeDetachTimeout: z.string().optional(),
  nodeDeletionTimeout: z.string().optional(),
};
const v1beta1Mhc = z.object({
  unhealthyConditions: z.array(z.object({ type: z.string(), status: z.string(), timeout: z.string() })).optional(),
  unhealthyMachineConditions: z.array(z.object({ type: z.string(), status: z.string(), timeout: z.string() })).optional(),
  maxUnhealthy: intOrString.optional(),
  unhealthyRange: z.string().optional(),
  nodeStartupTimeout: z.string().optional(),
  remediationTemplate: v1beta1Ref.optional(),
});
const v1beta1Strategy = z.object({
  type: z.enum(['RollingUpdate', 'OnDelete']).optional(),
  rollingUpdate: z
    .object({ maxUnavailable: intOrString.optional(), maxSurge: intOrString.optional(), deletePolicy: z.string().optional() })
    .optional(),
  remediation: z.object({ maxInFlight: intOrString.optional() }).optional(),
});

/** What a v1beta1 MachineDeployment class and a v1beta1 MachineDeployment topology both carry. */
const v1beta1MachineDeploymentShared = {
  failureDomain: z.string().optional(),
  minReadySeconds: z.number().int().optional(),
  readinessGates: z.array(readinessGate).optional(),
  strategy: v1beta1Strategy.optional(),
  ...durations,
};

const v1beta1Schema = z.object({
  spec: z
    .object({
      availabilityGates: z.array(availabilityGate).optional(),
      infrastructure: localObjectTemplate.optional(),
      infrastructureNamingStrategy: naming.optional(),
      controlPlane: z
        .object({
          metadata: objectMeta.optional(),
          ref: v1beta1Ref,
          machineInfrastructure: localObjectTemplate.optional(),
          machineHealthCheck: v1beta1Mhc.optional(),
          namingStrategy: naming.optional(),
          readinessGates: z.array(readinessGate).optional(),
          ...durations,
        })
        .optional(),
      workers: z
        .object({
          machineDeployments: z
            .array(
              z.object({
                class: z.string(),
                template: z.object({
                  metadata: objectMeta.optional(),
                  bootstrap: localObjectTemplate,
                  infrastructure: localObjectTemplate,
                }),
                machineHealthCheck: v1beta1Mhc.optional(),
                namingStrategy: naming.optional(),
                ...v1beta1MachineDeploymentShared,
              }),
            )
            .optional(),
          machinePools: z.array(z.record(z.string(), z.unknown())).optional(),
        })
        .optional(),
      variables: z.array(v1beta1Variable).optional(),
      patches: z.array(patch).optional(),
    })
    .optional(),
  status: z
    .object({
      conditions: z.array(v1beta1Condition).optional(),
      variables: z.array(statusVariable).optional(),
      observedGeneration: z.number().int().optional(),
      v1beta2: z.object({ conditions: z.array(condition).optional() }).optional(),
    })
    .optional(),
});

// ---- the Cluster's topology, typed ----

const clusterVariable = z.object({
  name: z.string().min(1).max(256),
  value: z.unknown().describe('Any JSON value; checked against the class\u2019s schema for the variable'),
});
const overrides = z.object({
  overrides: z
    .array(clusterVariable)
    .max(1000)
    .optional()
    .describe('Values that replace the Cluster\u2019s for the templates of this control plane or MachineDeployment only'),
});
const topologyHealthCheck = (remediation: z.ZodObject) =>
  z.object({ enabled: z.boolean().optional(), checks: checks.optional(), remediation: remediation.optional() });

export const topologyV1beta2 = z.object({
  classRef: z
    .object({ name: z.string().min(1).max(253), namespace: z.string().min(1).max(63).optional() })
    .describe('The ClusterClass this Cluster is built from (in the Cluster\u2019s namespace unless namespace is set)'),
  version: z.string().min(1).max(256).describe('The Kubernetes version of the control plane and the workers'),
  controlPlane: z
    .object({
      metadata: objectMeta.optional(),
      replicas: z.number().int().optional().describe('Control plane machines; edit to scale the control plane'),
      rollout: z
        .object({ after: z.string().optional().describe('Roll out every control plane machine created before this time') })
        .optional(),
      healthCheck: topologyHealthCheck(cpHealthCheck.shape.remediation.unwrap()).optional(),
      deletion: z.object(deletionSeconds).optional(),
      taints: z.array(taint).max(64).optional(),
      readinessGates: z.array(readinessGate).max(32).optional(),
      variables: overrides.optional(),
    })
    .optional(),
  workers: z
    .object({
      machineDeployments: z
        .array(
          z.object({
            metadata: objectMeta.optional(),
            class: z.string().min(1).max(256).describe('A machineDeployments class of the ClusterClass'),
            name: z.string().min(1).max(63).describe('Unique within the topology; part of the generated names'),
            failureDomain: z.string().min(1).max(256).optional(),
            replicas: z.number().int().optional().describe('Worker machines of this MachineDeployment; edit to scale it'),
            healthCheck: topologyHealthCheck(mdHealthCheck.shape.remediation.unwrap())
              .optional()
              .describe('Overrides the class\u2019s health check for these machines; enabled: false turns it off'),
            deletion: z.object({ order: deletionOrder.optional(), ...deletionSeconds }).optional(),
            taints: z.array(taint).max(64).optional(),
            minReadySeconds: z.number().int().min(0).optional(),
            readinessGates: z.array(readinessGate).max(32).optional(),
            rollout: z.object({ after: z.string().optional(), strategy: rolloutStrategy.optional() }).optional(),
            variables: overrides.optional(),
          }),
        )
        .max(2000)
        .optional(),
      machinePools: z.array(z.record(z.string(), z.unknown())).max(2000).optional(),
    })
    .optional(),
  variables: z.array(clusterVariable).max(1000).optional().describe('Values for the ClusterClass\u2019s variables'),
});

export const topologyV1beta1 = z.object({
  class: z.string().min(1),
  classNamespace: z.string().optional(),
  version: z.string().min(1),
  rolloutAfter: z.string().optional(),
  controlPlane: z
    .object({
      metadata: objectMeta.optional(),
      replicas: z.number().int().optional(),
      machineHealthCheck: v1beta1Mhc.extend({ enable: z.boolean().optional() }).optional(),
      readinessGates: z.array(readinessGate).optional(),
      variables: overrides.optional(),
      ...durations,
    })
    .optional(),
  workers: z
    .object({
      machineDeployments: z
        .array(
          z.object({
            metadata: objectMeta.optional(),
            class: z.string(),
            name: z.string(),
            replicas: z.number().int().optional(),
            machineHealthCheck: v1beta1Mhc.extend({ enable: z.boolean().optional() }).optional(),
            variables: overrides.optional(),
            ...v1beta1MachineDeploymentShared,
          }),
        )
        .optional(),
      machinePools: z.array(z.record(z.string(), z.unknown())).optional(),
    })
    .optional(),
  variables: z.array(clusterVariable).optional(),
});

export type ClusterClassSpec = NonNullable<z.infer<typeof v1beta2Schema>['spec']>;
export type ClusterClassVariable = z.infer<typeof variable>;
export type ClusterClassPatch = z.infer<typeof patch>;
export type JSONPatch = z.infer<typeof jsonPatch>;
export type MachineDeploymentClass = z.infer<typeof machineDeploymentClass>;
export type TemplateRef = z.infer<typeof templateRef>;
export type Topology = z.infer<typeof topologyV1beta2>;
export type MachineDeploymentTopology = NonNullable<NonNullable<Topology['workers']>['machineDeployments']>[number];

// ---- conversion ----

const DELETION = [
  ['nodeDrainTimeout', 'nodeDrainTimeoutSeconds'],
  ['nodeVolumeDetachTimeout', 'nodeVolumeDetachTimeoutSeconds'],
  ['nodeDeletionTimeout', 'nodeDeletionTimeoutSeconds'],
] as const;

/** v1beta1 `ref` {apiVersion, kind, name, namespace} → v1beta2 templateRef {apiVersion, kind, name}. */
function refToTemplateRef(o: Obj, from: string, to: string): Obj {
  const ref = getPath(o, from);
  let r = setPath(o, from, undefined);
  if (isObj(ref)) r = setPath(r, to, { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name });
  return r;
}
function templateRefToRef(o: Obj, from: string, to: string, namespace: unknown): Obj {
  const ref = getPath(o, from);
  let r = setPath(o, from, undefined);
  if (isObj(ref)) r = setPath(r, to, { ...ref, ...(namespace ? { namespace } : {}) });
  return r;
}

/** v1beta1 machineHealthCheck (Durations, maxUnhealthy, remediationTemplate) → v1beta2 healthCheck. */
function mhcToHealthCheck(m: unknown): Obj | undefined {
  if (!isObj(m)) return undefined;
  const secs = (d: unknown) => (typeof d === 'string' ? (durationToSeconds({ d }, 'd', 's').s as number | undefined) : undefined);
  const conds = (list: unknown) =>
    Array.isArray(list)
      ? (list as Obj[]).map((c) => ({
          type: c.type,
          status: c.status,
          ...(secs(c.timeout) !== undefined ? { timeoutSeconds: secs(c.timeout) } : {}),
        }))
      : undefined;
  const hc: Obj = {};
  if (m.enable !== undefined) hc.enabled = m.enable;
  const checksOut: Obj = {};
  if (secs(m.nodeStartupTimeout) !== undefined) checksOut.nodeStartupTimeoutSeconds = secs(m.nodeStartupTimeout);
  if (conds(m.unhealthyConditions)) checksOut.unhealthyNodeConditions = conds(m.unhealthyConditions);
  if (conds(m.unhealthyMachineConditions)) checksOut.unhealthyMachineConditions = conds(m.unhealthyMachineConditions);
  if (Object.keys(checksOut).length) hc.checks = checksOut;
  const trig: Obj = {};
  if (m.maxUnhealthy !== undefined) trig.unhealthyLessThanOrEqualTo = m.maxUnhealthy;
  if (m.unhealthyRange) trig.unhealthyInRange = m.unhealthyRange;
  const rem: Obj = {};
  if (Object.keys(trig).length) rem.triggerIf = trig;
  if (isObj(m.remediationTemplate))
    rem.templateRef = { apiVersion: m.remediationTemplate.apiVersion, kind: m.remediationTemplate.kind, name: m.remediationTemplate.name };
  if (Object.keys(rem).length) hc.remediation = rem;
  return hc;
}

function healthCheckToMhc(h: unknown, namespace: unknown): Obj | undefined {
  if (!isObj(h)) return undefined;
  const dur = (s: unknown) => (typeof s === 'number' ? (secondsToDuration({ s }, 's', 'd').d as string) : undefined);
  const checksIn = isObj(h.checks) ? h.checks : {};
  const rem = isObj(h.remediation) ? h.remediation : {};
  const trig = isObj(rem.triggerIf) ? rem.triggerIf : {};
  const conds = (list: unknown) =>
    Array.isArray(list)
      ? (list as Obj[]).map((c) => ({ type: c.type, status: c.status, timeout: dur(c.timeoutSeconds) ?? '0s' }))
      : undefined;
  const m: Obj = {};
  if (h.enabled !== undefined) m.enable = h.enabled;
  if (conds(checksIn.unhealthyNodeConditions)) m.unhealthyConditions = conds(checksIn.unhealthyNodeConditions);
  if (conds(checksIn.unhealthyMachineConditions)) m.unhealthyMachineConditions = conds(checksIn.unhealthyMachineConditions);
  if (dur(checksIn.nodeStartupTimeoutSeconds)) m.nodeStartupTimeout = dur(checksIn.nodeStartupTimeoutSeconds);
  if (trig.unhealthyLessThanOrEqualTo !== undefined) m.maxUnhealthy = trig.unhealthyLessThanOrEqualTo;
  if (trig.unhealthyInRange) m.unhealthyRange = trig.unhealthyInRange;
  if (isObj(rem.templateRef)) m.remediationTemplate = { ...rem.templateRef, ...(namespace ? { namespace } : {}) };
  return Object.keys(m).length ? m : undefined;
}

/** v1beta1 MachineDeployment strategy → v1beta2 rollout.strategy, deletion.order and healthCheck.remediation.maxInFlight. */
function strategyToHub(md: Obj): Obj {
  let r = md;
  const s = r.strategy;
  r = setPath(r, 'strategy', undefined);
  if (isObj(s)) {
    const ru = isObj(s.rollingUpdate) ? s.rollingUpdate : undefined;
    const strat: Obj = {};
    if (s.type) strat.type = s.type;
    if (ru && (ru.maxSurge !== undefined || ru.maxUnavailable !== undefined))
      strat.rollingUpdate = { maxSurge: ru.maxSurge, maxUnavailable: ru.maxUnavailable };
    if (Object.keys(strat).length) r = setPath(r, 'rollout.strategy', strat);
    if (ru?.deletePolicy) r = setPath(r, 'deletion.order', ru.deletePolicy);
    const mif = isObj(s.remediation) ? s.remediation.maxInFlight : undefined;
    if (mif !== undefined) r = setPath(r, 'healthCheck.remediation.maxInFlight', mif);
  }
  return r;
}
function strategyFromHub(md: Obj): Obj {
  let r = md;
  const strat = getPath(r, 'rollout.strategy');
  const order = getPath(r, 'deletion.order');
  const mif = getPath(r, 'healthCheck.remediation.maxInFlight');
  r = setPath(r, 'rollout', isObj(r.rollout) ? { ...r.rollout, strategy: undefined } : undefined);
  if (isObj(r.rollout) && Object.values(r.rollout).every((v) => v === undefined)) r = setPath(r, 'rollout', undefined);
  r = setPath(r, 'deletion.order', undefined);
  if (isObj(r.deletion) && !Object.keys(r.deletion).length) r = setPath(r, 'deletion', undefined);
  r = setPath(r, 'healthCheck.remediation.maxInFlight', undefined);
  const out: Obj = {};
  if (isObj(strat)) {
    if (strat.type) out.type = strat.type;
    if (isObj(strat.rollingUpdate)) out.rollingUpdate = { ...strat.rollingUpdate };
  }
  if (order) out.rollingUpdate = { ...(isObj(out.rollingUpdate) ? out.rollingUpdate : {}), deletePolicy: order };
  if (mif !== undefined) out.remediation = { maxInFlight: mif };
  if (Object.keys(out).length) r = setPath(r, 'strategy', out);
  return r;
}

function deletionToHub(o: Obj): Obj {
  let r = o;
  for (const [from, to] of DELETION) r = durationToSeconds(r, from, `deletion.${to}`);
  return r;
}
function deletionFromHub(o: Obj): Obj {
  let r = o;
  for (const [to, from] of DELETION) r = secondsToDuration(r, `deletion.${from}`, to);
  if (isObj(r.deletion) && !Object.keys(r.deletion).length) r = setPath(r, 'deletion', undefined);
  return r;
}
function mhcToHub(o: Obj): Obj {
  const hc = mhcToHealthCheck(o.machineHealthCheck);
  let r = setPath(o, 'machineHealthCheck', undefined);
  if (hc && Object.keys(hc).length) r = setPath(r, 'healthCheck', { ...(isObj(r.healthCheck) ? r.healthCheck : {}), ...hc });
  return r;
}
function mhcFromHub(o: Obj, ns: unknown): Obj {
  const m = healthCheckToMhc(o.healthCheck, ns);
  let r = setPath(o, 'healthCheck', undefined);
  if (m) r = setPath(r, 'machineHealthCheck', m);
  return r;
}
const mapList = (o: Obj, path: string, f: (x: Obj) => Obj): Obj => {
  const list = getPath(o, path);
  return Array.isArray(list)
    ? setPath(
        o,
        path,
        (list as Obj[]).map((x) => (isObj(x) ? f(x) : x)),
      )
    : o;
};

export function clusterClassToHub(o: Obj): Obj {
  let r = conditionsToV1beta2(o);
  r = refToTemplateRef(r, 'spec.infrastructure.ref', 'spec.infrastructure.templateRef');
  r = move(r, 'spec.infrastructureNamingStrategy', 'spec.infrastructure.naming');
  r = refToTemplateRef(r, 'spec.controlPlane.ref', 'spec.controlPlane.templateRef');
  r = refToTemplateRef(r, 'spec.controlPlane.machineInfrastructure.ref', 'spec.controlPlane.machineInfrastructure.templateRef');
  r = move(r, 'spec.controlPlane.namingStrategy', 'spec.controlPlane.naming');
  if (isObj(getPath(r, 'spec.controlPlane'))) {
    r = setPath(r, 'spec.controlPlane', mhcToHub(deletionToHub(getPath(r, 'spec.controlPlane') as Obj)));
  }
  r = mapList(r, 'spec.workers.machineDeployments', (md) => {
    let x = md;
    x = move(x, 'template.metadata', 'metadata');
    x = refToTemplateRef(x, 'template.bootstrap.ref', 'bootstrap.templateRef');
    x = refToTemplateRef(x, 'template.infrastructure.ref', 'infrastructure.templateRef');
    x = setPath(x, 'template', undefined);
    x = move(x, 'namingStrategy', 'naming');
    return mhcToHub(strategyToHub(deletionToHub(x)));
  });
  r = mapList(r, 'spec.variables', (v) => move(v, 'metadata', 'deprecatedV1Beta1Metadata'));
  r = mapList(r, 'status.variables', (v) => mapList(v, 'definitions', (d) => move(d, 'metadata', 'deprecatedV1Beta1Metadata')));
  return r;
}

export function clusterClassFromHub(o: Obj): Obj {
  const ns = getPath(o, 'metadata.namespace');
  let r = conditionsToV1beta1(o);
  r = templateRefToRef(r, 'spec.infrastructure.templateRef', 'spec.infrastructure.ref', ns);
  r = move(r, 'spec.infrastructure.naming', 'spec.infrastructureNamingStrategy');
  r = templateRefToRef(r, 'spec.controlPlane.templateRef', 'spec.controlPlane.ref', ns);
  r = templateRefToRef(r, 'spec.controlPlane.machineInfrastructure.templateRef', 'spec.controlPlane.machineInfrastructure.ref', ns);
  r = move(r, 'spec.controlPlane.naming', 'spec.controlPlane.namingStrategy');
  r = setPath(r, 'spec.controlPlane.taints', undefined);
  if (isObj(getPath(r, 'spec.controlPlane'))) {
    r = setPath(r, 'spec.controlPlane', mhcFromHub(deletionFromHub(getPath(r, 'spec.controlPlane') as Obj), ns));
  }
  r = mapList(r, 'spec.workers.machineDeployments', (md) => {
    let x = mhcFromHub(strategyFromHub(deletionFromHub(md)), ns);
    x = move(x, 'metadata', 'template.metadata');
    x = templateRefToRef(x, 'bootstrap.templateRef', 'template.bootstrap.ref', ns);
    x = templateRefToRef(x, 'infrastructure.templateRef', 'template.infrastructure.ref', ns);
    x = setPath(x, 'bootstrap', undefined);
    x = setPath(x, 'infrastructure', undefined);
    x = setPath(x, 'taints', undefined);
    x = move(x, 'naming', 'namingStrategy');
    return x;
  });
  r = mapList(r, 'spec.variables', (v) => move(v, 'deprecatedV1Beta1Metadata', 'metadata'));
  r = mapList(r, 'status.variables', (v) => mapList(v, 'definitions', (d) => move(d, 'deprecatedV1Beta1Metadata', 'metadata')));
  for (const f of ['spec.upgrade', 'spec.kubernetesVersions']) r = setPath(r, f, undefined);
  return r;
}

/** A v1beta1 Cluster topology → v1beta2 (classRef, rollout, deletion seconds, healthCheck, strategy). */
export function topologyToV1beta2(t: Obj): Obj {
  let r = t;
  if ('class' in r || 'classNamespace' in r) {
    const { class: name, classNamespace: namespace, ...rest } = r;
    r = { ...rest, classRef: { name, ...(namespace ? { namespace } : {}) } };
  }
  r = move(r, 'rolloutAfter', 'controlPlane.rollout.after');
  if (isObj(r.controlPlane)) r = setPath(r, 'controlPlane', mhcToHub(deletionToHub(r.controlPlane)));
  r = mapList(r, 'workers.machineDeployments', (md) => mhcToHub(strategyToHub(deletionToHub(md))));
  return r;
}

export function topologyToV1beta1(t: Obj, namespace: unknown): Obj {
  let r = t;
  const ref = r.classRef;
  if (isObj(ref)) {
    const { classRef: _r, ...rest } = r;
    r = { ...rest, class: ref.name, ...(ref.namespace ? { classNamespace: ref.namespace } : {}) };
  }
  r = move(r, 'controlPlane.rollout.after', 'rolloutAfter');
  if (isObj(getPath(r, 'controlPlane.rollout')) && !Object.keys(getPath(r, 'controlPlane.rollout') as Obj).length)
    r = setPath(r, 'controlPlane.rollout', undefined);
  if (isObj(r.controlPlane))
    r = setPath(r, 'controlPlane', mhcFromHub(deletionFromHub(setPath(r.controlPlane, 'taints', undefined)), namespace));
  r = mapList(r, 'workers.machineDeployments', (md) =>
    mhcFromHub(strategyFromHub(deletionFromHub(setPath(move(md, 'rollout.after', 'rolloutAfter'), 'taints', undefined))), namespace),
  );
  return r;
}

export const ClusterClassKind: KindDefinition = {
  group: 'cluster.x-k8s.io',
  kind: 'ClusterClass',
  plural: 'clusterclasses',
  shortNames: ['cc'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: { 'cluster.x-k8s.io/provider': 'cluster-api' },
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description:
        'ClusterClass is a template for Clusters: the templates of the infrastructure cluster, the control plane and the worker machines, the variables a Cluster sets and the patches that apply them.',
      schema: v1beta2Schema,
      printerColumns: [
        {
          name: 'Variables Ready',
          type: 'string',
          jsonPath: '.status.conditions[?(@.type=="VariablesReady")].status',
          description: 'Variables ready',
        },
        { ...age, description: 'Time duration since creation of ClusterClass' },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'ClusterClass is a template which can be used to create managed topologies.',
      schema: v1beta1Schema,
      printerColumns: [{ ...age, description: 'Time duration since creation of ClusterClass' }],
    },
  ],
  conversion: {
    toHub: (o) => clusterClassToHub(o),
    fromHub: (o) => clusterClassFromHub(o),
  },
};
