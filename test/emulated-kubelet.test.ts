// The emulated kubelet's heartbeat is a Lease, as a kubelet with node leases does: an idle node
// renews its Lease every beat and posts Node status only when it changed or once per report
// period, and the node lifecycle loop counts a fresh Lease as a live node — so a Running cluster
// costs one small write per beat instead of a Node status rewrite (issue 24's steady state).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeTcpPort } from '../devenv/stack.js';
import { Kubelet, type KubeTimings } from '../emulator/os/kubelet.js';
import { type WorkloadCluster, WorkloadClusters } from '../emulator/os/workload-clusters.js';
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

  before(async () => {
    dir = tempDir();
    clusters = new WorkloadClusters(dir, timings);
    c = await clusters.up(`127.0.0.1:${await freeTcpPort()}`, await createCertificateAuthority('kubernetes'), 'n1');
  });
  after(async () => {
    await clusters.close();
    cleanup(dir);
  });

  const kubelet = () =>
    new Kubelet(
      c.client,
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
  const lease = async () => (await c.client.get<LeaseObj>('coordination.k8s.io/v1', 'Lease', 'kube-node-lease', 'n1')).spec?.renewTime;

  /** LISTs of Leases and Nodes the workload API server has answered */
  const lists = async () => {
    const c0 = await requestCounts(c.client);
    return (c0['LIST leases'] ?? 0) + (c0['LIST nodes'] ?? 0);
  };

  it('renews the Lease every beat, leaves an unchanged Node alone, and the Lease alone keeps it Ready', async () => {
    const k = kubelet();
    await k.register();
    const stop = new AbortController();
    const running = k.run(stop.signal);
    const rv0 = (await node()).metadata.resourceVersion;
    await sleep(1_000);
    const lists0 = await lists();
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
    // 14 monitor periods: Leases come from the lifecycle loop's watch, Nodes are not read while every
    // Lease is fresh (the once-a-minute Node read at most)
    assert.ok((await lists()) - lists0 <= 1, `the node lifecycle loop listed Leases or Nodes ${(await lists()) - lists0} times in 7 s`);
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
    const back = Date.now() + 5_000;
    while ((await ready()) !== 'True') {
      assert.ok(Date.now() < back, 'the kubelet saw the Unknown and posted Ready within a beat or two');
      await sleep(200);
    }
    stop.abort();
    await running;
  });
});
