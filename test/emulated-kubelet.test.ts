// The emulated kubelet's heartbeat is a Lease, as a kubelet with node leases does: an idle node
// renews its Lease every beat and posts Node status only when it changed or once per report
// period, and the node lifecycle loop counts a fresh Lease as a live node — so a Running cluster
// costs one small write per beat instead of a Node status rewrite (issue 24's steady state). The
// kubelet and the loop reach the API server beside them in the process without a connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../devenv/stack.js';
import { Kubelet, type KubeTimings } from '../emulator/os/kubelet.js';
import { type WorkloadCluster, WorkloadClusters } from '../emulator/os/workload-clusters.js';
import { type NodeApi, ServerDownError } from '../provider/apiserver/local-client.js';
import { createCertificateAuthority } from '../provider/apiserver/pki.js';
import { cleanup, requestCounts, tempDir } from './helpers/apiserver.js';

type NodeObj = { metadata: { resourceVersion: string }; status?: { conditions?: Array<Record<string, string>> } };
type LeaseObj = { spec?: { renewTime?: string } };

describe('emulated kubelet heartbeats', () => {
  // Kubernetes' timings a tenth as long (the emulator runs them in real time: 10 s beats): a beat
  // every second, an unchanged status every 30 s, a node silent for 4 s turns Unknown
  const timings: KubeTimings = { leaseRenewMs: 1_000, statusReportMs: 30_000, nodeMonitorPeriodMs: 500, nodeMonitorGraceMs: 4_000 };
  let dir: string;
  let clusters: WorkloadClusters;
  let c: WorkloadCluster;
  let ca: Awaited<ReturnType<typeof createCertificateAuthority>>;

  before(async () => {
    dir = tempDir();
    clusters = new WorkloadClusters(dir, timings);
    ca = await createCertificateAuthority('kubernetes');
    c = await clusters.up(`127.0.0.1:${await freeTcpPort()}`, ca, 'n1');
  });
  after(async () => {
    await clusters.close();
    cleanup(dir);
  });

  /** the kubelet's client, counting the Node reads it makes */
  let nodeReads = 0;
  const counted = (api: NodeApi): NodeApi =>
    new Proxy(api, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        if (p !== 'get' || typeof v !== 'function') return typeof v === 'function' ? v.bind(t) : v;
        return (apiVersion: string, kind: string, ns: string | undefined, name: string) => {
          if (kind === 'Node') nodeReads++;
          return v.call(t, apiVersion, kind, ns, name);
        };
      },
    });
  const kubelet = () =>
    new Kubelet(
      counted(clusters.local(c.endpoint, 'kubelet')),
      {
        name: 'n1',
        labels: {},
        taints: [],
        controlPlane: false,
        version: 'v1.36.0',
        hostname: 'n1',
        systemUUID: '6b1f0c2e-1d2a-4c47-9a53-7b0e5d3c9f11',
        cpus: 2,
        memoryMiB: 4096,
      },
      timings,
      () => undefined,
    );
  const node = () => c.client.get<NodeObj>('v1', 'Node', undefined, 'n1');
  const ready = async () => (await node()).status?.conditions?.find((x) => x.type === 'Ready')?.status;
  /** a running kubelet posts Ready within 5 s (a beat or two) */
  const readyAgain = async (what: string) => {
    const back = Date.now() + 5_000;
    while ((await ready()) !== 'True') {
      assert.ok(Date.now() < back, what);
      await sleep(200);
    }
  };
  const lease = async () => (await c.client.get<LeaseObj>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'n1')).spec?.renewTime;

  /** writes, lists and watches of Leases and Nodes the workload API server answered over HTTPS */
  const requests = async () => {
    const c0 = await requestCounts(c.client);
    return Object.entries(c0)
      .filter(([k]) => /^(LIST|WATCH|POST|PUT|PATCH) (leases|nodes)$/.test(k))
      .reduce((n, [, v]) => n + v, 0);
  };

  it('renews the Lease every beat, leaves an unchanged Node alone, and the Lease alone keeps it Ready', async () => {
    const k = kubelet();
    await k.register();
    const stop = new AbortController();
    const running = k.run(stop.signal);
    const rv0 = (await node()).metadata.resourceVersion;
    // past the first beat, which reads the Node once
    await sleep(1_500);
    const requests0 = await requests();
    const reads0 = nodeReads;
    const renewals = new Set<string>();
    const deadline = Date.now() + 7_000;
    while (Date.now() < deadline) {
      renewals.add(String(await lease()));
      assert.equal(await ready(), 'True', 'a node whose Lease is fresh stays Ready');
      await sleep(200);
    }
    assert.ok(renewals.size >= 5, `the Lease was renewed each beat (${renewals.size} distinct renewTimes in 7 s)`);
    // seven beats, no change: no Node write (the Ready heartbeat is older than the 4 s grace by now)
    assert.equal((await node()).metadata.resourceVersion, rv0, 'the Node was not rewritten while nothing changed');
    // seven beats and 14 monitor periods went to the server in the process, none over HTTPS (the
    // test's own reads are GETs)
    assert.equal((await requests()) - requests0, 0, 'no Lease or Node write, list or watch over HTTPS');
    // it read its Node once after registering; a Node no one wrote since is not read again
    assert.equal(nodeReads - reads0, 0, `the kubelet read its unchanged Node ${nodeReads - reads0} times in seven beats`);
    const l = await c.client.get<LeaseObj & { metadata: { managedFields?: Array<{ manager: string }> } }>(
      'coordination.k8s.io/v1',
      'Lease',
      'kube-node-lease',
      'n1',
    );
    assert.deepEqual(
      l.metadata.managedFields?.map((f) => f.manager),
      ['kubelet'],
      'the Lease is written by the kubelet, as managedFields show',
    );
    stop.abort();
    await running;
  });

  it('a running kubelet sees another writer turn its Node Unknown and posts Ready within a beat or two', async () => {
    const k = kubelet();
    await k.register();
    const stop = new AbortController();
    const running = k.run(stop.signal);
    await sleep(2_500);
    const cur = await node();
    const conditions = cur.status?.conditions?.map((x) =>
      x.type === 'Ready' ? { ...x, status: 'Unknown', reason: 'NodeStatusUnknown' } : x,
    );
    await c.client.patch({ apiVersion: 'v1', kind: 'Node', name: 'n1' }, 'merge', { status: { conditions } }, { subresource: 'status' });
    assert.equal(await ready(), 'Unknown');
    await readyAgain('the kubelet noticed the changed Node and posted Ready');
    stop.abort();
    await running;
  });

  it('a silent kubelet turns its Node Unknown; back, it posts Ready at once', async () => {
    // the previous kubelet stopped: within the grace (4 s) and a monitor period the Node is Unknown
    const deadline = Date.now() + 15_000;
    while ((await ready()) !== 'Unknown') {
      assert.ok(Date.now() < deadline, 'the Node turned Unknown once its Lease went stale');
      await sleep(250);
    }
    const stop = new AbortController();
    const running = kubelet().run(stop.signal);
    await readyAgain('the kubelet saw the Unknown and posted Ready within a beat or two');
    stop.abort();
    await running;
  });

  it('reaches whichever API server runs at the endpoint: refused while none does, the new one after a restart', async () => {
    const api = clusters.local(c.endpoint, 'kubelet');
    const uid = (await api.get<NodeObj & { metadata: { uid: string } }>('v1', 'Node', undefined, 'n1')).metadata.uid;
    // the last control plane node stops: the API server goes, its data stays
    await clusters.leave(c.endpoint, 'n1');
    await assert.rejects(api.get('v1', 'Node', undefined, 'n1'), (e) => e instanceof ServerDownError && e.code === 'ECONNREFUSED');
    c = await clusters.up(c.endpoint, ca, 'n1');
    const back = await api.get<NodeObj & { metadata: { uid: string } }>('v1', 'Node', undefined, 'n1');
    assert.equal(back.metadata.uid, uid, 'the same Node, from the restarted server');
  });
});
