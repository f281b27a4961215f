// BMCEventSubscription through kubectl: the operator subscribes the host's BMC (through Ironic's
// vendor passthru) and the subscription is seen on the emulated BMC's Redfish EventService;
// deleting the object removes it from the BMC; a missing host is reported in status.error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { rf } from './helpers/bmc.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

type Sub = { status?: { subscriptionID?: string; error?: string } };

describe('BMCEventSubscription', { concurrency: 1 }, () => {
  let s: BmoStack;
  const sub = (name: string) =>
    s.client.get<Sub & { metadata: Record<string, unknown> }>('metal3.io/v1alpha1', 'BMCEventSubscription', 'default', name);
  async function waitSub(name: string, pred: (x: Sub) => boolean, what: string): Promise<Sub> {
    const end = Date.now() + 60_000;
    let last: Sub | undefined;
    while (Date.now() < end) {
      try {
        last = await sub(name);
        if (pred(last)) return last;
      } catch {
        // not yet
      }
      await sleep(150);
    }
    throw new Error(`${name}: timed out waiting for ${what}; last ${JSON.stringify(last?.status)}`);
  }

  before(async () => {
    s = await startBmoStack({ machines: 1, pollMs: 200 });
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    await s.waitFor(s.fleet.addrs[0].name, (h) => h.status?.provisioning?.state === 'available', 'available');
  });
  after(async () => s?.close());

  it('subscribes the BMC with the headers from the Secret, and unsubscribes on delete', async () => {
    const a = s.fleet.addrs[0];
    const m = `apiVersion: v1
kind: Secret
metadata: {name: event-headers}
stringData: {X-Token: secret-token}
---
apiVersion: metal3.io/v1alpha1
kind: BMCEventSubscription
metadata: {name: events}
spec:
  hostName: ${a.name}
  destination: http://127.0.0.1:9/events
  context: ferrite-test
  httpHeadersRef: {name: event-headers, namespace: default}
`;
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const x = await waitSub('events', (x) => Boolean(x.status?.subscriptionID), 'a subscription id');
    const auth: [string, string] = [a.username, a.password];
    const path = `/redfish/v1/EventService/Subscriptions/${x.status?.subscriptionID}`;
    let r = await rf(s.fleet.url, 'GET', path, { auth, ca: s.fleet.ca });
    assert.equal(r.status, 200, 'the BMC has the subscription');
    assert.equal((r.json as { Destination: string }).Destination, 'http://127.0.0.1:9/events');
    assert.equal((r.json as { Context: string }).Context, 'ferrite-test');
    const del = await s.k(['delete', 'bmceventsubscription', 'events'], undefined);
    assert.equal(del.code, 0, del.stderr);
    r = await rf(s.fleet.url, 'GET', path, { auth, ca: s.fleet.ca });
    assert.equal(r.status, 404, 'the BMC no longer has it');
  });

  it('a subscription for a host that does not exist reports it in status.error', async () => {
    const m =
      'apiVersion: metal3.io/v1alpha1\nkind: BMCEventSubscription\nmetadata: {name: orphan}\nspec: {hostName: no-such-host, destination: "http://127.0.0.1:9/x"}\n';
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const x = await waitSub('orphan', (x) => Boolean(x.status?.error), 'an error');
    assert.equal(x.status?.error, 'baremetal host "no-such-host" not found');
    assert.equal((await s.k(['delete', 'bmceventsubscription', 'orphan'])).code, 0);
  });
});
