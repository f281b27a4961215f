// The shipped scenarios on a real etcd + kube-apiserver + kube-controller-manager (`scenario run
// --kube real`), every component a real process: the host lifecycle, a cluster from
// metal3-dev-env's v1beta1 templates (converted by kube-apiserver through Ferrite's conversion
// webhook; the v1beta2 ones are what cluster-lifecycle and dev-up-real apply), and the whole cluster lifecycle — scale, roll, control plane to 3, remediation,
// deletion with kube-controller-manager's garbage collection.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

describe('scenarios on the real kube-apiserver', { concurrency: 1, timeout: 3_600_000 }, () => {
  const dir = tempDir('ferrite-real-scenarios-');
  after(() => cleanup(dir));

  async function scenario(name: string, label: string, env: Record<string, string>, timeoutMs: number) {
    const reports = join(dir, `${label}-reports`);
    const data = join(dir, label);
    const r = await run(
      process.execPath,
      [...CLI, 'scenario', 'run', join(ROOT, 'scenarios', `${name}.yaml`), '--kube', 'real', '--report-dir', reports, '--data-dir', data],
      { cwd: ROOT, timeoutMs, env: { ...process.env, ...env } },
    );
    const tail = (f: string) => {
      try {
        return readFileSync(join(data, ...f.split('/')), 'utf8')
          .split('\n')
          .slice(-30)
          .join('\n');
      } catch {
        return '';
      }
    };
    assert.equal(
      r.code,
      0,
      `scenario ${label} failed:\n${r.stdout}\n${r.stderr}\n--- controllers log:\n${tail('logs/controllers.log')}\n--- kube-apiserver log:\n${tail('kube/logs/kube-apiserver.log')}`,
    );
    assert.match(r.stdout, new RegExp(`scenario ${name}: passed`));
    assert.match(r.stdout, /starting etcd, kube-apiserver and kube-controller-manager/);
    return JSON.parse(readFileSync(join(reports, `${name}.json`), 'utf8')) as { status: string };
  }

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
