// Ironic's redfish driver against the BMC quirks the reference lists (bmc.md §3): a deliberately
// quirky stub BMC — Ferrite's emulator is correct by design, and its vendor personalities belong to
// the conformance issue — that refuses weak ETags and PATCH without If-Match, rejects `Continuous`,
// offers `UsbCd` instead of `Cd`, answers Reset with a transient 409, fails InsertMedia once with a
// 5xx, refuses the optional InsertMedia parameters, and has an internal slot that refuses media.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { settledNode, startTestIronic } from './helpers/ironic.js';

interface Quirky {
  power: 'On' | 'Off';
  boot: { BootSourceOverrideTarget: string; BootSourceOverrideEnabled: string; BootSourceOverrideMode: string };
  etag: number;
  media: Record<string, { Image: string | null; Inserted: boolean }>;
  log: string[];
  resetConflicts: number;
  insertFailures: number;
}

function quirkyBmc(): Promise<{ url: string; state: Quirky; close(): Promise<void> }> {
  const state: Quirky = {
    power: 'Off',
    boot: { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' },
    etag: 1,
    media: { internal: { Image: null, Inserted: false }, dvd: { Image: null, Inserted: false } },
    log: [],
    resetConflicts: 1,
    insertFailures: 1,
  };
  const S = '/redfish/v1/Systems/1';
  const err = (res: http.ServerResponse, status: number, id: string) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: `Base.1.8.${id}`, message: id, '@Message.ExtendedInfo': [{ MessageId: `Base.1.8.${id}`, Message: id }] },
      }),
    );
  };
  const json = (res: http.ServerResponse, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(200, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
  const srv = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => {
      raw += c;
    });
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) : {};
      const path = (req.url ?? '').split('?')[0];
      state.log.push(`${req.method} ${path} ${raw}`);
      if (path === '/redfish/v1/SessionService/Sessions') return err(res, 404, 'ResourceNotFound');
      if (req.method === 'GET' && path === '/redfish/v1/Systems') return json(res, { Members: [{ '@odata.id': S }] });
      if (req.method === 'GET' && path === S)
        return json(
          res,
          {
            '@odata.id': S,
            PowerState: state.power,
            Boot: {
              ...state.boot,
              'BootSourceOverrideTarget@Redfish.AllowableValues': ['None', 'Pxe', 'Hdd', 'UsbCd', 'BiosSetup'],
            },
            VirtualMedia: { '@odata.id': `${S}/VirtualMedia` },
            Links: { ManagedBy: [] },
          },
          { ETag: `W/"${state.etag}"` },
        );
      if (req.method === 'PATCH' && path === S) {
        const m = req.headers['if-match'];
        if (!m) return err(res, 428, 'PreconditionRequired');
        if (m !== `"${state.etag}"`) return err(res, 412, 'PreconditionFailed');
        const b = body.Boot ?? {};
        if (b.BootSourceOverrideEnabled === 'Continuous') return err(res, 400, 'PropertyValueNotInList');
        if (!b.BootSourceOverrideTarget || !b.BootSourceOverrideEnabled || !b.BootSourceOverrideMode)
          return err(res, 400, 'PropertyMissing');
        state.boot = { ...state.boot, ...b };
        state.etag++;
        return json(res, {});
      }
      if (req.method === 'POST' && path === `${S}/Actions/ComputerSystem.Reset`) {
        if (state.resetConflicts > 0) {
          state.resetConflicts--;
          return err(res, 409, 'ActionParameterValueConflict');
        }
        state.power = body.ResetType === 'On' ? 'On' : 'Off';
        res.writeHead(204).end();
        return;
      }
      if (req.method === 'GET' && path === `${S}/VirtualMedia`)
        return json(res, { Members: [{ '@odata.id': `${S}/VirtualMedia/internal` }, { '@odata.id': `${S}/VirtualMedia/dvd` }] });
      const vm = /^\/redfish\/v1\/Systems\/1\/VirtualMedia\/(\w+)(\/Actions\/VirtualMedia\.(\w+))?$/.exec(path);
      if (vm) {
        const slot = state.media[vm[1]];
        const actions = {
          '#VirtualMedia.InsertMedia': { target: `${S}/VirtualMedia/${vm[1]}/Actions/VirtualMedia.InsertMedia` },
          '#VirtualMedia.EjectMedia': { target: `${S}/VirtualMedia/${vm[1]}/Actions/VirtualMedia.EjectMedia` },
        };
        if (req.method === 'GET' && !vm[2]) return json(res, { '@odata.id': path, MediaTypes: ['DVD'], ...slot, Actions: actions });
        if (vm[3] === 'InsertMedia') {
          if (vm[1] === 'internal') return err(res, 400, 'ActionNotSupported');
          if (state.insertFailures > 0) {
            state.insertFailures--;
            return err(res, 503, 'ServiceTemporarilyUnavailable');
          }
          if ('Inserted' in body || 'WriteProtected' in body) return err(res, 400, 'ActionParameterUnknown');
          Object.assign(slot, { Image: body.Image, Inserted: true });
          res.writeHead(204).end();
          return;
        }
        if (vm[3] === 'EjectMedia') {
          Object.assign(slot, { Image: null, Inserted: false });
          res.writeHead(204).end();
          return;
        }
      }
      err(res, 404, 'ResourceNotFound');
    });
  });
  return new Promise((resolve) =>
    srv.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
        state,
        close: () => new Promise<void>((r) => srv.close(() => r())),
      }),
    ),
  );
}

