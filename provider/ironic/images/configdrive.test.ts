import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readIso } from '../../../lib/iso9660.js';
import { IronicError } from '../errors.js';
import { buildConfigDrive, decodeConfigDrive, validateConfigDrive } from './configdrive.js';

test('builds config-2 as Ironic does: uuid and name defaulted, user data as given', () => {
  const enc = buildConfigDrive(
    { meta_data: { hostname: 'h' }, user_data: '#cloud-config\n', network_data: { links: [] } },
    { uuid: 'u-1', name: 'n-1' },
  );
  const iso = readIso(decodeConfigDrive(enc));
  assert.equal(iso.label, 'config-2');
  assert.deepEqual(JSON.parse(iso.read('openstack/latest/meta_data.json')?.toString() ?? ''), { hostname: 'h', uuid: 'u-1', name: 'n-1' });
  assert.equal(iso.read('openstack/latest/user_data')?.toString(), '#cloud-config\n');
  assert.deepEqual(JSON.parse(iso.read('openstack/latest/network_data.json')?.toString() ?? ''), { links: [] });
  const mine = readIso(
    decodeConfigDrive(buildConfigDrive({ meta_data: { uuid: 'mine' }, user_data: { a: 1 } }, { uuid: 'u', name: null })),
  );
  assert.equal(JSON.parse(mine.read('openstack/latest/meta_data.json')?.toString() ?? '').uuid, 'mine');
  assert.equal(mine.read('openstack/latest/user_data')?.toString(), '{"a":1}', 'dict user data is JSON');
});

test('refuses malformed config drives with a clear error', () => {
  assert.throws(() => validateConfigDrive({ meta_data: [] }), IronicError);
  assert.throws(() => validateConfigDrive({ metadata: {} }), /allowed keys are/);
  assert.throws(() => validateConfigDrive(42), /must be a string/);
  assert.throws(() => decodeConfigDrive(Buffer.from('not an iso').toString('base64')), /ISO|short/);
});
