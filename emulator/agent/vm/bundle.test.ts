// The agent ramdisk runs emulator/agent/vm/main.ts as one esbuild ESM bundle (scripts/build-vm-images.sh);
// a dependency that cannot be evaluated inside such a bundle (CommonJS requiring Node built-ins)
// only shows when a VM boots minutes later. Built and started here, it must get as far as reading
// its kernel command line.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..', '..');

test('the agent ramdisk bundle builds and starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-agent-bundle-'));
  try {
    const out = join(dir, 'agent.mjs');
    // esbuild comes with tsx (its binary is native), as scripts/build-vm-images.sh uses it
    execFileSync(
      join(root, 'node_modules', '.bin', 'esbuild'),
      [
        join(root, 'emulator', 'agent', 'vm', 'main.ts'),
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--target=node20',
        `--outfile=${out}`,
        '--log-level=error',
      ],
      { cwd: root },
    );
    const r = spawnSync(process.execPath, [out], { encoding: 'utf8', timeout: 30_000 });
    assert.doesNotMatch(r.stderr, /Dynamic require|Error:/, r.stderr);
    assert.match(r.stdout + r.stderr, /no ipa-api-url on the kernel command line/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
