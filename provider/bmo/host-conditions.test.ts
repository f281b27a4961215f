import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { computeConditions } from './host-conditions.js';

const host = (state: string, operationalStatus = 'OK', conditions: unknown[] = []): BareMetalHost =>
  ({
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name: 'h', namespace: 'default', generation: 3 },
    spec: { online: true },
    status: { provisioning: { state, ID: 'x' }, operationalStatus, conditions },
  }) as unknown as BareMetalHost;

const get = (cs: Array<{ type: string; status: string; reason: string }>, t: string) => {
  const c = cs.find((x) => x.type === t);
  return c ? `${c.status}/${c.reason}` : 'missing';
};

describe('BareMetalHost conditions', () => {
  it('follow the provisioning state as upstream computes them', () => {
    let c = computeConditions(host('available'), { fault: null, health: 'OK' });
    assert.equal(get(c, 'Manageable'), 'True/Manageable');
    assert.equal(get(c, 'AvailableForProvisioning'), 'True/Available');
    assert.equal(get(c, 'Ready'), 'False/NotProvisioned');
    assert.equal(get(c, 'Healthy'), 'True/Healthy');
    c = computeConditions(host('provisioned'), { fault: null });
    assert.equal(get(c, 'Provisioned'), 'True/Provisioned');
    assert.equal(get(c, 'Ready'), 'True/Provisioned');
    assert.equal(get(c, 'Healthy'), 'Unknown/Unknown');
    c = computeConditions(host('inspecting'), null);
    assert.equal(get(c, 'Progressing'), 'True/Inspecting');
    c = computeConditions(host('registering', 'error'), null);
    assert.equal(get(c, 'Manageable'), 'False/RegistrationFailed');
    c = computeConditions(host('unmanaged', 'discovered'), null);
    assert.equal(get(c, 'Manageable'), 'False/NotManaged');
  });

  it('an error, a detach and a power failure override the state row', () => {
    assert.equal(get(computeConditions(host('provisioned', 'error'), null), 'Ready'), 'False/Error');
    const d = computeConditions(host('provisioned', 'detached'), { fault: 'power failure' });
    assert.equal(get(d, 'Ready'), 'False/Detached');
    assert.equal(get(d, 'Manageable'), 'True/Manageable', 'a detached host is not checked for power faults');
    const p = computeConditions(host('available'), { fault: 'power failure' });
    assert.equal(get(p, 'Manageable'), 'False/PowerFailure');
    assert.equal(
      get(computeConditions(host('available', 'OK', p), null), 'Manageable'),
      'False/PowerFailure',
      'kept until the node is seen again',
    );
    assert.equal(get(computeConditions(host('available', 'OK', p), { fault: null }), 'Manageable'), 'True/Manageable');
  });

  it('keeps lastTransitionTime while a condition does not change', () => {
    const a = computeConditions(host('available'), null, new Date('2026-01-01T00:00:00Z'));
    const b = computeConditions(host('available', 'OK', a), null, new Date('2026-01-02T00:00:00Z'));
    assert.equal(b.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-01-01T00:00:00Z');
  });
});
