// Shapes Cluster API's groups share (sigs.k8s.io/cluster-api api/core/v1beta1 and v1beta2):
// the two condition styles, object references old and new, and the contract labels that let Cluster
// API resolve a provider kind's version from a CRD.
import { z } from 'zod';

/** metav1.Condition: what v1beta2 objects keep in status.conditions. */
export const condition = z.object({
  type: z.string().min(1).max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  observedGeneration: z.number().int().min(0).optional(),
  lastTransitionTime: z.string(),
  reason: z.string().max(1024),
  message: z.string().max(32768).optional(),
});

/** Cluster API's own v1beta1 condition (with severity). */
export const v1beta1Condition = z.object({
  type: z.string().min(1),
  status: z.string().min(1),
  severity: z.string().optional(),
  lastTransitionTime: z.string(),
  reason: z.string().optional(),
  message: z.string().optional(),
});

/** v1beta1 objects carry the new conditions here. */
export const v1beta2Status = z.object({ conditions: z.array(condition).optional() });

/** v1beta2 objects carry the old conditions (and failure fields where the kind had them) here. */
export const deprecatedV1beta1 = (extra: z.ZodRawShape = {}) =>
  z.object({ v1beta1: z.object({ conditions: z.array(v1beta1Condition).optional(), ...extra }).optional() });

/** corev1.ObjectReference as v1beta1 Cluster API spells references. */
export const objectReference = z.object({
  apiVersion: z.string().optional(),
  fieldPath: z.string().optional(),
  kind: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  resourceVersion: z.string().optional(),
  uid: z.string().optional(),
});

const dnsLabel = z.string().min(1).max(253);

/** v1beta2's ContractVersionedObjectReference: the version comes from the CRD's contract label. */
export const contractVersionedRef = z.object({
  kind: z.string().min(1).max(63),
  name: dnsLabel,
  apiGroup: dnsLabel,
});

/** Contract labels for a provider CRD: which of its versions implements each Cluster API contract. */
export function contractLabels(v1beta1: string, v1beta2: string): Record<string, string> {
  return { 'cluster.x-k8s.io/v1beta1': v1beta1, 'cluster.x-k8s.io/v1beta2': v1beta2 };
}

export const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** Cluster API's ObjectMeta: the labels and annotations a template passes on. */
export const objectMeta = z.object({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const readinessGate = z.object({ conditionType: z.string().min(1), polarity: z.enum(['Positive', 'Negative']).optional() });

/** MachineTaint: a taint Cluster API keeps on the Machine's Node. */
export const machineTaint = z.object({
  key: z.string(),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
  propagation: z.string().optional(),
});
