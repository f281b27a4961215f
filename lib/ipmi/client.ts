// A minimal IPMI 2.0 lanplus client (RMCP+ session, cipher suite 3 or 17): Ironic's ipmi driver
// speaks it to BMCs, and the benchmark and tests use it instead of spawning ipmitool per command.
// Hand-written for the reason the emulator's server is (no maintained JavaScript IPMI library).
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { buildV20, CIPHER_SUITES, checksum, decryptPayload, hmac, PayloadType, parsePacket, type SessionKeys } from './codec.js';

export interface IpmiClientOptions {
  host: string;
  port: number;
  username: string;
  password: string;
  cipherSuite?: 3 | 17;
  timeoutMs?: number;
}

export class IpmiClientError extends Error {
  constructor(
    readonly reason: 'Timeout' | 'AuthFailed' | 'Protocol' | 'CompletionCode',
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export class IpmiClient {
  private sock: dgram.Socket | null = null;
  private waiter: ((b: Buffer) => void) | null = null;
  private keys: SessionKeys | null = null;
  private bmcSession = 0;
  private readonly consoleSession = randomBytes(4).readUInt32LE(0) || 1;
  private seq = 0;
  private rqSeq = 0;
  private readonly kuid = Buffer.alloc(20);
  private readonly suite;

  constructor(private readonly o: IpmiClientOptions) {
    Buffer.from(o.password).copy(this.kuid);
    const s = CIPHER_SUITES.find((x) => x.id === (o.cipherSuite ?? 3));
    if (!s) throw new Error(`unsupported cipher suite ${o.cipherSuite}`);
    this.suite = s;
  }

  private exchange(packet: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiter = null;
        reject(new IpmiClientError('Timeout', `no answer from ${this.o.host}:${this.o.port}`));
      }, this.o.timeoutMs ?? 2000);
      this.waiter = (b) => {
        clearTimeout(t);
        this.waiter = null;
        resolve(b);
      };
      this.sock?.send(packet, this.o.port, this.o.host);
    });
  }

  async open(): Promise<void> {
    try {
      await this.handshake();
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  private async handshake(): Promise<void> {
    const sock = dgram.createSocket(this.o.host.includes(':') ? 'udp6' : 'udp4');
    sock.on('message', (m) => this.waiter?.(m));
    await new Promise<void>((r) => sock.bind(0, () => r()));
    this.sock = sock;
    // Open Session proposing exactly the chosen suite
    const s = this.suite;
    const open = Buffer.alloc(32);
    open[0] = 1;
    open[1] = 4; // administrator
    open.writeUInt32LE(this.consoleSession, 4);
    Buffer.from([0, 0, 0, 8, s.auth, 0, 0, 0, 1, 0, 0, 8, s.integrity, 0, 0, 0, 2, 0, 0, 8, s.confidentiality, 0, 0, 0]).copy(open, 8);
    let r = this.payload(await this.exchange(buildV20(PayloadType.OpenSessionRequest, 0, 0, open, null, false)));
    if (r[1] !== 0) throw new IpmiClientError('Protocol', `open session refused with status 0x${r[1].toString(16)}`);
    this.bmcSession = r.readUInt32LE(8);
    const rm = randomBytes(16);
    const user = Buffer.from(this.o.username);
    const role = 0x14;
    const rakp1 = Buffer.concat([Buffer.from([2, 0, 0, 0]), u32(this.bmcSession), rm, Buffer.from([role, 0, 0, user.length]), user]);
    r = this.payload(await this.exchange(buildV20(PayloadType.Rakp1, 0, 0, rakp1, null, false)));
    if (r[1] !== 0) throw new IpmiClientError('AuthFailed', `RAKP 2 status 0x${r[1].toString(16)}`);
    const rc = r.subarray(8, 24);
    const guid = r.subarray(24, 40);
    const code = r.subarray(40);
    const roleUser = Buffer.concat([Buffer.from([role, user.length]), user]);
    const expect = hmac(s.hash, this.kuid, u32(this.consoleSession), u32(this.bmcSession), rm, rc, guid, roleUser);
    if (!expect.equals(code)) {
      // tell the BMC, so it frees the half-open session at once (RAKP 3 with status 0x0F)
      const nak = buildV20(PayloadType.Rakp3, 0, 0, Buffer.concat([Buffer.from([3, 0x0f, 0, 0]), u32(this.bmcSession)]), null, false);
      await new Promise((r) => this.sock?.send(nak, this.o.port, this.o.host, r));
      throw new IpmiClientError('AuthFailed', 'RAKP 2 HMAC is invalid (wrong password?)');
    }
    const rakp3 = Buffer.concat([
      Buffer.from([3, 0, 0, 0]),
      u32(this.bmcSession),
      hmac(s.hash, this.kuid, rc, u32(this.consoleSession), roleUser),
    ]);
    r = this.payload(await this.exchange(buildV20(PayloadType.Rakp3, 0, 0, rakp3, null, false)));
    if (r[1] !== 0) throw new IpmiClientError('AuthFailed', `RAKP 4 status 0x${r[1].toString(16)}`);
    const sik = hmac(s.hash, this.kuid, rm, rc, roleUser);
    const icv = hmac(s.hash, sik, rm, u32(this.bmcSession), guid).subarray(0, s.icvLen);
    if (!icv.equals(r.subarray(8))) throw new IpmiClientError('AuthFailed', 'RAKP 4 integrity check failed');
    this.keys = { suite: s, k1: hmac(s.hash, sik, Buffer.alloc(20, 1)), aesKey: hmac(s.hash, sik, Buffer.alloc(20, 2)).subarray(0, 16) };
    await this.command(0x06, 0x3b, [4]);
  }

  private payload(b: Buffer): Buffer {
    const p = parsePacket(b, () => this.suite.icvLen);
    if (p?.kind !== 'v20') throw new IpmiClientError('Protocol', 'unexpected reply');
    if (p.encrypted && this.keys) {
      const d = decryptPayload(this.keys.aesKey, p.payload);
      if (!d) throw new IpmiClientError('Protocol', 'undecryptable reply');
      return d;
    }
    return p.payload;
  }

  /** Sends one command in the session; resolves with the response data (after the completion code). */
  async command(netFn: number, cmd: number, data: number[] = []): Promise<Buffer> {
    if (!this.keys) throw new IpmiClientError('Protocol', 'session not open');
    this.rqSeq = (this.rqSeq + 1) & 0x3f;
    const msg = Buffer.alloc(7 + data.length);
    msg[0] = 0x20;
    msg[1] = netFn << 2;
    msg[2] = checksum(msg, 0, 2);
    msg[3] = 0x81;
    msg[4] = this.rqSeq << 2;
    msg[5] = cmd;
    Buffer.from(data).copy(msg, 6);
    msg[msg.length - 1] = checksum(msg, 3, msg.length - 1);
    this.seq = (this.seq + 1) >>> 0 || 1;
    const res = this.payload(await this.exchange(buildV20(PayloadType.IPMI, this.bmcSession, this.seq, msg, this.keys, true)));
    if (res.length < 8) throw new IpmiClientError('Protocol', 'short response');
    if (res[6] !== 0) throw new IpmiClientError('CompletionCode', `completion code 0x${res[6].toString(16)}`, res[6]);
    return res.subarray(7, res.length - 1);
  }

  async close(): Promise<void> {
    if (this.keys) await this.command(0x06, 0x3c, [...u32(this.bmcSession)]).catch(() => {});
    this.keys = null;
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}
