// Built-in kinds the stack needs. They are stored without a structural schema (like
// kube-apiserver's compiled-in types they accept their whole shape) and, unlike custom
// resources, accept strategic merge patch.
import { ALL_VERBS, ownStoreId, type PrinterColumn, type ResourceDef, type VersionDef } from './registry.js';

type Obj = Record<string, unknown>;

function v(name: string, columns: PrinterColumn[] = [], status = false): VersionDef {
  return { name, served: true, storage: true, statusSubresource: status, printerColumns: columns };
}

const age: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function builtin(
  group: string,
  version: string,
  kind: string,
  plural: string,
  namespaced: boolean,
  opts: Partial<ResourceDef> & { columns?: PrinterColumn[]; status?: boolean } = {},
): ResourceDef {
  const { columns, status, ...rest } = opts;
  return {
    storeId: ownStoreId(group, plural),
    group,
    plural,
    singular: kind.toLowerCase(),
    kind,
    listKind: `${kind}List`,
    namespaced,
    shortNames: [],
    categories: [],
    versions: [v(version, columns ?? [age], status)],
    storageGroupVersion: group ? `${group}/${version}` : version,
    builtin: true,
    strategicMerge: true,
    verbs: ALL_VERBS,
    ...rest,
  };
}

function count(field: string) {
  return (o: Obj) => Object.keys((o[field] as Obj | undefined) ?? {}).length;
}

function involvedObject(o: Obj): string {
  const io = (o.involvedObject ?? {}) as Obj;
  return `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`;
}

/** events.k8s.io/v1 Events share storage with core/v1 Events; these map one shape to the other. */
export function eventToEventsV1(o: Obj): Obj {
  const source = (o.source ?? {}) as Obj;
  const out: Obj = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: o.metadata,
    eventTime: o.eventTime ?? null,
    reportingController: o.reportingComponent ?? source.component,
    reportingInstance: o.reportingInstance ?? source.host,
    action: o.action,
    reason: o.reason,
    regarding: o.involvedObject,
    related: o.related,
    note: o.message,
    type: o.type,
    series: o.series,
    deprecatedSource: o.source,
    deprecatedFirstTimestamp: o.firstTimestamp,
    deprecatedLastTimestamp: o.lastTimestamp,
    deprecatedCount: o.count,
  };
  return dropUndefined(out);
}

export function eventFromEventsV1(o: Obj): Obj {
  const out: Obj = {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: o.metadata,
    involvedObject: o.regarding ?? {},
    related: o.related,
    reason: o.reason,
    message: o.note,
    type: o.type,
    eventTime: o.eventTime,
    action: o.action,
    series: o.series,
    reportingComponent: o.reportingController ?? '',
    reportingInstance: o.reportingInstance ?? '',
    source: o.deprecatedSource ?? { component: o.reportingController },
    firstTimestamp: o.deprecatedFirstTimestamp,
    lastTimestamp: o.deprecatedLastTimestamp ?? o.eventTime,
    count: o.deprecatedCount,
  };
  return dropUndefined(out);
}

