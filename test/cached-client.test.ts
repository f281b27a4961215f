// Reconcilers read watched kinds from the manager's informers (issue 24: the controllers' GETs and
// LISTs were most of the API server's work): a cached read costs no request, hands out a copy, and
// a client that just wrote or deleted an object reads it — and lists its kind in its namespace —
// from the server until the watch has caught up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cachedReadClient } from '../provider/kube/cached-client.js';
import { isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import { Informer } from '../provider/kube/informer.js';
import { cleanup, eventually, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type Cm = KubeObject & { data?: Record<string, string> };

describe('cached reads for reconcilers', () => {
  let srv: Srv;
  let real: KubeClient;
  let informer: Informer<Cm>;
  let gets = 0;
  let client: KubeClient;

  before(async () => {
    srv = await startTestServer();
    real = KubeClient.fromFile(srv.kubeconfigPath);
    // the server's GETs are counted on the wrapped client
    const counted: KubeClient = Object.create(real);
    counted.get = <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) => {
      gets++;
      return real.get<T>(apiVersion, kind, namespace, name);
    };
    informer = new Informer<Cm>(real, 'v1', 'ConfigMap');
    await informer.start();
    client = cachedReadClient(counted, (apiVersion, kind) =>
      apiVersion === 'v1' && kind === 'ConfigMap' ? (informer as never) : undefined,
    );
  });
  after(async () => {
    informer.stop();
    real.close();
    await srv.close();
    cleanup(srv.dir);
  });

  const cm = (name: string, v: string): Cm => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: 'default' },
    data: { v },
  });
  const inCache = (name: string, pred: (o: Cm | undefined) => boolean) =>
    eventually(async () => pred(informer.get('default', name)), `the watch to show ${name}`, 10_000, 20);

  it('answers a watched object from the cache, as a copy', async () => {
    await real.create(cm('a', '1'));
    await inCache('a', (o) => o?.data?.v === '1');
    const before = gets;
    const got = await client.get<Cm>('v1', 'ConfigMap', 'default', 'a');
    assert.equal(got.data?.v, '1');
    assert.equal(gets, before, 'no request for an object the watch has');
    (got.data as Record<string, string>).v = 'changed by a reconciler';
    assert.equal(informer.get('default', 'a')?.data?.v, '1', 'the cache is not the object handed out');
    // a kind nobody watches is read from the server
    await assert.rejects(client.get('v1', 'Secret', 'default', 'none'), (e: unknown) => isNotFound(e));
    assert.equal(gets, before + 1);
  });

  it('reads its own write from the server until the watch shows it, then from the cache', async () => {
    // a watch that lags: it still holds the object from before this client's write
    let lagging: Cm | undefined = structuredClone(informer.get('default', 'a'));
    const slow = { isWatching: true, get: () => lagging };
    const viaServer: KubeClient = Object.create(real);
    let serverGets = 0;
    viaServer.get = <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) => {
      serverGets++;
      return real.get<T>(apiVersion, kind, namespace, name);
    };
    const c3 = cachedReadClient(viaServer, () => slow as never);
    const patched = await c3.patch<Cm>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'a' }, 'merge', {
      data: { v: '2' },
    });
    assert.equal((await c3.get<Cm>('v1', 'ConfigMap', 'default', 'a')).data?.v, '2', 'never the value before its own write');
    assert.equal(serverGets, 1, 'a cache behind the own write is not used');
    // the watch catches up: the cache answers again
    lagging = structuredClone(patched);
    assert.equal((await c3.get<Cm>('v1', 'ConfigMap', 'default', 'a')).data?.v, '2');
    assert.equal(serverGets, 1, 'caught up: no request');
    // a watch that is not open is never trusted
    slow.isWatching = false;
    await c3.get<Cm>('v1', 'ConfigMap', 'default', 'a');
    assert.equal(serverGets, 2);
  });

  it('reads an object it deleted from the server until the watch drops it', async () => {
    await client.create(cm('b', '1'));
    await inCache('b', (o) => o !== undefined);
    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'b' });
    await assert.rejects(client.get('v1', 'ConfigMap', 'default', 'b'), (e: unknown) => isNotFound(e));
    await inCache('b', (o) => o === undefined);
    // recreated: the cache serves it again once the watch has it
    await real.create(cm('b', '2'));
    await inCache('b', (o) => o?.data?.v === '2');
    await client.get('v1', 'ConfigMap', 'default', 'b').catch(() => undefined); // clears the deletion mark
    const g = gets;
    assert.equal((await client.get<Cm>('v1', 'ConfigMap', 'default', 'b')).data?.v, '2');
    assert.equal(gets, g);
  });
});

