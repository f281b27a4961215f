// The machine model under a manual clock: every delay is simulated, so these run instantly and
// deterministically.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultFleet, resolveFleet } from '../fleet/config.js';
import { BootHandlers } from './boot-handlers.js';
import { ManualClock, ScaledClock } from './clock.js';
import { MachineError } from './errors.js';
import { Machine } from './machine.js';
import { initialState } from './model.js';
import { Rng } from './rng.js';
import { SimBackend } from './sim-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'ferrite-machine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function make(handlers = new BootHandlers()) {
  const clock = new ManualClock();
  const spec = resolveFleet(defaultFleet(1)).machines[0].spec;
  const m = new Machine(spec, initialState(spec), { clock, backend: new SimBackend(clock, handlers), mediaDir: dir });
  return { m, clock, spec };
}

describe('machine power', () => {
  it('follows the power table through intermediate states on simulated time', async () => {
    const { m, clock, spec } = make();
    m.reset('On');
    await clock.advance(0);
    assert.equal(m.state.power, 'PoweringOn');
    await clock.advance(spec.timings.powerOn);
    assert.equal(m.state.power, 'On');
    assert.equal(m.state.bootCount, 1);
    await clock.advance(spec.timings.post);
    await m.settled();
    assert.equal(m.state.lastBoot?.outcome, 'no bootable device');
    m.reset('On'); // already on: nothing happens
    await clock.advance(0);
    assert.equal(m.state.bootCount, 1);
    m.reset('ForceOff');
    await clock.advance(0);
    assert.equal(m.state.power, 'PoweringOff');
    await clock.advance(spec.timings.powerOff);
    assert.equal(m.state.power, 'Off');
    m.reset('ForceOff'); // idempotent
    assert.throws(
      () => m.reset('Nmi'),
      (e: unknown) => e instanceof MachineError && e.reason === 'PoweredOff',
    );
    assert.throws(
      () => m.reset('Bogus' as 'On'),
      (e: unknown) => e instanceof MachineError && e.reason === 'InvalidValue',
    );
  });

  it('a newer request supersedes a transition in progress', async () => {
    const { m, clock, spec } = make();
    m.reset('On');
    await clock.advance(spec.timings.powerOn / 2);
    m.reset('ForceOff');
    await clock.advance(spec.timings.powerOn + spec.timings.powerOff + spec.timings.post);
    await m.settled();
    assert.equal(m.state.power, 'Off');
    assert.equal(m.state.bootCount, 0, 'the aborted power-on never reached firmware');
  });
});

it('a reset during power-on still ends powered on and booted', async () => {
  const { m, clock, spec } = make();
  m.reset('On');
  await clock.advance(spec.timings.powerOn / 2);
  assert.equal(m.state.power, 'PoweringOn');
  m.reset('ForceRestart');
  await clock.advance(spec.timings.powerOn + spec.timings.post);
  await m.settled();
  assert.equal(m.state.power, 'On');
  assert.equal(m.state.bootCount, 1);
});

