// `ferrite dev up --kube real`: the whole stack on a real etcd + kube-apiserver +
// kube-controller-manager. Hosts and a 3-node cluster come up; kube-apiserver calls Ferrite's
// validating and conversion webhooks (counted in the controllers' metrics); kubectl shows
// upstream's columns; and, left alone, the controllers stay quiet — fewer than 10 writes a minute
// over 3 minutes (FERRITE_IDLE_MINUTES; kube-apiserver's audit log counts them) with no conversion error logged.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 300_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });
const IDLE_MINUTES = Number(process.env.FERRITE_IDLE_MINUTES ?? 3);

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource?: string; subresource?: string; name?: string; namespace?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

function auditWrites(file: string, fromLine: number): AuditEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .slice(fromLine)
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

function metric(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

describe('ferrite dev up --kube real', { concurrency: 1, timeout: 1_800_000 }, () => {
  const dir = tempDir('ferrite-dev-real-');
  const data = join(dir, 'dev');
  const kc = join(data, 'kube', 'kubeconfig');
  let metricsUrl = '';
  after(async () => {
    await ferrite(['dev', 'down', '--data-dir', data], 120_000);
    cleanup(dir);
  });

  it('brings 3 hosts to available and a 3-node cluster up on kube-apiserver', { timeout: 900_000 }, async () => {
    const r = await ferrite(['dev', 'up', '--kube', 'real', '--hosts', '3', '--port', '0', '--data-dir', data], 900_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /starting etcd, kube-apiserver and kube-controller-manager/);
    assert.match(r.stdout, /hosts: 3\/3 available/);
    assert.match(r.stdout, /cluster test1 with 3 Ready Nodes/);
    assert.match(r.stdout, new RegExp(`kubeconfig: +${kc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const v = await kubectl(kc, ['version', '-o', 'json']);
    assert.match(v.stdout, /"gitVersion": "v1\.37\.\d+"/, 'kubectl talks to the real kube-apiserver');
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { components: Record<string, { args: string[] }> };
    const args = state.components.controllers.args;
    metricsUrl = `http://${args[args.indexOf('--metrics-bind-address') + 1]}/metrics`;
  });

  it("kubectl shows upstream's columns for hosts and the cluster's objects", async () => {
    const bmh = await kubectl(kc, ['get', 'bmh', '-n', 'metal3']);
    assert.equal(bmh.code, 0, bmh.stderr);
    assert.match(bmh.stdout.split('\n')[0], /^NAME\s+STATE\s+CONSUMER\s+ONLINE\s+ERROR\s+AGE/);
    assert.equal(
      bmh.stdout
        .trim()
        .split('\n')
        .filter((l) => /\sprovisioned\s+test1-\S+\s+true\s/.test(l)).length,
      3,
    );
    const m3m = await kubectl(kc, ['get', 'm3m', '-n', 'metal3']);
    assert.equal(m3m.code, 0, m3m.stderr);
    assert.match(m3m.stdout.split('\n')[0], /^NAME\s+AGE\s+PROVIDERID\s+PROVISIONED\s+CLUSTER/);
    for (const l of m3m.stdout.trim().split('\n').slice(1))
      assert.match(l, /metal3:\/\/\S+\s+true\s+test1$/, 'every Metal3Machine names its cluster');
    const all = await kubectl(kc, ['get', 'cluster,kcp,md,machines', '-n', 'metal3']);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /cluster\.cluster\.x-k8s\.io\/test1\s/);
    assert.match(all.stdout, /kubeadmcontrolplane\.controlplane\.cluster\.x-k8s\.io\/test1\s+test1\s+True/);
    assert.equal((all.stdout.match(/machine\.cluster\.x-k8s\.io\/\S+\s+test1\s+\S+\s+.*Running/g) ?? []).length, 3);
  });

  it("the dashboard dev up started watches kube-apiserver: kubectl's hosts and the whole cluster tree", async () => {
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { dashboardUrl?: string };
    assert.ok(state.dashboardUrl, 'dev up started the dashboard');
    const snap = (await (await fetch(`${state.dashboardUrl}api/snapshot`)).json()) as {
      hosts: Array<{ key: string; state: string; cluster: string; ironic: { provisionState: string } | null }>;
      clusters: Array<{ key: string; machines: Array<{ host: string; node: string; nodeReady: string; phase: string }> }>;
      status: { kinds: Array<{ kind: string; synced: boolean; error: string | null }>; ironicError: string | null };
    };
    assert.deepEqual(
      snap.status.kinds.filter((k) => !k.synced || k.error),
      [],
      'every watched kind is served and watched on kube-apiserver',
    );
    assert.equal(snap.status.ironicError, null);
    const list = await kubectl(kc, [
      'get',
      'bmh',
      '-A',
      '-o',
      'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.status.provisioning.state} {end}',
    ]);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(snap.hosts.map((h) => `${h.key}=${h.state}`).sort(), list.stdout.trim().split(' ').sort());
    for (const h of snap.hosts) {
      assert.equal(h.cluster, 'test1', `${h.key} is shown in its cluster`);
      assert.equal(h.ironic?.provisionState, 'active', `${h.key} carries its Ironic node's state`);
    }
    const tree = snap.clusters.find((c) => c.key === 'metal3/test1');
    assert.ok(tree, 'the cluster is shown');
    assert.equal(tree.machines.length, 3);
    for (const m of tree.machines) {
      assert.equal(m.phase, 'Running');
      assert.match(m.host, /^metal3\/node-\d$/);
      assert.ok(m.node, 'Machine → Node');
      assert.equal(m.nodeReady, 'True');
    }
  });

  it('kube-apiserver calls the validating webhook: an invalid BareMetalHost is denied', async () => {
    const bad = await kubectl(kc, ['apply', '-f', '-'], {
      input: `apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: bad-bmc, namespace: metal3}
spec: {online: true, bmc: {address: "nope://10.0.0.1", credentialsName: node-0-bmc-secret}}
`,
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /admission webhook "baremetalhost\.metal3\.io" denied the request/);
    const m = await (await fetch(metricsUrl)).text();
    assert.ok(
      metric(m, 'controller_runtime_webhook_requests_total', { webhook: '/validate-metal3-io-v1alpha1-baremetalhost', code: '200' }) > 0,
    );
  });

  it('kube-apiserver converts v1beta1 objects through the conversion webhook', async () => {
    const before = metric(await (await fetch(metricsUrl)).text(), 'controller_runtime_webhook_requests_total', { webhook: '/convert' });
    const put = await kubectl(kc, ['apply', '-f', '-'], {
      input: `apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: Metal3MachineTemplate
metadata: {name: old-style, namespace: metal3}
spec:
  template:
    spec:
      image: {url: "http://example.com/img.raw", checksum: "http://example.com/img.raw.sha256sum", checksumType: sha256, format: raw}
`,
    });
    assert.equal(put.code, 0, put.stderr);
    const v1b1 = await kubectl(kc, [
      'get',
      'metal3machinetemplates.v1beta1.infrastructure.cluster.x-k8s.io',
      'old-style',
      '-n',
      'metal3',
      '-o',
      'json',
    ]);
    assert.equal(v1b1.code, 0, v1b1.stderr);
    assert.equal(JSON.parse(v1b1.stdout).apiVersion, 'infrastructure.cluster.x-k8s.io/v1beta1');
    const v1b2 = await kubectl(kc, [
      'get',
      'metal3machinetemplates.v1beta2.infrastructure.cluster.x-k8s.io',
      'old-style',
      '-n',
      'metal3',
      '-o',
      'json',
    ]);
    assert.equal(JSON.parse(v1b2.stdout).spec.template.spec.image.url, 'http://example.com/img.raw');
    const after = metric(await (await fetch(metricsUrl)).text(), 'controller_runtime_webhook_requests_total', {
      webhook: '/convert',
      code: '200',
    });
    assert.ok(after > before, `the conversion webhook was called (${before} → ${after})`);
    const del = await kubectl(kc, [
      'delete',
      'metal3machinetemplates.v1beta1.infrastructure.cluster.x-k8s.io',
      'old-style',
      '-n',
      'metal3',
    ]);
    assert.equal(del.code, 0, del.stderr);
  });

  it(`idle for ${IDLE_MINUTES} minutes, the controllers write fewer than 10 times a minute and no conversion fails`, {
    timeout: (IDLE_MINUTES + 3) * 60_000,
  }, async (t) => {
    const audit = join(data, 'kube', 'audit.log');
    // settle: the writes the steps above caused are done
    await sleep(20_000);
    const from = readFileSync(audit, 'utf8').split('\n').filter(Boolean).length;
    await sleep(IDLE_MINUTES * 60_000);
    const writes = auditWrites(audit, from).filter((e) => e.user.username === 'kubernetes-admin');
    const perMinute = writes.length / IDLE_MINUTES;
    const what = [
      ...new Set(writes.map((w) => `${w.verb} ${w.objectRef?.resource}${w.objectRef?.subresource ? `/${w.objectRef.subresource}` : ''}`)),
    ];
    t.diagnostic(`${writes.length} writes by the controllers in ${IDLE_MINUTES} min${what.length ? `: ${what.join(', ')}` : ''}`);
    assert.ok(perMinute < 10, `${writes.length} writes in ${IDLE_MINUTES} min (${perMinute.toFixed(1)}/min): ${what.join(', ')}`);
    const log = readFileSync(join(data, 'kube', 'logs', 'kube-apiserver.log'), 'utf8');
    assert.doesNotMatch(log, /conversion webhook for [^\n]* failed|failed calling webhook/, 'kube-apiserver logged no failed webhook call');
  });
});
