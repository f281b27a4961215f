// The differential corpus: the same requests, in the same order, to the embedded API server and to
// a real kube-apiserver. Each case says what of the answer must match (status code always).
// Later cases may read what an earlier one answered on the same server (a continue token).

export interface Answer {
  status: number;
  json?: unknown;
  headers: Record<string, string | string[] | undefined>;
  events?: Array<{ type: string; object: Record<string, unknown> }>;
}

export interface Case {
  id: string;
  area: string;
  method: string;
  /** the path, or a function of this server's earlier answers (by case id) */
  path: string | ((prev: Map<string, Answer>) => string);
  body?: unknown;
  contentType?: string;
  /** a watch: events collected for this many ms */
  watchMs?: number;
  /** send no credentials */
  anonymous?: boolean;
  headers?: Record<string, string>;
  /** what to compare besides the status code: the normalized body (default), a projection of it, or nothing */
  compare?: 'body' | 'status-only' | ((json: unknown, a: Answer) => unknown);
}

const NS = 'ferrite-diff';
const ns = (p: string) => `/api/v1/namespaces/${NS}${p}`;

interface KindUnderTest {
  label: string;
  /** the collection path in NS */
  coll: string;
  apiVersion: string;
  kind: string;
  /** a valid object's body (name set by the case) */
  make: (name: string) => Record<string, unknown>;
  /** a merge patch of the spec (or data) that is valid */
  specPatch: Record<string, unknown>;
  crd: boolean;
  /** a status body for the status subresource (CRDs) */
  status?: Record<string, unknown>;
  /** an invalid object (fails the schema) */
  invalid?: (name: string) => Record<string, unknown>;
}

