// With every conductor worker busy (a thousand hosts at once), work that needs one is refused
// before anything changes, or left for the next round: an agent's heartbeat and inspection data
// get 503 NoFreeConductorWorker and are sent again, a timed-out wait fails next period, and the
// periodic check never throws (it runs in a timer: a throw there once took the conductor down
// with every node's task).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newNode } from '../model.js';
import { holdWorker, putWaitingNode, until, withConductor } from './test-conductor.js';

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().replace('Z', '+00:00');

it('a full worker pool refuses heartbeats and inspection data unchanged, and defers timeouts without throwing', async () => {
  await withConductor(
    async (c, store) => {
      // the one worker is held by a power change whose BMC call hangs until released
      const release = holdWorker(c, store);
      assert.equal(c.hasFreeWorker, false);

      const cleaning = putWaitingNode(store, 'cleaning', 'clean wait', { provision_updated_at: ago(5) });
      const token = c.lookup([], cleaning.uuid).token;
      assert.ok(token);
      assert.throws(() => c.heartbeat(cleaning.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: token }), {
        reason: 'NoFreeConductorWorker',
      });
      const after = store.node(cleaning.uuid);
      assert.equal(after?.provision_state, 'clean wait', 'a refused heartbeat leaves the wait as it was');
      assert.equal(after?.reservation, null);
      assert.equal(after?.driver_internal_info.agent_url, undefined);

      const inspecting = store.putNode(
        newNode({
          driver: 'fake-hardware',
          name: 'inspecting',
          provision_state: 'inspect wait',
          driver_info: { ipmi_address: '10.0.0.7' },
        }),
      );
      const data = {
        inventory: { interfaces: [{ name: 'eth0', mac_address: '52:54:00:00:00:07' }], bmc_address: '10.0.0.7', cpu: { count: 2 } },
      };
      assert.throws(() => c.continueInspection(data, null), { reason: 'NoFreeConductorWorker' });
      assert.equal(store.node(inspecting.uuid)?.provision_state, 'inspect wait');
      assert.equal(store.node(inspecting.uuid)?.inventory, null, 'the data was not taken');
      assert.equal(store.portByAddress('52:54:00:00:00:07'), undefined);

      // a wait past its timeout stays until a worker can power the node off
      const late = putWaitingNode(store, 'late', 'wait call-back', { provision_updated_at: ago(600) });
      assert.doesNotThrow(() => c.checkTimeouts());
      assert.equal(store.node(late.uuid)?.provision_state, 'wait call-back');

      release();
      await until('the worker is free', () => c.hasFreeWorker);
      c.checkTimeouts();
      await until(
        'the late wait fails',
        () => store.node(late.uuid)?.provision_state === 'deploy failed' && !store.node(late.uuid)?.reservation,
      );
      assert.match(String(store.node(late.uuid)?.last_error), /Timeout reached while waiting for callback/);
      // and the refused agents, sending again, are taken
      c.heartbeat(cleaning.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: token });
      assert.notEqual(store.node(cleaning.uuid)?.provision_state, 'clean wait');
      await until('the worker is free again', () => c.hasFreeWorker);
      assert.equal(c.continueInspection(data, null).uuid, inspecting.uuid);
    },
    { workers: 1, deployCallbackTimeout: 60 },
  );
});
