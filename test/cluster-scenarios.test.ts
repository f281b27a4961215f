// The cluster scenarios through the `ferrite` CLI, every component a real process: metal3-dev-env's
// templates (v1beta2, and their v1beta1 spelling) give a working cluster, and the lifecycle
// scenario — scale, roll, scale the control plane, remediate, delete — completes while the
// controllers are SIGKILLed at five seeded random moments, with nothing lost.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

// the whole file runs well past the runner's per-test default (5 min): the suite sets its own bound
describe('cluster scenarios', { concurrency: 1, timeout: 5_400_000 }, () => {
  const dir = tempDir('ferrite-cluster-scenarios-');
  after(() => cleanup(dir));

  async function scenario(name: string, label: string, extra: string[], env: Record<string, string>, timeoutMs: number) {
    const reports = join(dir, `${label}-reports`);
    const data = join(dir, label);
    const r = await run(
      process.execPath,
      [...CLI, 'scenario', 'run', join(ROOT, 'scenarios', `${name}.yaml`), '--report-dir', reports, '--data-dir', data, ...extra],
      {
        cwd: ROOT,
        timeoutMs,
        env: { ...process.env, ...env },
      },
    );
    const log = (() => {
      try {
        return readFileSync(join(data, 'logs', 'controllers.log'), 'utf8')
          .split('\n')
          .slice(-40)
          .join('\n');
      } catch {
        return '';
      }
    })();
    assert.equal(r.code, 0, `scenario ${label} failed:\n${r.stdout}\n${r.stderr}\n--- controllers log:\n${log}`);
    assert.match(r.stdout, new RegExp(`scenario ${name}: passed`));
    return JSON.parse(readFileSync(join(reports, `${name}.json`), 'utf8')) as {
      status: string;
      chaos?: Array<{ at: number; step: number }>;
    };
  }

  it('cluster-basic with the v1beta2 templates', { timeout: 1_200_000 }, async () => {
    const rep = await scenario('cluster-basic', 'basic-v1beta2', [], { TEMPLATES: 'v1beta2' }, 1_200_000);
    assert.equal(rep.status, 'passed');
  });

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
