// The Redfish service's protocol behaviour: auth and sessions, ETags, errors, tasks, events,
// virtual media and per-system authorization — what sushy-tools lacks and Ironic relies on.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ScaledClock } from '../emulator/machine/clock.js';
import type { Machine } from '../emulator/machine/machine.js';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { cleanup, eventually, tempDir } from './helpers/apiserver.js';
import { rf, startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';

const auth: [string, string] = ['admin', 'password'];

describe('Redfish service', () => {
  let t: TestFleet;
  let m: Machine;
  let sys: string;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  const req = (method: string, path: string, o: Parameters<typeof rf>[3] = {}) => rf(t.url, method, path, { auth, ...o });

  before(async () => {
    // sessions time out on the machines' clock here (×1000), so the expiry test takes 150 ms
    t = await startTestFleet(
      { machines: [{ name: 'node-0' }, { name: 'node-1', password: 'other-secret' }] },
      { sessionClock: new ScaledClock(1000) },
    );
    m = t.fleet.machines[0];
    sys = `/redfish/v1/Systems/${m.uuid}`;
    files = await startFileServer({ '/fw/bmc-2.3.4.bin': randomBytes(4096), '/os.iso': randomBytes(8192) });
  });
  after(async () => {
    await t.close();
    await files.close();
    cleanup(t.dir);
  });

  it('serves the root without credentials and refuses everything else with 401 + WWW-Authenticate', async () => {
    let r = await rf(t.url, 'GET', '/redfish/v1/');
    assert.equal(r.status, 200);
    assert.equal((r.json.Links as { Sessions: { '@odata.id': string } }).Sessions['@odata.id'], '/redfish/v1/SessionService/Sessions');
    assert.equal(r.headers['odata-version'], '4.0');
    assert.match(String(r.headers.link), /ServiceRoot\.v1_\d+_\d+\.json>; rel=describedby/);
    r = await rf(t.url, 'GET', '/redfish');
    assert.deepEqual(r.json, { v1: '/redfish/v1/' });
    r = await rf(t.url, 'GET', '/redfish/v1/$metadata');
    assert.match(String(r.headers['content-type']), /application\/xml/);
    assert.match(r.text, /EntityContainer Name="Service"/);
    r = await rf(t.url, 'GET', '/redfish/v1/Systems');
    assert.equal(r.status, 401);
    assert.match(String(r.headers['www-authenticate']), /^Basic/);
    assert.match(JSON.stringify(r.json), /NoValidSession/);
    r = await rf(t.url, 'GET', '/redfish/v1/Systems', { auth: ['admin', 'nope'] });
    assert.equal(r.status, 401);
  });

  it('sessions: login, use, logout; idle sessions expire on the session clock', async () => {
    let r = await rf(t.url, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    assert.equal(r.status, 201);
    const token = String(r.headers['x-auth-token']);
    const loc = String(r.headers.location);
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.equal((await rf(t.url, 'GET', sys, { auth: token })).status, 200);
    assert.equal((await rf(t.url, 'DELETE', loc, { auth: token })).status, 204);
    assert.equal((await rf(t.url, 'GET', sys, { auth: token })).status, 401);
    r = await rf(t.url, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'bad' } });
    assert.equal(r.status, 401);
    r = await rf(t.url, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin' } });
    assert.equal(r.status, 400);
    assert.equal((await req('PATCH', '/redfish/v1/SessionService', { body: { SessionTimeout: 30 } })).status, 200);
    r = await rf(t.url, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
    const short = String(r.headers['x-auth-token']);
    await new Promise((res) => setTimeout(res, 150)); // 150 ms real = 150 s simulated
    assert.equal((await rf(t.url, 'GET', sys, { auth: short })).status, 401);
    await req('PATCH', '/redfish/v1/SessionService', { body: { SessionTimeout: 1800 } });
  });

  it("by default sessions time out in real time, not on the machines' faster clock", async () => {
    // a fleet at time scale 1000 without a session clock: 150 ms real is 150 s for the machines,
    // five times the 30 s timeout, and the session is still good — Ironic's pace is real time
    const f = await startTestFleet({ machines: [{ name: 'node-0' }] });
    try {
      const path = `/redfish/v1/Systems/${f.fleet.machines[0].uuid}`;
      assert.equal((await rf(f.url, 'PATCH', '/redfish/v1/SessionService', { auth, body: { SessionTimeout: 30 } })).status, 200);
      const r = await rf(f.url, 'POST', '/redfish/v1/SessionService/Sessions', { body: { UserName: 'admin', Password: 'password' } });
      const token = String(r.headers['x-auth-token']);
      await new Promise((res) => setTimeout(res, 150));
      assert.equal((await rf(f.url, 'GET', path, { auth: token })).status, 200, 'the session outlived 30 s of machine time');
    } finally {
      await f.close();
      cleanup(f.dir);
    }
  });

  it('ETags: If-Match with a stale tag is 412, the current one succeeds, If-None-Match gives 304', async () => {
    let r = await req('GET', sys);
    const tag = String(r.headers.etag);
    assert.equal(r.json['@odata.etag'], tag);
    r = await req('PATCH', sys, { body: { IndicatorLED: 'Blinking' }, headers: { 'if-match': '"stale"' } });
    assert.equal(r.status, 412);
    assert.equal(m.state.indicatorLed, 'Off', 'a failed precondition changes nothing');
    r = await req('PATCH', sys, { body: { IndicatorLED: 'Blinking' }, headers: { 'if-match': tag } });
    assert.equal(r.status, 200);
    assert.notEqual(r.headers.etag, tag, 'the tag rotates on change');
    r = await req('GET', sys, { headers: { 'if-none-match': String(r.headers.etag) } });
    assert.equal(r.status, 304);
  });

  it('errors: 404, 405 with Allow, PATCH validation with one message per problem, JSON and header checks', async () => {
    let r = await req('GET', '/redfish/v1/Nope');
    assert.equal(r.status, 404);
    assert.match(String((r.json.error as Record<string, unknown>).code), /ResourceMissingAtURI/);
    r = await req('DELETE', sys);
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'GET, HEAD, PATCH');
    r = await req('PATCH', sys, { body: { Bogus: 1, PowerState: 'On', Boot: { BootSourceOverrideTarget: 'Tape' } } });
    assert.equal(r.status, 400);
    const ids = ((r.json.error as Record<string, unknown>)['@Message.ExtendedInfo'] as { MessageId: string }[]).map((x) =>
      x.MessageId.split('.').pop(),
    );
    assert.deepEqual(ids, ['PropertyUnknown', 'PropertyNotWritable', 'PropertyValueNotInList']);
    assert.equal(m.state.boot.overrideTarget, 'None');
    assert.equal((await req('PATCH', sys, { raw: '{nope' })).status, 400);
    assert.equal((await req('PATCH', sys, { raw: '{}', headers: { 'content-type': 'text/plain' } })).status, 415);
    assert.equal((await req('GET', sys, { headers: { 'odata-version': '4.1' } })).status, 412);
    assert.equal((await req('GET', `${sys}?$expand=.`)).status, 501);
    assert.equal((await req('GET', sys, { headers: { accept: 'text/html' } })).status, 406);
    assert.equal((await req('GET', sys, { headers: { accept: 'text/html, application/json;q=0.9' } })).status, 200);
    assert.equal((await req('GET', '/redfish/v1/$metadata', { headers: { accept: 'application/xml' } })).status, 200);
    assert.equal((await req('GET', '/redfish/v1/$metadata', { headers: { accept: 'application/json' } })).status, 406);
    r = await req('GET', '/redfish/v1/Systems/node-0/Bios');
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, `${sys}/Bios`);
    r = await req('POST', `${sys}/Actions/ComputerSystem.Reset`, { body: {} });
    assert.match(JSON.stringify(r.json), /ActionParameterMissing/);
    r = await req('POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'Explode' } });
    assert.match(JSON.stringify(r.json), /ActionParameterValueNotInList/);
  });

  it('a body over 1 MiB gets 413 with @Message.ExtendedInfo, not a reset connection, and the service goes on', async () => {
    const big = JSON.stringify({ Boot: { BootSourceOverrideTarget: 'Pxe' }, pad: 'x'.repeat(2 * 1024 * 1024) });
    // with a Content-Length over the limit, and streamed (chunked) past it
    for (const headers of [{}, { 'transfer-encoding': 'chunked' }] as Array<Record<string, string>>) {
      const r = await req('PATCH', sys, { raw: big, headers });
      assert.equal(r.status, 413, r.text.slice(0, 200));
      const info = (r.json.error as { '@Message.ExtendedInfo': Array<{ Message: string }> })['@Message.ExtendedInfo'];
      assert.match(info[0].Message, /larger than 1048576 bytes/);
    }
    assert.equal((await req('GET', sys)).status, 200);
  });

  it('an account reaches only the systems of its own BMC', async () => {
    const other = t.fleet.machines[1];
    let r = await req('GET', `/redfish/v1/Systems/${other.uuid}`);
    assert.equal(r.status, 403);
    r = await rf(t.url, 'GET', '/redfish/v1/Systems', { auth: ['admin', 'other-secret'] });
    assert.deepEqual(
      (r.json.Members as { '@odata.id': string }[]).map((x) => x['@odata.id']),
      [`/redfish/v1/Systems/${other.uuid}`],
    );
  });

  it('BIOS settings: PATCH answers 202 with a task monitor that completes only after the reset applies them', async () => {
    let r = await req('PATCH', `${sys}/Bios/Settings`, { body: { Attributes: { ProcTurboMode: 'Disabled' } } });
    assert.equal(r.status, 202);
    const monitor = String(r.headers.location);
    r = await req('GET', monitor);
    assert.equal(r.status, 202);
    assert.equal(r.json.TaskState, 'Pending');
    r = await req('GET', `${sys}/Bios`);
    assert.equal((r.json.Attributes as Record<string, unknown>).ProcTurboMode, 'Enabled');
    r = await req('GET', `${sys}/Bios/Settings`);
    assert.equal((r.json.Attributes as Record<string, unknown>).ProcTurboMode, 'Disabled');
    assert.equal((await req('POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'On' } })).status, 204);
    r = await eventually(async () => {
      const x = await req('GET', monitor);
      return x.status === 200 ? x : null;
    }, 'BIOS task to complete');
    assert.equal((r.json.Attributes as Record<string, unknown>).ProcTurboMode, 'Disabled');
    r = await req('PATCH', `${sys}/Bios/Settings`, { body: { Attributes: { Nope: 1 } } });
    assert.equal(r.status, 400);
  });

  it('volumes: POST answers 202, the task creates the volume; DELETE removes it', async () => {
    let r = await req('POST', `${sys}/Storage/1/Volumes`, {
      body: { CapacityBytes: 100e9, RAIDType: 'RAID1', Links: { Drives: [{ '@odata.id': `${sys}/Storage/1/Drives/Disk.0` }] } },
    });
    assert.equal(r.status, 202);
    const monitor = String(r.headers.location);
    r = await eventually(async () => {
      const x = await req('GET', monitor);
      return x.status === 201 ? x : null;
    }, 'volume task');
    const vol = String(r.headers.location);
    assert.equal((await req('GET', vol)).json.RAIDType, 'RAID1');
    r = await req('GET', `${sys}/Storage/1/Volumes`);
    assert.deepEqual((r.json['@Redfish.OperationApplyTimeSupport'] as { SupportedValues: string[] }).SupportedValues, [
      'Immediate',
      'OnReset',
    ]);
    assert.equal((await req('DELETE', vol)).status, 204);
    assert.equal((await req('GET', vol)).status, 404);
    r = await req('POST', `${sys}/Storage/1/Volumes`, { body: { CapacityBytes: 1e15 } });
    assert.equal(r.status, 400);
    // OnReset: the task waits for the next reset, not for any other change to the machine
    r = await req('POST', `${sys}/Storage/1/Volumes`, { body: { CapacityBytes: 1e9, '@Redfish.OperationApplyTime': 'OnReset' } });
    const pending = String(r.headers.location);
    await req('PATCH', sys, { body: { Boot: { BootSourceOverrideTarget: 'Pxe' } } });
    await new Promise((res) => setTimeout(res, 50));
    assert.equal((await req('GET', pending)).json.TaskState, 'Pending');
    await req('POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'ForceRestart' } });
    r = await eventually(async () => {
      const x = await req('GET', pending);
      return x.status === 201 ? x : null;
    }, 'OnReset volume task');
    assert.equal((await req('DELETE', String(r.headers.location))).status, 204);
    await req('PATCH', sys, { body: { Boot: { BootSourceOverrideEnabled: 'Disabled' } } });
  });

  it('SimpleUpdate fetches the image in a task and the inventory shows the new version', async () => {
    const target = `/redfish/v1/UpdateService/FirmwareInventory/${m.uuid}.BMC`;
    let r = await req('POST', '/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate', {
      body: { ImageURI: `${files.url}/fw/bmc-2.3.4.bin`, Targets: [target] },
    });
    assert.equal(r.status, 202);
    const monitor = String(r.headers.location);
    const taskUri = String(r.json['@odata.id']);
    await eventually(async () => (await req('GET', monitor)).status === 204, 'firmware task');
    assert.equal((await req('GET', taskUri)).json.TaskState, 'Completed');
    assert.equal((await req('GET', target)).json.Version, '2.3.4');
    assert.ok(files.requests.includes('GET /fw/bmc-2.3.4.bin'));
    r = await req('POST', '/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate', {
      body: { ImageURI: `${files.url}/missing.bin`, Targets: [target] },
    });
    const failed = String(r.headers.location);
    r = await eventually(async () => {
      const x = await req('GET', failed);
      return x.status !== 202 ? x : null;
    }, 'failing firmware task');
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.json), /HTTP 404/);
  });

  it('virtual media: fetch errors are reported, double insert is a conflict, eject is idempotent', async () => {
    const vm = `${sys}/VirtualMedia/Cd`;
    let r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { body: { Image: `${files.url}/nothing.iso` } });
    assert.equal(r.status, 400);
    assert.match(JSON.stringify(r.json), /HTTP 404/);
    assert.equal((await req('GET', vm)).json.Inserted, false);
    r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { body: { Image: 'ftp://x/y.iso' } });
    assert.equal(r.status, 400);
    r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, {
      body: { Image: `${files.url}/os.iso`, Inserted: true, WriteProtected: true },
    });
    assert.equal(r.status, 204);
    r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { body: { Image: `${files.url}/os.iso` } });
    assert.equal(r.status, 409);
    // also reachable under the Manager, where older clients look
    r = await req('GET', `/redfish/v1/Managers/${m.uuid}/VirtualMedia/Cd`);
    assert.equal(r.json.Image, `${files.url}/os.iso`);
    await m.mediaSettled('Cd');
    assert.equal(m.state.media[0].fetch, 'ready');
    assert.equal(m.state.media[0].bytes, 8192);
    for (let i = 0; i < 2; i++) assert.equal((await req('POST', `${vm}/Actions/VirtualMedia.EjectMedia`, { body: {} })).status, 204);
    assert.equal((await req('GET', vm)).json.Inserted, false);
  });

  it('virtual media over HTTPS: VerifyCertificate false accepts a self-signed server, true refuses it with a clear error', async () => {
    const pki = tempDir('ferrite-vm-tls-');
    const cred = await loadOrCreateCredentials(pki, ['127.0.0.1'], 'images');
    const iso = randomBytes(4096);
    const srv = https.createServer({ cert: cred.certPem, key: cred.keyPem }, (_q, s) => {
      s.writeHead(200, { 'content-length': iso.length });
      s.end(iso);
    });
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const url = `https://127.0.0.1:${(srv.address() as AddressInfo).port}/secure.iso`;
    const vm = `${sys}/VirtualMedia/Cd`;
    try {
      assert.equal((await req('PATCH', vm, { body: { VerifyCertificate: true } })).status, 200);
      let r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { body: { Image: url } });
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.json), /certificate/i);
      assert.equal((await req('PATCH', vm, { body: { VerifyCertificate: false } })).status, 200);
      r = await req('POST', `${vm}/Actions/VirtualMedia.InsertMedia`, { body: { Image: url, TransferProtocolType: 'HTTPS' } });
      assert.equal(r.status, 204, r.text);
      await m.mediaSettled('Cd');
      assert.equal(m.state.media[0].bytes, iso.length);
      await req('POST', `${vm}/Actions/VirtualMedia.EjectMedia`, { body: {} });
    } finally {
      srv.close();
      cleanup(pki);
    }
  });

  it('events: a loopback subscriber and an SSE stream both receive machine events; the event log keeps them', async () => {
    const got: unknown[] = [];
    const sink = http.createServer((q, s) => {
      let b = '';
      q.on('data', (c) => {
        b += c;
      });
      q.on('end', () => {
        got.push(JSON.parse(b));
        s.writeHead(204);
        s.end();
      });
    });
    await new Promise<void>((res) => sink.listen(0, '127.0.0.1', () => res()));
    const dest = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/events`;
    let r = await req('POST', '/redfish/v1/EventService/Subscriptions', {
      body: { Destination: dest, Protocol: 'Redfish', Context: 'ctx-1' },
    });
    assert.equal(r.status, 201);
    const sub = String(r.headers.location);
    r = await req('POST', '/redfish/v1/EventService/Subscriptions', { body: { Destination: 'https://203.0.113.9/events' } });
    assert.equal(r.status, 201);
    assert.equal((r.json.Status as { State: string }).State, 'Disabled', 'non-loopback destinations are never contacted');
    const sse: string[] = [];
    const stream = http.get(
      new URL('/redfish/v1/EventService/SSE', t.url),
      { headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` } },
      (res) => {
        res.on('data', (c: Buffer) => sse.push(c.toString()));
      },
    );
    await eventually(() => sse.length > 0, 'SSE stream to open');
    await req('POST', `${sys}/Actions/ComputerSystem.Reset`, { body: { ResetType: 'ForceOff' } });
    await eventually(() => got.length > 0 && sse.join('').includes('PowerStateChanged'), 'events to arrive');
    const ev = got[0] as { Context: string; Events: { MessageId: string; OriginOfCondition: { '@odata.id': string } }[] };
    assert.equal(ev.Context, 'ctx-1');
    assert.match(ev.Events[0].MessageId, /^Ferrite\.1\.0\./);
    assert.equal(ev.Events[0].OriginOfCondition['@odata.id'], sys);
    stream.destroy();
    assert.equal((await req('DELETE', sub)).status, 204);
    sink.close();
    r = await req('GET', `${sys}/LogServices/EventLog/Entries`);
    const ids = (r.json.Members as { '@odata.id': string }[]).map((m) => m['@odata.id']);
    assert.ok(ids.length > 0 && ids.every((id) => id.startsWith(`${sys}/LogServices/EventLog/Entries/`)));
    const logged = await Promise.all(ids.map(async (id) => (await req('GET', id)).json.MessageId));
    assert.ok(logged.includes('Ferrite.1.0.PowerStateChanged'));
  });

  it('event destinations beyond loopback are enabled only when the fleet allows them', async () => {
    const f = await startTestFleet({ redfish: { allowEventDestinations: ['events.lab.example'] }, machines: [{ name: 'solo' }] });
    try {
      const post = (d: string) => rf(f.url, 'POST', '/redfish/v1/EventService/Subscriptions', { auth, body: { Destination: d } });
      // no event is published in this fleet, so nothing is ever sent to these hosts
      assert.equal(((await post('https://events.lab.example/hook')).json.Status as { State: string }).State, 'Enabled');
      assert.equal(((await post('https://other.example/hook')).json.Status as { State: string }).State, 'Disabled');
    } finally {
      await f.close();
      cleanup(f.dir);
    }
  });

  it('Manager clock: DateTime and its offset are writable, as Ironic sets them', async () => {
    const mgr = `/redfish/v1/Managers/${m.uuid}`;
    let r = await req('PATCH', mgr, { body: { DateTime: '2030-01-01T00:00:00+00:00', DateTimeLocalOffset: '+02:00' } });
    assert.equal(r.status, 200);
    assert.match(String(r.json.DateTime), /^2030-01-01T0[0-2]:.*\+02:00$/);
    // the clock ticking does not change the Manager's ETag
    const tag = String((await req('GET', mgr)).headers.etag);
    await new Promise((res) => setTimeout(res, 20));
    r = await req('PATCH', mgr, { body: { DateTimeLocalOffset: '+00:00' }, headers: { 'if-match': tag } });
    assert.equal(r.status, 200);
    r = await req('PATCH', mgr, { body: { DateTime: 'yesterday' } });
    assert.equal(r.status, 400);
  });
});
