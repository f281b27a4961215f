// Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`): controller-runtime
// typed clients and kubectl's typed commands send built-in kinds this way. The envelope is the
// 4-byte magic "k8s\0" followed by a runtime.Unknown carrying the object's own message.
// Message layouts (field numbers) follow k8s.io/api's generated.proto; decoding is protobufjs.
import protobuf from 'protobufjs';
import { errors } from './errors.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

type Obj = Record<string, unknown>;
type Fields = Record<string, { type: string; id: number; rule?: 'repeated'; keyType?: string }>;

const f = (type: string, id: number, extra: Partial<Fields[string]> = {}) => ({ type, id, ...extra });
const rep = (type: string, id: number) => f(type, id, { rule: 'repeated' });
const map = (type: string, id: number) => ({ type, id, keyType: 'string' });

const messages: Record<string, Fields> = {
  // authorization.k8s.io/v1 (kubectl auth can-i sends these)
  ResourceAttributes: {
    namespace: f('string', 1),
    verb: f('string', 2),
    group: f('string', 3),
    version: f('string', 4),
    resource: f('string', 5),
    subresource: f('string', 6),
    name: f('string', 7),
  },
  NonResourceAttributes: { path: f('string', 1), verb: f('string', 2) },
  SelfSubjectAccessReviewSpec: { resourceAttributes: f('ResourceAttributes', 1), nonResourceAttributes: f('NonResourceAttributes', 2) },
  SubjectAccessReviewStatus: { allowed: f('bool', 1), reason: f('string', 2), evaluationError: f('string', 3), denied: f('bool', 4) },
  SelfSubjectAccessReview: {
    metadata: f('ObjectMeta', 1),
    spec: f('SelfSubjectAccessReviewSpec', 2),
    status: f('SubjectAccessReviewStatus', 3),
  },
  Unknown: { typeMeta: f('TypeMeta', 1), raw: f('bytes', 2), contentEncoding: f('string', 3), contentType: f('string', 4) },
  TypeMeta: { apiVersion: f('string', 1), kind: f('string', 2) },
  Time: { seconds: f('int64', 1), nanos: f('int32', 2) },
  MicroTime: { seconds: f('int64', 1), nanos: f('int32', 2) },
  OwnerReference: {
    kind: f('string', 1),
    name: f('string', 3),
    uid: f('string', 4),
    apiVersion: f('string', 5),
    controller: f('bool', 6),
    blockOwnerDeletion: f('bool', 7),
  },
  FieldsV1: { Raw: f('bytes', 1) },
  ManagedFieldsEntry: {
    manager: f('string', 1),
    operation: f('string', 2),
    apiVersion: f('string', 3),
    time: f('Time', 4),
    fieldsType: f('string', 6),
    fieldsV1: f('FieldsV1', 7),
    subresource: f('string', 8),
  },
  ObjectMeta: {
    name: f('string', 1),
    generateName: f('string', 2),
    namespace: f('string', 3),
    selfLink: f('string', 4),
    uid: f('string', 5),
    resourceVersion: f('string', 6),
    generation: f('int64', 7),
    creationTimestamp: f('Time', 8),
    deletionTimestamp: f('Time', 9),
    deletionGracePeriodSeconds: f('int64', 10),
    labels: map('string', 11),
    annotations: map('string', 12),
    ownerReferences: rep('OwnerReference', 13),
    finalizers: rep('string', 14),
    managedFields: rep('ManagedFieldsEntry', 17),
  },
  ObjectReference: {
    kind: f('string', 1),
    namespace: f('string', 2),
    name: f('string', 3),
    uid: f('string', 4),
    apiVersion: f('string', 5),
    resourceVersion: f('string', 6),
    fieldPath: f('string', 7),
  },
  LocalObjectReference: { name: f('string', 1) },
  EventSource: { component: f('string', 1), host: f('string', 2) },
  EventSeries: { count: f('int32', 1), lastObservedTime: f('MicroTime', 2) },
  Event: {
    metadata: f('ObjectMeta', 1),
    involvedObject: f('ObjectReference', 2),
    reason: f('string', 3),
    message: f('string', 4),
    source: f('EventSource', 5),
    firstTimestamp: f('Time', 6),
    lastTimestamp: f('Time', 7),
    count: f('int32', 8),
    type: f('string', 9),
    eventTime: f('MicroTime', 10),
    series: f('EventSeries', 11),
    action: f('string', 12),
    related: f('ObjectReference', 13),
    reportingComponent: f('string', 14),
    reportingInstance: f('string', 15),
  },
  EventsV1Event: {
    metadata: f('ObjectMeta', 1),
    eventTime: f('MicroTime', 2),
    series: f('EventSeries', 3),
    reportingController: f('string', 4),
    reportingInstance: f('string', 5),
    action: f('string', 6),
    reason: f('string', 7),
    regarding: f('ObjectReference', 8),
    related: f('ObjectReference', 9),
    note: f('string', 10),
    type: f('string', 11),
    deprecatedSource: f('EventSource', 12),
    deprecatedFirstTimestamp: f('Time', 13),
    deprecatedLastTimestamp: f('Time', 14),
    deprecatedCount: f('int32', 15),
  },
  Secret: {
    metadata: f('ObjectMeta', 1),
    data: map('bytes', 2),
    type: f('string', 3),
    stringData: map('string', 4),
    immutable: f('bool', 5),
  },
  ConfigMap: { metadata: f('ObjectMeta', 1), data: map('string', 2), binaryData: map('bytes', 3), immutable: f('bool', 4) },
  NamespaceSpec: { finalizers: rep('string', 1) },
  NamespaceStatus: { phase: f('string', 1) },
  Namespace: { metadata: f('ObjectMeta', 1), spec: f('NamespaceSpec', 2), status: f('NamespaceStatus', 3) },
  ServiceAccount: {
    metadata: f('ObjectMeta', 1),
    secrets: rep('ObjectReference', 2),
    imagePullSecrets: rep('LocalObjectReference', 3),
    automountServiceAccountToken: f('bool', 4),
  },
  LeaseSpec: {
    holderIdentity: f('string', 1),
    leaseDurationSeconds: f('int32', 2),
    acquireTime: f('MicroTime', 3),
    renewTime: f('MicroTime', 4),
    leaseTransitions: f('int32', 5),
    strategy: f('string', 6),
    preferredHolder: f('string', 7),
  },
  Lease: { metadata: f('ObjectMeta', 1), spec: f('LeaseSpec', 2) },
  Quantity: { string: f('string', 1) },
  Taint: { key: f('string', 1), value: f('string', 2), effect: f('string', 3), timeAdded: f('Time', 4) },
  NodeSpec: {
    podCIDR: f('string', 1),
    externalID: f('string', 2),
    providerID: f('string', 3),
    unschedulable: f('bool', 4),
    taints: rep('Taint', 5),
    podCIDRs: rep('string', 7),
  },
  NodeCondition: {
    type: f('string', 1),
    status: f('string', 2),
    lastHeartbeatTime: f('Time', 3),
    lastTransitionTime: f('Time', 4),
    reason: f('string', 5),
    message: f('string', 6),
  },
  NodeAddress: { type: f('string', 1), address: f('string', 2) },
  DaemonEndpoint: { Port: f('int32', 1) },
  NodeDaemonEndpoints: { kubeletEndpoint: f('DaemonEndpoint', 1) },
  NodeSystemInfo: {
    machineID: f('string', 1),
    systemUUID: f('string', 2),
    bootID: f('string', 3),
    kernelVersion: f('string', 4),
    osImage: f('string', 5),
    containerRuntimeVersion: f('string', 6),
    kubeletVersion: f('string', 7),
    kubeProxyVersion: f('string', 8),
    operatingSystem: f('string', 9),
    architecture: f('string', 10),
  },
  ContainerImage: { names: rep('string', 1), sizeBytes: f('int64', 2) },
  NodeStatus: {
    capacity: map('Quantity', 1),
    allocatable: map('Quantity', 2),
    phase: f('string', 3),
    conditions: rep('NodeCondition', 4),
    addresses: rep('NodeAddress', 5),
    daemonEndpoints: f('NodeDaemonEndpoints', 6),
    nodeInfo: f('NodeSystemInfo', 7),
    images: rep('ContainerImage', 8),
    volumesInUse: rep('string', 9),
  },
  Node: { metadata: f('ObjectMeta', 1), spec: f('NodeSpec', 2), status: f('NodeStatus', 3) },
  Preconditions: { uid: f('string', 1), resourceVersion: f('string', 2) },
  DeleteOptions: {
    gracePeriodSeconds: f('int64', 1),
    preconditions: f('Preconditions', 2),
    orphanDependents: f('bool', 3),
    propagationPolicy: f('string', 4),
    dryRun: rep('string', 5),
  },
};

