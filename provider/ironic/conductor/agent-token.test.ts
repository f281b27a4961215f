// The agent's token is handed out once, by lookup, to the agent the conductor booted: never while
// the BMC is taking the reboot (an agent about to die could take it), never kept past a new boot.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newNode } from '../model.js';
import { until, withConductor } from './test-conductor.js';

it('refuses lookups while the BMC takes the reboot, then hands the token to the agent the reboot started; a new boot revokes it', async () => {
  await withConductor(async (c, store) => {
    const node = store.putNode(
      newNode({
        driver: 'fake-hardware',
        name: 'fast-agent',
        deploy_interface: 'direct',
        provision_state: 'available',
        instance_info: { image_source: 'http://127.0.0.1:1/img.raw', image_checksum: 'abc' },
      }),
    );
    // a lookup while the BMC call is still being answered is told to retry, as the node is locked
    let refused = 0;
    c.drivers.fake.reboot = async (n) => {
      n.power_state = 'power on';
      assert.throws(() => c.lookup([], n.uuid), { reason: 'NodeLocked' });
      refused++;
    };
    const tokens: string[] = [];
    const lookUp = () => {
      const { token } = c.lookup([], node.uuid);
      assert.ok(token, 'the first lookup after the reboot reveals a token');
      tokens.push(token);
    };
    c.provision(node.uuid, 'active', {}, 90);
    await until('wait call-back', () => store.node(node.uuid)?.provision_state === 'wait call-back');
    assert.equal(refused, 1);
    lookUp();
    assert.equal(c.lookup([], node.uuid).token, null, 'the token is revealed once');
    assert.throws(() => c.heartbeat(node.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: 'stale' }), {
      reason: 'NotAuthorized',
    });
    // agent_verify_ca must be a PEM certificate; a refused heartbeat records nothing
    assert.throws(
      () => c.heartbeat(node.uuid, { callback_url: 'https://127.0.0.1:1/a', agent_token: tokens[0], agent_verify_ca: 'not a certificate' }),
      { reason: 'Invalid' },
    );
    assert.equal(store.node(node.uuid)?.driver_internal_info.agent_verify_ca, undefined);
    // the looked-up token is the one the conductor expects
    c.heartbeat(node.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: tokens[0] });
    // the agent cannot be reached there, so the deploy fails; a second deploy boots a new agent
    await until('deploy failed', () => store.node(node.uuid)?.provision_state === 'deploy failed');
    c.provision(node.uuid, 'active', {}, 90);
    await until('second wait call-back', () => store.node(node.uuid)?.provision_state === 'wait call-back');
    lookUp();
    assert.equal(refused, 2);
    assert.notEqual(tokens[1], tokens[0]);
    assert.throws(() => c.heartbeat(node.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: tokens[0] }), {
      reason: 'NotAuthorized',
    });
  });
});

it('a stray agent that looks up while the ramdisk is prepared does not keep the token from the agent the reboot starts', async () => {
  await withConductor(async (c, store) => {
    const node = store.putNode(
      newNode({
        driver: 'fake-hardware',
        name: 'stray-agent',
        deploy_interface: 'direct',
        provision_state: 'available',
        instance_info: { image_source: 'http://127.0.0.1:1/img.raw', image_checksum: 'abc' },
      }),
    );
    // an agent already running on the machine (booted by itself, before Ironic's reboot) looks up
    // while the boot interface prepares the ramdisk, and takes the token
    let stray: string | null = null;
    const boot = (c.drivers as unknown as { boots: Record<string, { prepareRamdisk: () => Promise<void> }> }).boots.fake;
    boot.prepareRamdisk = async () => {
      stray = c.lookup([], node.uuid).token;
    };
    // it tries again while the BMC takes the reboot (its last moment): refused
    c.drivers.fake.reboot = async (n) => {
      n.power_state = 'power on';
      assert.throws(() => c.lookup([], n.uuid), { reason: 'NodeLocked' });
    };
    c.provision(node.uuid, 'active', {}, 90);
    await until('wait call-back', () => store.node(node.uuid)?.provision_state === 'wait call-back');
    const fresh = c.lookup([], node.uuid).token;
    assert.ok(stray, 'the stray agent got a token');
    assert.ok(fresh, 'the agent the reboot started got one too: the stray one was revoked before the reboot');
    assert.notEqual(fresh, stray);
    assert.throws(() => c.heartbeat(node.uuid, { callback_url: 'http://127.0.0.1:1/a', agent_token: String(stray) }), {
      reason: 'NotAuthorized',
    });
  });
});
