import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildIso, IsoFormatError, readIso } from './iso9660.js';

const files = [
  { path: 'openstack/latest/meta_data.json', data: Buffer.from('{"uuid":"abc"}') },
  { path: 'openstack/latest/user_data', data: Buffer.from('#cloud-config\n') },
  { path: 'openstack/latest/network_data.json', data: Buffer.from('{}') },
  { path: 'big.bin', data: Buffer.alloc(5000, 7) },
];

test('an ISO we write reads back with its Joliet names, label and contents', () => {
  const iso = readIso(buildIso('config-2', files));
  assert.equal(iso.label, 'config-2');
  for (const f of files) assert.deepEqual(iso.read(f.path), f.data, f.path);
  assert.equal(iso.read('missing'), null);
});

test('garbage is refused with a clear error, not misread', () => {
  assert.throws(() => readIso(Buffer.alloc(100)), IsoFormatError);
  assert.throws(() => readIso(Buffer.alloc(40000, 1)), /no CD001/);
});

const isoinfo = spawnSync('isoinfo', ['-version']).status === 0 || spawnSync('which', ['isoinfo']).status === 0;

test('isoinfo (genisoimage) lists and extracts what we wrote', { skip: !isoinfo && 'isoinfo not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'iso-'));
  try {
    const p = join(dir, 'cd.iso');
    writeFileSync(p, buildIso('config-2', files));
    const d = spawnSync('isoinfo', ['-d', '-i', p], { encoding: 'utf8' });
    assert.match(d.stdout, /Volume id: config-2/);
    assert.match(d.stdout, /Joliet/);
    const x = spawnSync('isoinfo', ['-J', '-i', p, '-x', '/openstack/latest/meta_data.json'], { encoding: 'buffer' });
    assert.equal(x.stdout.toString(), '{"uuid":"abc"}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('we read an ISO genisoimage wrote', { skip: !isoinfo && 'genisoimage not installed' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'iso-'));
  try {
    const src = join(dir, 'src');
    spawnSync('mkdir', ['-p', join(src, 'openstack/latest')]);
    writeFileSync(join(src, 'openstack/latest/meta_data.json'), '{"hostname":"h1"}');
    const out = join(dir, 'g.iso');
    const r = spawnSync('genisoimage', [
      '-quiet',
      '-o',
      out,
      '-ldots',
      '-allow-lowercase',
      '-allow-multidot',
      '-l',
      '-J',
      '-r',
      '-V',
      'config-2',
      src,
    ]);
    assert.equal(r.status, 0, String(r.stderr));
    const iso = readIso(readFileSync(out));
    assert.equal(iso.label, 'config-2');
    assert.equal(iso.read('openstack/latest/meta_data.json')?.toString(), '{"hostname":"h1"}');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
