// A whole cluster from metal3-dev-env's templates, end to end: kubectl applies the v1beta2 cluster,
// control plane and worker templates; Cluster API, kubeadm and CAPM3 claim three emulated hosts,
// Ironic provisions them, each installed OS runs its cloud-init (kubeadm init on the first, joins
// after), and the workload cluster — reached with the `<cluster>-kubeconfig` Secret — lists three
// Ready Nodes with metal3 providerIDs.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TEMPLATE_NETWORK } from '../devenv/cluster.js';
import { freeTcpPort } from '../devenv/stack.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { substitute } from '../scenarios/format.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const image = Buffer.alloc(1024 * 1024, 7);
const sha = createHash('sha256').update(image).digest('hex');

describe('Cluster API with CAPM3 on emulated hosts', { concurrency: 1 }, () => {
  let s: BmoStack;
  let port: number;
  const k = (args: string[], input?: string) => s.k(args, input);
  async function until<T>(
    what: string,
    f: () => Promise<T | undefined | false>,
    ms = Number(process.env.CAPI_WAIT ?? 240_000),
  ): Promise<T> {
    const end = Date.now() + ms;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined && v !== false) return v as T;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) {
        const dump = await k(['get', '-n', 'metal3', 'cluster,kcp,md,ms,machines,m3m,bmh,m3d,ipclaim', '-o', 'wide']);
        if (process.env.CAPI_DUMP) console.log((await k(['get', '-n', 'metal3', process.env.CAPI_DUMP, '-o', 'yaml'])).stdout);
        if (process.env.CAPI_CONSOLE) for (const m of s.fleet.fleet.machines) console.log(m.name, m.state.console.slice(-40).join('\n'));
        throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ''}\n${dump.stdout}\n${dump.stderr}`);
      }
      await sleep(500);
    }
  }

  before(async () => {
    s = await startBmoStack({ machines: 3, files: { '/node.img': image }, pollMs: 200 });
    assert.equal((await k(['create', 'namespace', 'metal3'])).code, 0);
    const r = await k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia', namespace: 'metal3' }));
    assert.equal(r.code, 0, r.stderr);
    for (const a of s.fleet.addrs) {
      await until(`${a.name} available`, async () => (await s.host(a.name, 'metal3')).status?.provisioning?.state === 'available');
    }
    port = await freeTcpPort();
  });
  after(async () => s?.close());

  it('provisions 1 control plane + 2 workers from the v1beta2 templates, Nodes Ready', async () => {
    const vars: Record<string, string> = {
      NAMESPACE: 'metal3',
      CLUSTER_NAME: 'test1',
      ...TEMPLATE_NETWORK,
      CLUSTER_APIENDPOINT_PORT: String(port),
      CONTROL_PLANE_MACHINE_COUNT: '1',
      WORKER_MACHINE_COUNT: '2',
      KUBERNETES_VERSION: 'v1.36.0',
      NODE_DRAIN_TIMEOUT: '0',
      SSH_PUB_KEY_CONTENT: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFerriteTestKey ferrite@test',
      IMAGE_URL: `${s.files.url}/node.img`,
      IMAGE_CHECKSUM: sha,
      IMAGE_CHECKSUM_TYPE: 'sha256',
      IMAGE_FORMAT: 'raw',
    };
    const text = ['cluster.yaml', 'controlplane.yaml', 'workers.yaml']
      .map((f) => substitute(readFileSync(new URL(`../scenarios/templates/v1beta2/${f}`, import.meta.url), 'utf8'), vars, f))
      .join('\n---\n');
    const r = await k(['apply', '-f', '-'], text);
    assert.equal(r.code, 0, r.stderr);
    await until('3 machines Running', async () => {
      const out = await k(['get', '-n', 'metal3', 'machines', '-o', 'jsonpath={.items[*].status.phase}']);
      const phases = out.stdout.split(/\s+/).filter(Boolean);
      return phases.length === 3 && phases.every((p) => p === 'Running');
    });
    // kubectl's CLUSTER column of Metal3Machines (the cluster-name label the Machine controller sets)
    const table = (await k(['get', '-n', 'metal3', 'm3m'])).stdout.trim().split('\n');
    // kubectl aligns its columns: read each row at the header's CLUSTER offset (other columns may be empty)
    const at = table[0].indexOf('CLUSTER');
    assert.ok(at > 0, `a CLUSTER column: ${table[0]}`);
    for (const row of table.slice(1)) assert.equal(row.slice(at).trim().split(/\s+/)[0], 'test1', row);
    const secret = await k(['get', '-n', 'metal3', 'secret', 'test1-kubeconfig', '-o', 'jsonpath={.data.value}']);
    assert.equal(secret.code, 0, secret.stderr);
    const kc = join(s.api.dir, 'test1.kubeconfig');
    writeFileSync(kc, Buffer.from(secret.stdout, 'base64'));
    const nodes = await until('3 Ready nodes', async () => {
      const out = await k(['--kubeconfig', kc, 'get', 'nodes', '-o', 'json']);
      const items = (JSON.parse(out.stdout).items ?? []) as Array<{
        spec: { providerID?: string };
        status: { conditions: Array<{ type: string; status: string }> };
      }>;
      return items.length === 3 && items.every((n) => n.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'))
        ? items
        : undefined;
    });
    for (const n of nodes) assert.match(String(n.spec.providerID), /^metal3:\/\/metal3\/node-\d+\/test1-/);
    const cp = await k(['--kubeconfig', kc, 'get', 'nodes', '-l', 'node-role.kubernetes.io/control-plane', '-o', 'name']);
    assert.equal(cp.stdout.trim().split('\n').length, 1);
    const kcp = JSON.parse((await k(['get', '-n', 'metal3', 'kcp', 'test1', '-o', 'json'])).stdout);
    assert.equal(kcp.status.initialization.controlPlaneInitialized, true);
    const cl = await until('cluster Available', async () => {
      const c = JSON.parse((await k(['get', '-n', 'metal3', 'cluster', 'test1', '-o', 'json'])).stdout);
      return c.status?.conditions?.some((x: { type: string; status: string }) => x.type === 'Available' && x.status === 'True')
        ? c
        : undefined;
    });
    assert.equal(cl.status.phase, 'Provisioned');
    const ips = await k(['get', '-n', 'metal3', 'ipaddresses.ipam.metal3.io', '-o', 'name']);
    assert.equal(ips.stdout.trim().split('\n').length, 6, 'two addresses (provisioning and external) per machine');
  });

  it('a MachineSet deletes an infrastructure machine it cloned that no Machine uses (a Machine create that failed)', async () => {
    const ms = JSON.parse((await k(['get', '-n', 'metal3', 'ms', '-o', 'json'])).stdout).items[0] as {
      apiVersion: string;
      metadata: { name: string; uid: string };
      spec: { selector: { matchLabels: Record<string, string> } };
    };
    // what a MachineSet leaves when it cloned the template and then could not create the Machine
    const worker = JSON.parse((await k(['get', '-n', 'metal3', 'm3m', '-l', 'cluster.x-k8s.io/set-name', '-o', 'json'])).stdout)
      .items[0] as { apiVersion: string; spec: Record<string, unknown> };
    const { providerID: _, ...spec } = worker.spec;
    const orphan = {
      apiVersion: worker.apiVersion,
      kind: 'Metal3Machine',
      metadata: {
        name: `${ms.metadata.name}-orphan`,
        namespace: 'metal3',
        labels: { ...ms.spec.selector.matchLabels, 'cluster.x-k8s.io/cluster-name': 'test1' },
        ownerReferences: [{ apiVersion: ms.apiVersion, kind: 'MachineSet', name: ms.metadata.name, uid: ms.metadata.uid }],
      },
      spec,
    };
    const c = await k(['create', '-f', '-'], JSON.stringify(orphan));
    assert.equal(c.code, 0, c.stderr);
    // the MachineSet's next reconcile (any change to it) sweeps it, and leaves its Machines' own alone
    await k(['annotate', '-n', 'metal3', 'ms', ms.metadata.name, `ferrite.test/poke=${Date.now()}`, '--overwrite']);
    await until(
      'the orphaned Metal3Machine deleted',
      async () => (await k(['get', '-n', 'metal3', 'm3m', orphan.metadata.name])).stderr.includes('NotFound'),
      60_000,
    );
    const left = await k(['get', '-n', 'metal3', 'm3m', '-o', 'name']);
    assert.equal(left.stdout.trim().split('\n').length, 3, `the three machines' Metal3Machines stay:\n${left.stdout}`);
  });

  it('a template whose hostSelector matches nothing leaves its Machine waiting with a condition, without spinning', async () => {
    const yaml = `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3MachineTemplate
metadata: {name: nowhere, namespace: metal3}
spec:
  template:
    spec:
      image: {url: "${s.files.url}/node.img", checksum: ${sha}, checksumType: sha256, diskFormat: raw}
      hostSelector: {matchLabels: {rack: nowhere}}
---
apiVersion: cluster.x-k8s.io/v1beta2
kind: MachineDeployment
metadata: {name: nowhere, namespace: metal3}
spec:
  clusterName: test1
  replicas: 1
  selector: {matchLabels: {pool: nowhere}}
  template:
    metadata: {labels: {pool: nowhere}}
    spec:
      clusterName: test1
      version: v1.36.0
      bootstrap: {configRef: {apiGroup: bootstrap.cluster.x-k8s.io, kind: KubeadmConfigTemplate, name: test1-workers}}
      infrastructureRef: {apiGroup: infrastructure.cluster.x-k8s.io, kind: Metal3MachineTemplate, name: nowhere}
`;
    const r = await k(['apply', '-f', '-'], yaml);
    assert.equal(r.code, 0, r.stderr);
    const m3m = await until('the waiting condition', async () => {
      const out = JSON.parse((await k(['get', '-n', 'metal3', 'm3m', '-l', 'pool=nowhere', '-o', 'json'])).stdout).items[0];
      const c = out?.status?.conditions?.find((x: { type: string }) => x.type === 'AssociateBareMetalHost');
      return c?.status === 'False' && c.reason === 'AssociateBareMetalHostFailed' ? out : undefined;
    });
    assert.match(
      m3m.status.conditions.find((x: { type: string }) => x.type === 'AssociateBareMetalHost').message,
      /No available host found/,
    );
    const rv = m3m.metadata.resourceVersion;
    await sleep(4_000);
    const again = JSON.parse((await k(['get', '-n', 'metal3', 'm3m', m3m.metadata.name, '-o', 'json'])).stdout);
    assert.equal(again.metadata.resourceVersion, rv, 'nothing rewrites the waiting machine while no host is free');
    assert.equal((await k(['delete', '-n', 'metal3', 'md', 'nowhere', '--wait=true', '--timeout=60s'])).code, 0);
  });

  it('kubeadm join with a wrong token fails as kubeadm does', async () => {
    const { kubeadmJoin } = await import('../emulator/os/kubeadm.js');
    const wc = s.fleet.fleet.workloadClusters.get(`127.0.0.1:${port}`);
    assert.ok(wc, 'the workload API server runs in the emulator');
    const { caCertHash } = await import('../provider/capi/kubeadm/certificates.js');
    const files = new Map([
      [
        '/run/kubeadm/kubeadm-join-config.yaml',
        `apiVersion: kubeadm.k8s.io/v1beta4\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    apiServerEndpoint: 127.0.0.1:${port}\n    token: abcdef.0123456789abcdef\n    caCertHashes: ["${caCertHash(wc.caPem)}"]\n`,
      ],
    ]);
    await assert.rejects(
      kubeadmJoin(
        {
          files,
          clusters: s.fleet.fleet.workloadClusters,
          clock: s.fleet.fleet.clock,
          member: 'x',
          log: () => undefined,
          signal: new AbortController().signal,
        },
        '/run/kubeadm/kubeadm-join-config.yaml',
      ),
      /could not find a JWS signature in the cluster-info ConfigMap for token ID "abcdef"/,
    );
    files.set(
      '/run/kubeadm/kubeadm-join-config.yaml',
      String(files.get('/run/kubeadm/kubeadm-join-config.yaml')).replace(/sha256:[0-9a-f]+/, `sha256:${'0'.repeat(64)}`),
    );
    await assert.rejects(
      kubeadmJoin(
        {
          files,
          clusters: s.fleet.fleet.workloadClusters,
          clock: s.fleet.fleet.clock,
          member: 'x',
          log: () => undefined,
          signal: new AbortController().signal,
        },
        '/run/kubeadm/kubeadm-join-config.yaml',
      ),
      /none of the public keys .* are pinned/,
    );
  });

  it('syncs host labels to Nodes and the template cleaning mode to machines and hosts', async () => {
    assert.equal((await k(['annotate', '-n', 'metal3', 'm3c', 'test1', 'metal3.io/metal3-label-sync-prefixes=example.com'])).code, 0);
    for (const a of s.fleet.addrs) assert.equal((await k(['label', '-n', 'metal3', 'bmh', a.name, 'example.com/rack=r7'])).code, 0);
    const kc = join(s.api.dir, 'test1.kubeconfig');
    await until('labels on every node', async () => {
      const out = await k(['--kubeconfig', kc, 'get', 'nodes', '-l', 'example.com/rack=r7', '-o', 'name']);
      return out.stdout.trim().split('\n').filter(Boolean).length === 3;
    });
    const p = JSON.stringify({ spec: { template: { spec: { automatedCleaningMode: 'disabled' } } } });
    assert.equal((await k(['patch', '-n', 'metal3', 'm3mt', 'test1-workers', '--type', 'merge', '-p', p])).code, 0);
    await until('cleaning mode on the worker hosts', async () => {
      const out = await k(['get', '-n', 'metal3', 'bmh', '-o', 'jsonpath={.items[*].spec.automatedCleaningMode}']);
      return out.stdout.split(' ').filter((x) => x === 'disabled').length === 2;
    });
  });

  it("a workload Node's change reaches its Machine through the cluster's Node watch, not a poll", async () => {
    const kc = join(s.api.dir, 'test1.kubeconfig');
    const node = (await k(['--kubeconfig', kc, 'get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}'])).stdout.trim();
    assert.ok(node, 'a workload Node');
    const p = JSON.stringify({ status: { nodeInfo: { osImage: 'Watched Linux 1.0' } } });
    const r = await k(['--kubeconfig', kc, 'patch', 'node', node, '--subresource', 'status', '--type', 'merge', '-p', p]);
    assert.equal(r.code, 0, r.stderr);
    // a Running Machine whose cluster's Node watch is open is otherwise reconciled every 10 minutes
    // (it was polled every 15 s before the watch: 5 s tells the two apart most of the time)
    await until(
      'the Machine to carry the new nodeInfo',
      async () => {
        const out = await k(['get', '-n', 'metal3', 'machines', '-o', 'jsonpath={.items[*].status.nodeInfo.osImage}']);
        return out.stdout.includes('Watched Linux 1.0');
      },
      5_000,
    );
  });
});
