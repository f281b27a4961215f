// The lanplus client against the emulator's IPMI server, in process: both cipher suites, the
// RMCP+ error statuses, the replay window and command completion codes.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IpmiClient, IpmiClientError } from '../../lib/ipmi/client.js';
import { buildV15, checksum } from '../../lib/ipmi/codec.js';
import { defaultFleet, resolveFleet } from '../fleet/config.js';
import { BootHandlers } from '../machine/boot-handlers.js';
import { ScaledClock } from '../machine/clock.js';
import { Machine } from '../machine/machine.js';
import { initialState } from '../machine/model.js';
import { SimBackend } from '../machine/sim-backend.js';
import { IpmiServer } from './server.js';

describe('IPMI client and server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-ipmi-'));
  let server: IpmiServer;
  let m: Machine;
  const client = (o: Partial<ConstructorParameters<typeof IpmiClient>[0]> = {}) =>
    new IpmiClient({ host: '127.0.0.1', port: server.port, username: 'admin', password: 'password', timeoutMs: 500, ...o });

  before(async () => {
    const clock = new ScaledClock(1000);
    const spec = resolveFleet(defaultFleet(1)).machines[0].spec;
    m = new Machine(spec, initialState(spec), { clock, backend: new SimBackend(clock, new BootHandlers()), mediaDir: dir });
    server = new IpmiServer({ machine: m, username: 'admin', password: 'password', port: 0, maxSessions: 3 });
    await server.start();
  });
  after(async () => {
    await server.close();
    await m.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const cs of [3, 17] as const) {
    it(`cipher suite ${cs}: session, chassis control and boot flags`, async () => {
      const c = client({ cipherSuite: cs });
      await c.open();
      assert.equal((await c.command(0x00, 0x01))[0] & 1, 0);
      await c.command(0x00, 0x02, [1]);
      await m.settled();
      assert.equal(m.state.power, 'On');
      await c.command(0x00, 0x08, [0x05, 0xe0, 0x14, 0, 0, 0]);
      assert.deepEqual([...(await c.command(0x00, 0x09, [0x05, 0, 0]))], [0x01, 0x05, 0xe0, 0x14, 0, 0, 0]);
      await assert.rejects(c.command(0x00, 0x08, [0x05]), (e: unknown) => e instanceof IpmiClientError && e.code === 0xc7);
      await c.command(0x00, 0x02, [0]);
      await m.settled();
      await c.close();
    });
  }

  it('the boot-flag valid bit clears after 60 s without a chassis control, unless parameter 3 bit 3 says not to', async () => {
    const c = client();
    await c.open();
    await c.command(0x00, 0x08, [0x03, 0x00]);
    await c.command(0x00, 0x08, [0x05, 0x80, 0x04, 0, 0, 0]); // PXE, next boot only
    assert.equal(m.state.boot.overrideEnabled, 'Once');
    await new Promise((r) => setTimeout(r, 150)); // 150 s of simulated time
    assert.equal(m.state.boot.overrideEnabled, 'Disabled');
    assert.ok(m.state.events.some((e) => e.messageId === 'BootOverrideExpired'));
    await c.command(0x00, 0x08, [0x03, 0x08]);
    await c.command(0x00, 0x08, [0x05, 0x80, 0x04, 0, 0, 0]);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(m.state.boot.overrideEnabled, 'Once');
    assert.deepEqual([...(await c.command(0x00, 0x09, [0x03, 0, 0]))], [0x01, 0x03, 0x08]);
    await c.close();
  });

  it('a session lowered to User privilege may read but not change the machine', async () => {
    const c = client();
    await c.open();
    assert.deepEqual([...(await c.command(0x06, 0x3b, [2]))], [2]);
    await c.command(0x00, 0x01);
    await assert.rejects(c.command(0x00, 0x02, [1]), (e: unknown) => e instanceof IpmiClientError && e.code === 0xd4);
    await assert.rejects(
      c.command(0x00, 0x08, [0x05, 0x80, 0x04, 0, 0, 0]),
      (e: unknown) => e instanceof IpmiClientError && e.code === 0xd4,
    );
    await assert.rejects(c.command(0x06, 0x3b, [5]), (e: unknown) => e instanceof IpmiClientError && e.code === 0x81);
    await c.close();
  });

  it('refuses wrong credentials with the right RAKP outcome', async () => {
    await assert.rejects(client({ password: 'nope' }).open(), /RAKP 2 HMAC is invalid/);
    await assert.rejects(client({ username: 'eve' }).open(), /RAKP 2 status 0xd/);
  });

  it('limits sessions and frees them on close', async () => {
    const cs = [client(), client(), client()];
    for (const c of cs) await c.open();
    await assert.rejects(client().open(), /open session refused with status 0x1/);
    await cs[0].close();
    const again = client();
    await again.open();
    for (const c of [again, cs[1], cs[2]]) await c.close();
    assert.equal(server.activeSessions, 0);
  });

  it('answers session-less discovery and drops a replayed packet', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const replies: Buffer[] = [];
    sock.on('message', (b) => replies.push(b));
    // Get Channel Cipher Suites, index 0, in IPMI 1.5 framing
    const msg = Buffer.from([0x20, 0x06 << 2, 0, 0x81, 0x04, 0x54, 0x0e, 0x00, 0x80, 0]);
    msg[2] = checksum(msg, 0, 2);
    msg[msg.length - 1] = checksum(msg, 3, msg.length - 1);
    sock.send(buildV15(msg), server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(replies.length, 1);
    // ASF presence ping (RMCP class 6, IANA 4542, type 0x80) gets a pong with the same tag
    sock.send(Buffer.from([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x80, 0x2a, 0x00, 0x00]), server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(replies.length, 2);
    assert.deepEqual([...replies[1].subarray(8, 10)], [0x40, 0x2a]);
    const data = replies[0].subarray(14 + 7, replies[0].length - 1);
    assert.deepEqual([...data], [0x01, 0xc0, 0x03, 0x01, 0x41, 0x81, 0xc0, 0x11, 0x03, 0x44, 0x81]);
    sock.close();
    const before = server.stats.dropped;
    const c = client();
    await c.open();
    // resend the exact datagram of the last command: same sequence number, must be ignored
    const last = (c as unknown as { sock: dgram.Socket }).sock;
    const captured: Buffer[] = [];
    const origSend = last.send.bind(last);
    (last as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
      const [b, ...rest] = a as [Buffer, ...unknown[]];
      captured.push(Buffer.from(b));
      return (origSend as (...a: unknown[]) => void)(b, ...rest);
    };
    await c.command(0x06, 0x01);
    origSend(captured[0], server.port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(server.stats.dropped > before, 'the replay was dropped');
    await c.close();
  });
});
