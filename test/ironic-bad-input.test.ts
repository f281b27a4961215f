// Bad input and broken peers against Ferrite's Ironic: wrong BMC credentials, unreachable and
// silent BMCs, concurrent requests on one node, image URLs that 404, checksum mismatches, agent
// faults (disk write errors, a crash mid-write), and garbage bodies. Each ends in a defined state
// with a clear last_error, and the service keeps answering.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { baremetal, faultstring as faultOf, haveBaremetal, ironicRequest, settledNode, startTestIronic } from './helpers/ironic.js';

const api = (base: string, method: string, path: string, body?: unknown) =>
  ironicRequest(base, method, path, body, { 'X-OpenStack-Ironic-API-Version': '1.110' });

const image = Buffer.alloc(2 * 1024 * 1024, 3);
const sha256 = createHash('sha256').update(image).digest('hex');

describe('Ironic: bad input and broken peers', () => {
  let fleet: TestFleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let silent: net.Server;
  let silentPort = 0;
  const sockets = new Set<net.Socket>();

  before(async () => {
    files = await startFileServer({ '/k': Buffer.from('kernel'), '/r': Buffer.from('ramdisk'), '/disk.img': image });
    fleet = await startTestFleet(4, { tls: false });
    ironic = await startTestIronic({ conductor: { deployCallbackTimeout: 4, bmcRequestTimeoutMs: 1500, powerStateChangeTimeout: 10 } });
    fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
    // a BMC that accepts connections and never answers: requests to it hold the node's lock
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    silent?.close();
    await ironic?.close();
    await fleet?.close();
    await files?.close();
  });

  const state = (name: string) => ironic.store.nodeByName(name);
  const settle = (name: string, states: string[]) => settledNode(ironic, name, states, 60_000);

  const redfishInfo = (i: number, password?: string) => ({
    redfish_address: fleet.url,
    redfish_system_id: `/redfish/v1/Systems/${fleet.fleet.machines[i].uuid}`,
    redfish_username: fleet.addrs[i].username,
    redfish_password: password ?? fleet.addrs[i].password,
    deploy_kernel: `${files.url}/k`,
    deploy_ramdisk: `${files.url}/r`,
  });

  it('wrong BMC password: manage fails, the node stays in enroll with a clear last_error (redfish and ipmi)', async () => {
    await api(ironic.url, 'POST', '/v1/nodes', { name: 'badpass-rf', driver: 'redfish', driver_info: redfishInfo(0, 'wrong') });
    const ipmiPort = fleet.addrs[0].ipmi?.split(':').pop();
    await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'badpass-ipmi',
      driver: 'ipmi',
      driver_info: { ipmi_address: '127.0.0.1', ipmi_port: ipmiPort, ipmi_username: 'admin', ipmi_password: 'wrong' },
    });
    for (const n of ['badpass-rf', 'badpass-ipmi'])
      assert.equal((await api(ironic.url, 'PUT', `/v1/nodes/${n}/states/provision`, { target: 'manage' })).status, 202);
    const rf = await settle('badpass-rf', ['enroll']);
    assert.match(
      rf.last_error ?? '',
      /Failed to get power state .*Redfish authentication .* failed \(HTTP 401\): check the BMC username and password/,
    );
    assert.equal(rf.power_state, null);
    const ipmi = await settle('badpass-ipmi', ['enroll']);
    assert.match(ipmi.last_error ?? '', /IPMI authentication with 127\.0\.0\.1:\d+ failed: check ipmi_username and ipmi_password/);
    // fixing the password lets the same node through
    await api(ironic.url, 'PATCH', '/v1/nodes/badpass-rf', [
      { op: 'replace', path: '/driver_info/redfish_password', value: fleet.addrs[0].password },
    ]);
    await api(ironic.url, 'PUT', '/v1/nodes/badpass-rf/states/provision', { target: 'manage' });
    const fixed = await settle('badpass-rf', ['manageable']);
    assert.equal(fixed.last_error, null);
  });

  it('unreachable BMC: power state None with last_error, no crash', async () => {
    const closed = await new Promise<number>((r) => {
      const s = net.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => r(p));
      });
    });
    await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'gone-rf',
      driver: 'redfish',
      driver_info: { redfish_address: `http://127.0.0.1:${closed}`, redfish_username: 'a', redfish_password: 'b' },
    });
    await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'gone-ipmi',
      driver: 'ipmi',
      driver_info: { ipmi_address: '127.0.0.1', ipmi_port: closed, ipmi_username: 'a', ipmi_password: 'b' },
    });
    await api(ironic.url, 'PUT', '/v1/nodes/gone-rf/states/provision', { target: 'manage' });
    await api(ironic.url, 'PUT', '/v1/nodes/gone-ipmi/states/provision', { target: 'manage' });
    const rf = await settle('gone-rf', ['enroll']);
    assert.equal(rf.power_state, null);
    assert.match(rf.last_error ?? '', /Unable to connect to Redfish service at http:\/\/127\.0\.0\.1:\d+/);
    const ipmi = await settle('gone-ipmi', ['enroll']);
    assert.equal(ipmi.power_state, null);
    assert.match(ipmi.last_error ?? '', /IPMI BMC 127\.0\.0\.1:\d+ did not answer/);
    assert.equal((await api(ironic.url, 'GET', '/v1/nodes')).status, 200, 'the service still answers');
  });

  it('a BMC that stops answering puts a managed node into maintenance with fault "power failure" after repeated syncs', async () => {
    const second = await startTestFleet(1, { tls: false });
    try {
      await api(ironic.url, 'POST', '/v1/nodes', {
        name: 'fading',
        driver: 'redfish',
        driver_info: {
          redfish_address: second.url,
          redfish_username: second.addrs[0].username,
          redfish_password: second.addrs[0].password,
        },
      });
      await api(ironic.url, 'PUT', '/v1/nodes/fading/states/provision', { target: 'manage' });
      await settle('fading', ['manageable']);
    } finally {
      await second.close();
    }
    for (let i = 0; i < 3; i++) await ironic.conductor.syncPowerStates();
    const n = state('fading');
    assert.equal(n?.maintenance, true);
    assert.equal(n?.fault, 'power failure');
    assert.equal(n?.power_state, null);
    assert.match(n?.maintenance_reason ?? '', /max retries exceeded/);
  });

  it('two concurrent provision requests on one node: one is accepted, the other gets 409 NodeLocked', async () => {
    await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'contended',
      driver: 'redfish',
      driver_info: { redfish_address: `http://127.0.0.1:${silentPort}`, redfish_auth_type: 'basic' },
    });
    const results = await Promise.all([
      api(ironic.url, 'PUT', '/v1/nodes/contended/states/provision', { target: 'manage' }),
      api(ironic.url, 'PUT', '/v1/nodes/contended/states/provision', { target: 'manage' }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [202, 409]);
    const conflict = results.find((r) => r.status === 409);
    assert.ok(conflict);
    assert.match(faultOf(conflict), /Node [0-9a-f-]+ is locked by host .+, please retry after the current operation is completed\./);
    // the silent BMC times out; the node is released and back in enroll with the reason
    const n = await settle('contended', ['enroll']);
    assert.match(n.last_error ?? '', /timed out/);
  });

  async function toAvailable(name: string, i: number): Promise<void> {
    await api(ironic.url, 'POST', '/v1/nodes', { name, driver: 'redfish', driver_info: redfishInfo(i), automated_clean: false });
    await api(ironic.url, 'POST', '/v1/ports', { node: name, address: fleet.addrs[i].bootMac });
    await api(ironic.url, 'PUT', `/v1/nodes/${name}/states/provision`, { target: 'manage' });
    await settle(name, ['manageable']);
    await api(ironic.url, 'PUT', `/v1/nodes/${name}/states/provision`, { target: 'provide' });
    await settle(name, ['available']);
  }

  const deploy = async (name: string, instanceInfo: Record<string, unknown>) => {
    const ops = Object.entries(instanceInfo).map(([k, v]) => ({ op: 'add', path: `/instance_info/${k}`, value: v }));
    if (ops.length) {
      const p = await api(ironic.url, 'PATCH', `/v1/nodes/${name}`, ops);
      assert.equal(p.status, 200, p.text);
    }
    const r = await api(ironic.url, 'PUT', `/v1/nodes/${name}/states/provision`, { target: 'active' });
    assert.equal(r.status, 202, r.text);
    return settle(name, ['active', 'deploy failed']);
  };

  it('an image URL that 404s, then a checksum mismatch: deploy failed with the reason; then a good image deploys', async () => {
    await toAvailable('imagey', 1);
    let n = await deploy('imagey', { image_source: `${files.url}/missing.img`, image_os_hash_algo: 'sha256', image_os_hash_value: sha256 });
    assert.equal(n.provision_state, 'deploy failed');
    assert.match(
      n.last_error ?? '',
      /Deploy step deploy\.write_image failed .*ImageDownloadError: Download of image http:\/\/127\.0\.0\.1:\d+\/missing\.img failed: URL returned status code 404/,
    );
    assert.equal(n.power_state, 'power off', 'a failed deploy powers the node off');
    n = await deploy('imagey', { image_source: `${files.url}/disk.img`, image_os_hash_value: '0'.repeat(64) });
    assert.equal(n.provision_state, 'deploy failed');
    assert.match(
      n.last_error ?? '',
      /ImageChecksumError: The checksum for image .*disk\.img did not match: expected 0{64}, got [0-9a-f]{64}/,
    );
    assert.equal(fleet.fleet.machines[1].state.installedImage, null, 'nothing was written');
    n = await deploy('imagey', { image_os_hash_value: sha256 });
    assert.equal(n.provision_state, 'active');
    assert.equal(n.last_error, null);
    assert.equal((fleet.fleet.machines[1].state.installedImage as { url: string } | null)?.url, `${files.url}/disk.img`);
  });

  it('agent faults: a disk write error fails the deploy; an agent that crashes mid-write times out the callback', async () => {
    await toAvailable('faulty', 2);
    fleet.fleet.agents.faults.set(fleet.fleet.machines[2].name, { diskWriteError: true });
    let n = await deploy('faulty', { image_source: `${files.url}/disk.img`, image_os_hash_algo: 'sha256', image_os_hash_value: sha256 });
    assert.equal(n.provision_state, 'deploy failed');
    assert.match(n.last_error ?? '', /ImageWriteError: Error writing image to device \/dev\/\w+: \[Errno 5\] Input\/output error/);
    fleet.fleet.agents.faults.set(fleet.fleet.machines[2].name, { crash: 'during-write' });
    n = await deploy('faulty', {});
    assert.equal(n.provision_state, 'deploy failed');
    assert.match(n.last_error ?? '', /Timeout reached while waiting for callback for node [0-9a-f-]+/);
    fleet.fleet.agents.faults.delete(fleet.fleet.machines[2].name);
  });

  it('garbage bodies get 400 with the reason, and nothing changes', async () => {
    const before = JSON.stringify(state('imagey'));
    for (const [method, path, body] of [
      ['PUT', '/v1/nodes/imagey/states/provision', '{"target":'],
      ['PATCH', '/v1/nodes/imagey', 'not json at all'],
      ['PUT', '/v1/nodes/imagey/states/power', '[]'],
      ['POST', `/v1/heartbeat/${state('imagey')?.uuid}`, '{"callback_url": 5'],
      ['POST', '/v1/ports', '{"address": }'],
    ] as const) {
      const r = await api(ironic.url, method, path, body);
      assert.equal(r.status, 400, `${method} ${path}: ${r.text}`);
      assert.ok(faultOf(r).length > 0);
    }
    const cd = await api(ironic.url, 'PUT', '/v1/nodes/imagey/states/provision', {
      target: 'rebuild',
      configdrive: { meta_data: 'not an object' },
    });
    assert.equal(cd.status, 400);
    assert.match(faultOf(cd), /configdrive meta_data must be an object/);
    assert.equal(JSON.stringify(state('imagey')), before, 'the node is untouched');
  });

  it('a body in an unsupported charset is 415 and a query parameter given twice is 400, not 500', async () => {
    const latin1 = await ironicRequest(ironic.url, 'POST', '/v1/nodes', '{"driver":"fake-hardware"}', {
      'Content-Type': 'application/json; charset=latin1',
    });
    assert.equal(latin1.status, 415, latin1.text);
    assert.match(faultOf(latin1), /Unsupported Media Type: unsupported charset/);
    const twice = await api(ironic.url, 'GET', '/v1/ports?address=aa:bb:cc:dd:ee:ff&address=11:22:33:44:55:66');
    assert.equal(twice.status, 400, twice.text);
    assert.match(faultOf(twice), /Query parameter address may be given only once/);
    const deep = await api(ironic.url, 'POST', '/v1/nodes', `{"driver":"fake-hardware","extra":${'['.repeat(20000)}${']'.repeat(20000)}}`);
    assert.equal(deep.status, 400, deep.text);
  });

  it("names of Object's own properties are no drivers: 'constructor' and '__proto__' are unknown drivers, not 500s", async () => {
    for (const name of ['constructor', '__proto__']) {
      const create = await ironicRequest(ironic.url, 'POST', '/v1/nodes', JSON.stringify({ driver: name }), {
        'Content-Type': 'application/json',
      });
      assert.ok(create.status >= 400 && create.status < 500, `${name}: ${create.status} ${create.text}`);
      assert.match(faultOf(create), new RegExp(`No conductor service registered which supports driver ${name}`));
      const show = await api(ironic.url, 'GET', `/v1/drivers/${name}`);
      assert.equal(show.status, 404, show.text);
    }
  });

  it('the baremetal CLI reports a failed deploy with the reason', {
    skip: haveBaremetal ? false : 'run scripts/install-peers.sh first',
  }, async () => {
    await api(ironic.url, 'PUT', '/v1/nodes/imagey/states/provision', { target: 'deleted' });
    await settle('imagey', ['available']);
    await api(ironic.url, 'PATCH', '/v1/nodes/imagey', [
      { op: 'add', path: '/instance_info/image_source', value: `${files.url}/gone.img` },
      { op: 'add', path: '/instance_info/image_checksum', value: createHash('md5').update(image).digest('hex') },
    ]);
    const r = await baremetal(ironic.url, ['node', 'deploy', 'imagey', '--wait', '60']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deploy failed/);
    assert.match(r.stderr, /404/);
  });
});
