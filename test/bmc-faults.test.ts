// The emulator's fault injection: the power-cut OEM action turns a running machine off at once,
// with the BMC still answering (PowerState Off) and the event in its log; other accounts'
// machines and bad credentials are refused like any Redfish action.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { rf, startTestFleet, type TestFleet } from './helpers/bmc.js';

describe('emulator power cut', () => {
  let t: TestFleet;
  before(async () => {
    t = await startTestFleet(2);
  });
  after(async () => t?.close());

  it('cuts power of a running machine; the BMC reports Off and logs it', async () => {
    const a = t.addrs[0];
    const sys = `/redfish/v1/Systems/${a.uuid}`;
    const auth: [string, string] = [a.username, a.password];
    let r = await rf(t.url, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'On' } });
    assert.ok(r.status < 300, `power on: ${r.status}`);
    for (let i = 0; i < 100 && !t.fleet.machines[0].poweredOn; i++) await sleep(20);
    assert.equal(t.fleet.machines[0].poweredOn, true);
    r = await rf(t.url, 'POST', `${sys}/Actions/Oem/Ferrite.PowerCut`, { auth, body: {} });
    assert.equal(r.status, 204);
    // the cut is a ForceOff job: PoweringOff for the backend's moment, then Off
    for (let i = 0; i < 100 && t.fleet.machines[0].state.power !== 'Off'; i++) await sleep(20);
    r = await rf(t.url, 'GET', sys, { auth });
    assert.equal((r.json as { PowerState: string }).PowerState, 'Off');
    assert.ok(
      t.fleet.machines[0].state.events.some((e) => e.messageId === 'PowerLost'),
      'the event log records the power loss',
    );
  });

  it('refuses wrong credentials and another machine’s account', async () => {
    const [a, b] = t.addrs;
    let r = await rf(t.url, 'POST', `/redfish/v1/Systems/${a.uuid}/Actions/Oem/Ferrite.PowerCut`, {
      auth: [a.username, 'wrong'],
      body: {},
    });
    assert.equal(r.status, 401);
    if (a.username !== b.username || a.password !== b.password) {
      r = await rf(t.url, 'POST', `/redfish/v1/Systems/${b.uuid}/Actions/Oem/Ferrite.PowerCut`, {
        auth: [a.username, a.password],
        body: {},
      });
      assert.ok(r.status === 403 || r.status === 401, `cross-machine: ${r.status}`);
    }
  });
});
