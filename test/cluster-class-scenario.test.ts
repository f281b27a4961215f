// scenarios/cluster-class.yaml through the `ferrite` CLI, every component a real process, on the
// embedded API server and on a real etcd + kube-apiserver + kube-controller-manager: a Cluster from
// the Metal3 ClusterClass reaches Running, scales, rolls to a new image through a variable, upgrades
// control plane first, and leaves nothing generated behind when deleted.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, tempDir } from './helpers/apiserver.js';
import { runScenario } from './helpers/scenario-run.js';

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
});
