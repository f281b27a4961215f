// Ferrite's Ironic API over HTTP: microversion negotiation, field gating, Ironic's error shape,
// node create/list/show/patch/delete semantics, ports, locking, the agent endpoints, and HTTP
// Basic auth — with raw requests where the wire matters and the `baremetal` CLI where a real
// client's behaviour does.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { eventually } from './helpers/apiserver.js';
import { baremetal, faultstring as fault, haveBaremetal, ok, ironicRequest as req, startTestIronic } from './helpers/ironic.js';

describe('Ironic API', () => {
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let base: string;
  before(async () => {
    ironic = await startTestIronic();
    base = ironic.url;
  });
  after(async () => {
    await ironic?.close();
  });

  it('serves the root and /v1 documents with the supported version range', async () => {
    const root = await req(base, 'GET', '/');
    assert.equal(root.status, 200);
    const dv = root.json.default_version as Record<string, string>;
    assert.equal(dv.min_version, '1.1');
    assert.equal(dv.version, '1.110');
    const v1 = await req(base, 'GET', '/v1', undefined, { 'X-OpenStack-Ironic-API-Version': '1.1' });
    assert.equal((v1.json.version as Record<string, string>).version, '1.110');
    assert.ok(v1.json.nodes && v1.json.ports && v1.json.drivers);
    assert.equal(v1.json.lookup, undefined, 'lookup appears from 1.22');
    assert.equal(v1.headers.get('x-openstack-ironic-api-minimum-version'), '1.1');
    assert.equal(v1.headers.get('x-openstack-ironic-api-maximum-version'), '1.110');
    assert.equal(v1.headers.get('x-openstack-ironic-api-version'), '1.1');
  });

  it('negotiates microversions: none means 1.1, latest means 1.110, out of range is 406', async () => {
    const none = await fetch(`${base}/v1/nodes`);
    assert.equal(none.headers.get('x-openstack-ironic-api-version'), '1.1');
    const latest = await req(base, 'GET', '/v1/nodes');
    assert.equal(latest.headers.get('x-openstack-ironic-api-version'), '1.110');
    const generic = await req(base, 'GET', '/v1/nodes', undefined, {
      'X-OpenStack-Ironic-API-Version': '',
      'OpenStack-API-Version': 'baremetal 1.89',
    });
    assert.equal(generic.headers.get('x-openstack-ironic-api-version'), '1.89');
    const high = await req(base, 'GET', '/v1/nodes', undefined, { 'X-OpenStack-Ironic-API-Version': '1.111' });
    assert.equal(high.status, 406);
    assert.match(
      fault(high),
      /Version 1\.111 was requested but the minor version is not supported by this service\. The supported version range is: \[1\.1, 1\.110\]/,
    );
    assert.equal(high.headers.get('x-openstack-ironic-api-maximum-version'), '1.110');
    const bad = await req(base, 'GET', '/v1/nodes', undefined, { 'X-OpenStack-Ironic-API-Version': 'one.two' });
    assert.equal(bad.status, 406);
    assert.match(fault(bad), /Invalid value for X-OpenStack-Ironic-API-Version header/);
    const major = await req(base, 'GET', '/v1/nodes', undefined, { 'X-OpenStack-Ironic-API-Version': '2.0' });
    assert.equal(major.status, 406);
  });

  it('shows only the fields that exist at the requested version', async () => {
    const created = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'versions' });
    assert.equal(created.status, 201);
    const uuid = created.json.uuid as string;
    const at = async (v: string) => (await req(base, 'GET', `/v1/nodes/${uuid}`, undefined, { 'X-OpenStack-Ironic-API-Version': v })).json;
    const v1 = await at('1.1');
    assert.equal(v1.name, undefined);
    assert.equal(v1.deploy_interface, undefined);
    assert.equal(v1.uuid, uuid);
    assert.equal((await at('1.5')).name, 'versions');
    assert.equal((await at('1.30')).deploy_interface, undefined);
    assert.equal((await at('1.31')).deploy_interface, 'fake');
    assert.equal((await at('1.94')).disable_power_off, undefined);
    assert.equal((await at('1.95')).disable_power_off, false);
    assert.equal((await at('1.108')).health, undefined);
    assert.ok('health' in (await at('1.109')));
    const fields = await req(base, 'GET', `/v1/nodes/${uuid}?fields=uuid,provision_state`);
    assert.deepEqual(Object.keys(fields.json).sort(), ['links', 'provision_state', 'uuid']);
    const badField = await req(base, 'GET', `/v1/nodes/${uuid}?fields=uuid,nonsense`);
    assert.equal(badField.status, 400);
    assert.match(fault(badField), /Field\(s\) "nonsense" are not valid/);
    const tooNew = await req(base, 'GET', `/v1/nodes/${uuid}?fields=health`, undefined, { 'X-OpenStack-Ironic-API-Version': '1.100' });
    assert.equal(tooNew.status, 400, 'a field newer than the request version is unknown');
    // before 1.11 nodes were created available
    const old = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware' }, { 'X-OpenStack-Ironic-API-Version': '1.10' });
    assert.equal(old.json.provision_state, 'available');
    const older = await req(base, 'GET', `/v1/nodes/${old.json.uuid}`, undefined, { 'X-OpenStack-Ironic-API-Version': '1.1' });
    assert.equal(older.json.provision_state, null, 'available was "None" before 1.2');
    assert.equal((await req(base, 'DELETE', `/v1/nodes/${old.json.uuid}`)).status, 204);
  });

  it('refuses bad node input with 400 and Ironic error bodies', async () => {
    const malformed = await req(base, 'POST', '/v1/nodes', '{"driver": "fake-hardware",');
    assert.equal(malformed.status, 400);
    assert.match(fault(malformed), /Invalid JSON/);
    const unknown = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', colour: 'blue' });
    assert.equal(unknown.status, 400);
    assert.match(fault(unknown), /'colour' was unexpected/);
    const noDriver = await req(base, 'POST', '/v1/nodes', { name: 'x' });
    assert.match(fault(noDriver), /'driver' is a required property/);
    const badDriver = await req(base, 'POST', '/v1/nodes', { driver: 'idrac-wsman' });
    assert.equal(badDriver.status, 400);
    assert.match(fault(badDriver), /No valid host was found.*idrac-wsman/);
    const badIface = await req(base, 'POST', '/v1/nodes', { driver: 'ipmi', boot_interface: 'redfish-virtual-media' });
    assert.equal(badIface.status, 400);
    assert.match(fault(badIface), /Valid interfaces are ipxe, pxe/);
    const badName = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'has space' });
    assert.match(fault(badName), /invalid name/);
    const uuidName = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: '3f0b6d0e-4a58-4d0b-8e4a-36b2d0f0b0a1' });
    assert.equal(uuidName.status, 400);
    const badBool = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', automated_clean: 'perhaps' });
    assert.equal(badBool.status, 400);
    await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'dup' });
    const dup = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'dup' });
    assert.equal(dup.status, 409);
    const missing = await req(base, 'GET', '/v1/nodes/no-such-node');
    assert.equal(missing.status, 404);
    assert.equal(fault(missing), 'Node no-such-node could not be found.');
    const badTarget = await req(base, 'PUT', '/v1/nodes/dup/states/provision', { target: 'explode' });
    assert.equal(badTarget.status, 400);
    const wrongState = await req(base, 'PUT', '/v1/nodes/dup/states/provision', { target: 'provide' });
    assert.equal(wrongState.status, 400);
    assert.match(
      fault(wrongState),
      /The requested action "provide" can not be performed on node "[0-9a-f-]+" while it is in state "enroll"/,
    );
  });

  it('updates nodes by JSON patch with Ironic semantics', async () => {
    const n = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'patchme', driver_info: { a: 1 } });
    const uuid = n.json.uuid as string;
    const p = await req(base, 'PATCH', '/v1/nodes/patchme', [
      { op: 'add', path: '/driver_info/a', value: 2 },
      { op: 'add', path: '/properties/capabilities', value: 'boot_mode:uefi' },
      { op: 'replace', path: '/name', value: 'patched' },
      { op: 'add', path: '/driver_info/secret_password', value: 'hunter2' },
    ]);
    assert.equal(p.status, 200);
    assert.equal((p.json.driver_info as Record<string, unknown>).a, 2, 'add replaces an existing member');
    assert.equal((p.json.driver_info as Record<string, unknown>).secret_password, '******', 'passwords are masked');
    assert.equal(p.json.name, 'patched');
    assert.equal(ironic.store.node(uuid)?.driver_info.secret_password, 'hunter2', 'stored unmasked');
    const rm = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'remove', path: '/driver_info/a' }]);
    assert.deepEqual(Object.keys(rm.json.driver_info as object), ['secret_password']);
    const rmMissing = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'remove', path: '/driver_info/nope' }]);
    assert.equal(rmMissing.status, 400);
    const internal = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'replace', path: '/provision_state', value: 'active' }]);
    assert.equal(internal.status, 400);
    assert.match(fault(internal), /internal attribute/);
    const iface = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'replace', path: '/deploy_interface', value: 'direct' }]);
    assert.equal(iface.json.deploy_interface, 'direct');
    const badIface = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'replace', path: '/deploy_interface', value: 'teleport' }]);
    assert.equal(badIface.status, 400);
    const notList = await req(base, 'PATCH', `/v1/nodes/${uuid}`, { op: 'add' });
    assert.equal(notList.status, 400);
    // driver change resets interfaces to the new hardware type's defaults
    const drv = await req(base, 'PATCH', `/v1/nodes/${uuid}`, [{ op: 'replace', path: '/driver', value: 'ipmi' }]);
    assert.equal(drv.json.power_interface, 'ipmitool');
    assert.equal(drv.json.deploy_interface, 'direct');
  });

  it('a locked node answers 409 NodeLocked to updates and provision requests', async () => {
    const n = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'locked' });
    const node = ironic.conductor.acquire(n.json.uuid as string);
    try {
      const patch = await req(base, 'PATCH', '/v1/nodes/locked', [{ op: 'add', path: '/extra/x', value: 1 }]);
      assert.equal(patch.status, 409);
      assert.match(fault(patch), /is locked by host .+, please retry after the current operation is completed/);
      const prov = await req(base, 'PUT', '/v1/nodes/locked/states/provision', { target: 'manage' });
      assert.equal(prov.status, 409);
      const del = await req(base, 'DELETE', '/v1/nodes/locked');
      assert.equal(del.status, 409);
    } finally {
      ironic.conductor.release(node);
    }
    assert.equal((await req(base, 'PATCH', '/v1/nodes/locked', [{ op: 'add', path: '/extra/x', value: 1 }])).status, 200);
  });

  it('lists with filters, fields, detail and pagination', async () => {
    for (let i = 0; i < 7; i++)
      await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: `page-${i}`, resource_class: 'paged' });
    const all = await req(base, 'GET', '/v1/nodes?resource_class=paged');
    assert.equal((all.json.nodes as unknown[]).length, 7);
    assert.deepEqual(Object.keys((all.json.nodes as Record<string, unknown>[])[0]).sort(), [
      'instance_uuid',
      'links',
      'maintenance',
      'name',
      'power_state',
      'provision_state',
      'uuid',
    ]);
    const names: string[] = [];
    let next: string | undefined = '/v1/nodes?resource_class=paged&limit=3&fields=uuid,name';
    let pages = 0;
    while (next) {
      const page = await req(base, 'GET', next.replace(base, ''));
      pages++;
      for (const x of page.json.nodes as Array<{ name: string }>) names.push(x.name);
      next = page.json.next as string | undefined;
    }
    assert.equal(pages, 3);
    assert.deepEqual(
      names,
      [0, 1, 2, 3, 4, 5, 6].map((i) => `page-${i}`),
    );
    const detail = await req(base, 'GET', '/v1/nodes/detail?resource_class=paged&limit=1');
    assert.ok('driver_info' in (detail.json.nodes as Record<string, unknown>[])[0]);
    const detailParam = await req(base, 'GET', '/v1/nodes?resource_class=paged&detail=true&limit=1');
    assert.ok('properties' in (detailParam.json.nodes as Record<string, unknown>[])[0]);
    const enroll = await req(base, 'GET', '/v1/nodes?provision_state=enroll&resource_class=paged');
    assert.equal((enroll.json.nodes as unknown[]).length, 7);
    const desc = await req(base, 'GET', '/v1/nodes?resource_class=paged&sort_key=name&sort_dir=desc&fields=name&limit=1');
    assert.equal((desc.json.nodes as Array<{ name: string }>)[0].name, 'page-6');
  });

  it('manages ports: create, lookup by address, duplicates, bad MACs, node name (1.94)', async () => {
    const n = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'porty' });
    const uuid = n.json.uuid as string;
    const p = await req(base, 'POST', '/v1/ports', { node_uuid: uuid, address: '52:54:00:AA:BB:01', pxe_enabled: true });
    assert.equal(p.status, 201);
    assert.equal(p.json.address, '52:54:00:aa:bb:01', 'addresses are normalised to lower case');
    const byName = await req(base, 'POST', '/v1/ports', { node: 'porty', address: '52:54:00:aa:bb:02' });
    assert.equal(byName.status, 201);
    const oldName = await req(
      base,
      'POST',
      '/v1/ports',
      { node: 'porty', address: '52:54:00:aa:bb:03' },
      { 'X-OpenStack-Ironic-API-Version': '1.93' },
    );
    assert.equal(oldName.status, 406);
    const dup = await req(base, 'POST', '/v1/ports', { node_uuid: uuid, address: '52:54:00:aa:bb:01' });
    assert.equal(dup.status, 409);
    assert.match(fault(dup), /MAC address 52:54:00:aa:bb:01 already exists/);
    const bad = await req(base, 'POST', '/v1/ports', { node_uuid: uuid, address: 'not-a-mac' });
    assert.equal(bad.status, 400);
    const look = await req(base, 'GET', '/v1/ports?address=52:54:00:aa:bb:01&fields=uuid,address,node_uuid');
    assert.deepEqual(look.json.ports, [{ uuid: p.json.uuid, address: '52:54:00:aa:bb:01', node_uuid: uuid }]);
    const ofNode = await req(base, 'GET', `/v1/nodes/${uuid}/ports`);
    assert.equal((ofNode.json.ports as unknown[]).length, 2);
    assert.equal((await req(base, 'DELETE', `/v1/nodes/${uuid}`)).status, 204);
    assert.deepEqual((await req(base, 'GET', '/v1/ports?address=52:54:00:aa:bb:01')).json.ports, [], 'ports are deleted with their node');
  });

  it('refuses deletion where Ironic does, and allows it in maintenance', async () => {
    const n = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'deleteme' });
    await req(base, 'PUT', '/v1/nodes/deleteme/states/provision', { target: 'manage' });
    await eventually(async () => ironic.store.nodeByName('deleteme')?.provision_state === 'manageable', 'manageable');
    await req(base, 'PUT', '/v1/nodes/deleteme/states/provision', { target: 'provide' });
    await eventually(async () => ironic.store.nodeByName('deleteme')?.provision_state === 'available', 'available');
    await req(base, 'PATCH', '/v1/nodes/deleteme', [{ op: 'add', path: '/instance_uuid', value: '5d1c0f7e-9b0a-4b39-9a0e-3c5b0b1a2c3d' }]);
    await req(base, 'PUT', '/v1/nodes/deleteme/states/provision', { target: 'active' });
    await eventually(async () => ironic.store.nodeByName('deleteme')?.provision_state === 'active', 'active');
    const refused = await req(base, 'DELETE', '/v1/nodes/deleteme');
    assert.equal(refused.status, 409);
    assert.match(fault(refused), /while it is in provision state "active"/);
    assert.equal(
      (await req(base, 'PUT', '/v1/nodes/deleteme/maintenance', { reason: 'forcing deletion in baremetal-operator' })).status,
      202,
    );
    assert.equal((await req(base, 'GET', '/v1/nodes/deleteme')).json.maintenance_reason, 'forcing deletion in baremetal-operator');
    assert.equal((await req(base, 'DELETE', `/v1/nodes/${n.json.uuid}`)).status, 204);
  });

  it('records failures in the node history', async () => {
    const n = await req(base, 'POST', '/v1/nodes', {
      driver: 'redfish',
      name: 'hist',
      driver_info: { redfish_address: 'http://127.0.0.1:9', redfish_username: 'u', redfish_password: 'p' },
    });
    await req(base, 'PUT', '/v1/nodes/hist/states/provision', { target: 'manage' });
    await eventually(
      async () => ironic.store.nodeByName('hist')?.provision_state === 'enroll' && Boolean(ironic.store.nodeByName('hist')?.last_error),
      'verify to fail',
    );
    const h = await req(base, 'GET', `/v1/nodes/${n.json.uuid}/history?detail=true`);
    const events = h.json.history as Array<{ severity: string; event: string; event_type: string }>;
    assert.equal(events.length, 1);
    assert.equal(events[0].severity, 'ERROR');
    assert.equal(events[0].event_type, 'verify');
    assert.match(events[0].event, /Failed to get power state/);
    const old = await req(base, 'GET', `/v1/nodes/${n.json.uuid}/history`, undefined, { 'X-OpenStack-Ironic-API-Version': '1.77' });
    assert.equal(old.status, 404, 'history appears at 1.78');
  });

  it('guards the agent endpoints: lookup needs a deploying node, heartbeats need the token', async () => {
    const n = await req(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: 'agentless' });
    await req(base, 'POST', '/v1/ports', { node_uuid: n.json.uuid, address: '52:54:00:cc:cc:01' });
    const look = await req(base, 'GET', '/v1/lookup?addresses=52:54:00:cc:cc:01');
    assert.equal(look.status, 404, 'enroll does not allow lookup');
    const badMac = await req(base, 'GET', '/v1/lookup?addresses=zz');
    assert.equal(badMac.status, 400);
    const hb = await req(base, 'POST', `/v1/heartbeat/${n.json.uuid}`, { callback_url: 'http://127.0.0.1:1/x', agent_token: 'forged' });
    assert.equal(hb.status, 401);
    assert.match(fault(hb), /Invalid or missing agent token/);
    const ci = await req(base, 'POST', '/v1/continue_inspection', { inventory: { interfaces: [] } });
    assert.equal(ci.status, 400);
  });

  it('works with the baremetal CLI for everyday commands', {
    skip: haveBaremetal ? false : 'run scripts/install-peers.sh first',
  }, async () => {
    const bm = (args: string[]) => baremetal(base, args, { timeoutMs: 60_000 });
    ok(await bm(['node', 'create', '--driver', 'fake-hardware', '--name', 'cli-node', '--property', 'cpus=4']), 'create');
    ok(await bm(['node', 'set', 'cli-node', '--extra', 'rack=r1', '--description', 'a node']), 'set');
    const shown = JSON.parse(
      ok(await bm(['node', 'show', 'cli-node', '-f', 'json', '--fields', 'name', 'extra', 'description', 'properties']), 'show'),
    );
    assert.deepEqual(shown.extra, { rack: 'r1' });
    assert.equal(shown.description, 'a node');
    ok(await bm(['node', 'unset', 'cli-node', '--extra', 'rack']), 'unset');
    ok(await bm(['node', 'manage', 'cli-node', '--wait', '30']), 'manage');
    ok(await bm(['node', 'power', 'on', 'cli-node']), 'power on');
    await eventually(async () => ironic.store.nodeByName('cli-node')?.power_state === 'power on', 'power on');
    ok(await bm(['node', 'boot', 'device', 'set', 'cli-node', 'pxe', '--persistent']), 'boot device set');
    assert.deepEqual(JSON.parse(ok(await bm(['node', 'boot', 'device', 'show', 'cli-node', '-f', 'json']), 'boot device show')), {
      boot_device: 'pxe',
      persistent: true,
    });
    const v = JSON.parse(ok(await bm(['node', 'validate', 'cli-node', '-f', 'json']), 'validate')) as Array<{
      Interface: string;
      Result: boolean;
    }>;
    assert.equal(v.find((x) => x.Interface === 'power')?.Result, true);
    ok(await bm(['node', 'maintenance', 'set', 'cli-node', '--reason', 'testing']), 'maintenance set');
    const listed = JSON.parse(ok(await bm(['node', 'list', '--maintenance', '-f', 'json']), 'list')) as Array<{ name: string }>;
    assert.ok(listed.some((x) => x.name === 'cli-node'));
    ok(await bm(['node', 'maintenance', 'unset', 'cli-node']), 'maintenance unset');
    ok(await bm(['node', 'provide', 'cli-node', '--wait', '30']), 'provide');
    ok(await bm(['node', 'deploy', 'cli-node', '--wait', '30']), 'deploy');
    ok(await bm(['node', 'rebuild', 'cli-node', '--wait', '30']), 'rebuild');
    ok(await bm(['node', 'undeploy', 'cli-node', '--wait', '30']), 'undeploy');
    ok(await bm(['node', 'manage', 'cli-node', '--wait', '30']), 'manage again');
    ok(
      await bm([
        'node',
        'clean',
        'cli-node',
        '--clean-steps',
        JSON.stringify([{ interface: 'raid', step: 'delete_configuration' }]),
        '--wait',
        '30',
      ]),
      'manual clean',
    );
    ok(await bm(['node', 'adopt', 'cli-node', '--wait', '30']), 'adopt');
    assert.equal(ironic.store.nodeByName('cli-node')?.provision_state, 'active');
    const drivers = ok(await bm(['driver', 'list', '-f', 'value', '-c', 'name']), 'driver list');
    assert.deepEqual(drivers.trim().split('\n').sort(), ['fake-hardware', 'ipmi', 'redfish']);
    ok(await bm(['driver', 'show', 'redfish']), 'driver show');
    const badClean = await bm(['node', 'clean', 'cli-node', '--clean-steps', '[{"interface":"deploy","step":"erase_devices"}]']);
    assert.notEqual(badClean.code, 0, 'clean is refused in active');
    assert.match(badClean.stderr, /can not be performed on node .* while it is in state "active"/);
  });
});