function dropUndefined(o: Obj): Obj {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

export function builtinResources(): ResourceDef[] {
  const eventColumns: PrinterColumn[] = [
    {
      name: 'Last Seen',
      type: 'date',
      compute: (o) => o.lastTimestamp ?? o.eventTime ?? (o.metadata as Obj).creationTimestamp,
    },
    { name: 'Type', type: 'string', jsonPath: '.type' },
    { name: 'Reason', type: 'string', jsonPath: '.reason' },
    { name: 'Object', type: 'string', compute: involvedObject },
    { name: 'Message', type: 'string', jsonPath: '.message' },
  ];
  const coreEvents = builtin('', 'v1', 'Event', 'events', true, { shortNames: ['ev'], columns: eventColumns });
  const v1Events = builtin('events.k8s.io', 'v1', 'Event', 'events', true, {
    shortNames: ['ev'],
    storeId: coreEvents.storeId,
    storageGroupVersion: 'v1',
    columns: eventColumns,
    conversion: (o, to) => (to === 'v1' ? eventFromEventsV1(o) : eventToEventsV1(o)), // 'v1' is core/v1
  });
  return [
    builtin('', 'v1', 'Namespace', 'namespaces', false, {
      shortNames: ['ns'],
      status: true,
      columns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase' }, age],
    }),
    builtin('', 'v1', 'Secret', 'secrets', true, {
      columns: [{ name: 'Type', type: 'string', jsonPath: '.type' }, { name: 'Data', type: 'integer', compute: count('data') }, age],
    }),
    builtin('', 'v1', 'ConfigMap', 'configmaps', true, {
      shortNames: ['cm'],
      columns: [{ name: 'Data', type: 'integer', compute: (o) => count('data')(o) + count('binaryData')(o) }, age],
    }),
    builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, {
      shortNames: ['sa'],
      columns: [{ name: 'Secrets', type: 'integer', compute: (o) => ((o.secrets as unknown[]) ?? []).length }, age],
    }),
    coreEvents,
    v1Events,
    builtin('', 'v1', 'Node', 'nodes', false, {
      shortNames: ['no'],
      status: true,
      columns: [
        { name: 'Status', type: 'string', compute: nodeReady },
        {
          name: 'Roles',
          type: 'string',
          compute: (o) =>
            Object.keys(((o.metadata as Obj).labels as Obj | undefined) ?? {})
              .filter((k) => k.startsWith('node-role.kubernetes.io/'))
              .map((k) => k.slice('node-role.kubernetes.io/'.length))
              .join(',') || '<none>',
        },
        age,
        { name: 'Version', type: 'string', jsonPath: '.status.nodeInfo.kubeletVersion' },
      ],
    }),
    // workload objects are stored and served (no scheduler or kubelet acts on them here): the
    // simulated nodes of a workload cluster post their static pods, and kubeadm its add-ons
    builtin('', 'v1', 'Pod', 'pods', true, {
      shortNames: ['po'],
      categories: ['all'],
      status: true,
      columns: [
        { name: 'Ready', type: 'string', compute: podReady },
        { name: 'Status', type: 'string', jsonPath: '.status.phase' },
        { name: 'Restarts', type: 'integer', compute: podRestarts },
        age,
      ],
    }),
    builtin('', 'v1', 'Service', 'services', true, {
      shortNames: ['svc'],
      categories: ['all'],
      status: true,
      columns: [
        { name: 'Type', type: 'string', jsonPath: '.spec.type' },
        { name: 'Cluster-IP', type: 'string', jsonPath: '.spec.clusterIP' },
        age,
      ],
    }),
    builtin('apps', 'v1', 'Deployment', 'deployments', true, {
      shortNames: ['deploy'],
      categories: ['all'],
      status: true,
      columns: [
        {
          name: 'Ready',
          type: 'string',
          compute: (o) => `${num(o, 'readyReplicas')}/${Number((o.spec as Obj | undefined)?.replicas ?? 1)}`,
        },
        { name: 'Up-to-date', type: 'integer', compute: (o) => num(o, 'updatedReplicas') },
        { name: 'Available', type: 'integer', compute: (o) => num(o, 'availableReplicas') },
        age,
      ],
    }),
    builtin('apps', 'v1', 'DaemonSet', 'daemonsets', true, {
      shortNames: ['ds'],
      categories: ['all'],
      status: true,
      columns: [
        { name: 'Desired', type: 'integer', compute: (o) => num(o, 'desiredNumberScheduled') },
        { name: 'Current', type: 'integer', compute: (o) => num(o, 'currentNumberScheduled') },
        { name: 'Ready', type: 'integer', compute: (o) => num(o, 'numberReady') },
        age,
      ],
    }),
    builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true, {
      columns: [{ name: 'Holder', type: 'string', jsonPath: '.spec.holderIdentity' }, age],
    }),
    builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, {
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      status: true,
      strategicMerge: true,
      columns: [{ name: 'Created At', type: 'date', format: 'rfc3339', jsonPath: '.metadata.creationTimestamp' }],
    }),
    builtin('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false, {
      categories: ['api-extensions'],
      columns: [{ name: 'Webhooks', type: 'integer', compute: (o) => ((o.webhooks as unknown[]) ?? []).length }, age],
    }),
    builtin('admissionregistration.k8s.io', 'v1', 'ValidatingWebhookConfiguration', 'validatingwebhookconfigurations', false, {
      categories: ['api-extensions'],
      columns: [{ name: 'Webhooks', type: 'integer', compute: (o) => ((o.webhooks as unknown[]) ?? []).length }, age],
    }),
    // RBAC objects are stored so that upstream manifests apply; authorization itself is allow-all.
    builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
    builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
    builtin('authorization.k8s.io', 'v1', 'SelfSubjectAccessReview', 'selfsubjectaccessreviews', false, {
      virtual: true,
      verbs: ['create'],
    }),
    // a controller's secure metrics endpoint asks these (controller-runtime's authn/authz filter)
    builtin('authorization.k8s.io', 'v1', 'SubjectAccessReview', 'subjectaccessreviews', false, { virtual: true, verbs: ['create'] }),
    builtin('authentication.k8s.io', 'v1', 'TokenReview', 'tokenreviews', false, { virtual: true, verbs: ['create'] }),
  ];
}

function num(o: Obj, field: string): number {
  return Number((o.status as Obj | undefined)?.[field] ?? 0);
}

function podReady(o: Obj): string {
  const cs = ((o.status as Obj | undefined)?.containerStatuses as Obj[] | undefined) ?? [];
  const total = Math.max(cs.length, (((o.spec as Obj | undefined)?.containers as unknown[] | undefined) ?? []).length);
  return `${cs.filter((c) => c.ready === true).length}/${total}`;
}

function podRestarts(o: Obj): number {
  return (((o.status as Obj | undefined)?.containerStatuses as Obj[] | undefined) ?? []).reduce(
    (n, c) => n + Number(c.restartCount ?? 0),
    0,
  );
}

function nodeReady(o: Obj): string {
  const conds = (((o.status as Obj | undefined)?.conditions as Obj[] | undefined) ?? []).filter((c) => c.type === 'Ready');
  const ready = conds[0]?.status === 'True' ? 'Ready' : conds.length ? 'NotReady' : 'Unknown';
  return (o.spec as Obj | undefined)?.unschedulable ? `${ready},SchedulingDisabled` : ready;
}