describe('cached lists for reconcilers', () => {
  let srv: Srv;
  let real: KubeClient;
  let informer: Informer<Cm>;
  let lists = 0;
  let counted: KubeClient;

  before(async () => {
    srv = await startTestServer();
    real = KubeClient.fromFile(srv.kubeconfigPath);
    counted = Object.create(real);
    counted.list = <T extends KubeObject>(apiVersion: string, kind: string, namespace?: string, query?: string) => {
      lists++;
      return real.list<T>(apiVersion, kind, namespace, query);
    };
    informer = new Informer<Cm>(real, 'v1', 'ConfigMap');
    await informer.start();
  });
  after(async () => {
    informer.stop();
    real.close();
    await srv.close();
    cleanup(srv.dir);
  });

  const cm = (name: string, namespace: string, labels?: Record<string, string>): Cm => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    data: { v: name },
  });
  const names = (l: { items: KubeObject[] }) => l.items.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`);

  it('answers a list with its namespace and label selector from the cache, in the server order, as copies', async () => {
    await real.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    for (const [n, ns, l] of [
      ['m-2', 'default', { cluster: 'c1' }],
      ['m-1', 'default', { cluster: 'c1' }],
      ['m-3', 'default', { cluster: 'c2' }],
      ['m-4', 'other', { cluster: 'c1' }],
    ] as const)
      await real.create(cm(n, ns, { ...l }));
    await eventually(async () => informer.get('other', 'm-4') !== undefined, 'the watch to show m-4', 10_000, 20);
    const client = cachedReadClient(counted, (a, k) => (a === 'v1' && k === 'ConfigMap' ? (informer as never) : undefined));
    for (const [ns, q] of [
      ['default', 'labelSelector=cluster%3Dc1'],
      ['default', 'labelSelector=cluster%20in%20(c1%2Cc2)'],
      [undefined, 'labelSelector=cluster%3Dc1'],
      ['default', ''],
      ['other', 'labelSelector=cluster%21%3Dc1'],
    ] as const) {
      const want = names(await real.list('v1', 'ConfigMap', ns, q)).filter((n) => /\/m-\d$/.test(n));
      const before = lists;
      const got = await client.list<Cm>('v1', 'ConfigMap', ns, q);
      assert.equal(lists, before, `no request for ${ns ?? 'all namespaces'} ?${q}`);
      assert.deepEqual(
        names(got).filter((n) => /\/m-\d$/.test(n)),
        want,
        `the server's answer for ${ns ?? 'all namespaces'} ?${q}`,
      );
    }
    const got = await client.list<Cm>('v1', 'ConfigMap', 'default', 'labelSelector=cluster%3Dc2');
    (got.items[0].data as Record<string, string>).v = 'changed by a reconciler';
    assert.equal(informer.get('default', 'm-3')?.data?.v, 'm-3', 'the cache is not the object handed out');
    // what a cache cannot answer goes to the server: paging, field selectors, a selector it cannot parse
    for (const q of ['limit=1', 'fieldSelector=metadata.name%3Dm-1', 'labelSelector=%3D%3Dbroken']) {
      const before = lists;
      await client.list('v1', 'ConfigMap', 'default', q).catch(() => undefined);
      assert.equal(lists, before + 1, `?${q} is the server's`);
    }
    // a kind nobody watches
    const before = lists;
    await client.list('v1', 'Secret', 'default');
    assert.equal(lists, before + 1);
  });

  it('lists from the server while the watch has not shown what it created or deleted there, and counts right', async () => {
    // a watch that lags: it shows nothing of this client's writes until told to
    const shown = new Map<string, Cm>();
    for (const o of informer.list()) shown.set(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
    const slow = {
      isWatching: true,
      isWhole: true,
      resourceVersion: '1',
      get: (ns: string | undefined, name: string) => shown.get(`${ns ?? ''}/${name}`),
      list: () => [...shown.values()],
    };
    const client = cachedReadClient(counted, () => slow as never);
    const inC3 = async () => (await client.list<Cm>('v1', 'ConfigMap', 'default', 'labelSelector=cluster%3Dc3')).items.length;
    const made = await client.create(cm('n-1', 'default', { cluster: 'c3' }));
    let before = lists;
    assert.equal(await inC3(), 1, 'the created object is counted (as a MachineSet counts its Machines)');
    assert.equal(lists, before + 1, 'from the server: the watch does not show it yet');
    // a write in another namespace does not hold this one's lists back
    before = lists;
    await client.list('v1', 'ConfigMap', 'other');
    assert.equal(lists, before, 'another namespace is served from the cache');
    // the watch catches up: the cache answers again
    shown.set('default/n-1', made as Cm);
    before = lists;
    assert.equal(await inC3(), 1);
    assert.equal(lists, before, 'caught up: no request');
    // deleted: the server until the watch drops it
    await client.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'n-1' });
    before = lists;
    assert.equal(await inC3(), 0, 'the deleted object is not counted');
    assert.equal(lists, before + 1);
    shown.delete('default/n-1');
    before = lists;
    assert.equal(await inC3(), 0);
    assert.equal(lists, before, 'dropped by the watch: no request');
    // a list over all namespaces waits for every namespace's writes
    const m = await client.create(cm('n-2', 'other', { cluster: 'c3' }));
    before = lists;
    await client.list('v1', 'ConfigMap', undefined, 'labelSelector=cluster%3Dc3');
    assert.equal(lists, before + 1);
    shown.set('other/n-2', m as Cm);
    before = lists;
    assert.equal((await client.list('v1', 'ConfigMap', undefined, 'labelSelector=cluster%3Dc3')).items.length, 1);
    assert.equal(lists, before);
    // a cache of part of the kind (a label-selected informer) never answers a list
    const partial = { ...slow, isWhole: false };
    const c2 = cachedReadClient(counted, () => partial as never);
    before = lists;
    await c2.list('v1', 'ConfigMap', 'default');
    assert.equal(lists, before + 1, 'a partial cache is not asked');
  });
});

