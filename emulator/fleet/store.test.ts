// The fleet store's temporary files belong to their writer: a reader (a scenario's console step)
// must not delete one a live emulator is about to rename — which crashed the emulator in CI —
// and a batched save that fails is retried instead of taking the process down.
import assert from 'node:assert/strict';
import fs, { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import type { MachineState } from '../machine/model.js';
import { FleetStore } from './store.js';

it("a reader leaves a live writer's temporary file alone and removes a dead one's", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-store-'));
  try {
    const store = new FleetStore(dir);
    mkdirSync(store.machinesDir, { recursive: true });
    const live = join(store.machinesDir, `m1.json.tmp-${process.ppid}`);
    const dead = join(store.machinesDir, 'm2.json.tmp-999999999');
    writeFileSync(live, '{');
    writeFileSync(dead, '{');
    store.loadStates();
    assert.ok(existsSync(live), 'the running writer still has its file to rename');
    assert.ok(!existsSync(dead), 'a write that died before its rename is cleaned up');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('a failed batched save is reported and retried, not thrown from the timer', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-store-'));
  try {
    const errors: string[] = [];
    const store = new FleetStore(dir, (uuid, e) => errors.push(`${uuid}: ${e.message}`));
    store.track(() => ({ console: ['x'] }) as unknown as MachineState);
    // the state file's place is taken by a directory: the rename over it fails
    mkdirSync(join(store.machinesDir, 'm1.json'), { recursive: true });
    store.dirty('m1', false);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(errors.length >= 1 && errors[0].startsWith('m1: '), 'the failure is reported');
    rmSync(join(store.machinesDir, 'm1.json'), { recursive: true });
    await new Promise((r) => setTimeout(r, 1300));
    assert.ok(existsSync(join(store.machinesDir, 'm1.json')), 'and the retry saves it');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it("sync 'full' fsyncs a machine's state file and its directory before the change counts; 'normal' writes and renames only", () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-store-'));
  // the store's fsyncSync is node:fs's: counted by swapping it in the builtin and syncing the ESM view
  const real = fs.fsyncSync;
  let fsyncs = 0;
  fs.fsyncSync = (fd: number) => {
    fsyncs++;
    real(fd);
  };
  syncBuiltinESMExports();
  try {
    const state = { power: 'On' } as unknown as MachineState;
    for (const [sync, want] of [
      ['full', 2],
      ['normal', 0],
    ] as const) {
      const store = new FleetStore(join(dir, sync), undefined, sync);
      store.track(() => state);
      fsyncs = 0;
      store.dirty('m1', true);
      assert.equal(fsyncs, want, `${sync}: ${fsyncs} fsyncs for one urgent write`);
      assert.deepEqual(store.loadStates(), { m1: state }, `${sync}: the state reads back`);
      assert.deepEqual(readdirSync(store.machinesDir), ['m1.json'], `${sync}: no temporary file is left`);
    }
  } finally {
    fs.fsyncSync = real;
    syncBuiltinESMExports();
    rmSync(dir, { recursive: true, force: true });
  }
});