const kinds: KindUnderTest[] = [
  {
    label: 'configmap',
    coll: ns('/configmaps'),
    apiVersion: 'v1',
    kind: 'ConfigMap',
    make: (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } }),
    specPatch: { data: { b: '2' } },
    crd: false,
    invalid: (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'bad key!': 'x' } }),
  },
  {
    label: 'secret',
    coll: ns('/secrets'),
    apiVersion: 'v1',
    kind: 'Secret',
    make: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', stringData: { user: 'admin' } }),
    specPatch: { data: { pass: Buffer.from('x').toString('base64') } },
    crd: false,
    invalid: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'Opaque', data: { u: 'not base64!' } }),
  },
  {
    label: 'baremetalhost',
    coll: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts`,
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'BareMetalHost',
    make: (name) => ({
      apiVersion: 'metal3.io/v1alpha1',
      kind: 'BareMetalHost',
      metadata: { name },
      spec: {
        online: true,
        bootMACAddress: '52:54:00:00:00:01',
        bmc: { address: 'redfish://127.0.0.1:1/redfish/v1/Systems/1', credentialsName: 'c' },
      },
    }),
    specPatch: { spec: { online: false, description: 'patched' } },
    crd: true,
    status: { operationalStatus: 'OK', errorType: '', errorCount: 0, poweredOn: false, provisioning: { state: 'registering', ID: '' } },
    invalid: (name) => ({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', metadata: { name }, spec: { online: 'yes' } }),
  },
  {
    label: 'cluster',
    coll: `/apis/cluster.x-k8s.io/v1beta2/namespaces/${NS}/clusters`,
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Cluster',
    make: (name) => ({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name }, spec: { paused: true } }),
    specPatch: { spec: { paused: false } },
    crd: true,
    status: { phase: 'Pending' },
    invalid: (name) => ({ apiVersion: 'cluster.x-k8s.io/v1beta2', kind: 'Cluster', metadata: { name }, spec: { paused: 'no' } }),
  },
  {
    label: 'ippool',
    coll: `/apis/ipam.metal3.io/v1alpha1/namespaces/${NS}/ippools`,
    apiVersion: 'ipam.metal3.io/v1alpha1',
    kind: 'IPPool',
    make: (name) => ({
      apiVersion: 'ipam.metal3.io/v1alpha1',
      kind: 'IPPool',
      metadata: { name },
      spec: { pools: [{ start: '192.0.2.10', end: '192.0.2.20' }], prefix: 24, namePrefix: name },
    }),
    specPatch: { spec: { gateway: '192.0.2.1' } },
    crd: true,
    status: { indexes: {} },
  },
];

// what only a real cluster's own controllers make (kube-controller-manager's kube-root-ca.crt in every
// namespace, the kube-* namespaces' objects) is left out, and a generated name's random suffix too
const names = (json: unknown) =>
  ((json as { items?: Array<{ metadata: { name: string; namespace?: string } }> })?.items ?? [])
    .filter((i) => i.metadata.name !== 'kube-root-ca.crt' && !i.metadata.namespace?.startsWith('kube-'))
    .map((i) => (i.metadata.name.startsWith('gen-') ? 'gen-*' : i.metadata.name));

function kindCases(k: KindUnderTest): Case[] {
  const c = (id: string, rest: Omit<Case, 'id' | 'area'>): Case => ({ id: `${k.label}/${id}`, area: k.label, ...rest });
  const obj = (name: string, extra: Record<string, unknown> = {}) => {
    const o = k.make(name);
    return { ...o, metadata: { ...(o.metadata as object), ...extra } };
  };
  const named = (n: string) => `${k.coll}/${n}`;
  const cases: Case[] = [
    c('create', { method: 'POST', path: k.coll, body: obj('a', { labels: { tier: 'one' } }) }),
    c('create-duplicate', { method: 'POST', path: k.coll, body: obj('a') }),
    c('create-invalid-name', { method: 'POST', path: k.coll, body: obj('A_b') }),
    c('create-long-name', { method: 'POST', path: k.coll, body: obj('x'.repeat(254)) }),
    c('create-no-name', { method: 'POST', path: k.coll, body: { ...k.make(''), metadata: {} } }),
    c('create-generate-name', {
      method: 'POST',
      path: k.coll,
      body: { ...k.make(''), metadata: { generateName: 'gen-' } },
      compare: (j) => String((j as { metadata?: { name?: string } }).metadata?.name).slice(0, 4),
    }),
    c('create-namespace-mismatch', { method: 'POST', path: k.coll, body: obj('b', { namespace: 'other' }) }),
    c('create-kind-mismatch', { method: 'POST', path: k.coll, body: { ...obj('b'), kind: 'Wrong' } }),
    c('create-unknown-field-strict', { method: 'POST', path: `${k.coll}?fieldValidation=Strict`, body: { ...obj('b'), bogus: 1 } }),
    c('create-unknown-field-warn', {
      method: 'POST',
      path: `${k.coll}?fieldValidation=Warn`,
      body: { ...obj('b'), bogus: 1 },
      compare: (j, a) => ({ body: j, warning: a.headers.warning !== undefined }),
    }),
    c('create-unknown-field-ignore', { method: 'POST', path: `${k.coll}?fieldValidation=Ignore`, body: { ...obj('c'), bogus: 1 } }),
    c('create-bad-field-validation', { method: 'POST', path: `${k.coll}?fieldValidation=Sometimes`, body: obj('d') }),
    c('create-malformed-json', { method: 'POST', path: k.coll, body: '{"metadata": {', compare: 'status-only' }),
    c('create-dry-run', { method: 'POST', path: `${k.coll}?dryRun=All`, body: obj('dry') }),
    c('get-dry-run-not-stored', { method: 'GET', path: named('dry') }),
    c('create-bad-dry-run', { method: 'POST', path: `${k.coll}?dryRun=Some`, body: obj('dry') }),
    ...(k.invalid ? [c('create-invalid', { method: 'POST', path: k.coll, body: k.invalid('inv') })] : []),
    c('get', { method: 'GET', path: named('a') }),
    c('get-missing', { method: 'GET', path: named('missing') }),
    c('get-invalid-name', { method: 'GET', path: named('Not_Valid') }),
    c('update-stale', { method: 'PUT', path: named('a'), body: obj('a', { resourceVersion: '1' }) }),
    c('update-no-rv', { method: 'PUT', path: named('a'), body: obj('a', { labels: { tier: 'two' } }) }),
    c('update-name-mismatch', { method: 'PUT', path: named('a'), body: obj('zzz') }),
    c('update-missing', { method: 'PUT', path: named('nope'), body: obj('nope') }),
    c('patch-merge', {
      method: 'PATCH',
      path: named('a'),
      body: { ...k.specPatch, metadata: { labels: { patched: 'yes' } } },
      contentType: 'application/merge-patch+json',
    }),
    c('patch-merge-stale', {
      method: 'PATCH',
      path: named('a'),
      body: { metadata: { resourceVersion: '1', labels: { x: 'y' } } },
      contentType: 'application/merge-patch+json',
    }),
    c('patch-merge-missing', {
      method: 'PATCH',
      path: named('missing'),
      body: { metadata: { labels: { x: 'y' } } },
      contentType: 'application/merge-patch+json',
    }),
    c('patch-json-add', {
      method: 'PATCH',
      path: named('a'),
      body: [{ op: 'add', path: '/metadata/annotations', value: { note: 'n' } }],
      contentType: 'application/json-patch+json',
    }),
    c('patch-json-test-fails', {
      method: 'PATCH',
      path: named('a'),
      body: [{ op: 'test', path: '/metadata/name', value: 'other' }],
      contentType: 'application/json-patch+json',
      compare: 'status-only',
    }),
    c('patch-json-remove-missing', {
      method: 'PATCH',
      path: named('a'),
      body: [{ op: 'remove', path: '/metadata/labels/none' }],
      contentType: 'application/json-patch+json',
      compare: 'status-only',
    }),
    c('patch-json-not-array', {
      method: 'PATCH',
      path: named('a'),
      body: { op: 'add' },
      contentType: 'application/json-patch+json',
      compare: 'status-only',
    }),
    c('patch-json-proto', {
      method: 'PATCH',
      path: named('a'),
      body: [{ op: 'add', path: '/metadata/labels/__proto__', value: 'x' }],
      contentType: 'application/json-patch+json',
    }),
    c('patch-strategic', {
      method: 'PATCH',
      path: named('a'),
      body: { metadata: { labels: { smp: 'yes' } } },
      contentType: 'application/strategic-merge-patch+json',
    }),
    c('patch-bad-content-type', { method: 'PATCH', path: named('a'), body: { metadata: {} }, contentType: 'text/plain' }),
    c('patch-malformed', {
      method: 'PATCH',
      path: named('a'),
      body: '{"metadata":',
      contentType: 'application/merge-patch+json',
      compare: 'status-only',
    }),
    c('apply-no-field-manager', {
      method: 'PATCH',
      path: named('a'),
      body: { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'a', labels: { owner: 'm1' } } },
      contentType: 'application/apply-patch+yaml',
    }),
    c('apply-m1', {
      method: 'PATCH',
      path: `${named('a')}?fieldManager=m1`,
      body: { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'a', labels: { owner: 'm1' } } },
      contentType: 'application/apply-patch+yaml',
    }),
    c('apply-m2-conflict', {
      method: 'PATCH',
      path: `${named('a')}?fieldManager=m2`,
      body: { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'a', labels: { owner: 'm2' } } },
      contentType: 'application/apply-patch+yaml',
    }),
    c('apply-m2-force', {
      method: 'PATCH',
      path: `${named('a')}?fieldManager=m2&force=true`,
      body: { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: 'a', labels: { owner: 'm2' } } },
      contentType: 'application/apply-patch+yaml',
    }),
    c('apply-force-on-merge', {
      method: 'PATCH',
      path: `${named('a')}?fieldManager=m2&force=true`,
      body: { metadata: { labels: { y: 'z' } } },
      contentType: 'application/merge-patch+json',
    }),
    c('apply-creates', {
      method: 'PATCH',
      path: `${named('applied')}?fieldManager=m1`,
      body: obj('applied'),
      contentType: 'application/apply-patch+yaml',
    }),
    c('apply-name-mismatch', {
      method: 'PATCH',
      path: `${named('applied')}?fieldManager=m1`,
      body: obj('other'),
      contentType: 'application/apply-patch+yaml',
    }),
    c('list', { method: 'GET', path: k.coll, compare: names }),
    c('list-label', { method: 'GET', path: `${k.coll}?labelSelector=${encodeURIComponent('owner=m2')}`, compare: names }),
    c('list-label-set', {
      method: 'GET',
      path: `${k.coll}?labelSelector=${encodeURIComponent('owner in (m1,m2),!missing')}`,
      compare: names,
    }),
    c('list-label-invalid', { method: 'GET', path: `${k.coll}?labelSelector=${encodeURIComponent('a===b')}`, compare: 'status-only' }),
    c('list-field-name', { method: 'GET', path: `${k.coll}?fieldSelector=${encodeURIComponent('metadata.name=a')}`, compare: names }),
    c('list-field-not-name', { method: 'GET', path: `${k.coll}?fieldSelector=${encodeURIComponent('metadata.name!=a')}`, compare: names }),
    c('list-field-unsupported', { method: 'GET', path: `${k.coll}?fieldSelector=${encodeURIComponent('spec.bogus=x')}` }),
    c('list-limit', {
      method: 'GET',
      path: `${k.coll}?limit=1`,
      compare: (j) => ({ names: names(j), more: Boolean((j as { metadata?: { continue?: string } }).metadata?.continue) }),
    }),
    c('list-continue', {
      method: 'GET',
      path: (prev) => {
        const token = (prev.get(`${k.label}/list-limit`)?.json as { metadata?: { continue?: string } })?.metadata?.continue ?? '';
        return `${k.coll}?limit=1&continue=${encodeURIComponent(token)}`;
      },
      compare: (j) => ({ names: names(j), more: Boolean((j as { metadata?: { continue?: string } }).metadata?.continue) }),
    }),
    c('list-bad-continue', { method: 'GET', path: `${k.coll}?limit=1&continue=garbage`, compare: 'status-only' }),
    c('list-rvmatch-no-rv', { method: 'GET', path: `${k.coll}?resourceVersionMatch=NotOlderThan` }),
    c('list-rvmatch-zero', { method: 'GET', path: `${k.coll}?resourceVersion=0&resourceVersionMatch=NotOlderThan`, compare: names }),
    c('list-rvmatch-bad', { method: 'GET', path: `${k.coll}?resourceVersion=0&resourceVersionMatch=Sometimes` }),
    c('list-rv-invalid', { method: 'GET', path: `${k.coll}?resourceVersion=abc`, compare: 'status-only' }),
    c('list-all-namespaces', { method: 'GET', path: k.coll.replace(`/namespaces/${NS}`, ''), compare: names }),
    // finalizers hold a deleted object until they are removed
    c('create-finalized', { method: 'POST', path: k.coll, body: obj('fin', { finalizers: ['example.com/hold'] }) }),
    c('delete-finalized', {
      method: 'DELETE',
      path: named('fin'),
      compare: (j) => ({
        kind: (j as { kind?: string }).kind,
        deleting: Boolean((j as { metadata?: { deletionTimestamp?: string } }).metadata?.deletionTimestamp),
        finalizers: (j as { metadata?: { finalizers?: string[] } }).metadata?.finalizers,
      }),
    }),
    c('get-finalized', {
      method: 'GET',
      path: named('fin'),
      compare: (j) => ({ deleting: Boolean((j as { metadata?: { deletionTimestamp?: string } }).metadata?.deletionTimestamp) }),
    }),
    c('update-add-finalizer-while-deleting', {
      method: 'PATCH',
      path: named('fin'),
      body: { metadata: { finalizers: ['example.com/hold', 'example.com/new'] } },
      contentType: 'application/merge-patch+json',
      compare: 'status-only',
    }),
    c('release-finalizer', {
      method: 'PATCH',
      path: named('fin'),
      body: { metadata: { finalizers: null } },
      contentType: 'application/merge-patch+json',
      compare: (j) => ({ kind: (j as { kind?: string }).kind }),
    }),
    c('get-released', { method: 'GET', path: named('fin') }),
    // propagation policies and preconditions
    c('create-fg', { method: 'POST', path: k.coll, body: obj('fg') }),
    c('delete-bad-propagation', {
      method: 'DELETE',
      path: named('fg'),
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Sideways' },
    }),
    c('delete-precondition-uid', {
      method: 'DELETE',
      path: named('fg'),
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: '00000000-0000-0000-0000-000000000000' } },
      compare: 'status-only',
    }),
    c('delete-precondition-rv', {
      method: 'DELETE',
      path: named('fg'),
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: '1' } },
      compare: 'status-only',
    }),
    c('delete-orphan', {
      method: 'DELETE',
      path: named('fg'),
      body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' },
      compare: (j) => ({
        kind: (j as { kind?: string }).kind,
        finalizers: (j as { metadata?: { finalizers?: string[] } }).metadata?.finalizers,
      }),
    }),
    c('delete-missing', { method: 'DELETE', path: named('missing') }),
    c('delete-dry-run', { method: 'DELETE', path: `${named('c')}?dryRun=All`, compare: (j) => (j as { kind?: string }).kind }),
    c('get-after-dry-run-delete', {
      method: 'GET',
      path: named('c'),
      compare: (j) => (j as { metadata?: { name?: string } }).metadata?.name,
    }),
    c('delete-empty-name', { method: 'DELETE', path: `${k.coll}/`, compare: 'status-only' }),
    c('deletecollection-label', {
      method: 'DELETE',
      path: `${k.coll}?labelSelector=${encodeURIComponent('owner=nobody')}`,
      compare: (j) => ({ kind: (j as { kind?: string }).kind, items: names(j) }),
    }),
    // an object the garbage collector still has to orphan from (real: kube-controller-manager, a moment later) is left out
    c('list-after-deletecollection', {
      method: 'GET',
      path: k.coll,
      compare: (j) =>
        names({
          items: ((j as { items?: Array<{ metadata: { deletionTimestamp?: string } }> }).items ?? []).filter(
            (i) => !i.metadata.deletionTimestamp,
          ),
        }),
    }),
  ];
  if (k.status) {
    cases.push(
      c('status-get', {
        method: 'GET',
        path: `${named('a')}/status`,
        compare: (j) => (j as { metadata?: { name?: string } }).metadata?.name,
      }),
      c('status-merge', {
        method: 'PATCH',
        path: `${named('a')}/status`,
        body: { status: k.status, metadata: { labels: { ignored: 'yes' } } },
        contentType: 'application/merge-patch+json',
      }),
      c('status-put-stale', {
        method: 'PUT',
        path: `${named('a')}/status`,
        body: { ...obj('a', { resourceVersion: '1' }), status: k.status },
      }),
      c('status-spec-ignored', {
        method: 'PATCH',
        path: `${named('a')}/status`,
        body: { ...k.specPatch, status: k.status },
        contentType: 'application/merge-patch+json',
      }),
      c('status-missing', {
        method: 'PATCH',
        path: `${named('missing')}/status`,
        body: { status: k.status },
        contentType: 'application/merge-patch+json',
      }),
      c('create-ignores-status', { method: 'POST', path: k.coll, body: { ...obj('st'), status: k.status } }),
    );
  }
  cases.push(c('delete-a', { method: 'DELETE', path: named('a'), compare: (j) => (j as { kind?: string }).kind }));
  return cases;
}

const discovery = (j: unknown) => {
  const rl = j as { groupVersion?: string; resources?: Array<Record<string, unknown>> };
  return {
    groupVersion: rl.groupVersion,
    resources: (rl.resources ?? [])
      .map((r) => ({
        name: r.name,
        namespaced: r.namespaced,
        kind: r.kind,
        singularName: r.singularName,
        verbs: [...((r.verbs as string[]) ?? [])].sort(),
        shortNames: r.shortNames,
        categories: r.categories,
      }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name))),
  };
};

const groupOf = (name: string) => (j: unknown) =>
  ((j as { groups?: Array<{ name: string }> }).groups ?? []).find((g) => g.name === name) ?? null;

export function corpus(): Case[] {
  const c = (area: string, id: string, rest: Omit<Case, 'id' | 'area'>): Case => ({ id: `${area}/${id}`, area, ...rest });
  return [
    // namespaces
    c('namespace', 'create', {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    }),
    c('namespace', 'create-other', {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } },
    }),
    c('namespace', 'create-invalid', {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Bad_Name' } },
    }),
    c('namespace', 'create-dotted', {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a.b' } },
    }),
    c('namespace', 'get', { method: 'GET', path: `/api/v1/namespaces/${NS}` }),
    c('namespace', 'delete-collection', { method: 'DELETE', path: '/api/v1/namespaces' }),
    c('namespace', 'delete-empty-name', { method: 'DELETE', path: '/api/v1/namespaces/', compare: 'status-only' }),
    c('namespace', 'delete-default', { method: 'DELETE', path: '/api/v1/namespaces/default' }),
    c('namespace', 'delete-kube-system', { method: 'DELETE', path: '/api/v1/namespaces/kube-system' }),
    c('namespace', 'delete-kube-public', { method: 'DELETE', path: '/api/v1/namespaces/kube-public' }),
    c('namespace', 'get-default', {
      method: 'GET',
      path: '/api/v1/namespaces/default',
      compare: (j) => (j as { status?: unknown }).status,
    }),
    c('namespace', 'create-in-missing-ns', {
      method: 'POST',
      path: '/api/v1/namespaces/nowhere/configmaps',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
    }),
    c('namespace', 'create-in-invalid-ns', {
      method: 'POST',
      path: '/api/v1/namespaces/Bad_NS/configmaps',
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
      compare: 'status-only',
    }),
    // label and annotation keys and values (apimachinery's ValidateLabels / ValidateAnnotations)
    ...(
      [
        ['key-space', { labels: { 'bad key!': 'x' } }],
        ['key-prefix', { labels: { 'Example.COM/app': 'x' } }],
        ['key-empty-prefix', { labels: { '/app': 'x' } }],
        ['key-two-slashes', { labels: { 'a/b/c': 'x' } }],
        ['key-long', { labels: { [`k${'x'.repeat(63)}`]: 'x' } }],
        ['value-dash', { labels: { app: '-x' } }],
        ['value-long', { labels: { app: 'v'.repeat(64) } }],
        ['value-empty', { labels: { app: '' } }],
        ['several', { labels: { 'bad key!': '-x', good: 'ok' } }],
        ['annotation-key', { annotations: { 'not a key': 'v' } }],
        ['annotation-upper', { annotations: { 'Example.com/Key': 'v' } }],
        ['annotations-too-big', { annotations: { big: 'x'.repeat(256 * 1024) } }],
      ] as const
    ).map(([id, m], i) =>
      c('metadata', id, {
        method: 'POST',
        path: `/api/v1/namespaces/${NS}/configmaps`,
        body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `meta-${i}`, ...m } },
        // errors are compared whole; an accepted object by its labels
        compare: (j) => (j as { metadata?: { labels?: unknown } }).metadata?.labels ?? null,
      }),
    ),
    c('metadata', 'name-long', {
      method: 'POST',
      path: `/api/v1/namespaces/${NS}/configmaps`,
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'n'.repeat(254) } },
    }),
    c('metadata', 'namespace-name-long', {
      method: 'POST',
      path: '/api/v1/namespaces',
      body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'n'.repeat(64) } },
    }),
    ...kinds.flatMap(kindCases),
    // null pruning and defaulting in a CRD
    c('schema', 'null-pruned', {
      method: 'POST',
      path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts`,
      body: {
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: 'nulls' },
        spec: { online: null, description: null, bmc: null },
      },
      compare: (j) => (j as { spec?: unknown }).spec,
    }),
    c('schema', 'deep-100', {
      method: 'POST',
      // in the other namespace: the watches below list this one's ConfigMaps
      path: '/api/v1/namespaces/other/configmaps',
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-100"},"extra":${'['.repeat(100)}${']'.repeat(100)}}`,
      compare: (j) => (j as { metadata?: { name?: string } }).metadata?.name,
    }),
    c('schema', 'deep-10001', {
      method: 'POST',
      // in the other namespace: the watches below list this one's ConfigMaps
      path: '/api/v1/namespaces/other/configmaps',
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-10001"},"extra":${'['.repeat(10001)}${']'.repeat(10001)}}`,
    }),
    c('schema', 'deep-5000', {
      method: 'POST',
      // in the other namespace: the watches below list this one's ConfigMaps
      path: '/api/v1/namespaces/other/configmaps',
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep-5000"},"extra":${'['.repeat(5000)}${']'.repeat(5000)}}`,
      compare: 'status-only',
    }),
    c('schema', 'enum-invalid', {
      method: 'POST',
      path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts`,
      body: {
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: 'enum' },
        spec: { online: true, bootMode: 'sideways' },
      },
    }),
    c('schema', 'unknown-kept-out', {
      method: 'POST',
      path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts`,
      body: {
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: 'pruned' },
        spec: { online: true, surprise: { a: 1 } },
      },
      compare: (j) => (j as { spec?: unknown }).spec,
    }),
    c('schema', 'wrong-version', {
      method: 'POST',
      path: `/apis/metal3.io/v1beta9/namespaces/${NS}/baremetalhosts`,
      body: { apiVersion: 'metal3.io/v1beta9', kind: 'BareMetalHost', metadata: { name: 'v' } },
      compare: 'status-only',
    }),
    c('schema', 'apiversion-mismatch', {
      method: 'POST',
      path: `/apis/metal3.io/v1alpha1/namespaces/${NS}/baremetalhosts`,
      body: { apiVersion: 'metal3.io/v1beta1', kind: 'BareMetalHost', metadata: { name: 'v' } },
    }),
    // Events as upstream controllers post them: names with capitals and dots
    c('events', 'core-capitals', {
      method: 'POST',
      path: ns('/events'),
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'Host-0.17F8A2B3C4D5E6F7' },
        involvedObject: { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', name: 'Host-0', namespace: NS },
        reason: 'Registered',
        message: 'Registered new host',
        type: 'Normal',
        source: { component: 'metal3-baremetal-controller' },
        count: 1,
      },
      compare: (j) => ({ name: (j as { metadata?: { name?: string } }).metadata?.name, reason: (j as { reason?: string }).reason }),
    }),
    c('events', 'core-namespace-mismatch', {
      method: 'POST',
      path: ns('/events'),
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e2' },
        involvedObject: { kind: 'BareMetalHost', name: 'h', namespace: 'other' },
        reason: 'R',
        message: 'm',
        type: 'Normal',
      },
      compare: 'status-only',
    }),
    c('events', 'core-bad-type', {
      method: 'POST',
      path: ns('/events'),
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'e3' },
        involvedObject: { kind: 'Pod', name: 'p', namespace: NS },
        reason: 'R',
        type: 'Odd',
      },
      compare: 'status-only',
    }),
    c('events', 'events-k8s-io', {
      method: 'POST',
      path: `/apis/events.k8s.io/v1/namespaces/${NS}/events`,
      body: {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: 'Machine-1.ABC' },
        eventTime: '2026-01-01T00:00:00.000000Z',
        reportingController: 'cluster.x-k8s.io/machine-controller',
        reportingInstance: 'ferrite',
        action: 'Provision',
        reason: 'Provisioning',
        regarding: { kind: 'Machine', name: 'Machine-1', namespace: NS },
        type: 'Normal',
      },
      compare: (j) => ({ name: (j as { metadata?: { name?: string } }).metadata?.name }),
    }),
    c('events', 'list', { method: 'GET', path: ns('/events'), compare: names }),
    // watches
    c('watch', 'too-old', {
      method: 'GET',
      path: ns('/configmaps?watch=true&resourceVersion=1'),
      watchMs: 1500,
      // nothing is compacted yet on either server: the history replays, with no ERROR event
      compare: (_j, a) => (a.events ?? []).some((e) => e.type === 'ERROR'),
    }),
    c('watch', 'initial-events-bookmark', {
      method: 'GET',
      path: ns('/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan'),
      watchMs: 2000,
      compare: (_j, a) => ({
        added: names({ items: (a.events ?? []).filter((e) => e.type === 'ADDED').map((e) => e.object) }).sort(),
        endBookmark: (a.events ?? []).some(
          (e) =>
            e.type === 'BOOKMARK' &&
            (e.object as { metadata?: { annotations?: Record<string, string> } }).metadata?.annotations?.['k8s.io/initial-events-end'] ===
              'true',
        ),
      }),
    }),
    c('watch', 'initial-events-no-bookmarks', {
      method: 'GET',
      path: ns('/configmaps?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan'),
      watchMs: 500,
      compare: 'status-only',
    }),
    c('watch', 'initial-events-without-match', {
      method: 'GET',
      path: ns('/configmaps?watch=true&sendInitialEvents=true&allowWatchBookmarks=true'),
      watchMs: 500,
      compare: 'status-only',
    }),
    c('watch', 'from-now', {
      method: 'GET',
      path: ns('/configmaps?watch=true&resourceVersion=0'),
      watchMs: 1000,
      compare: (_j, a) => names({ items: (a.events ?? []).filter((e) => e.type === 'ADDED').map((e) => e.object) }).sort(),
    }),
    c('watch', 'bad-selector', { method: 'GET', path: ns('/configmaps?watch=true&labelSelector=a%3D%3D%3Db'), compare: 'status-only' }),
    // authentication and authorization
    c('auth', 'bad-token', {
      method: 'GET',
      path: '/api/v1/namespaces',
      headers: { authorization: 'Bearer not-a-token' },
      anonymous: true,
      compare: 'status-only',
    }),
    c('auth', 'anonymous-list', { method: 'GET', path: '/api/v1/namespaces', anonymous: true, compare: 'status-only' }),
    c('auth', 'anonymous-version', { method: 'GET', path: '/version', anonymous: true, compare: (j) => Object.keys(j as object).sort() }),
    c('auth', 'anonymous-healthz', { method: 'GET', path: '/healthz', anonymous: true, compare: 'status-only' }),
    c('auth', 'anonymous-readyz', { method: 'GET', path: '/readyz', anonymous: true, compare: 'status-only' }),
    c('auth', 'anonymous-livez', { method: 'GET', path: '/livez', anonymous: true, compare: 'status-only' }),
    c('auth', 'tokenreview-bogus', {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'bogus' } },
      compare: (j) => ({ authenticated: Boolean((j as { status?: { authenticated?: boolean } }).status?.authenticated) }),
    }),
    c('auth', 'tokenreview-no-metadata', {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { spec: { token: 'bogus' } },
      compare: 'status-only',
    }),
    c('auth', 'tokenreview-empty-token', {
      method: 'POST',
      path: '/apis/authentication.k8s.io/v1/tokenreviews',
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} },
      compare: 'status-only',
    }),
    c('auth', 'sar-nobody', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'nobody', resourceAttributes: { verb: 'get', resource: 'pods', namespace: NS } },
      },
      compare: (j) => ({ allowed: Boolean((j as { status?: { allowed?: boolean } }).status?.allowed) }),
    }),
    c('auth', 'sar-masters', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'admin',
          groups: ['system:masters'],
          resourceAttributes: { verb: 'delete', resource: 'baremetalhosts', group: 'metal3.io' },
        },
      },
      compare: (j) => ({ allowed: Boolean((j as { status?: { allowed?: boolean } }).status?.allowed) }),
    }),
    c('auth', 'sar-no-user', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
      },
      compare: 'status-only',
    }),
    c('auth', 'ssar-allowed', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: { resourceAttributes: { verb: 'list', resource: 'baremetalhosts', group: 'metal3.io' } },
      },
      compare: (j) => ({ allowed: Boolean((j as { status?: { allowed?: boolean } }).status?.allowed) }),
    }),
    c('auth', 'ssar-no-attributes', {
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} },
      compare: 'status-only',
    }),
    // discovery and OpenAPI, as kubectl and client-go read them (Ferrite's groups)
    c('discovery', 'api', { method: 'GET', path: '/api', compare: (j) => (j as { versions?: string[] }).versions }),
    c('discovery', 'group-metal3', { method: 'GET', path: '/apis', compare: groupOf('metal3.io') }),
    c('discovery', 'group-cluster', { method: 'GET', path: '/apis', compare: groupOf('cluster.x-k8s.io') }),
    c('discovery', 'group-infrastructure', { method: 'GET', path: '/apis', compare: groupOf('infrastructure.cluster.x-k8s.io') }),
    c('discovery', 'group-ipam', { method: 'GET', path: '/apis', compare: groupOf('ipam.metal3.io') }),
    c('discovery', 'metal3-v1alpha1', { method: 'GET', path: '/apis/metal3.io/v1alpha1', compare: discovery }),
    c('discovery', 'cluster-v1beta2', { method: 'GET', path: '/apis/cluster.x-k8s.io/v1beta2', compare: discovery }),
    c('discovery', 'cluster-v1beta1', { method: 'GET', path: '/apis/cluster.x-k8s.io/v1beta1', compare: discovery }),
    c('discovery', 'infrastructure-v1beta2', { method: 'GET', path: '/apis/infrastructure.cluster.x-k8s.io/v1beta2', compare: discovery }),
    c('discovery', 'ipam-metal3-v1alpha1', { method: 'GET', path: '/apis/ipam.metal3.io/v1alpha1', compare: discovery }),
    c('discovery', 'bootstrap-v1beta2', { method: 'GET', path: '/apis/bootstrap.cluster.x-k8s.io/v1beta2', compare: discovery }),
    c('discovery', 'controlplane-v1beta2', { method: 'GET', path: '/apis/controlplane.cluster.x-k8s.io/v1beta2', compare: discovery }),
    c('discovery', 'missing-group', { method: 'GET', path: '/apis/nothing.example.com/v1', compare: 'status-only' }),
    c('discovery', 'aggregated', {
      method: 'GET',
      path: '/apis',
      headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json' },
      compare: (j) => {
        const items =
          (
            j as {
              items?: Array<{ metadata: { name: string }; versions: Array<{ version: string; resources: Array<{ resource: string }> }> }>;
            }
          ).items ?? [];
        const g = items.find((i) => i.metadata.name === 'metal3.io');
        return {
          kind: (j as { kind?: string }).kind,
          metal3: g?.versions.map((v) => ({ v: v.version, r: v.resources.map((r) => r.resource).sort() })),
        };
      },
    }),
    c('openapi', 'v3-index', {
      method: 'GET',
      path: '/openapi/v3',
      compare: (j) =>
        Object.keys((j as { paths?: Record<string, unknown> }).paths ?? {})
          .filter((p) => /metal3|cluster\.x-k8s/.test(p))
          .sort(),
    }),
    c('openapi', 'v3-metal3', {
      method: 'GET',
      path: '/openapi/v3/apis/metal3.io/v1alpha1',
      compare: (j) => {
        const s =
          (
            j as {
              components?: {
                schemas?: Record<string, { 'x-kubernetes-group-version-kind'?: unknown; properties?: Record<string, unknown> }>;
              };
            }
          ).components?.schemas ?? {};
        const bmh = s['io.metal3.v1alpha1.BareMetalHost'];
        return { gvk: bmh?.['x-kubernetes-group-version-kind'], props: Object.keys(bmh?.properties ?? {}).sort() };
      },
    }),
    c('openapi', 'v2-definition', {
      method: 'GET',
      path: '/openapi/v2',
      compare: (j) => {
        const d = (j as { definitions?: Record<string, { 'x-kubernetes-group-version-kind'?: unknown }> }).definitions ?? {};
        return d['io.metal3.v1alpha1.BareMetalHost']?.['x-kubernetes-group-version-kind'];
      },
    }),
    // the namespace goes last: its deletion is refused while nothing finalizes it? no — it starts terminating
    c('namespace', 'delete-other', {
      method: 'DELETE',
      path: '/api/v1/namespaces/other',
      compare: (j) => ({ kind: (j as { kind?: string }).kind, phase: (j as { status?: { phase?: string } }).status?.phase }),
    }),
  ];
}
