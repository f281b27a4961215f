// Done-when 2: a @kubernetes/client-node informer sees adds, updates and deletes, and recovers
// after the server restarts (re-list, re-watch, 410 handled).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesObject, makeInformer } from '@kubernetes/client-node';
import { cleanup, eventually, kubectl, ROOT, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

describe('client-node informer against the embedded API server', () => {
  let srv: Srv;
  let dir: string;
  let port: number;
  before(async () => {
    srv = await startTestServer();
    dir = srv.dir;
    port = srv.port;
    const r = await kubectl(srv.kubeconfigPath, ['apply', '-f', join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml')]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await srv.close();
    cleanup(dir);
  });

  it('delivers add, update and delete, and resumes after a restart', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const g = { group: 'test.ferrite.dev', version: 'v1', namespace: 'default', plural: 'widgets' };
    const seen: string[] = [];
    const informer = makeInformer<KubernetesObject>(
      kc,
      '/apis/test.ferrite.dev/v1/namespaces/default/widgets',
      () => custom.listNamespacedCustomObject(g) as never,
    );
    let errors = 0;
    let stopped = false;
    informer.on('add', (o) => seen.push(`add:${o.metadata?.name}`));
    informer.on('update', (o) => seen.push(`update:${o.metadata?.name}:${(o as { spec?: { size?: string } }).spec?.size}`));
    informer.on('delete', (o) => seen.push(`delete:${o.metadata?.name}`));
    informer.on('error', () => {
      errors++;
      // client-node stops an informer on a connection error; restarting it is the documented pattern
      if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 300);
    });
    await informer.start();
    try {
      await custom.createNamespacedCustomObject({
        ...g,
        body: { apiVersion: 'test.ferrite.dev/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { size: 'small' } },
      });
      await eventually(() => seen.includes('add:a'), 'add event');
      await custom.patchNamespacedCustomObject({ ...g, name: 'a', body: [{ op: 'replace', path: '/spec/size', value: 'large' }] });
      await eventually(() => seen.includes('update:a:large'), 'update event');
      await custom.deleteNamespacedCustomObject({ ...g, name: 'a' });
      await eventually(() => seen.includes('delete:a'), 'delete event');

      // restart the server on the same data dir and port; meanwhile another client writes, so
      // the informer's resourceVersion is older than the server's history: 410, then re-list
      await srv.close();
      srv = await startTestServer({ dataDir: dir, port });
      const other = new KubeConfig();
      other.loadFromFile(srv.kubeconfigPath);
      await other.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
        ...g,
        body: { apiVersion: 'test.ferrite.dev/v1', kind: 'Widget', metadata: { name: 'b' }, spec: { size: 'small' } },
      });
      await eventually(() => seen.includes('add:b'), 'add after restart', 20_000);
      assert.ok(errors >= 1, 'the informer noticed the restart');
      await custom.deleteNamespacedCustomObject({ ...g, name: 'b' });
      await eventually(() => seen.includes('delete:b'), 'delete after restart', 20_000);
      // the cache agrees with the server
      assert.deepEqual(
        informer.list().map((o) => o.metadata?.name),
        [],
      );
    } finally {
      stopped = true;
      await informer.stop();
    }
  });

  it('serves typed core clients (namespaces, configmaps) through client-node', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'cm1', labels: { app: 'x' } }, data: { k: 'v' } },
    });
    const list = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app in (x,y)' });
    assert.deepEqual(
      list.items.map((c) => c.metadata?.name),
      ['cm1'],
    );
    const none = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app!=x' });
    assert.equal(none.items.length, 0);
    const nss = await core.listNamespace();
    assert.ok(nss.items.some((n) => n.metadata?.name === 'kube-system'));
  });
});