describe('boot engine', () => {
  it('Once boots the override target once, then reverts to Disabled; Continuous stays', async () => {
    const { m, clock, spec } = make();
    m.setBootOverride({ target: 'Pxe', enabled: 'Once' });
    m.reset('On');
    await clock.advance(spec.timings.powerOn + spec.timings.post);
    await m.settled();
    assert.equal(m.state.boot.overrideEnabled, 'Disabled');
    assert.equal(m.state.bootHistory[0].source, 'override-once');
    assert.ok(m.state.console.some((l) => l.includes('Start PXE')));
    m.reset('ForceRestart');
    await clock.advance(spec.timings.post);
    await m.settled();
    assert.equal(m.state.bootHistory[1].source, 'boot-order');
    m.setBootOverride({ target: 'BiosSetup', enabled: 'Continuous' });
    for (let i = 0; i < 2; i++) {
      m.reset('ForceRestart');
      await clock.advance(spec.timings.post);
      await m.settled();
      assert.equal(m.state.lastBoot?.device, 'BiosSetup');
      assert.equal(m.state.boot.overrideEnabled, 'Continuous');
    }
  });

  it('a target without Enabled means next boot; the persistent order and pluggable handlers decide the rest', async () => {
    const handlers = new BootHandlers();
    const seen: string[] = [];
    handlers.set('network', async (ctx) => {
      seen.push(`${ctx.device}:${ctx.bootMac}`);
      return { booted: true, what: 'ironic-python-agent' };
    });
    const { m, clock, spec } = make(handlers);
    m.setBootOrder(['Pxe', 'Hdd']);
    m.setBootOverride({ target: 'Cd' });
    assert.equal(m.state.boot.overrideEnabled, 'Once');
    m.reset('On');
    await clock.advance(spec.timings.powerOn + spec.timings.post);
    await m.settled();
    // no media in the CD: firmware falls through to the boot order, where PXE boots the agent
    assert.equal(m.state.lastBoot?.device, 'Pxe');
    assert.equal(m.state.running, 'ironic-python-agent');
    assert.deepEqual(seen, [`Pxe:${spec.nics[0].mac}`]);
    assert.throws(() => m.setBootOrder(['Pxe', 'Pxe']), /twice/);
    assert.throws(() => m.setBootOverride({ target: 'Tape' as 'Pxe' }), /unsupported boot target/);
  });

  it('BIOS settings and secure boot apply at the next reset, not before', async () => {
    const { m, clock, spec } = make();
    m.setBiosPending({ ProcVirtualization: 'Disabled' });
    assert.equal(m.state.bios.attributes.ProcVirtualization, 'Enabled');
    assert.throws(() => m.setBiosPending({ NoSuch: 1 }), /unknown BIOS attribute/);
    assert.throws(() => m.setBiosPending({ NumCores: 'many' }), /must be a number/);
    m.setSecureBoot(true);
    assert.equal(m.state.secureBoot.currentBoot, false);
    m.reset('On');
    await clock.advance(spec.timings.powerOn + spec.timings.post);
    await m.settled();
    assert.equal(m.state.bios.attributes.ProcVirtualization, 'Disabled');
    assert.equal(m.state.bios.pending, null);
    assert.equal(m.state.secureBoot.currentBoot, true);
    m.resetBios();
    m.reset('ForceRestart');
    await clock.advance(spec.timings.post);
    await m.settled();
    assert.equal(m.state.bios.attributes.ProcVirtualization, 'Enabled');
  });

  it('writes images at the disk speed of simulated time and boots them from disk', async () => {
    const { m, clock, spec } = make();
    const w = m.writeImage('http://img/os.qcow2', 1_000_000_000);
    await clock.advance(1000);
    assert.equal(m.state.installedImage, null, '1 GB at 500 MB/s takes 2 s');
    await clock.advance(1000);
    await w;
    // (assert.equal narrowed installedImage to null above; the write has happened since)
    assert.equal((m.state.installedImage as { url: string } | null)?.url, 'http://img/os.qcow2');
    m.reset('On');
    await clock.advance(spec.timings.powerOn + spec.timings.post);
    await m.settled();
    assert.equal(m.state.lastBoot?.device, 'Hdd');
    await assert.rejects(m.writeImage('x', spec.disks[0].sizeBytes + 1), /does not fit/);
  });

  it('validates volumes against the drives', () => {
    const { m, spec } = make();
    assert.throws(() => m.addVolume({ name: 'v', capacityBytes: 0, raidType: 'RAID0', drives: [] }), /positive/);
    assert.throws(() => m.addVolume({ name: 'v', capacityBytes: 1, raidType: 'RAID0', drives: ['Disk.9'] }), /no drive/);
    const v = m.addVolume({ name: 'v', capacityBytes: spec.disks[0].sizeBytes, raidType: 'RAID1', drives: ['Disk.0'] });
    assert.equal(v.id, '1');
    m.deleteVolume('1');
    assert.throws(() => m.deleteVolume('1'), /no volume/);
  });
});

describe('clocks and seeds', () => {
  it('a scaled clock runs faster than real time', async () => {
    const c = new ScaledClock(1000);
    const t0 = Date.now();
    const s0 = c.now();
    await c.sleep(2000);
    assert.ok(Date.now() - t0 < 500);
    assert.ok(c.now() - s0 >= 1900);
    assert.throws(() => new ScaledClock(0), /positive/);
  });

  it('the same seed gives the same fleet; names alone decide identities', () => {
    const a = resolveFleet({ seed: 7, machines: [{ name: 'a' }, { name: 'b' }] });
    const b = resolveFleet({ seed: 7, machines: [{ name: 'b' }, { name: 'a' }] });
    assert.equal(a.machines[0].spec.uuid, b.machines[1].spec.uuid);
    assert.equal(a.machines[0].spec.nics[0].mac, b.machines[1].spec.nics[0].mac);
    assert.notEqual(resolveFleet({ seed: 8, machines: [{ name: 'a' }] }).machines[0].spec.uuid, a.machines[0].spec.uuid);
    const r1 = new Rng(42);
    const r2 = new Rng(42);
    assert.deepEqual([r1.next(), r1.mac(), r1.uuid()], [r2.next(), r2.mac(), r2.uuid()]);
  });
});

describe('event registry', () => {
  it('every event the machine and BMCs log has a message in the Ferrite registry', async () => {
    const { FERRITE_MESSAGES } = await import('../redfish/service.js');
    const { readFileSync, readdirSync } = await import('node:fs');
    const root = join(import.meta.dirname, '..');
    const ids = new Set<string>();
    for (const d of ['machine', 'ipmi', 'redfish']) {
      for (const f of readdirSync(join(root, d))) {
        if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
        for (const m of readFileSync(join(root, d, f), 'utf8').matchAll(/\.event\(\s*'(?:OK|Warning|Critical)',\s*'([A-Za-z]+)'/g))
          ids.add(m[1]);
      }
    }
    assert.ok(ids.size >= 10, `found only ${ids.size} event ids`);
    for (const id of ids) assert.ok(id in FERRITE_MESSAGES, `event ${id} is missing from the Ferrite registry`);
  });
});
