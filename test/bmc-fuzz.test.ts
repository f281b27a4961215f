// Fuzzing the BMC fronts: ≥100,000 random, mutated and replayed UDP datagrams (mutations of real
// ipmitool traffic captured through a proxy) plus malformed HTTP and JSON. Nothing may crash,
// memory must stay flat, and a live ipmitool session and Redfish must keep working throughout.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Machine } from '../emulator/machine/machine.js';
import { Rng } from '../emulator/machine/rng.js';
import { cleanup, eventually } from './helpers/apiserver.js';
import { ipmiPort, ipmitool, rf, startTestFleet, type TestFleet } from './helpers/bmc.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapMB(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}

/** A UDP proxy that records every datagram the client sends. */
async function captureProxy(target: number) {
  const corpus: Buffer[] = [];
  const front = dgram.createSocket('udp4');
  const back = dgram.createSocket('udp4');
  let client: { address: string; port: number } | null = null;
  front.on('message', (msg, r) => {
    client = { address: r.address, port: r.port };
    corpus.push(Buffer.from(msg));
    back.send(msg, target, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (client) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', () => r()));
  return {
    port: front.address().port,
    corpus,
    close: () => Promise.all([new Promise((r) => front.close(() => r(0))), new Promise((r) => back.close(() => r(0)))]),
  };
}

function mutate(rng: Rng, b: Buffer): Buffer {
  const x = Buffer.from(b);
  switch (rng.int(0, 6)) {
    case 0: // bit flips
      for (let i = rng.int(1, 4); i > 0; i--) x[rng.int(0, x.length - 1)] ^= 1 << rng.int(0, 7);
      return x;
    case 1: // truncation
      return x.subarray(0, rng.int(0, x.length - 1));
    case 2: // trailing garbage
      return Buffer.concat([x, rng.bytes(rng.int(1, 64))]);
    case 3: // corrupt a length field (v2.0 payload length, v1.5 message length)
      if (x.length > 16) x.writeUInt16LE(rng.int(0, 0xffff), 14);
      return x;
    case 4: // random session id
      if (x.length > 10) x.writeUInt32LE(rng.int(0, 0xffffffff) >>> 0, 6);
      return x;
    case 5: // exact replay
      return x;
    default: // random byte overwrite of the payload
      for (let i = 16; i < x.length; i++) if (rng.next() < 0.1) x[i] = rng.int(0, 255);
      return x;
  }
}

describe('fuzzing the BMC emulator', () => {
  let t: TestFleet;
  let m: Machine;
  let port: number;

  before(async () => {
    t = await startTestFleet(1);
    m = t.fleet.machines[0];
    port = ipmiPort(t);
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
  });

  it('survives 100,000+ random, mutated and replayed UDP packets while a live session keeps working', async () => {
    // a corpus of real traffic: whole ipmitool sessions (CS3 and CS17) through a recording proxy
    const proxy = await captureProxy(port);
    for (const c of [3, 17]) {
      assert.equal((await ipmitool(proxy.port, ['power', 'status'], { cipher: c })).code, 0);
      assert.equal((await ipmitool(proxy.port, ['chassis', 'bootparam', 'get', '5'], { cipher: c })).code, 0);
    }
    await proxy.close();
    assert.ok(proxy.corpus.length >= 10, `captured only ${proxy.corpus.length} packets`);

    // a long-lived session that must survive the storm
    const shell = spawn('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port), '-U', 'admin', '-P', 'password', 'shell'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    shell.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const ask = async (cmd: string, expect: RegExp) => {
      const from = out.length;
      shell.stdin.write(`${cmd}\n`);
      await eventually(() => expect.test(out.slice(from)), `shell answer to ${cmd}`, 20_000);
    };
    await ask('power status', /Chassis Power is (on|off)/);

    const server = t.fleet.ipmiServer(m);
    assert.ok(server);
    const received0 = server.stats.received;
    const heap0 = heapMB();
    const rng = new Rng(20261126);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const TOTAL = 100_000;
    const BATCH = 100;
    for (let sent = 0; sent < TOTAL; sent += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, () => {
          const roll = rng.next();
          const pkt =
            roll < 0.3
              ? rng.bytes(rng.int(0, 300)) // noise
              : roll < 0.4
                ? Buffer.concat([Buffer.from([0x06, 0x00, 0xff, 0x07, rng.next() < 0.5 ? 0x06 : 0x00]), rng.bytes(rng.int(0, 80))]) // plausible RMCP header
                : mutate(rng, proxy.corpus[rng.int(0, proxy.corpus.length - 1)]);
          return new Promise<void>((r) => sock.send(pkt, port, '127.0.0.1', () => r()));
        }),
      );
      // pace bursts so the kernel's socket buffer is not what drops them: wait for the server to catch up
      const want = received0 + sent + BATCH;
      for (let spin = 0; spin < 50 && server.stats.received < want - 2; spin++) await new Promise((r) => setImmediate(r));
      if (sent % 20_000 === 0) await ask('chassis bootparam get 5', /Boot parameter version/);
    }
    sock.close();
    await eventually(
      () => server.stats.received - received0 >= TOTAL * 0.98,
      `the server to read the packets (read ${server.stats.received - received0})`,
      30_000,
    );
    await ask('power status', /Chassis Power is (on|off)/);
    shell.stdin.end('quit\n');
    await new Promise((r) => shell.once('exit', r));

    const grown = heapMB() - heap0;
    assert.ok(grown < 25, `heap grew by ${grown.toFixed(1)} MB`);
    assert.ok(server.activeSessions <= 32, `${server.activeSessions} sessions held`);
    // and a fresh session still opens
    assert.equal((await ipmitool(port, ['mc', 'info'])).code, 0);
  });

  it('survives malformed HTTP and JSON: every request gets an answer and the service stays consistent', async () => {
    const rng = new Rng(7);
    const url = new URL(t.url);
    const raw = (bytes: Buffer) =>
      new Promise<void>((resolve) => {
        const s = net.connect(Number(url.port), '127.0.0.1', () => s.end(bytes));
        s.on('data', () => {});
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.setTimeout(2000, () => s.destroy());
      });
    const heap0 = heapMB();
    const sys = `/redfish/v1/Systems/${m.uuid}`;
    const targets = [
      sys,
      `${sys}/Actions/ComputerSystem.Reset`,
      `${sys}/Bios/Settings`,
      `${sys}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia`,
      '/redfish/v1/SessionService/Sessions',
      '/redfish/v1/EventService/Subscriptions',
      `${sys}/Storage/1/Volumes`,
      '/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate',
    ];
    const jsonValues = () => [null, 1, -1e308, 'x'.repeat(rng.int(0, 5000)), [], {}, [1, 'a', null], { ResetType: rng.int(0, 9) }, true];
    let statuses = new Map<number, number>();
    for (let i = 0; i < 1500; i++) {
      const kind = rng.int(0, 3);
      if (kind === 0) {
        await raw(rng.bytes(rng.int(1, 2000)));
      } else if (kind === 1) {
        const lines = [
          `${['GET', 'PATCH', 'POST', 'BREW', 'G\0T'][rng.int(0, 4)]} /redfish/v1/${rng.bytes(rng.int(0, 40)).toString('latin1')} HTTP/1.1`,
          'Host: x',
          `Content-Length: ${rng.int(-5, 99999)}`,
          'X: '.padEnd(rng.int(0, 20000), 'a'),
        ];
        await raw(Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'));
      } else {
        const path = targets[rng.int(0, targets.length - 1)];
        const body =
          kind === 2
            ? rng.bytes(rng.int(0, 300)).toString('latin1')
            : JSON.stringify(
                Object.fromEntries(
                  Array.from({ length: rng.int(0, 4) }, () => [
                    ['Boot', 'Attributes', 'Image', 'ResetType', 'UserName', 'Destination', 'CapacityBytes', 'ImageURI', '@odata.id'][
                      rng.int(0, 8)
                    ],
                    jsonValues()[rng.int(0, 8)],
                  ]),
                ),
              );
        const r = await rf(t.url, ['PATCH', 'POST'][rng.int(0, 1)], path, { auth: ['admin', 'password'], raw: body });
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status < 500, `${path} answered ${r.status}: ${r.text.slice(0, 300)}`);
      }
    }
    assert.ok((statuses.get(400) ?? 0) > 100, `expected many 400s, got ${JSON.stringify([...statuses])}`);
    statuses = new Map();
    const r = await rf(t.url, 'GET', sys, { auth: ['admin', 'password'] });
    assert.equal(r.status, 200);
    assert.ok(['On', 'Off', 'PoweringOn', 'PoweringOff'].includes(String(r.json.PowerState)));
    const grown = heapMB() - heap0;
    assert.ok(grown < 25, `heap grew by ${grown.toFixed(1)} MB`);
  });
});
