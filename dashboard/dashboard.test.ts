// The dashboard's pure parts: what a host and a cluster look like to the page, the action table,
// the timeline merge, Ironic change lines, and the report folder's refusals.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IronicClient } from '../provider/bmo/ironic-client.js';
import { ACTION_NAMES, ActionError, planAction } from './actions.js';
import { IronicFeed, ironicChangeLines } from './ironic-feed.js';
import { bmcKind, clusterTrees, hostSummary, type Obj } from './projections.js';
import { Runs, RunsError } from './runs.js';
import { mergeTimeline, operationEntries } from './timeline.js';

const host = (name: string, extra: Partial<Obj> = {}): Obj => ({
  apiVersion: 'metal3.io/v1alpha1',
  kind: 'BareMetalHost',
  metadata: { namespace: 'metal3', name, annotations: {} },
  spec: {
    online: true,
    bmc: { address: 'redfish-virtualmedia+https://127.0.0.1:8000/redfish/v1/Systems/x' },
    bootMACAddress: 'AA:BB:CC:00:00:01',
  },
  status: { provisioning: { state: 'available' }, poweredOn: true, operationalStatus: 'OK' },
  ...extra,
});

describe('dashboard projections', () => {
  it('a host summary carries state, marks, BMC kind, MAC (lower case), consumer, cluster and Ironic', () => {
    const h = host('node-1', {
      metadata: { namespace: 'metal3', name: 'node-1', annotations: { 'baremetalhost.metal3.io/paused': '' } },
      spec: {
        online: true,
        bmc: { address: 'ipmi://127.0.0.1:6230' },
        bootMACAddress: 'AA:BB:CC:00:00:01',
        consumerRef: { kind: 'Metal3Machine', name: 'm1', apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1' },
      },
      status: {
        provisioning: { state: 'provisioned' },
        errorType: 'provisioned registration error',
        errorMessage: 'boom',
        poweredOn: false,
      },
    });
    const s = hostSummary(h, (k) => (k === 'metal3/m1' ? 'test1' : ''), {
      uuid: 'u',
      name: 'metal3~node-1',
      provisionState: 'active',
      targetProvisionState: null,
      powerState: 'power off',
      maintenance: true,
      lastError: null,
    });
    assert.equal(s.key, 'metal3/node-1');
    assert.equal(s.state, 'provisioned');
    assert.equal(s.errorType, 'provisioned registration error');
    assert.equal(s.bmc, 'ipmi');
    assert.equal(s.bootMAC, 'aa:bb:cc:00:00:01');
    assert.equal(s.paused, true);
    assert.equal(s.poweredOn, false);
    assert.equal(s.consumer, 'Metal3Machine/m1');
    assert.equal(s.cluster, 'test1');
    assert.deepEqual(s.ironic, { provisionState: 'active', powerState: 'power off', maintenance: true });
  });

  it('the BMC kind is the driver part of the address', () => {
    assert.equal(bmcKind('redfish-virtualmedia+https://h/redfish/v1/Systems/1'), 'redfish-virtualmedia');
    assert.equal(bmcKind('redfish://h/redfish/v1/Systems/1'), 'redfish');
    assert.equal(bmcKind('idrac-virtualmedia://h/redfish/v1/Systems/1'), 'idrac-virtualmedia');
    assert.equal(bmcKind('ipmi://10.0.0.1:623'), 'ipmi');
    assert.equal(bmcKind('10.0.0.1:623'), 'ipmi', 'an address without a scheme is IPMI, as the operator reads it');
    assert.equal(bmcKind(''), 'unknown');
  });

  it('a cluster tree links Machine → Metal3Machine → host → Node, control plane first', () => {
    const L = { 'cluster.x-k8s.io/cluster-name': 'c1' };
    const machine = (name: string, cp: boolean, extra: Record<string, unknown> = {}): Obj => ({
      metadata: {
        namespace: 'ns',
        name,
        labels: { ...L, ...(cp ? { 'cluster.x-k8s.io/control-plane': '' } : { 'cluster.x-k8s.io/deployment-name': 'md' }) },
        ownerReferences: cp ? [] : [{ apiVersion: 'x', kind: 'MachineSet', name: 'md-abc', uid: '1' }],
      },
      spec: { clusterName: 'c1', version: 'v1.36.0', infrastructureRef: { name: `${name}-m3m` } },
      status: { phase: 'Running', nodeRef: { name: `${name}-node` }, conditions: [{ type: 'NodeReady', status: 'True' }] },
      ...extra,
    });
    const trees = clusterTrees({
      clusters: [
        {
          metadata: { namespace: 'ns', name: 'c1' },
          spec: { controlPlaneRef: { kind: 'KubeadmControlPlane', name: 'c1-cp' } },
          status: { phase: 'Provisioned' },
        },
      ],
      controlPlanes: [
        {
          kind: 'KubeadmControlPlane',
          metadata: { namespace: 'ns', name: 'c1-cp' },
          spec: { replicas: 1 },
          status: { readyReplicas: 1, version: 'v1.36.0' },
        },
      ],
      deployments: [
        { metadata: { namespace: 'ns', name: 'md', labels: L }, spec: { replicas: 2 }, status: { readyReplicas: 1, phase: 'ScalingUp' } },
      ],
      machineSets: [
        {
          metadata: {
            namespace: 'ns',
            name: 'md-abc',
            ownerReferences: [{ apiVersion: 'x', kind: 'MachineDeployment', name: 'md', uid: '2' }],
          },
          spec: { replicas: 2 },
        },
      ],
      machines: [
        machine('w1', false, { status: { phase: 'Provisioning', conditions: [] } }),
        machine('cp1', true),
        { metadata: { namespace: 'other', name: 'x', labels: L }, spec: { clusterName: 'c1' } },
      ],
      metal3Machines: [
        { metadata: { namespace: 'ns', name: 'cp1-m3m', annotations: { 'metal3.io/BareMetalHost': 'ns/node-0' } } },
        { metadata: { namespace: 'ns', name: 'w1-m3m', annotations: {} } },
      ],
      hosts: (k) => (k === 'ns/node-0' ? host('node-0', { status: { provisioning: { state: 'provisioned' } } }) : undefined),
    });
    assert.equal(trees.length, 1);
    const t = trees[0];
    assert.equal(t.controlPlane?.ready, 1);
    assert.deepEqual(
      t.machines.map((m) => [m.name, m.phase, m.host, m.hostState, m.node, m.nodeReady]),
      [
        ['cp1', 'Running', 'ns/node-0', 'provisioned', 'cp1-node', 'True'],
        ['w1', 'Provisioning', '', '', '', ''],
      ],
      'a machine of another namespace is not this cluster’s',
    );
    assert.equal(t.deployments[0].machineSets[0].name, 'md-abc');
    assert.equal(t.machines[1].machineSet, 'md-abc');
  });
});

describe('dashboard actions', () => {
  it('every action is a merge patch with the kubectl command that sends it', () => {
    assert.deepEqual(planAction('power-off', 'ns', 'h'), {
      patch: { spec: { online: false } },
      kubectl: `kubectl patch bmh -n ns h --type merge -p '{"spec":{"online":false}}'`,
    });
    assert.deepEqual(planAction('unpause', 'ns', 'h').patch, { metadata: { annotations: { 'baremetalhost.metal3.io/paused': null } } });
    assert.equal(planAction('unpause', 'ns', 'h').kubectl, 'kubectl annotate bmh -n ns h baremetalhost.metal3.io/paused-');
    assert.equal(planAction('reboot', 'ns', 'h').kubectl, 'kubectl annotate bmh -n ns h reboot.metal3.io= --overwrite');
    assert.deepEqual(
      planAction('provision', 'ns', 'h', { image: { url: 'http://x/i.img', checksum: 'abc', checksumType: 'sha256' } }).patch,
      {
        spec: { image: { url: 'http://x/i.img', checksum: 'abc', checksumType: 'sha256' } },
      },
    );
    assert.deepEqual(planAction('deprovision', 'ns', 'h').patch, { spec: { image: null } });
    for (const a of ACTION_NAMES) if (a !== 'provision') assert.ok(planAction(a, 'ns', 'h').kubectl.startsWith('kubectl '));
  });

  it('an apostrophe in a value is quoted for the shell in the shown command', () => {
    const k = planAction('provision', 'ns', 'h', { image: { url: "http://x/it's.img" } }).kubectl;
    assert.match(k, /'\\''/);
  });

  it('unknown actions, prototype names and bad images are refused with a reason', () => {
    for (const a of ['format', '__proto__', 'constructor', 'toString']) {
      assert.throws(
        () => planAction(a, 'ns', 'h'),
        (e: unknown) => e instanceof ActionError && e.reason === 'UnknownAction',
      );
    }
    assert.throws(() => planAction('provision', 'ns', 'h', {}), /image\.url/);
    assert.throws(() => planAction('provision', 'ns', 'h', { image: { url: 'javascript:alert(1)' } }), /image\.url/);
    assert.throws(
      () => planAction('provision', 'ns', 'h', { image: { url: 'http://x/i', checksum: 5 } }),
      /image\.checksum must be a string/,
    );
  });
});

describe('dashboard timeline', () => {
  it('merges sources by time, keeps same-time order, and drops exact repeats', () => {
    const t = mergeTimeline(
      [
        { at: '2026-01-01T00:00:02Z', source: 'host', what: 'b' },
        { at: '2026-01-01T00:00:01Z', source: 'host', what: 'a' },
      ],
      [
        { at: '2026-01-01T00:00:01.500Z', source: 'ironic', what: 'x' },
        { at: '2026-01-01T00:00:02Z', source: 'host', what: 'b' },
      ],
    );
    assert.deepEqual(
      t.map((e) => e.what),
      ['a', 'x', 'b'],
    );
  });

  it("operationHistory's times become entries", () => {
    assert.deepEqual(
      operationEntries({
        operationHistory: { register: { start: 'T1', end: 'T2' }, inspect: { start: 'T3', end: null }, provision: {} },
      }).map((e) => e.what),
      ['register started', 'register finished', 'inspect started'],
    );
  });

  it('Ironic node changes become lines: provision state with target, power, maintenance, a new last_error', () => {
    const v = {
      uuid: 'u',
      name: 'n',
      provisionState: 'deploying',
      targetProvisionState: 'active',
      powerState: 'power on',
      maintenance: false,
      lastError: null,
    };
    assert.deepEqual(ironicChangeLines(v, undefined), [{ what: 'provision state deploying → active' }]);
    assert.deepEqual(ironicChangeLines({ ...v, powerState: 'power off', maintenance: true, lastError: 'disk gone' }, v), [
      { what: 'power power off' },
      { what: 'maintenance on' },
      { what: 'last_error: disk gone', error: true },
    ]);
    assert.deepEqual(ironicChangeLines(v, v), []);
  });
});

describe('dashboard Ironic feed', () => {
  it('an unreachable Ironic is an error on the status line, and clears when it answers', async () => {
    const { createServer } = await import('node:http');
    let up = false;
    const srv = createServer((req, res) => {
      if (!up) return req.socket.destroy();
      res.setHeader('content-type', 'application/json');
      if (req.url === '/v1') return res.end(JSON.stringify({ version: { version: '1.95', min_version: '1.1' } }));
      res.end(
        JSON.stringify({
          nodes: [{ uuid: 'u1', name: 'ns~h1', provision_state: 'manageable', power_state: 'power on', maintenance: false }],
        }),
      );
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const seen: string[] = [];
    let statusCalls = 0;
    const feed = new IronicFeed(
      new IronicClient({ endpoint: `http://127.0.0.1:${port}`, timeoutMs: 2000 }),
      60_000,
      (v) => seen.push(v.name),
      () => statusCalls++,
    );
    try {
      await feed.start();
      assert.match(feed.error ?? '', /cannot reach Ironic|socket hang up|ECONNRESET/, String(feed.error));
      assert.equal(statusCalls, 1);
      up = true;
      await feed.poll();
      assert.equal(feed.error, null);
      assert.equal(statusCalls, 2);
      assert.deepEqual(seen, ['ns~h1']);
      assert.equal(feed.nodes.get('ns~h1')?.provisionState, 'manageable');
    } finally {
      feed.stop();
      srv.close();
    }
  });
});

describe('dashboard report folders', () => {
  it('lists scenario, conformance and benchmark reports and refuses anything outside the folders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ferrite-runs-'));
    try {
      writeFileSync(join(dir, 's.json'), JSON.stringify({ scenario: 'host-lifecycle', steps: [], status: 'passed' }));
      writeFileSync(
        join(dir, 'conformance.json'),
        JSON.stringify({ profile: 'redfish', target: 'https://bmc', results: [], summary: { pass: 3, fail: 1 } }),
      );
      writeFileSync(join(dir, 'bmc.json'), JSON.stringify({ name: 'bmc', rows: [] }));
      writeFileSync(join(dir, 'half.json'), '{"a":');
      writeFileSync(join(dir, 'conformance.html'), '<html></html>');
      writeFileSync(join(dir, 'notes.txt'), 'x');
      mkdirSync(join(dir, 'sub.json'));
      const runs = new Runs([dir, join(dir, 'missing')]);
      const byFile = Object.fromEntries(runs.list().map((r) => [r.file, r]));
      assert.deepEqual(Object.keys(byFile).sort(), ['bmc.json', 'conformance.html', 'conformance.json', 'half.json', 's.json']);
      assert.equal(byFile['s.json'].kind, 'scenario');
      assert.equal(byFile['s.json'].status, 'passed');
      assert.equal(byFile['conformance.json'].status, '3 pass, 1 fail');
      assert.equal(byFile['half.json'].status, 'unreadable');
      assert.deepEqual(runs.read(0, 's.json'), { scenario: 'host-lifecycle', steps: [], status: 'passed' });
      const refused = (dirIx: number, f: string, reason: string) =>
        assert.throws(
          () => runs.read(dirIx, f),
          (e: unknown) => e instanceof RunsError && e.reason === reason,
          f,
        );
      refused(0, '../s.json', 'Invalid');
      refused(0, '.hidden.json', 'Invalid');
      refused(0, 'notes.txt', 'Invalid');
      refused(0, 'conformance.html', 'Invalid');
      refused(0, 'half.json', 'Invalid');
      refused(0, 'sub.json', 'NotFound');
      refused(0, 'nope.json', 'NotFound');
      refused(1, 's.json', 'NotFound');
      refused(7, 's.json', 'NotFound');
      refused(Number.NaN, 's.json', 'NotFound');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
