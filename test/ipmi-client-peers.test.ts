// Ferrite's lanplus client against a BMC Ferrite did not write: pyghmi's fakebmc (the server side
// virtualbmc is built on). Power and boot device round-trip through its callbacks.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IpmiClient, IpmiClientError } from '../lib/ipmi/client.js';
import { eventually } from './helpers/apiserver.js';
import { havePythonPeers, PYTHON } from './helpers/bmc.js';
import { settledNode, startTestIronic } from './helpers/ironic.js';

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

describe('IPMI client against pyghmi fakebmc', { skip: havePythonPeers ? false : 'run scripts/install-peers.sh first' }, () => {
  let bmc: ChildProcess;
  let port: number;
  const client = (o: Partial<ConstructorParameters<typeof IpmiClient>[0]> = {}) =>
    new IpmiClient({ host: '127.0.0.1', port, username: 'admin', password: 'password', cipherSuite: 3, timeoutMs: 1000, ...o });

  before(async () => {
    port = await freeUdpPort();
    bmc = spawn(join(PYTHON, '..', 'fakebmc'), ['--port', String(port)], { stdio: 'ignore' });
    await eventually(
      async () => {
        const c = client();
        await c.open();
        await c.close();
        return true;
      },
      'fakebmc to answer',
      20_000,
    );
  });
  after(() => {
    bmc.kill('SIGKILL');
  });

  it('opens a session, reads device id, and drives power through chassis control', async () => {
    const c = client();
    await c.open();
    const id = await c.command(0x06, 0x01);
    assert.ok(id.length >= 11, 'Get Device ID answers');
    assert.equal((await c.command(0x00, 0x01))[0] & 1, 0, 'fakebmc starts powered off');
    await c.command(0x00, 0x02, [1]);
    assert.equal((await c.command(0x00, 0x01))[0] & 1, 1, 'power on took effect');
    await c.command(0x00, 0x02, [0]);
    assert.equal((await c.command(0x00, 0x01))[0] & 1, 0, 'power off took effect');
    await c.close();
  });

  it('sets and reads back the boot device (parameter 5)', async () => {
    const c = client();
    await c.open();
    await c.command(0x00, 0x08, [0x05, 0xc0, 0x04, 0, 0, 0]); // persistent PXE
    const r = await c.command(0x00, 0x09, [0x05, 0, 0]);
    assert.equal(r[1] & 0x7f, 5);
    assert.equal((r[3] >> 2) & 0x0f, 1, 'PXE selector reads back');
    await c.close();
  });

  it("Ironic's ipmi driver manages the pyghmi BMC: verify, power on/off, boot device", async () => {
    const ironic = await startTestIronic();
    try {
      const post = await fetch(`${ironic.url}/v1/nodes`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': 'latest' },
        body: JSON.stringify({
          name: 'pyghmi',
          driver: 'ipmi',
          driver_info: { ipmi_address: '127.0.0.1', ipmi_port: port, ipmi_username: 'admin', ipmi_password: 'password' },
        }),
      });
      assert.equal(post.status, 201);
      const c = ironic.conductor;
      c.provision('pyghmi', 'manage', {}, 110);
      const n = await settledNode(ironic, 'pyghmi', ['manageable']);
      assert.equal(n.last_error, null);
      c.changePower('pyghmi', 'power on', undefined, 110);
      await settledNode(ironic, 'pyghmi', (x) => x.power_state === 'power on');
      const probe = client();
      await probe.open();
      assert.equal((await probe.command(0x00, 0x01))[0] & 1, 1, 'the BMC really is on');
      await probe.close();
      await c.withLock('pyghmi', (x) => c.drivers.forNode(x).management.setBootDevice(x, 'pxe', true));
      assert.deepEqual(
        await c.withLock('pyghmi', (x) => c.drivers.forNode(x).management.getBootDevice(x)),
        // pyghmi's BMC keeps the device but not the persistent bit: its get_system_boot_options
        // always answers flags 0x80 (pyghmi/ipmi/bmc.py)
        { boot_device: 'pxe', persistent: false },
      );
      c.changePower('pyghmi', 'power off', undefined, 110);
      await settledNode(ironic, 'pyghmi', (x) => x.power_state === 'power off');
    } finally {
      await ironic.close();
    }
  });

  it('a wrong password fails the RAKP 2 check', async () => {
    await assert.rejects(client({ password: 'wrong' }).open(), (e: unknown) => e instanceof IpmiClientError && e.reason === 'AuthFailed');
  });
});
