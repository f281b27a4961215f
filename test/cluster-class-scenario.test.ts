// scenarios/cluster-class.yaml through the `ferrite` CLI, every component a real process, on the
// embedded API server and on a real etcd + kube-apiserver + kube-controller-manager: a Cluster from
// the Metal3 ClusterClass reaches Running, scales, rolls to a new image through a variable, upgrades
// control plane first, and leaves nothing generated behind when deleted; and `ferrite dev up
// --cluster-class` declares its cluster the same way.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';
import { runScenario } from './helpers/scenario-run.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 300_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });

describe('the ClusterClass scenario', { concurrency: 1, timeout: 2_400_000 }, () => {
  const dir = tempDir('ferrite-cluster-class-');
  after(() => cleanup(dir));

  it('on the embedded API server', { timeout: 1_200_000 }, async () => {
    const rep = await runScenario({ dir, name: 'cluster-class', label: 'embedded', timeoutMs: 1_200_000 });
    assert.equal(rep.status, 'passed');
  });

  it('on the real kube-apiserver', { timeout: 1_200_000 }, async () => {
    const rep = await runScenario({ dir, name: 'cluster-class', label: 'real', real: true, timeoutMs: 1_200_000 });
    assert.equal(rep.status, 'passed');
  });

  it('dev up --cluster-class provisions the dev cluster through the ClusterClass', { timeout: 600_000 }, async () => {
    const data = join(dir, 'dev');
    try {
      const r = await ferrite(['dev', 'up', '--hosts', '1', '--cluster-class', '--port', '0', '--data-dir', data], 600_000);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /applying the Metal3 ClusterClass and a topology Cluster \(1 control plane, 0 workers\)/);
      assert.match(r.stdout, /cluster test1 with 1 Ready Nodes/);
      const kc = /kubeconfig: +(\S+)/.exec(r.stdout)?.[1] ?? '';
      const c = await kubectl(kc, [
        'get',
        'cluster',
        'test1',
        '-n',
        'metal3',
        '-o',
        'jsonpath={.spec.topology.classRef.name} {.spec.controlPlaneRef.name}',
      ]);
      assert.equal(c.code, 0, c.stderr);
      assert.match(c.stdout, /^metal3 test1-[a-z0-9]{5}$/, 'a topology Cluster whose control plane the topology controller made');
      const md = await kubectl(kc, ['get', 'md', '-n', 'metal3', '-l', 'topology.cluster.x-k8s.io/deployment-name=md-0', '--no-headers']);
      assert.equal(md.stdout.trim().split('\n').length, 1, md.stdout);
    } finally {
      await ferrite(['dev', 'down', '--data-dir', data]);
    }
  });
});
