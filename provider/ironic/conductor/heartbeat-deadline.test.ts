// An agent that called in and then went silent (crashed, lost power or network) fails its wait
// once the heartbeat deadline passes, long before the 30-minute callback timeout — but not an
// agent still beating, one that never called in (its boot is the callback timeout's business),
// nor any agent right after a conductor restart (nobody could have reached a dead conductor).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { holdWorker, putWaitingNode, until, withConductor } from './test-conductor.js';

const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString().replace('Z', '+00:00');

it('fails a wait whose agent is silent past the deadline, with when it was last heard', async () => {
  await withConductor(
    async (c, store) => {
      const put = (name: string, provision_state: string, heartbeatAgo: number | null, url = true) =>
        putWaitingNode(store, name, provision_state, {
          provision_updated_at: ago(120),
          power_state: 'power on',
          driver_internal_info: {
            ...(heartbeatAgo === null ? {} : { agent_last_heartbeat: ago(heartbeatAgo) }),
            ...(url ? { agent_url: 'http://127.0.0.1:1' } : {}),
          },
        });
      const silentDeploy = put('silent-deploy', 'wait call-back', 90);
      const silentClean = put('silent-clean', 'clean wait', 45);
      const beating = put('beating', 'clean wait', 5);
      const neverCalled = put('never-called', 'wait call-back', null, false);
      // right after a restart nothing trips: the agents may have been beating at a dead conductor
      c.checkTimeouts();
      for (const n of [silentDeploy, silentClean, beating, neverCalled])
        assert.equal(store.node(n.uuid)?.provision_state, n.provision_state);
      c.startedAt = Date.now() - 600_000;
      c.checkTimeouts();
      await until('the silent agents fail', () =>
        [
          [silentDeploy, 'deploy failed'],
          [silentClean, 'clean failed'],
        ].every(([n, st]) => {
          const x = store.node((n as { uuid: string }).uuid);
          return x?.provision_state === st && !x.reservation;
        }),
      );
      const msg = String(store.node(silentDeploy.uuid)?.last_error);
      assert.match(msg, /has not sent a heartbeat since \d{4}-\d\d-\d\dT.* \(deadline 30 s\) while in wait call-back: it is gone/);
      assert.equal(store.node(beating.uuid)?.provision_state, 'clean wait', 'an agent still beating keeps its node waiting');
      assert.equal(
        store.node(neverCalled.uuid)?.provision_state,
        'wait call-back',
        'an agent that never called in is left to the callback timeout',
      );
    },
    { heartbeatTimeout: 10, heartbeatDeadline: 30 },
  );
});

it('the deadline defaults to twice the heartbeat timeout, at least 30 s; 0 disables it', async () => {
  const { heartbeatDeadline } = await import('./timeouts.js');
  await withConductor(async (c) => assert.equal(heartbeatDeadline(c), 600), { heartbeatTimeout: 300 });
  await withConductor(async (c) => assert.equal(heartbeatDeadline(c), 30), { heartbeatTimeout: 3 });
  await withConductor(async (c) => assert.equal(heartbeatDeadline(c), 0), { heartbeatDeadline: 0 });
});

it('an agent whose heartbeats are refused for a busy conductor is not silent', async () => {
  await withConductor(
    async (c, store) => {
      // the one worker is held by a power change whose BMC call hangs until released
      const release = holdWorker(c, store);
      const waiting = putWaitingNode(store, 'refused', 'clean wait', {
        provision_updated_at: ago(120),
        power_state: 'power on',
        driver_internal_info: { agent_last_heartbeat: ago(90), agent_url: 'http://127.0.0.1:1' },
      });
      const token = c.lookup([], waiting.uuid).token;
      assert.throws(() => c.heartbeat(waiting.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: token }), {
        reason: 'NoFreeConductorWorker',
      });
      // a forged heartbeat proves nothing
      const forged = putWaitingNode(store, 'forged', 'clean wait', {
        provision_updated_at: ago(120),
        power_state: 'power on',
        driver_internal_info: { agent_last_heartbeat: ago(90), agent_url: 'http://127.0.0.1:1' },
      });
      c.lookup([], forged.uuid);
      assert.throws(() => c.heartbeat(forged.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: 'forged' }), {
        reason: 'NotAuthorized',
      });
      release();
      await until('the worker is free', () => c.hasFreeWorker);
      c.startedAt = Date.now() - 600_000;
      c.checkTimeouts();
      await until('the forged one fails', () => store.node(forged.uuid)?.provision_state === 'clean failed');
      assert.equal(store.node(waiting.uuid)?.provision_state, 'clean wait', 'the refused agent called in 0 s ago, not 90');
    },
    { heartbeatTimeout: 10, heartbeatDeadline: 30, workers: 1 },
  );
});
