// Faults that heal, through the `ferrite` CLI with every component a real process: the BMC
// emulator killed for 60 s while hosts deploy, clean and inspect; a power cut and an agent crash
// mid-deploy; Ironic killed mid-clean. Every host must converge by itself, and none may sit in a
// moving state for 2 minutes with no errorType (the runner's stall watchdog fails the run if one
// does). The report shows the errors the hosts went through on the way.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

describe('fault scenarios', { concurrency: 1 }, () => {
  const dir = tempDir('ferrite-fault-scenarios-');
  after(() => cleanup(dir));

  for (const name of ['faults-machine', 'faults-bmc']) {
    it(`scenarios/${name}.yaml: every host converges, none hangs silently`, { timeout: 900_000 }, async () => {
      const reports = join(dir, 'reports');
      const data = join(dir, name);
      const r = await run(
        process.execPath,
        [...CLI, 'scenario', 'run', join(ROOT, 'scenarios', `${name}.yaml`), '--report-dir', reports, '--data-dir', data],
        {
          cwd: ROOT,
          timeoutMs: 900_000,
        },
      );
      const log = (f: string) => {
        try {
          return readFileSync(join(data, 'logs', f), 'utf8')
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
        `${r.stdout}\n${r.stderr}\n--- ironic:\n${log('ironic.log')}\n--- controllers:\n${log('controllers.log')}\n--- cluster-api:\n${log('cluster-api.log')}`,
      );
      const rep = JSON.parse(readFileSync(join(reports, `${name}.json`), 'utf8')) as { status: string; steps: Array<{ status: string }> };
      assert.equal(rep.status, 'passed');
      assert.ok(rep.steps.every((s) => s.status === 'passed'));
    });
  }
});