describe('Ironic API with HTTP Basic auth (htpasswd, bcrypt)', () => {
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  before(async () => {
    const dir = (await import('./helpers/apiserver.js')).tempDir('ferrite-ironic-auth-');
    const file = join(dir, 'htpasswd');
    // htpasswd -B writes $2y$; bcryptjs writes $2b$: the same algorithm
    writeFileSync(file, `# users\nironic:${bcrypt.hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$')}\n`);
    ironic = await startTestIronic({ dataDir: join(dir, 'data'), htpasswdFile: file });
  });
  after(async () => {
    await ironic?.close();
  });

  it('answers 401 without or with wrong credentials, and serves the agent endpoints without', async () => {
    const none = await fetch(`${ironic.url}/v1/nodes`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Basic /);
    const wrong = await fetch(`${ironic.url}/v1/nodes`, {
      headers: { Authorization: `Basic ${Buffer.from('ironic:nope').toString('base64')}` },
    });
    assert.equal(wrong.status, 401);
    const right = await fetch(`${ironic.url}/v1/nodes`, {
      headers: { Authorization: `Basic ${Buffer.from('ironic:s3cret').toString('base64')}` },
    });
    assert.equal(right.status, 200);
    assert.equal((await fetch(`${ironic.url}/v1`)).status, 200, 'the version document is public');
    assert.equal(
      (await fetch(`${ironic.url}/v1/lookup?addresses=52:54:00:00:00:01`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.68' } }))
        .status,
      404,
      'lookup is public (and finds nothing)',
    );
  });

  it('works with the baremetal CLI using http_basic', { skip: haveBaremetal ? false : 'run scripts/install-peers.sh first' }, async () => {
    ok(
      await baremetal(ironic.url, ['node', 'create', '--driver', 'fake-hardware', '--name', 'authed'], { auth: ['ironic', 's3cret'] }),
      'create with auth',
    );
    const denied = await baremetal(ironic.url, ['node', 'list'], { auth: ['ironic', 'wrong'] });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /401|Unauthorized|Incorrect username or password/i);
  });
});

describe('Ironic API over TLS, and a full worker pool', () => {
  it('serves HTTPS with the given certificate; the baremetal CLI verifies it with --os-cacert', async () => {
    const { loadOrCreateCredentials } = await import('../provider/apiserver/pki.js');
    const { tempDir } = await import('./helpers/apiserver.js');
    const dir = tempDir('ferrite-ironic-tls-');
    await loadOrCreateCredentials(dir, ['127.0.0.1'], 'ironic');
    const ironic = await startTestIronic({
      dataDir: join(dir, 'data'),
      tls: { certFile: join(dir, 'pki', 'ironic.crt'), keyFile: join(dir, 'pki', 'ironic.key') },
    });
    try {
      assert.match(ironic.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      if (haveBaremetal) {
        ok(
          await baremetal(ironic.url, [
            '--os-cacert',
            join(dir, 'pki', 'ca.crt'),
            'node',
            'create',
            '--driver',
            'fake-hardware',
            '--name',
            'tls-node',
          ]),
          'create over TLS',
        );
        const untrusted = await baremetal(ironic.url, ['node', 'list']);
        assert.notEqual(untrusted.code, 0, 'an unknown CA is refused');
        assert.match(untrusted.stderr, /certificate|SSL/i);
      }
      assert.ok(ironic.store.nodeByName('tls-node') || !haveBaremetal);
    } finally {
      await ironic.close();
    }
  });

  it('answers 503 NoFreeConductorWorker when every worker is busy, and nothing is left locked', async () => {
    const net = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const silent = net.createServer((s) => {
      sockets.add(s);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as import('node:net').AddressInfo).port;
    const ironic = await startTestIronic({ conductor: { workers: 1, bmcRequestTimeoutMs: 1500 } });
    try {
      for (const n of ['w1', 'w2'])
        await req(ironic.url, 'POST', '/v1/nodes', {
          name: n,
          driver: 'redfish',
          driver_info: { redfish_address: `http://127.0.0.1:${port}`, redfish_auth_type: 'basic' },
        });
      assert.equal((await req(ironic.url, 'PUT', '/v1/nodes/w1/states/provision', { target: 'manage' })).status, 202);
      const busy = await req(ironic.url, 'PUT', '/v1/nodes/w2/states/provision', { target: 'manage' });
      assert.equal(busy.status, 503);
      assert.match(fault(busy), /lack of free conductor workers/);
      const w2 = ironic.store.nodeByName('w2');
      assert.equal(w2?.reservation, null);
      assert.equal(w2?.provision_state, 'enroll', 'the refused request changed nothing');
      assert.equal(ironic.conductor.refusals, 1, 'the refusal is counted (ironic_conductor_worker_refusals_total)');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      await ironic.close();
    }
  });
});
