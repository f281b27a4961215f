// The provisioning limit (PROVISIONING_LIMIT): with a limit of 1, a host whose inspection never
// finishes (its agent crashes before calling back) holds the only slot, so a second IPMI host
// waits with operationalStatus `delayed` instead of starting; a virtual-media host is exempt.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('provisioning limit', { concurrency: 1 }, () => {
  let s: BmoStack;
  before(async () => {
    s = await startBmoStack({
      machines: {
        machines: [
          { name: 'stuck', protocols: ['ipmi'], agentFaults: { crash: 'before-lookup' } },
          { name: 'waiting', protocols: ['ipmi'] },
          { name: 'vmedia', protocols: ['redfish-virtualmedia'] },
        ],
      },
      provisioningLimit: 1,
      pollMs: 200,
    });
  });
  after(async () => s?.close());

  it('a second IPMI host is delayed while the slot is taken; a virtual-media host is not', async () => {
    const [stuck, waiting, vmedia] = s.fleet.addrs;
    assert.equal((await s.k(['apply', '-f', '-'], fleetManifests([stuck], { protocol: 'ipmi' }))).code, 0);
    await s.waitFor(
      stuck.name,
      (h) => h.status?.provisioning?.state === 'inspecting' && Boolean(h.status.operationHistory?.inspect?.start),
      'inspecting',
    );
    const end = Date.now() + 30_000;
    while (![...s.ironic.store.allNodes()].some((n) => n.name === `default~${stuck.name}` && n.provision_state === 'inspect wait')) {
      assert.ok(Date.now() < end, 'the stuck host reached inspect wait');
      await sleep(100);
    }
    const docs = fleetManifests([waiting], { protocol: 'ipmi' }) + fleetManifests([vmedia], { protocol: 'redfish-virtualmedia' });
    assert.equal((await s.k(['apply', '-f', '-'], docs)).code, 0);
    const w = await s.waitFor(waiting.name, (h) => h.status?.operationalStatus === 'delayed', 'delayed');
    assert.equal(w.status?.provisioning?.state, 'inspecting');
    assert.equal(w.status?.operationHistory?.inspect?.start, undefined, 'its inspection did not start');
    await s.waitFor(vmedia.name, (h) => h.status?.provisioning?.state === 'available', 'the virtual-media host is not limited');
  });
});