describe("a manager's partial cache of a kind no controller watches", () => {
  let srv: Srv;
  let real: KubeClient;
  before(async () => {
    srv = await startTestServer();
    real = KubeClient.fromFile(srv.kubeconfigPath);
  });
  after(async () => {
    real.close();
    await srv.close();
    cleanup(srv.dir);
  });

  const secret = (name: string, labels?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) },
    data: { v: Buffer.from(name).toString('base64') },
  });

  it('serves labelled Secrets from the cache and reads the rest from the server; a controller watching Secrets caches them all', async () => {
    const { Manager } = await import('../provider/kube/manager.js');
    let gets = 0;
    const counted: KubeClient = Object.create(real);
    counted.get = <T extends KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string) => {
      gets++;
      return real.get<T>(apiVersion, kind, namespace, name);
    };
    // waits until reading `name` through the manager costs the server no request
    const servedFromCache = (m: { readClient: KubeClient }, name: string, what: string) =>
      eventually(
        async () => {
          const g = gets;
          await m.readClient.get('v1', 'Secret', 'default', name);
          return gets === g;
        },
        what,
        10_000,
        20,
      );
    await real.create(secret('c1-ca', { 'cluster.x-k8s.io/cluster-name': 'c1' }));
    await real.create(secret('bmc-credentials'));
    const m = new Manager({ client: counted, name: 'partial-cache' });
    m.cacheForReads({ apiVersion: 'v1', kind: 'Secret' }, 'cluster.x-k8s.io/cluster-name');
    await m.start();
    try {
      await servedFromCache(m, 'c1-ca', 'the labelled Secret to be served from the cache');
      const g = gets;
      const other = await m.readClient.get<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', 'default', 'bmc-credentials');
      assert.equal(other.data?.v, Buffer.from('bmc-credentials').toString('base64'), 'a Secret outside the selector is still read');
      assert.equal(gets, g + 1, '…from the server');
    } finally {
      await m.stop();
    }

    // a controller that watches Secrets gets every one of them, not the partial cache
    const m2 = new Manager({ client: counted, name: 'whole-kind' });
    m2.cacheForReads({ apiVersion: 'v1', kind: 'Secret' }, 'cluster.x-k8s.io/cluster-name');
    const whole = m2.informer({ apiVersion: 'v1', kind: 'Secret' });
    await m2.start();
    try {
      await servedFromCache(m2, 'bmc-credentials', 'the unlabelled Secret to be served from the cache');
      assert.ok(whole.get('default', 'bmc-credentials'), 'the whole kind is cached');
    } finally {
      await m2.stop();
    }
  });
});
