// The shipped scenarios on real VMs, through the `ferrite` CLI: scenarios/vm-smoke.yaml (two
// libvirt VMs provisioned with the real agent, booted from disk, user data seen on the serial
// console) and scenarios/host-lifecycle.yaml switched to the libvirt backend by one flag — the
// same file the simulated run passes. No domain is left behind.
// Needs scripts/install-vm.sh and scripts/build-vm-images.sh (`.ci/run` runs both).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { vmReadiness } from '../emulator/machine/libvirt/readiness.js';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const items = await vmReadiness({ uri: 'qemu:///system', images: join(ROOT, '.vm-images') });
const missing = items.filter((i) => i.required && !i.ok);
const skip = missing.length
  ? `not ready for VMs (run scripts/install-vm.sh and scripts/build-vm-images.sh): ${missing.map((i) => i.name).join(', ')}`
  : false;
const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

async function domains(): Promise<string[]> {
  const { stdout } = await promisify(execFile)('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name']);
  return stdout.split('\n').filter(Boolean);
}

describe('scenarios on libvirt VMs', { skip, concurrency: 1 }, () => {
  const dir = tempDir('ferrite-vm-scenario-');
  // QEMU runs as libvirt-qemu and must pass through here to the VM files
  chmodSync(dir, 0o755);
  after(() => cleanup(dir));

  for (const [name, extra, vms] of [
    ['vm-smoke', [], ['vm-smoke-rf', 'vm-smoke-ipmi']],
    ['host-lifecycle', ['--backend', 'libvirt'], ['rf-0', 'vm-0', 'ipmi-0']],
  ] as const) {
    it(`scenarios/${name}.yaml ${extra.join(' ')} passes on VMs and leaves no domain behind`, async () => {
      const data = join(dir, name);
      const r = await run(
        process.execPath,
        [
          ...CLI,
          'scenario',
          'run',
          join(ROOT, 'scenarios', `${name}.yaml`),
          '--report-dir',
          join(dir, 'reports'),
          '--data-dir',
          data,
          ...extra,
        ],
        { cwd: ROOT, timeoutMs: 1_200_000 },
      );
      const log = (f: string) => {
        try {
          return readFileSync(join(data, 'logs', f), 'utf8')
            .split('\n')
            .slice(-40)
            .join('\n');
        } catch {
          return '';
        }
      };
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n--- bmc log:\n${log('bmc.log')}\n--- ironic log:\n${log('ironic.log')}`);
      assert.match(r.stdout, new RegExp(`scenario ${name}: passed`));
      const left = (await domains()).filter((d) => (vms as readonly string[]).includes(d));
      assert.deepEqual(left, [], 'the run removed the domains it created');
    });
  }
});
