// IPAM through kubectl: IPPools hand out addresses to IPClaims and to Cluster API IPAddressClaims
// with upstream's rules (sequential lowest free, pre-allocations, requested addresses, per-range
// prefix/gateway/DNS), report an exhausted pool on the claim, release on claim deletion, never hand
// one address out twice under concurrency, and wait for the Cluster a pool belongs to.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { installCrds } from '../cli/crds.js';
import { IPPOOL, ipPoolController } from '../provider/ipam/ippool-controller.js';
import { KubeClient } from '../provider/kube/client.js';
import { Manager } from '../provider/kube/manager.js';
import { cleanup, kubectl, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

describe('IPAM', { concurrency: 1 }, () => {
  let api: Srv;
  let manager: Manager;
  const k = (args: string[], input?: string) => kubectl(api.kubeconfigPath, args, { input });
  const apply = async (yaml: string) => {
    const r = await k(['apply', '-f', '-'], yaml);
    assert.equal(r.code, 0, r.stderr);
  };
  async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await sleep(50);
    }
  }
  const jsonpath = async (args: string[], path: string) => (await k([...args, '-o', `jsonpath=${path}`])).stdout;
  const claimAddress = (name: string) =>
    until(`address of ${name}`, async () => {
      const ref = await jsonpath(['get', 'ipclaim', name], '{.status.address.name}');
      if (!ref) return undefined;
      return jsonpath(['get', 'ipaddress.ipam.metal3.io', ref], '{.spec.address}');
    });
  const claimYaml = (name: string, pool: string, extra = '') =>
    `apiVersion: ipam.metal3.io/v1alpha1\nkind: IPClaim\nmetadata: {name: ${name}${extra}}\nspec: {pool: {name: ${pool}}}\n`;

  before(async () => {
    api = await startTestServer({ inMemory: true });
    await installCrds(api.core);
    const client = KubeClient.fromFile(api.kubeconfigPath);
    manager = new Manager({ client, name: 'ipam', log: pino({ level: process.env.IPAM_LOG ?? 'silent' }) });
    const pools = manager.informer(IPPOOL);
    manager.add(ipPoolController({ pools: () => pools.list() }));
    await manager.start();
  });
  after(async () => {
    await manager?.stop();
    await api?.close();
    if (api) await cleanup(api.dir);
  });

  it('allocates the lowest free address with the range’s prefix, gateway and DNS, named after the address', async () => {
    await apply(`apiVersion: ipam.metal3.io/v1alpha1
kind: IPPool
metadata: {name: prov}
spec:
  namePrefix: test1-prov
  prefix: 24
  gateway: 172.22.0.1
  pools:
  - {start: 172.22.0.100, end: 172.22.0.101}
  - {start: 172.22.1.10, end: 172.22.1.20, prefix: 25, gateway: 172.22.1.1, dnsServers: [8.8.8.8]}
`);
    await apply(claimYaml('a', 'prov'));
    assert.equal(await claimAddress('a'), '172.22.0.100');
    await apply(claimYaml('b', 'prov'));
    assert.equal(await claimAddress('b'), '172.22.0.101');
    await apply(claimYaml('c', 'prov'));
    assert.equal(await claimAddress('c'), '172.22.1.10');
    const addr = JSON.parse((await k(['get', 'ipaddress.ipam.metal3.io', 'test1-prov-172-22-1-10', '-o', 'json'])).stdout);
    assert.deepEqual(
      {
        prefix: addr.spec.prefix,
        gateway: addr.spec.gateway,
        dns: addr.spec.dnsServers,
        pool: addr.spec.pool.name,
        claim: addr.spec.claim.name,
      },
      { prefix: 25, gateway: '172.22.1.1', dns: ['8.8.8.8'], pool: 'prov', claim: 'c' },
    );
    assert.deepEqual(addr.metadata.finalizers, ['ipaddress.ipam.metal3.io']);
    assert.deepEqual(
      addr.metadata.ownerReferences.map((r: { kind: string; name: string }) => `${r.kind}/${r.name}`),
      ['IPPool/prov', 'IPClaim/c'],
    );
    const first = JSON.parse((await k(['get', 'ipaddress.ipam.metal3.io', 'test1-prov-172-22-0-100', '-o', 'json'])).stdout);
    assert.equal(first.spec.prefix, 24);
    assert.equal(first.spec.gateway, '172.22.0.1');
    const indexes = await until('pool indexes', async () => {
      const s = await jsonpath(['get', 'ippool', 'prov'], '{.status.indexes}');
      return s && Object.keys(JSON.parse(s)).length === 3 ? JSON.parse(s) : undefined;
    });
    assert.deepEqual(indexes, { a: '172.22.0.100', b: '172.22.0.101', c: '172.22.1.10' });
    assert.match(await jsonpath(['get', 'ipclaim', 'a'], '{.metadata.finalizers}'), /ipclaim\.ipam\.metal3\.io/);
    assert.match(await jsonpath(['get', 'ippool', 'prov'], '{.metadata.finalizers}'), /ippool\.ipam\.metal3\.io/);
  });

  it('releases the address when its claim is deleted, and hands it out again', async () => {
    const r = await k(['delete', 'ipclaim', 'a', '--wait=true', '--timeout=20s']);
    assert.equal(r.code, 0, r.stderr);
    const gone = await k(['get', 'ipaddress.ipam.metal3.io', 'test1-prov-172-22-0-100']);
    assert.notEqual(gone.code, 0, 'the IPAddress is deleted with its claim');
    await apply(claimYaml('d', 'prov'));
    assert.equal(await claimAddress('d'), '172.22.0.100', 'the lowest free address again');
  });

  it('reports an exhausted pool on the claim', async () => {
    await apply(`apiVersion: ipam.metal3.io/v1alpha1
kind: IPPool
metadata: {name: tiny}
spec: {namePrefix: tiny, pools: [{start: 10.9.0.1, end: 10.9.0.1}], prefix: 24}
`);
    await apply(claimYaml('t1', 'tiny'));
    assert.equal(await claimAddress('t1'), '10.9.0.1');
    await apply(claimYaml('t2', 'tiny'));
    const msg = await until(
      'an error on t2',
      async () => (await jsonpath(['get', 'ipclaim', 't2'], '{.status.errorMessage}')) || undefined,
    );
    assert.equal(msg, 'Exhausted IP Pools');
    assert.equal(await jsonpath(['get', 'ipclaim', 't2'], '{.status.address.name}'), '');
  });

  it('honours pre-allocations and ipAddress annotations, and refuses what it cannot give', async () => {
    await apply(`apiVersion: ipam.metal3.io/v1alpha1
kind: IPPool
metadata: {name: pre}
spec:
  namePrefix: pre
  prefix: 24
  pools: [{subnet: 192.168.50.0/29}]
  preAllocations: {keeper: 192.168.50.3, outside: 10.0.0.1}
`);
    await apply(claimYaml('p1', 'pre'));
    assert.equal(await claimAddress('p1'), '192.168.50.1', 'a subnet starts at its network address + 1');
    await apply(claimYaml('p2', 'pre'));
    assert.equal(await claimAddress('p2'), '192.168.50.2');
    await apply(claimYaml('p3', 'pre'));
    assert.equal(await claimAddress('p3'), '192.168.50.4', 'a pre-allocated address is skipped');
    await apply(claimYaml('keeper', 'pre'));
    assert.equal(await claimAddress('keeper'), '192.168.50.3', 'a claim gets its pre-allocated address');
    await apply(claimYaml('asks', 'pre', ', annotations: {ipAddress: 192.168.50.6}'));
    assert.equal(await claimAddress('asks'), '192.168.50.6');
    const errOf = (n: string) =>
      until(`an error on ${n}`, async () => (await jsonpath(['get', 'ipclaim', n], '{.status.errorMessage}')) || undefined);
    await apply(claimYaml('asks-taken', 'pre', ', annotations: {ipAddress: 192.168.50.6}'));
    assert.equal(await errOf('asks-taken'), 'Requested IP not available');
    await apply(claimYaml('asks-garbage', 'pre', ', annotations: {ipAddress: not-an-ip}'));
    assert.equal(await errOf('asks-garbage'), 'Invalid ipAddress annotation "not-an-ip": not a valid IP address');
    await apply(claimYaml('outside', 'pre'));
    assert.equal(await errOf('outside'), 'Pre-allocated IP out of bounds');
  });

  it('never hands one address to two claims created at once', async () => {
    await apply(`apiVersion: ipam.metal3.io/v1alpha1
kind: IPPool
metadata: {name: busy}
spec: {namePrefix: busy, prefix: 24, pools: [{start: 10.20.0.1, end: 10.20.0.250}]}
`);
    const client = KubeClient.fromFile(api.kubeconfigPath);
    const n = 40;
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        client.create({
          apiVersion: 'ipam.metal3.io/v1alpha1',
          kind: 'IPClaim',
          metadata: { name: `many-${i}`, namespace: 'default' },
          spec: { pool: { name: 'busy' } },
        }),
      ),
    );
    const addresses = await until(
      'every claim served',
      async () => {
        const list = await client.list<{ metadata: { name: string }; status?: { address?: { name?: string } } }>(
          'ipam.metal3.io/v1alpha1',
          'IPClaim',
          'default',
        );
        const mine = list.items.filter((c) => c.metadata.name.startsWith('many-'));
        return mine.every((c) => c.status?.address?.name) ? mine.map((c) => String(c.status?.address?.name)) : undefined;
      },
      60_000,
    );
    assert.equal(new Set(addresses).size, n, 'every claim has its own address');
    const objs = await client.list<{ spec: { pool: { name: string }; address: string } }>(
      'ipam.metal3.io/v1alpha1',
      'IPAddress',
      'default',
    );
    const busy = objs.items.filter((a) => a.spec.pool.name === 'busy').map((a) => a.spec.address);
    assert.equal(busy.length, n);
    assert.equal(new Set(busy).size, n);
    const expected = Array.from({ length: n }, (_, i) => `10.20.0.${i + 1}`).sort();
    assert.deepEqual([...busy].sort(), expected, 'sequential allocation leaves no holes');
  });

  it('serves Cluster API IPAddressClaims from the same pool, at v1beta2 and v1beta1', async () => {
    await apply(`apiVersion: ipam.cluster.x-k8s.io/v1beta2
kind: IPAddressClaim
metadata: {name: capi-1}
spec: {poolRef: {apiGroup: ipam.metal3.io, kind: IPPool, name: prov}}
`);
    const ref = await until(
      'addressRef',
      async () => (await jsonpath(['get', 'ipaddressclaims.ipam.cluster.x-k8s.io', 'capi-1'], '{.status.addressRef.name}')) || undefined,
    );
    assert.equal(ref, 'test1-prov-172-22-1-11', 'the next free address after the IPClaims');
    const a = JSON.parse((await k(['get', 'ipaddresses.v1beta2.ipam.cluster.x-k8s.io', ref, '-o', 'json'])).stdout);
    assert.deepEqual(a.spec, {
      address: '172.22.1.11',
      prefix: 25,
      gateway: '172.22.1.1',
      poolRef: { name: 'prov', kind: 'IPPool', apiGroup: 'ipam.metal3.io' },
      claimRef: { name: 'capi-1' },
    });
    const ready = await jsonpath(
      ['get', 'ipaddressclaims.ipam.cluster.x-k8s.io', 'capi-1'],
      '{.status.conditions[?(@.type=="Ready")].status}',
    );
    assert.equal(ready, 'True');
    // the same claim read at v1beta1 carries the new conditions under status.v1beta2
    const old = JSON.parse((await k(['get', 'ipaddressclaims.v1beta1.ipam.cluster.x-k8s.io', 'capi-1', '-o', 'json'])).stdout);
    assert.equal(old.apiVersion, 'ipam.cluster.x-k8s.io/v1beta1');
    assert.equal(old.status.v1beta2.conditions[0].type, 'Ready');
    assert.equal(old.status.addressRef.name, ref);
    // exhausted: reported as a Ready=False condition with upstream's reason
    await apply(`apiVersion: ipam.cluster.x-k8s.io/v1beta1
kind: IPAddressClaim
metadata: {name: capi-tiny}
spec: {poolRef: {apiGroup: ipam.metal3.io, kind: IPPool, name: tiny}}
`);
    const reason = await until(
      'PoolExhausted',
      async () =>
        (await jsonpath(
          ['get', 'ipaddressclaims.ipam.cluster.x-k8s.io', 'capi-tiny'],
          '{.status.conditions[?(@.type=="Ready")].reason}',
        )) || undefined,
    );
    assert.equal(reason, 'PoolExhausted');
    assert.equal((await k(['delete', 'ipaddressclaims.ipam.cluster.x-k8s.io', 'capi-1', '--timeout=20s'])).code, 0);
    assert.notEqual((await k(['get', 'ipaddresses.ipam.cluster.x-k8s.io', ref])).code, 0, 'released with its claim');
  });

  it('a pool of a cluster waits for that Cluster, then belongs to it', async () => {
    await apply(`apiVersion: ipam.metal3.io/v1alpha1
kind: IPPool
metadata: {name: c1-pool}
spec: {clusterName: c1, namePrefix: c1, prefix: 24, pools: [{start: 10.30.0.10, end: 10.30.0.20}]}
`);
    await apply(claimYaml('c1-claim', 'c1-pool'));
    await sleep(500);
    assert.equal(await jsonpath(['get', 'ipclaim', 'c1-claim'], '{.status.address.name}'), '', 'nothing before the Cluster exists');
    assert.equal(await jsonpath(['get', 'ippool', 'c1-pool'], '{.metadata.labels.cluster\\.x-k8s\\.io/cluster-name}'), 'c1');
    await apply(`apiVersion: cluster.x-k8s.io/v1beta2
kind: Cluster
metadata: {name: c1}
spec: {}
`);
    assert.equal(await claimAddress('c1-claim'), '10.30.0.10');
    const owners = await jsonpath(['get', 'ippool', 'c1-pool'], '{.metadata.ownerReferences[*].kind}');
    assert.equal(owners, 'Cluster');
  });

  it('a deleted pool stays until the addresses it handed out are released', async () => {
    const r = await k(['delete', 'ippool', 'tiny', '--wait=false']);
    assert.equal(r.code, 0, r.stderr);
    await sleep(300);
    assert.equal((await k(['get', 'ippool', 'tiny'])).code, 0, 'still there while t1 holds 10.9.0.1');
    assert.equal((await k(['delete', 'ipclaim', 't1', 't2', '--timeout=20s'])).code, 0);
    await until('the pool gone', async () => ((await k(['get', 'ippool', 'tiny'])).code !== 0 ? true : undefined));
    // a failed claim of a pool that is gone holds nothing: deleting it does not hang on its finalizer
    assert.equal((await k(['delete', 'ipaddressclaims.ipam.cluster.x-k8s.io', 'capi-tiny', '--timeout=20s'])).code, 0);
    await until('the pool gone', async () => ((await k(['get', 'ippool', 'tiny'])).code !== 0 ? true : undefined));
  });
});
