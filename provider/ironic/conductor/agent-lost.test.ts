// A node waiting for its agent whose machine is found powered off (a power cut, a BMC that lost
// the machine) fails its step on the second power sync in a row, with a message saying why —
// instead of waiting out the 30-minute callback timeout. A machine that is on keeps waiting.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { putWaitingNode, until, withConductor } from './test-conductor.js';

it('fails deploy, clean and inspect waits whose machine is powered off on two power syncs in a row', async () => {
  await withConductor(async (c, store) => {
    const put = (name: string, provision_state: string, power_state: string) =>
      putWaitingNode(store, name, provision_state, {
        power_state: power_state as never,
        driver_internal_info: { agent_last_heartbeat: '2026-01-01T00:00:00.000000' },
      });
    const deploy = put('deploy', 'wait call-back', 'power off');
    const clean = put('clean', 'clean wait', 'power off');
    const inspect = put('inspect', 'inspect wait', 'power off');
    const alive = put('alive', 'clean wait', 'power on');
    await c.syncPowerStates();
    // one look is not enough: a reboot in progress reads off for a moment
    for (const n of [deploy, clean, inspect, alive]) assert.equal(store.node(n.uuid)?.provision_state, n.provision_state);
    await c.syncPowerStates();
    await until('the three lost agents fail', () =>
      [
        [deploy, 'deploy failed'],
        [clean, 'clean failed'],
        [inspect, 'inspect failed'],
      ].every(
        ([n, st]) =>
          store.node((n as { uuid: string }).uuid)?.provision_state === st && !store.node((n as { uuid: string }).uuid)?.reservation,
      ),
    );
    for (const n of [deploy, clean, inspect]) {
      assert.match(String(store.node(n.uuid)?.last_error), /powered off .*the agent is gone .*last heartbeat was 2026-01-01/);
    }
    assert.equal(store.node(alive.uuid)?.provision_state, 'clean wait', 'a machine that is on keeps waiting for its agent');
  });
});
