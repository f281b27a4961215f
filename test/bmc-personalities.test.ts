// Personality quirks the conformance matrix does not turn into a failing check, seen over HTTP as
// a client would meet them: each machine with a personality gets its own Redfish listener, and
// the generic machines beside it keep the correct behaviour.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FleetError, parseFleet, resolveFleet } from '../emulator/fleet/config.js';
import { cleanup } from './helpers/apiserver.js';
import { rf, startTestFleet, type TestFleet } from './helpers/bmc.js';

const auth: [string, string] = ['admin', 'password'];

describe('BMC personalities', () => {
  let t: TestFleet;
  const at = (name: string) => {
    const a = t.addrs.find((x) => x.name === name);
    if (!a?.redfish) throw new Error(`no Redfish address for ${name}`);
    const u = new URL(a.redfish.replace(/^redfish\+/, ''));
    return { base: `${u.protocol}//${u.host}`, sys: u.pathname };
  };

  before(async () => {
    t = await startTestFleet({
      timeScale: 1,
      personalities: {
        strict: { quirks: { continuousRejected: true, weakEtagRejected: true, identityEncodingRejected: true, basicAuthDisabled: true } },
        'old-mode': { extends: 'supermicro', quirks: { noBootTargetAllowableValues: true } },
        media: { quirks: { noUsbSlot: true, insertRejectsOptional: true, dateTimeReadOnly: true } },
      },
      machines: [
        { name: 'plain' },
        { name: 'strict', personality: 'strict' },
        { name: 'smc', personality: 'old-mode' },
        { name: 'ilo', personality: 'ilo', timings: { post: 60_000 } },
        { name: 'media', personality: 'media' },
      ],
    });
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
  });

  it('gives each machine with a personality its own listener; generic machines share the fleet one', () => {
    const bases = new Set(t.addrs.map((a) => new URL((a.redfish as string).replace(/^redfish\+/, '')).host));
    assert.equal(bases.size, 5);
    assert.equal(at('plain').base, t.url);
  });

  it('refuses Continuous, weak ETags, identity encoding and Basic where the personality does', async () => {
    const { base, sys } = at('strict');
    const login = await rf(base, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    assert.equal(login.status, 201);
    const token = String(login.headers['x-auth-token']);
    assert.equal((await rf(base, 'GET', sys, { auth })).status, 401, 'Basic is refused');
    const got = await rf(base, 'GET', sys, { auth: token });
    assert.equal(got.status, 200);
    const boot = got.json.Boot as Record<string, unknown>;
    assert.ok(!(boot['BootSourceOverrideEnabled@Redfish.AllowableValues'] as string[]).includes('Continuous'));
    const cont = await rf(base, 'PATCH', sys, {
      auth: token,
      body: { Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous' } },
    });
    assert.equal(cont.status, 400);
    assert.match(cont.text, /PropertyValueNotInList/);
    const weak = await rf(base, 'PATCH', sys, {
      auth: token,
      headers: { 'If-Match': `W/${String(got.headers.etag)}` },
      body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } },
    });
    assert.equal(weak.status, 412);
    const strong = await rf(base, 'PATCH', sys, {
      auth: token,
      headers: { 'If-Match': String(got.headers.etag) },
      body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } },
    });
    assert.equal(strong.status, 200);
    assert.equal((await rf(base, 'GET', sys, { auth: token, headers: { 'Accept-Encoding': 'identity' } })).status, 406);
    // the generic machine beside it: Basic and Continuous both fine
    const plain = at('plain');
    assert.equal(
      (
        await rf(plain.base, 'PATCH', plain.sys, {
          auth,
          body: { Boot: { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous' } },
        })
      ).status,
      200,
    );
  });

  it('Supermicro: UsbCd stands for the virtual CD, a target without Enabled is ignored, a target change resets the mode', async () => {
    const { base, sys } = at('smc');
    const b0 = (await rf(base, 'GET', sys, { auth })).json.Boot as Record<string, unknown>;
    assert.equal(b0['BootSourceOverrideTarget@Redfish.AllowableValues'], undefined, 'the extending personality dropped the annotation');
    assert.equal(
      (await rf(base, 'PATCH', sys, { auth, body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } } }))
        .status,
      400,
    );
    const ok = await rf(base, 'PATCH', sys, {
      auth,
      body: { Boot: { BootSourceOverrideTarget: 'UsbCd', BootSourceOverrideEnabled: 'Once' } },
    });
    assert.equal(ok.status, 200);
    const b1 = (await rf(base, 'GET', sys, { auth })).json.Boot as Record<string, unknown>;
    assert.equal(b1.BootSourceOverrideTarget, 'UsbCd');
    assert.equal(b1.BootSourceOverrideMode, 'Legacy');
    const m = t.fleet.machine('smc');
    assert.equal(m?.state.boot.overrideTarget, 'Cd', 'the machine boots its virtual CD');
    assert.equal((await rf(base, 'PATCH', sys, { auth, body: { Boot: { BootSourceOverrideTarget: 'Pxe' } } })).status, 200);
    assert.equal(
      ((await rf(base, 'GET', sys, { auth })).json.Boot as Record<string, unknown>).BootSourceOverrideTarget,
      'UsbCd',
      'silently not honoured',
    );
  });

  it('iLO: a Boot PATCH during POST is refused, EjectMedia wants a {} body', async () => {
    const { base, sys } = at('ilo');
    assert.equal((await rf(base, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'On' } })).status, 204);
    const m = t.fleet.machine('ilo');
    for (let i = 0; i < 100 && !m?.inPost; i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(m?.inPost, 'the machine is in POST (60 s of it)');
    const busy = await rf(base, 'PATCH', sys, {
      auth,
      body: { Boot: { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' } },
    });
    assert.equal(busy.status, 400);
    assert.match(busy.text, /UnableToModifyDuringSystemPOST/);
    const eject = `${sys}/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia`;
    assert.equal((await rf(base, 'POST', eject, { auth })).status, 415);
    assert.equal((await rf(base, 'POST', eject, { auth, body: {} })).status, 204);
    assert.equal((await rf(base, 'POST', `${sys}/Actions/ComputerSystem.Reset`, { auth, body: { ResetType: 'ForceOff' } })).status, 204);
  });

  it('media quirks: no USB slot, InsertMedia without Inserted/WriteProtected, a read-only clock', async () => {
    const { base, sys } = at('media');
    const coll = await rf(base, 'GET', `${sys}/VirtualMedia`, { auth });
    assert.deepEqual(
      (coll.json.Members as Array<{ '@odata.id': string }>).map((x) => x['@odata.id'].split('/').pop()),
      ['Cd'],
    );
    assert.equal((await rf(base, 'GET', `${sys}/VirtualMedia/Floppy`, { auth })).status, 404);
    const ins = await rf(base, 'POST', `${sys}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia`, {
      auth,
      body: { Image: 'http://127.0.0.1:1/x.iso', Inserted: true },
    });
    assert.equal(ins.status, 400);
    assert.match(ins.text, /ActionParameterUnknown/);
    const mgr = `/redfish/v1/Managers/${sys.split('/').pop()}`;
    const clock = await rf(base, 'PATCH', mgr, { auth, body: { DateTime: '2030-01-01T00:00:00+00:00' } });
    assert.equal(clock.status, 400);
    assert.match(clock.text, /PropertyNotWritable/);
  });

  it('refuses an unknown personality, or one extending an unknown one, naming the known ones', () => {
    assert.throws(
      () => resolveFleet(parseFleet('machines: [{name: a, personality: hp-moonshot}]')),
      (e: unknown) => {
        assert.ok(e instanceof FleetError);
        assert.match(e.message, /machines\[0\]\.personality: unknown personality hp-moonshot; known: generic, idrac/);
        return true;
      },
    );
    assert.throws(
      () => resolveFleet(parseFleet('personalities: {x: {extends: nope, quirks: {}}}\nmachines: [{name: a, personality: x}]')),
      /personalities\.x\.extends: unknown personality nope/,
    );
    assert.throws(
      () => parseFleet('personalities: {x: {quirks: {latencyMs: -1}}}\nmachines: [{name: a}]'),
      /personalities\.x\.quirks\.latencyMs/,
    );
  });
});
