// The shipped scenarios on a real etcd + kube-apiserver + kube-controller-manager (`scenario run
// --kube real`), every component a real process: the host lifecycle, a cluster from
// metal3-dev-env's v1beta1 templates (converted by kube-apiserver through Ferrite's conversion
// webhook; the v1beta2 ones are what cluster-lifecycle and dev-up-real apply), and the whole cluster lifecycle — scale, roll, control plane to 3, remediation,
// deletion with kube-controller-manager's garbage collection.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, tempDir } from './helpers/apiserver.js';
import { runScenario } from './helpers/scenario-run.js';

describe('scenarios on the real kube-apiserver', { concurrency: 1, timeout: 3_600_000 }, () => {
  const dir = tempDir('ferrite-real-scenarios-');
  after(() => cleanup(dir));

  const scenario = (name: string, label: string, env: Record<string, string>, timeoutMs: number) =>
    runScenario({ dir, name, label, env, real: true, timeoutMs });

  it('host-lifecycle', { timeout: 900_000 }, async () => {
    assert.equal((await scenario('host-lifecycle', 'hosts', {}, 900_000)).status, 'passed');
  });

  it('cluster-basic with the v1beta1 templates (converted by kube-apiserver through the webhook)', { timeout: 900_000 }, async () => {
    assert.equal((await scenario('cluster-basic', 'basic-v1beta1', { TEMPLATES: 'v1beta1' }, 900_000)).status, 'passed');
  });

  it('cluster-lifecycle, all of it', { timeout: 1_800_000 }, async () => {
    assert.equal((await scenario('cluster-lifecycle', 'lifecycle', {}, 1_800_000)).status, 'passed');
  });
});