/**
 * Go writes every non-pointer field, so a proto field holding "" / 0 / false usually means "unset"
 * (the JSON form omits it). These fields are pointers in Go: their zero value is a real value.
 */
const POINTER_FIELDS = new Set([
  'OwnerReference.controller',
  'OwnerReference.blockOwnerDeletion',
  'ObjectMeta.deletionGracePeriodSeconds',
  'LeaseSpec.holderIdentity',
  'LeaseSpec.leaseDurationSeconds',
  'LeaseSpec.leaseTransitions',
  'LeaseSpec.strategy',
  'LeaseSpec.preferredHolder',
  'ServiceAccount.automountServiceAccountToken',
  'Secret.immutable',
  'ConfigMap.immutable',
  'DeleteOptions.gracePeriodSeconds',
  'DeleteOptions.orphanDependents',
  'DeleteOptions.propagationPolicy',
  'Preconditions.uid',
  'Preconditions.resourceVersion',
]);

const root = protobuf.Root.fromJSON({
  nested: { k8s: { nested: Object.fromEntries(Object.entries(messages).map(([n, fields]) => [n, { fields }])) } },
});

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Which message decodes a body, by the envelope's apiVersion and kind. */
function messageFor(apiVersion: string, kind: string): string | undefined {
  if (kind === 'Event') return apiVersion === 'events.k8s.io/v1' ? 'EventsV1Event' : 'Event';
  if (kind === 'DeleteOptions') return 'DeleteOptions';
  return ['Secret', 'ConfigMap', 'Namespace', 'ServiceAccount', 'Lease', 'Node', 'SelfSubjectAccessReview'].includes(kind)
    ? kind
    : undefined;
}

