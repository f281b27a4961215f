import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, requestCounts, startTestServer } from '../../test/helpers/apiserver.js';
import { KubeApiError, KubeClient } from '../kube/client.js';
import { LocalClient, ServerDownError } from './local-client.js';
import type { ApiServer } from './server.js';

type Lease = {
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
};

describe('LocalClient: the API server in this process, without a connection', () => {
  let s: ApiServer & { dir: string };
  let http: KubeClient;
  let running = true;
  let local: LocalClient;
  before(async () => {
    s = await startTestServer({ inMemory: true });
    http = KubeClient.fromFile(s.kubeconfigPath);
    local = new LocalClient(() => (running ? s.core : undefined), 'test', 'kubelet');
    // the server makes kube-node-lease itself, as kube-apiserver does
    await http.get('v1', 'Namespace', undefined, 'kube-node-lease');
  });
  after(async () => {
    http.close();
    await s.close();
    cleanup(s.dir);
  });

  const lease = (name: string, labels: Record<string, string> = {}) => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease', labels },
    spec: { holderIdentity: name, leaseDurationSeconds: 40 },
  });

  it('writes what HTTPS clients read, with its field manager, and its own writes make no requests', async () => {
    const before = await requestCounts(http);
    await local.create(lease('n1', { role: 'cp' }));
    await local.create(lease('n2', { role: 'worker' }));
    const p = await local.patch<Lease>(
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease', name: 'n1' },
      'merge',
      { spec: { renewTime: '2026-12-07T10:00:00.000000Z' } },
    );
    assert.equal(p.spec?.renewTime, '2026-12-07T10:00:00.000000Z');
    const after = await requestCounts(http);
    assert.equal(after['POST leases'] ?? 0, before['POST leases'] ?? 0);
    assert.equal(after['PATCH leases'] ?? 0, before['PATCH leases'] ?? 0);
    const seen = await http.get<Lease & { metadata: { managedFields: Array<{ manager: string }> } }>(
      'coordination.k8s.io/v1',
      'Lease',
      'kube-node-lease',
      'n1',
    );
    assert.equal(seen.spec?.renewTime, '2026-12-07T10:00:00.000000Z', 'an HTTPS client reads the in-process write');
    assert.deepEqual([...new Set(seen.metadata.managedFields.map((f) => f.manager))], ['kubelet']);
  });

  it('lists by namespace and label selector, in the server order', async () => {
    const all = await local.list<Lease>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease');
    assert.deepEqual(
      all.items.map((l) => l.metadata.name),
      ['n1', 'n2'],
    );
    assert.ok(Number(all.metadata.resourceVersion) > 0);
    const cp = await local.list<Lease>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'labelSelector=role%3Dcp');
    assert.deepEqual(
      cp.items.map((l) => l.metadata.name),
      ['n1'],
    );
    assert.equal((await local.list('coordination.k8s.io/v1', 'Lease', 'default')).items.length, 0);
  });

  it('fails as a KubeClient does: NotFound, AlreadyExists, Invalid, unknown kinds and parameters', async () => {
    const code = (n: number, reason?: string) => (e: unknown) =>
      e instanceof KubeApiError && e.code === n && (!reason || e.reason === reason);
    await assert.rejects(local.get('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'nope'), code(404, 'NotFound'));
    await assert.rejects(local.create(lease('n1')), code(409, 'AlreadyExists'));
    await assert.rejects(local.create(lease('Not_A_Name')), code(422, 'Invalid'));
    await assert.rejects(local.get('example.com/v1', 'Widget', 'default', 'w'), code(404));
    await assert.rejects(local.get('coordination.k8s.io/v9', 'Lease', 'kube-node-lease', 'n1'), code(404));
    await assert.rejects(
      local.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'x' } }),
      code(404),
      'a namespaced kind needs a namespace',
    );
    await assert.rejects(local.list('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'fieldSelector=metadata.name%3Dn1'), code(400));
    await assert.rejects(
      local.patch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'x' }, 'merge', {}, { subresource: 'status' }),
      code(404),
      'ConfigMaps have no status subresource',
    );
  });

  it('refuses as a connection would while no server runs', async () => {
    running = false;
    try {
      await assert.rejects(
        local.get('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'n1'),
        (e) => e instanceof ServerDownError && e.code === 'ECONNREFUSED',
      );
    } finally {
      running = true;
    }
    assert.equal((await local.get<Lease>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'n1')).metadata.name, 'n1');
  });
});
