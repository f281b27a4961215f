// An agent's inspection data may arrive while the inspect task still holds its node (rebooting the
// machine into the agent; at a high time scale the agent boots before that call returns). IPA
// gives up on a 409, so Ironic's API waits for the lock first, as its task manager does: three
// tries a second apart, then NodeLocked.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newNode } from '../model.js';
import { withConductor } from './test-conductor.js';

it('inspection data waits for a held node lock, then answers NodeLocked if it is still held', async () => {
  await withConductor(async (c, store) => {
    const put = (name: string, ip: string) =>
      store.putNode(
        newNode({ driver: 'fake-hardware', name, provision_state: 'inspect wait', driver_info: { ipmi_address: ip }, reservation: 'c1' }),
      );
    const data = (ip: string, mac: string) => ({ inventory: { interfaces: [{ name: 'eth0', mac_address: mac }], bmc_address: ip } });

    // released half a second in: the data is taken
    const soon = put('soon', '10.0.0.8');
    setTimeout(() => store.putNode({ ...(store.node(soon.uuid) as NonNullable<ReturnType<typeof store.node>>), reservation: null }), 500);
    assert.throws(
      () => c.continueInspection(data('10.0.0.8', '52:54:00:00:00:08'), null),
      { reason: 'NodeLocked' },
      'at once it is locked',
    );
    const t0 = Date.now();
    assert.equal((await c.whenUnlocked(() => c.continueInspection(data('10.0.0.8', '52:54:00:00:00:08'), null))).uuid, soon.uuid);
    assert.ok(Date.now() - t0 >= 900, 'it waited a retry interval');

    // never released: NodeLocked after three tries
    const held = put('held', '10.0.0.9');
    const t1 = Date.now();
    await assert.rejects(
      c.whenUnlocked(() => c.continueInspection(data('10.0.0.9', '52:54:00:00:00:09'), null), 3, 200),
      { reason: 'NodeLocked' },
    );
    assert.ok(Date.now() - t1 >= 400, 'two waits between three tries');
    assert.equal(store.node(held.uuid)?.inventory, null, 'the data was not taken');

    // anything else is answered at once
    let calls = 0;
    await assert.rejects(
      c.whenUnlocked(() => {
        calls++;
        return c.continueInspection(data('10.0.0.99', '52:54:00:00:00:99'), null);
      }),
      { reason: 'NotFound' },
    );
    assert.equal(calls, 1);
  });
});