export function isProtobuf(contentType: string): boolean {
  return contentType === PROTOBUF;
}

function time(v: Obj, micro: boolean): string | undefined {
  // Go writes a zero time.Time as an empty message; its JSON form is null (omitted)
  if (!Number(v.seconds ?? 0) && !Number(v.nanos ?? 0)) return undefined;
  const ms = Number(v.seconds ?? 0) * 1000;
  const iso = new Date(ms).toISOString().replace(/\.\d+Z$/, '');
  if (!micro) return `${iso}Z`;
  return `${iso}.${String(Math.floor(Number(v.nanos ?? 0) / 1000)).padStart(6, '0')}Z`;
}

/** Turns a decoded message into the JSON form the same object has on the JSON wire. */
function toJson(type: protobuf.Type, v: Obj): Obj {
  const out: Obj = {};
  for (const field of type.fieldsArray) {
    const val = v[field.name];
    if (val === undefined || val === null) continue;
    if (Array.isArray(val) && val.length === 0) continue;
    if ((val === '' || val === 0 || val === false) && !POINTER_FIELDS.has(`${type.name}.${field.name}`)) continue;
    const rt = field.resolvedType;
    const conv = (x: unknown): unknown => {
      if (rt instanceof protobuf.Type) {
        if (rt.name === 'Time' || rt.name === 'MicroTime') return time(x as Obj, rt.name === 'MicroTime');
        if (rt.name === 'FieldsV1') return JSON.parse(Buffer.from((x as Obj).Raw as Uint8Array).toString('utf8'));
        if (rt.name === 'Quantity') return (x as Obj).string ?? '0';
        return toJson(rt, x as Obj);
      }
      if (field.type === 'bytes') return Buffer.from(x as Uint8Array).toString('base64');
      return x;
    };
    if (field instanceof protobuf.MapField) {
      const m: Obj = {};
      for (const [k, x] of Object.entries(val as Obj)) m[k] = conv(x);
      if (Object.keys(m).length) out[field.name] = m;
    } else if (Array.isArray(val)) out[field.name] = val.map(conv);
    else {
      const c = conv(val);
      if (c !== undefined) out[field.name] = c;
    }
  }
  return out;
}

export function decodeProtobuf(buf: Buffer, expectedKind: string): Obj {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) {
    throw errors.badRequest('the protobuf body does not start with the Kubernetes envelope prefix');
  }
  let unknown: Obj;
  try {
    unknown = root.lookupType('k8s.Unknown').toObject(root.lookupType('k8s.Unknown').decode(buf.subarray(4)), { longs: Number }) as Obj;
  } catch (e) {
    throw errors.badRequest(`the protobuf body could not be decoded: ${(e as Error).message}`);
  }
  const tm = (unknown.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const kind = tm.kind || expectedKind;
  const name = messageFor(tm.apiVersion ?? '', kind);
  if (!name) throw errors.unsupportedMediaType(`${PROTOBUF} (${kind})`, ['application/json', 'application/yaml']);
  const type = root.lookupType(`k8s.${name}`);
  let msg: Obj;
  try {
    msg = type.toObject(type.decode((unknown.raw as Uint8Array) ?? new Uint8Array()), {
      longs: Number,
      defaults: false,
      arrays: false,
    }) as Obj;
  } catch (e) {
    throw errors.badRequest(`the protobuf ${kind} could not be decoded: ${(e as Error).message}`);
  }
  return { apiVersion: tm.apiVersion, kind, ...toJson(type, msg) };
}
