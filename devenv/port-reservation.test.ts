import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { freeTcpPort, RESERVED_DIR, reservePort } from './stack.js';

// Ports handed out by one process are reserved for every process on the machine (test files run
// in parallel, each starting its own stack), until the reserving process is gone.
describe('machine-wide port reservations', () => {
  // the reservations made by hand use ports above 65000, which freeTcpPort does not hand out with
  // Linux's default ephemeral range (it picks below 32768)
  const file = (p: number) => join(RESERVED_DIR, `tcp-${p}`);
  const used: number[] = [];
  const port = () => {
    const p = 65000 + Math.floor(Math.random() * 500);
    used.push(p);
    rmSync(file(p), { force: true });
    return p;
  };
  after(() => {
    for (const p of used) rmSync(file(p), { force: true });
  });

  it('refuses a port a live process reserved, and one whose reservation is being written', () => {
    mkdirSync(RESERVED_DIR, { recursive: true });
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const p = port();
      writeFileSync(file(p), String(child.pid));
      assert.equal(reservePort(p), false);
      assert.equal(readFileSync(file(p), 'utf8'), String(child.pid), 'the live reservation is left alone');
      const q = port();
      writeFileSync(file(q), '');
      assert.equal(reservePort(q), false);
    } finally {
      child.kill();
    }
  });

  it('takes over the reservation of a process that is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const p = port();
    writeFileSync(file(p), gone.stdout.trim());
    assert.equal(reservePort(p), true);
    assert.equal(readFileSync(file(p), 'utf8'), String(process.pid));
    assert.equal(reservePort(p), false, 'not twice, even to the same process');
  });

  it('freeTcpPort reserves what it hands out', async () => {
    const p = await freeTcpPort();
    assert.equal(readFileSync(file(p), 'utf8'), String(process.pid));
    used.push(p);
  });
});
