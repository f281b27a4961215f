import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IronicError } from '../errors.js';
import { MAX_MINOR, NODE_FIELD_VERSIONS, requestedMinor, visibleFields } from './microversion.js';

test('negotiates the requested microversion from either header', () => {
  assert.equal(requestedMinor({}), 1);
  assert.equal(requestedMinor({ 'x-openstack-ironic-api-version': 'latest' }), MAX_MINOR);
  assert.equal(requestedMinor({ 'x-openstack-ironic-api-version': ' 1.89 ' }), 89);
  assert.equal(requestedMinor({ 'openstack-api-version': 'baremetal 1.95' }), 95);
  for (const bad of ['1.111', '1.0', '2.1', 'x', '1'])
    assert.throws(
      () => requestedMinor({ 'x-openstack-ironic-api-version': bad }),
      (e: unknown) => e instanceof IronicError && e.status === 406,
      bad,
    );
});

test('hides fields newer than the requested version', () => {
  const node = { uuid: 'u', name: 'n', deploy_interface: 'direct', health: null, disable_power_off: false };
  assert.deepEqual(Object.keys(visibleFields(NODE_FIELD_VERSIONS, 1, node)), ['uuid']);
  assert.deepEqual(Object.keys(visibleFields(NODE_FIELD_VERSIONS, 31, node)), ['uuid', 'name', 'deploy_interface']);
  assert.deepEqual(Object.keys(visibleFields(NODE_FIELD_VERSIONS, 110, node)), Object.keys(node));
});
