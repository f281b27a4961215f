// The controller runtime (provider/kube) shown working: an example Widget controller against the
// embedded API server, observed through kubectl and HTTP — finalizers, owned objects, status
// conditions, events, error backoff, metrics, leader election and informer recovery.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { isAlreadyExists, isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import { type Condition, setCondition } from '../provider/kube/conditions.js';
import type { ControllerSpec } from '../provider/kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../provider/kube/finalizers.js';
import { Informer } from '../provider/kube/informer.js';
import { Manager } from '../provider/kube/manager.js';
import { patchObject } from '../provider/kube/patch-helper.js';
import { cleanup, eventually, kubectl, ROOT, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type Widget = KubeObject & { spec: { size: string; replicas?: number }; status?: { replicas?: number; conditions?: Condition[] } };

const FINALIZER = 'test.ferrite.dev/cleanup';
const W = { apiVersion: 'test.ferrite.dev/v1', kind: 'Widget' };

function widgetController(attempts: Map<string, number>): ControllerSpec {
  return {
    name: 'widget',
    for: W,
    owns: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
    async reconcile(req, ctx) {
      attempts.set(req.name, (attempts.get(req.name) ?? 0) + 1);
      let w: Widget;
      try {
        w = await ctx.client.get<Widget>(W.apiVersion, W.kind, req.namespace, req.name);
      } catch (e) {
        if (isNotFound(e)) return undefined;
        throw e;
      }
      if (w.metadata?.annotations?.['test.ferrite.dev/fail'] === 'true') throw new Error('asked to fail');
      const next = structuredClone(w);
      if (isDeleting(w)) {
        if (removeFinalizer(next, FINALIZER)) await patchObject(ctx.client, w, next);
        return undefined;
      }
      if (addFinalizer(next, FINALIZER)) {
        await patchObject(ctx.client, w, next);
        return { requeue: true }; // continue from the written state
      }
      try {
        await ctx.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name: `${req.name}-config`,
            namespace: req.namespace,
            ownerReferences: [
              {
                apiVersion: W.apiVersion,
                kind: W.kind,
                name: req.name,
                uid: String(w.metadata?.uid),
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
          data: { size: w.spec.size },
        });
      } catch (e) {
        if (!isAlreadyExists(e)) throw e;
      }
      next.status = {
        ...(next.status ?? {}),
        replicas: w.spec.replicas ?? 1,
        conditions: setCondition(next.status?.conditions, {
          type: 'Ready',
          status: 'True',
          reason: 'Reconciled',
          message: `${w.spec.replicas ?? 1} replicas`,
        }),
      };
      const r = await patchObject(ctx.client, w, next);
      if (r.patchedStatus) await ctx.recorder.event(w, 'Normal', 'Reconciled', `status now has ${w.spec.replicas ?? 1} replicas`);
      return undefined;
    },
  };
}

describe('controller runtime with an example controller', () => {
  let srv: Srv;
  let client: KubeClient;
  let mgr: Manager;
  const attempts = new Map<string, number>();
  const k = async (...args: string[]) => {
    const r = await kubectl(srv.kubeconfigPath, args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (yaml: string) => kubectl(srv.kubeconfigPath, ['apply', '-f', '-'], { input: yaml });

  before(async () => {
    srv = await startTestServer();
    await k('apply', '-f', join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml'));
    client = KubeClient.fromFile(srv.kubeconfigPath);
    mgr = new Manager({ client, name: 'widget-manager', log: pino({ level: 'silent' }), metricsBindAddress: '127.0.0.1:0' });
    mgr.add(widgetController(attempts));
    await mgr.start();
  });
  after(async () => {
    await mgr.stop();
    await srv.close();
    cleanup(srv.dir);
  });

  it('reconciles: finalizer, owned ConfigMap, Ready condition and an event', async () => {
    await apply('apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: alpha}\nspec: {size: small, replicas: 2}\n');
    await k('wait', '--for=condition=Ready', 'widget/alpha', '--timeout=20s');
    assert.equal(await k('get', 'widget', 'alpha', '-o', 'jsonpath={.status.replicas} {.metadata.finalizers[0]}'), `2 ${FINALIZER}`);
    const owner = await k('get', 'configmap', 'alpha-config', '-o', 'jsonpath={.metadata.ownerReferences[0].name}');
    assert.equal(owner, 'alpha');
    await eventually(async () => /Normal\s+Reconciled\s+widget\/alpha/.test(await k('get', 'events')), 'Reconciled event');
  });

  it('reacts to spec changes and re-creates a deleted owned object', async () => {
    await k('patch', 'widget', 'alpha', '--type', 'merge', '-p', '{"spec":{"replicas":3}}');
    await eventually(async () => (await k('get', 'widget', 'alpha', '-o', 'jsonpath={.status.replicas}')) === '3', 'status.replicas=3');
    await k('delete', 'configmap', 'alpha-config');
    await eventually(
      async () => (await kubectl(srv.kubeconfigPath, ['get', 'configmap', 'alpha-config'])).code === 0,
      'owned ConfigMap re-created',
    );
  });

  it('retries failing reconciles with backoff and counts errors in metrics', async () => {
    await apply(
      'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: broken, annotations: {test.ferrite.dev/fail: "true"}}\nspec: {size: small}\n',
    );
    await eventually(() => (attempts.get('broken') ?? 0) >= 3, 'three attempts');
    const res = await fetch(`${mgr.metricsAddress}/metrics`);
    const text = await res.text();
    assert.match(text, /controller_runtime_reconcile_total\{controller="widget",result="success"\} [1-9]/);
    assert.match(text, /controller_runtime_reconcile_errors_total\{controller="widget"\} [1-9]/);
    assert.match(text, /workqueue_retries_total\{name="widget"\} [1-9]/);
    assert.equal((await fetch(`${mgr.metricsAddress}/readyz`)).status, 200);
    // fixing the object lets the next retry succeed
    await k('annotate', 'widget', 'broken', 'test.ferrite.dev/fail-');
    await k('wait', '--for=condition=Ready', 'widget/broken', '--timeout=20s');
  });

  it('removes its finalizer on delete; the owned ConfigMap is garbage-collected', async () => {
    const r = await kubectl(srv.kubeconfigPath, ['delete', 'widget', 'alpha', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    await eventually(
      async () => (await kubectl(srv.kubeconfigPath, ['get', 'configmap', 'alpha-config'])).code !== 0,
      'ConfigMap collected',
    );
  });

  it('elects one leader per Lease and hands over when it stops', async () => {
    const mk = (id: string) =>
      new Manager({
        client,
        name: 'election-test',
        log: pino({ level: 'silent' }),
        leaderElection: { namespace: 'default', identity: id, leaseDurationMs: 1000, renewDeadlineMs: 800, retryPeriodMs: 100 },
      });
    const a = mk('a');
    const b = mk('b');
    await a.start();
    await a.waitForLeadership();
    await b.start();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false, 'only one leader');
    assert.equal(await k('get', 'lease', 'election-test', '-o', 'jsonpath={.spec.holderIdentity}'), 'a');
    await a.stop();
    await b.waitForLeadership();
    assert.equal(await k('get', 'lease', 'election-test', '-o', 'jsonpath={.spec.holderIdentity}'), 'b');
    assert.equal(await k('get', 'lease', 'election-test', '-o', 'jsonpath={.spec.leaseTransitions}'), '1');
    await b.stop();
  });

  it('keeps an informer cache in step across an API server restart', async () => {
    const inf = new Informer(client, 'v1', 'ConfigMap');
    const events: string[] = [];
    inf.on('add', (o) => events.push(`add:${o.metadata?.name}`)).on('delete', (o) => events.push(`delete:${o.metadata?.name}`));
    await inf.start();
    await mgr.stop();
    const { dir, port } = srv;
    await srv.close();
    srv = await startTestServer({ dataDir: dir, port });
    // written while the informer is disconnected: it must re-list (410) to see it
    await new KubeClient(client.kc).create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'while-away', namespace: 'default' } });
    await eventually(() => events.includes('add:while-away'), 'add after restart', 20_000);
    await k('delete', 'configmap', 'while-away');
    await eventually(() => events.includes('delete:while-away'), 'delete after restart', 20_000);
    assert.ok(!inf.list().some((o) => o.metadata?.name === 'while-away'));
    inf.stop();
    mgr = new Manager({ client, name: 'noop', log: pino({ level: 'silent' }) });
  });
});
