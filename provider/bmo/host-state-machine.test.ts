import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ACTIONS, type Guard, type HostState, nextState, ON_DELETE, TRANSITIONS } from './host-state-machine.js';

const only =
  (...gs: Guard[]) =>
  (g: Guard) =>
    g === 'always' || gs.includes(g);

describe('BareMetalHost state table', () => {
  it('the happy path from a new host to provisioned and back', () => {
    assert.equal(nextState('', 'before', only('hasBMCDetails')), 'registering');
    assert.equal(nextState('', 'before', only()), 'unmanaged');
    assert.equal(nextState('unmanaged', 'before', only()), null, 'an unmanaged host without BMC details stays');
    assert.equal(nextState('registering', 'complete', only()), 'inspecting');
    assert.equal(nextState('registering', 'complete', only('inspectionDisabled')), 'preparing');
    assert.equal(nextState('registering', 'complete', only('externallyProvisioned', 'inspectionDisabled')), 'externally provisioned');
    assert.equal(nextState('inspecting', 'complete', only()), 'preparing');
    assert.equal(nextState('preparing', 'complete', only()), 'available');
    assert.equal(nextState('available', 'before', only()), null, 'available without an image stays');
    assert.equal(nextState('available', 'before', only('provisionRequested')), 'provisioning');
    assert.equal(nextState('available', 'before', only('inspectRequested', 'provisionRequested')), 'inspecting', 're-inspection first');
    assert.equal(nextState('provisioning', 'complete', only()), 'provisioned');
    assert.equal(nextState('provisioning', 'failed', only()), null, 'a failed provisioning waits out its backoff in provisioning');
    assert.equal(nextState('provisioning', 'before', only('retryDue')), 'deprovisioning', 'then it is undone and retried');
    assert.equal(nextState('provisioned', 'before', only('imageChanged')), 'deprovisioning');
    assert.equal(nextState('deprovisioning', 'complete', only()), 'available');
    assert.equal(nextState('deprovisioning', 'complete', only('deleting')), 'powering off before delete');
    assert.equal(nextState('powering off before delete', 'complete', only()), 'deleting');
  });

  it('every state has an action and a deletion target, and every transition names known states', () => {
    const states = Object.keys(ACTIONS) as HostState[];
    for (const s of states) assert.ok(s in ON_DELETE, `ON_DELETE covers "${s}"`);
    for (const tr of TRANSITIONS) {
      assert.ok(states.includes(tr.from), `from "${tr.from}" is a state`);
      assert.ok(states.includes(tr.to), `to "${tr.to}" is a state`);
    }
    assert.equal(ON_DELETE.provisioned, 'deprovisioning', 'a provisioned host is deprovisioned before deletion');
    assert.equal(ON_DELETE.registering, 'deleting');
  });
});
