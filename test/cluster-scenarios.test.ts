// The cluster scenarios through the `ferrite` CLI, every component a real process: metal3-dev-env's
// v1beta1 templates give a working cluster (the v1beta2 ones are what the lifecycle scenario, dev up
// and dev-up-real apply, so cluster-basic with them runs no more here), and the lifecycle
// scenario — scale, roll, scale the control plane, remediate, delete — completes while the
// controllers are SIGKILLed at five seeded random moments, with nothing lost.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { cleanup, tempDir } from './helpers/apiserver.js';
import { runScenario } from './helpers/scenario-run.js';

// the whole file runs well past the runner's per-test default (5 min): the suite sets its own bound
describe('cluster scenarios', { concurrency: 1, timeout: 5_400_000 }, () => {
  const dir = tempDir('ferrite-cluster-scenarios-');
  after(() => cleanup(dir));

  const scenario = (name: string, label: string, extra: string[], env: Record<string, string>, timeoutMs: number) =>
    runScenario({ dir, name, label, extra, env, timeoutMs });

  it('cluster-basic with the v1beta1 templates', { timeout: 1_200_000 }, async () => {
    const rep = await scenario('cluster-basic', 'basic-v1beta1', [], { TEMPLATES: 'v1beta1' }, 1_200_000);
    assert.equal(rep.status, 'passed');
  });

  it('cluster-lifecycle survives five SIGKILLs of the controllers', { timeout: 2_700_000 }, async () => {
    const rep = await scenario('cluster-lifecycle', 'lifecycle', ['--chaos-kills', '5', '--chaos-seed', '7'], {}, 2_700_000);
    assert.equal(rep.status, 'passed');
    assert.equal(rep.chaos?.length, 5, 'five kills happened during the steps');
    assert.ok(new Set(rep.chaos?.map((c) => c.step)).size >= 2, 'the kills hit different steps');
  });
});
