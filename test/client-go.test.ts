// A real client-go (Go) peer writes built-in kinds with protobuf request bodies, as
// controller-runtime's typed clients do; what the server stored must be what Go sent.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, http, ROOT, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type O = Record<string, unknown> & { metadata: Record<string, unknown> };

const PEER = join(ROOT, '.peers', 'client-go-peer');

function peerBinary(): string {
  if (!existsSync(PEER)) {
    // scripts/install-peers.sh builds it; a developer's first `npm test` builds it here
    mkdirSync(join(ROOT, '.peers'), { recursive: true });
    execFileSync('go', ['build', '-o', PEER, '.'], { cwd: join(ROOT, 'test', 'peers', 'client-go'), stdio: 'inherit', timeout: 600_000 });
  }
  return PEER;
}

describe('client-go peer (protobuf request bodies)', () => {
  let srv: Srv;
  let out: Record<string, O>;
  before(async () => {
    srv = await startTestServer();
    const bin = peerBinary();
    // run asynchronously: the server lives in this process
    const { execFile } = await import('node:child_process');
    out = await new Promise((resolve, reject) =>
      execFile(bin, [srv.kubeconfigPath], { timeout: 60_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
      ),
    );
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  const stored = async (path: string) => {
    const r = await http(srv, 'GET', path);
    assert.equal(r.status, 200, r.body);
    return r.json() as O;
  };

  it('ConfigMap: metadata (labels, annotations, finalizers, ownerReferences), data and binaryData', async () => {
    const cm = await stored('/api/v1/namespaces/default/configmaps/peer-cm');
    assert.deepEqual(cm.metadata.labels, { app: 'peer' });
    assert.deepEqual(cm.metadata.annotations, { a: 'b' });
    assert.deepEqual(cm.metadata.finalizers, ['x/y']);
    assert.deepEqual(cm.metadata.ownerReferences, [
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: '0b9e8c7d-1111-2222-3333-444455556666', controller: true },
    ]);
    assert.deepEqual(cm.data, { k: 'v' });
    assert.deepEqual(cm.binaryData, { bin: Buffer.from([0, 1, 2]).toString('base64') });
    assert.equal(out.configmap.metadata.uid, cm.metadata.uid);
  });

  it('Lease: created and updated (PUT) with MicroTime and pointer fields', async () => {
    const l = await stored('/apis/coordination.k8s.io/v1/namespaces/default/leases/peer-lease');
    assert.deepEqual(l.spec, {
      holderIdentity: 'peer-1',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T03:04:05.123456Z',
      renewTime: '2026-01-02T03:04:05.123456Z',
      leaseTransitions: 3,
    });
  });

  it('Events in both groups land in one storage with the right fields', async () => {
    const e = await stored('/api/v1/namespaces/default/events/peer-cm.1');
    assert.equal(e.reason, 'Peered');
    assert.equal(e.message, 'written by client-go');
    assert.equal(e.count, 2);
    assert.equal(e.firstTimestamp, '2026-01-02T03:04:05Z');
    assert.equal((e.involvedObject as { uid: string }).uid, out.configmap.metadata.uid);
    assert.equal(e.eventTime, undefined, 'a zero time is unset, not 1970');
    const v1 = await stored('/apis/events.k8s.io/v1/namespaces/default/events/peer-cm.2');
    assert.equal(v1.note, 'events.k8s.io');
    assert.equal(v1.eventTime, '2026-01-02T03:04:05.123456Z');
    const asCore = await stored('/api/v1/namespaces/default/events/peer-cm.2');
    assert.equal(asCore.message, 'events.k8s.io');
    assert.equal(asCore.reason, 'PeeredAgain');
  });

  it('ServiceAccount keeps an explicit false; Namespace gets its defaults', async () => {
    const sa = await stored('/api/v1/namespaces/default/serviceaccounts/peer-sa');
    assert.equal(sa.automountServiceAccountToken, false);
    assert.deepEqual(sa.imagePullSecrets, [{ name: 'pull' }]);
    const ns = await stored('/api/v1/namespaces/peer-ns');
    assert.deepEqual(ns.status, { phase: 'Active' });
    // kube-apiserver's NamespaceDefaultLabelName: the name is a label too
    assert.deepEqual(ns.metadata.labels, { app: 'peer', 'kubernetes.io/metadata.name': 'peer-ns' });
  });

  it('Node: spec and status written through /status with quantities, conditions and addresses', async () => {
    const n = await stored('/api/v1/nodes/peer-node');
    assert.equal((n.spec as { providerID: string }).providerID, 'metal3://default/host-0/m3m-0');
    assert.deepEqual((n.spec as { taints: unknown }).taints, [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]);
    const st = n.status as Record<string, unknown>;
    assert.deepEqual(st.capacity, { cpu: '4', memory: '8Gi' });
    assert.deepEqual(st.addresses, [
      { type: 'InternalIP', address: '192.168.111.20' },
      { type: 'Hostname', address: 'host-0' },
    ]);
    assert.equal((st.conditions as Array<{ type: string; status: string }>)[0].status, 'True');
    assert.equal((st.nodeInfo as { kubeletVersion: string }).kubeletVersion, 'v1.32.0');
  });

  it('DELETE with protobuf DeleteOptions removed the Secret', async () => {
    assert.equal((await http(srv, 'GET', '/api/v1/namespaces/default/secrets/peer-secret')).status, 404);
  });
});