describe('Ironic redfish driver: vendor workarounds', () => {
  let bmc: Awaited<ReturnType<typeof quirkyBmc>>;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  before(async () => {
    bmc = await quirkyBmc();
    ironic = await startTestIronic();
    const c = ironic.conductor;
    const r = await fetch(`${ironic.url}/v1/nodes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.110' },
      body: JSON.stringify({
        name: 'quirky',
        driver: 'redfish',
        driver_info: { redfish_address: bmc.url, redfish_username: 'u', redfish_password: 'p' },
      }),
    });
    assert.equal(r.status, 201);
    c.provision('quirky', 'manage', {}, 110);
    await settledNode(ironic, 'quirky', ['manageable']);
  });
  after(async () => {
    await ironic?.close();
    await bmc?.close();
  });

  it('falls back from session to Basic auth, and from a weak ETag to the strong form', async () => {
    assert.ok(bmc.state.log.some((l) => l.startsWith('POST /redfish/v1/SessionService/Sessions')));
    const c = ironic.conductor;
    await c.withLock('quirky', (n) => c.drivers.forNode(n).management.setBootDevice(n, 'pxe', false));
    assert.equal(bmc.state.boot.BootSourceOverrideTarget, 'Pxe');
    assert.equal(bmc.state.boot.BootSourceOverrideEnabled, 'Once');
    assert.ok(
      bmc.state.log.some((l) => l.startsWith('PATCH')),
      'the PATCH got through after the 412',
    );
  });

  it('maps cdrom to UsbCd, and a refused Continuous to Once that is re-applied before every power-on', async () => {
    const c = ironic.conductor;
    await c.withLock('quirky', (n) => c.drivers.forNode(n).management.setBootDevice(n, 'cdrom', true));
    assert.deepEqual(bmc.state.boot, {
      BootSourceOverrideTarget: 'UsbCd',
      BootSourceOverrideEnabled: 'Once',
      BootSourceOverrideMode: 'UEFI',
    });
    assert.equal(ironic.store.nodeByName('quirky')?.driver_internal_info.redfish_boot_device_fallback, 'cdrom');
    assert.deepEqual(await c.withLock('quirky', (n) => c.drivers.forNode(n).management.getBootDevice(n)), {
      boot_device: 'cdrom',
      persistent: true,
    });
    // the BMC consumed the one-time override at some boot; power-on sets it again first
    bmc.state.boot = { BootSourceOverrideTarget: 'None', BootSourceOverrideEnabled: 'Disabled', BootSourceOverrideMode: 'UEFI' };
    bmc.state.log.length = 0;
    c.changePower('quirky', 'power on', undefined, 110);
    await settledNode(ironic, 'quirky', (n) => n.power_state === 'power on');
    assert.equal(ironic.store.nodeByName('quirky')?.last_error, null, 'the transient 409 on Reset was retried');
    const patchAt = bmc.state.log.findIndex((l) => l.startsWith('PATCH') && l.includes('UsbCd'));
    const resetAt = bmc.state.log.findIndex(
      (l) => l.startsWith('POST /redfish/v1/Systems/1/Actions/ComputerSystem.Reset') && l.includes('"On"'),
    );
    assert.ok(patchAt >= 0 && patchAt < resetAt, 'boot device restored before the Reset');
    assert.equal(bmc.state.boot.BootSourceOverrideTarget, 'UsbCd');
  });

  it('inserts virtual media: skips a slot that refuses, retries a 5xx, drops parameters the BMC rejects', async () => {
    const c = ironic.conductor;
    await c.withLock('quirky', async (n) => {
      const m = c.drivers.forNode(n).management;
      await m.insertMedia?.(n, 'http://files.example/boot.iso');
    });
    assert.deepEqual(bmc.state.media.dvd, { Image: 'http://files.example/boot.iso', Inserted: true });
    assert.deepEqual(bmc.state.media.internal, { Image: null, Inserted: false });
    const inserts = bmc.state.log.filter((l) => l.includes('/dvd/Actions/VirtualMedia.InsertMedia'));
    assert.equal(inserts.length, 3, '503, then 400 for the optional parameters, then the bare Image');
    assert.ok(inserts[2].endsWith('{"Image":"http://files.example/boot.iso"}'));
    await c.withLock('quirky', async (n) => c.drivers.forNode(n).management.ejectMedia?.(n));
    assert.equal(bmc.state.media.dvd.Inserted, false);
  });
});
