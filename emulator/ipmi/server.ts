// One IPMI 2.0 lanplus BMC on one UDP port (as virtualbmc does): session-less discovery (Get
// Channel Authentication Capabilities, Get Channel Cipher Suites), RMCP+ Open Session and RAKP
// 1-4 with proper error statuses, then authenticated + AES-encrypted commands. Anything that does
// not parse, authenticate or fit the session's sequence window is dropped without a reply.
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  buildAsfPong,
  buildResponse,
  buildV15,
  buildV20,
  CIPHER_SUITES,
  type CipherSuite,
  decryptPayload,
  hmac,
  type IpmiRequest,
  PayloadType,
  parsePacket,
  parseRequest,
  type SessionKeys,
  type V20Packet,
} from '../../lib/ipmi/codec.js';
import type { Machine } from '../machine/machine.js';
import type { Quirks } from '../redfish/personalities/quirks.js';
import { BmcState, CC, type CommandResult, type DeviceIdentity, guidBytes, handleCommand, NetFn, requiredPrivilege } from './commands.js';

// RMCP+ status codes (IPMI 2.0 table 13-15)
const Status = {
  OK: 0x00,
  InsufficientResources: 0x01,
  InvalidSessionId: 0x02,
  InvalidAuthAlg: 0x04,
  InvalidIntegrityAlg: 0x05,
  InvalidRole: 0x09,
  InvalidNameLength: 0x0c,
  UnauthorizedName: 0x0d,
  InvalidIntegrityCheck: 0x0f,
  InvalidConfAlg: 0x10,
  NoCipherSuiteMatch: 0x11,
} as const;

const PRIV = { Callback: 1, User: 2, Operator: 3, Administrator: 4 } as const;
const MAX_PRIV = PRIV.Administrator;

/** A half-open session (Open Session or RAKP 2 sent, RAKP 3 not yet received) lives this long. */
const PENDING_TTL_MS = 5_000;
/** Half-open sessions one source (address and port) may hold; a newer one replaces its oldest. */
const PENDING_PER_SOURCE = 4;

interface Session {
  managedId: number;
  consoleId: number;
  suite: CipherSuite;
  state: 'opened' | 'rakp2' | 'active';
  maxPriv: number;
  priv: number;
  rm: Buffer;
  rc: Buffer;
  role: number;
  user: Buffer;
  keys: SessionKeys | null;
  inHigh: number;
  inMask: number;
  outSeq: number;
  lastSeen: number;
  address: string;
  port: number;
}

export interface IpmiServerOptions {
  machine: Machine;
  username: string;
  password: string;
  address?: string;
  port?: number;
  maxSessions?: number;
  /** idle seconds before an active session is dropped */
  sessionTimeoutS?: number;
  identity?: DeviceIdentity;
  /** the personality's IPMI deviations (ipmi* quirks) */
  quirks?: Quirks;
  log?: (obj: Record<string, unknown>, msg: string) => void;
}

export interface IpmiStats {
  received: number;
  dropped: number;
  replies: number;
  sessionsOpened: number;
  authFailures: number;
}

export class IpmiServer {
  readonly machine: Machine;
  private sock: dgram.Socket | null = null;
  private readonly sessions = new Map<number, Session>();
  private readonly bmc = new BmcState();
  private readonly kuid: Buffer;
  private readonly user: Buffer;
  private readonly guid: Buffer;
  private sweeper: NodeJS.Timeout | null = null;
  readonly stats: IpmiStats = { received: 0, dropped: 0, replies: 0, sessionsOpened: 0, authFailures: 0 };
  port = 0;
  private readonly suites: CipherSuite[];
  private readonly q: Quirks;
  /** the power state an ipmiSeparateState personality keeps apart from the machine's */
  private ownPower = false;

  constructor(private readonly opts: IpmiServerOptions) {
    this.machine = opts.machine;
    this.q = opts.quirks ?? {};
    const accepted = this.q.ipmiCipherSuites;
    this.suites = CIPHER_SUITES.filter((x) => !accepted || accepted.includes(x.id));
    if (Buffer.byteLength(opts.username) > 16) throw new Error('IPMI user names are at most 16 bytes');
    if (Buffer.byteLength(opts.password) > 20) throw new Error('IPMI 2.0 passwords are at most 20 bytes');
    this.user = Buffer.from(opts.username);
    this.kuid = Buffer.alloc(20);
    Buffer.from(opts.password).copy(this.kuid);
    this.guid = guidBytes(opts.machine.uuid);
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    const family = (this.opts.address ?? '127.0.0.1').includes(':') ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family, reuseAddr: false });
    sock.on('message', (msg, rinfo) => {
      this.stats.received++;
      try {
        if (!this.onPacket(msg, rinfo.address, rinfo.port)) this.stats.dropped++;
      } catch (e) {
        this.stats.dropped++;
        this.opts.log?.({ err: (e as Error).message }, 'ipmi packet handling failed');
      }
    });
    sock.on('error', (e) => this.opts.log?.({ err: e.message }, 'ipmi socket error'));
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(this.opts.port ?? 623, this.opts.address ?? '127.0.0.1', () => {
        sock.off('error', reject);
        resolve();
      });
    });
    this.sock = sock;
    this.port = sock.address().port;
    this.sweeper = setInterval(() => this.sweep(), 5000);
    this.sweeper.unref();
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.bmc.timeout?.abort();
    this.bmc.identifyTimer?.abort();
    this.sessions.clear();
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private sweep(): void {
    const now = Date.now();
    const idle = (this.opts.sessionTimeoutS ?? 60) * 1000;
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen > (s.state === 'active' ? idle : PENDING_TTL_MS)) this.sessions.delete(id);
    }
  }

  /**
   * Makes room for a new half-open session from `address`:`port`. An unauthenticated Open Session
   * Request costs nothing to send (and its source can be spoofed), so half-open sessions never
   * lock out a console that completes RAKP: each expires within seconds, a source keeps only a
   * few, and when the table is full a half-open one gives way — one that never got past Open
   * Session before one that sent RAKP 1 (a blind flooder cannot: it never sees the session id),
   * from the source holding the most, its oldest. Only authenticated sessions can fill the table.
   */
  private admitPending(address: string, port: number): boolean {
    const source = (x: Session) => `${x.address}:${x.port}`;
    const pending = [...this.sessions.values()].filter((x) => x.state !== 'active').sort((a, b) => a.lastSeen - b.lastSeen);
    const mine = pending.filter((x) => source(x) === `${address}:${port}`);
    if (mine.length >= PENDING_PER_SOURCE) this.sessions.delete(mine[0].managedId);
    if (this.sessions.size < (this.opts.maxSessions ?? 32)) return true;
    const left = pending.filter((x) => this.sessions.has(x.managedId));
    const opened = left.filter((x) => x.state === 'opened');
    const pool = opened.length ? opened : left;
    if (!pool.length) return false;
    const perSource = new Map<string, number>();
    for (const x of pool) perSource.set(source(x), (perSource.get(source(x)) ?? 0) + 1);
    const most = Math.max(...perSource.values());
    const victim = pool.find((x) => perSource.get(source(x)) === most) as Session;
    this.sessions.delete(victim.managedId);
    return true;
  }

  private send(b: Buffer, address: string, port: number): true {
    this.stats.replies++;
    this.sock?.send(b, port, address);
    return true;
  }

  /** Returns false when the packet was dropped. */
  private onPacket(b: Buffer, address: string, port: number): boolean {
    const p = parsePacket(b, (sid) => this.sessions.get(sid)?.keys?.suite.icvLen ?? 0);
    if (!p) return false;
    if (p.kind === 'asf-ping') return this.send(buildAsfPong(p.tag), address, port);
    if (p.kind === 'v15') {
      if (p.sessionId !== 0 || p.authType !== 0) return false;
      const req = parseRequest(p.message);
      if (!req) return false;
      const res = this.sessionless(req);
      return res ? this.send(buildV15(res), address, port) : false;
    }
    switch (p.payloadType) {
      case PayloadType.OpenSessionRequest:
        return p.sessionId === 0 && !p.authenticated ? this.openSession(p.payload, address, port) : false;
      case PayloadType.Rakp1:
        return p.sessionId === 0 && !p.authenticated ? this.rakp1(p.payload, address, port) : false;
      case PayloadType.Rakp3:
        return p.sessionId === 0 && !p.authenticated ? this.rakp3(p.payload, address, port) : false;
      case PayloadType.IPMI:
        return this.ipmiPayload(p, address, port);
      default:
        return false;
    }
  }

  /** A command, through the personality's deviations. */
  private command(netFn: number, cmd: number, d: Buffer): CommandResult {
    const q = this.q;
    if (netFn === NetFn.Chassis && cmd === 0x02 && d.length >= 1) {
      const op = d[0] & 0x0f;
      if (q.ipmiNoCycle && op === 0x02) return { cc: CC.InvalidDataField };
      if (q.ipmiPowerIgnored) return { cc: CC.OK };
      if (q.ipmiSeparateState && op <= 0x03) {
        this.ownPower = op !== 0x00;
        return { cc: CC.OK };
      }
    }
    if (netFn === NetFn.Chassis && cmd === 0x01 && q.ipmiSeparateState)
      return { cc: CC.OK, data: [this.ownPower ? 0x41 : 0x40, 0x00, 0x40, 0x00] };
    if (netFn === NetFn.Chassis && cmd === 0x08 && q.ipmiBootAlwaysPersistent && (d[0] & 0x7f) === 5 && d.length >= 2) {
      d = Buffer.from(d);
      d[1] |= 0x40;
    }
    return handleCommand(
      this.machine,
      this.bmc,
      this.opts.identity ?? { manufacturerId: 0, productId: 0x4652, firmware: [1, 0] },
      netFn,
      cmd,
      d,
    );
  }

  /** Commands answered outside a session. */
  private sessionless(req: IpmiRequest): Buffer | null {
    if (req.netFn !== NetFn.App) return null;
    if (req.cmd === 0x38) {
      // Get Channel Authentication Capabilities
      const chan = req.data[0] ?? 0;
      if ((chan & 0x0f) !== 0x0e && (chan & 0x0f) !== 0x01) return buildResponse(req, CC.InvalidDataField);
      const v2 = (chan & 0x80) !== 0;
      return buildResponse(req, CC.OK, [0x01, v2 ? 0x80 : 0x00, 0x04, v2 ? 0x02 : 0x00, 0, 0, 0, 0]);
    }
    if (req.cmd === 0x54) return buildResponse(req, ...this.cipherSuites(req.data));
    return null;
  }

  private cipherSuites(d: Buffer): [number, number[]] {
    if (d.length < 3) return [CC.RequestDataLength, []];
    if ((d[1] & 0x3f) !== 0x00) return [CC.InvalidDataField, []];
    const listed = this.q.ipmiAdvertisedSuites ? CIPHER_SUITES.filter((x) => this.q.ipmiAdvertisedSuites?.includes(x.id)) : this.suites;
    const records = listed.flatMap((s) => [0xc0, s.id, s.auth, 0x40 | s.integrity, 0x80 | s.confidentiality]);
    const index = d[2] & 0x3f;
    return [CC.OK, [0x01, ...records.slice(index * 16, index * 16 + 16)]];
  }

  private openSession(p: Buffer, address: string, port: number): boolean {
    if (p.length < 32) return false;
    const tag = p[0];
    const consoleId = p.readUInt32LE(4);
    const reply = (status: number, extra: Buffer = Buffer.alloc(0)) => {
      const head = Buffer.alloc(8);
      head[0] = tag;
      head[1] = status;
      head.writeUInt32LE(consoleId, 4);
      return this.send(buildV20(PayloadType.OpenSessionResponse, 0, 0, Buffer.concat([head, extra]), null, false), address, port);
    };
    if (p[8] !== 0x00 || p[16] !== 0x01 || p[24] !== 0x02) return false;
    const auth = p[12] & 0x3f;
    const integ = p[20] & 0x3f;
    const conf = p[28] & 0x3f;
    const suite = this.suites.find((s) => s.auth === auth && s.integrity === integ && s.confidentiality === conf);
    if (!suite) {
      if (!this.suites.some((s) => s.auth === auth)) return reply(Status.InvalidAuthAlg);
      if (!this.suites.some((s) => s.integrity === integ)) return reply(Status.InvalidIntegrityAlg);
      if (!this.suites.some((s) => s.confidentiality === conf)) return reply(Status.InvalidConfAlg);
      return reply(Status.NoCipherSuiteMatch);
    }
    const reqPriv = p[1] & 0x0f;
    if (reqPriv > MAX_PRIV) return reply(Status.InvalidRole);
    this.sweep();
    if (!this.admitPending(address, port)) return reply(Status.InsufficientResources);
    let managedId = 0;
    while (managedId === 0 || this.sessions.has(managedId)) managedId = randomBytes(4).readUInt32LE(0);
    this.sessions.set(managedId, {
      managedId,
      consoleId,
      suite,
      state: 'opened',
      maxPriv: reqPriv === 0 ? MAX_PRIV : reqPriv,
      priv: PRIV.User,
      rm: Buffer.alloc(0),
      rc: Buffer.alloc(0),
      role: 0,
      user: Buffer.alloc(0),
      keys: null,
      inHigh: 0,
      inMask: 0,
      outSeq: 0,
      lastSeen: Date.now(),
      address,
      port,
    });
    const ids = Buffer.alloc(4);
    ids.writeUInt32LE(managedId, 0);
    const rec = (type: number, alg: number) => Buffer.from([type, 0, 0, 8, alg, 0, 0, 0]);
    const body = Buffer.concat([ids, rec(0, suite.auth), rec(1, suite.integrity), rec(2, suite.confidentiality)]);
    const head = Buffer.alloc(8);
    head[0] = tag;
    head[1] = Status.OK;
    head[2] = reqPriv === 0 ? MAX_PRIV : reqPriv;
    head.writeUInt32LE(consoleId, 4);
    return this.send(buildV20(PayloadType.OpenSessionResponse, 0, 0, Buffer.concat([head, body]), null, false), address, port);
  }

  private rakp1(p: Buffer, address: string, port: number): boolean {
    if (p.length < 28) return false;
    const tag = p[0];
    const managedId = p.readUInt32LE(4);
    const s = this.sessions.get(managedId);
    const fail = (status: number, consoleId: number) => {
      const b = Buffer.alloc(8);
      b[0] = tag;
      b[1] = status;
      b.writeUInt32LE(consoleId, 4);
      return this.send(buildV20(PayloadType.Rakp2, 0, 0, b, null, false), address, port);
    };
    if (!s || s.state === 'active') return fail(Status.InvalidSessionId, 0);
    const rm = Buffer.from(p.subarray(8, 24));
    const role = p[24];
    const ulen = p[27];
    if (ulen > 16 || p.length < 28 + ulen) {
      this.sessions.delete(managedId);
      return fail(Status.InvalidNameLength, s.consoleId);
    }
    const user = Buffer.from(p.subarray(28, 28 + ulen));
    if ((role & 0x0f) > s.maxPriv || (role & 0x0f) > MAX_PRIV) {
      this.sessions.delete(managedId);
      return fail(Status.InvalidRole, s.consoleId);
    }
    if (!user.equals(this.user)) {
      this.stats.authFailures++;
      this.sessions.delete(managedId);
      this.opts.log?.({ machine: this.machine.name, user: user.toString() }, 'ipmi: unknown user');
      return fail(Status.UnauthorizedName, s.consoleId);
    }
    s.rm = rm;
    s.role = role;
    s.user = user;
    s.rc = randomBytes(16);
    s.state = 'rakp2';
    s.lastSeen = Date.now();
    const sids = Buffer.alloc(8);
    sids.writeUInt32LE(s.consoleId, 0);
    sids.writeUInt32LE(s.managedId, 4);
    const code = hmac(s.suite.hash, this.kuid, sids, rm, s.rc, this.guid, Buffer.from([role, ulen]), user);
    const head = Buffer.alloc(8);
    head[0] = tag;
    head.writeUInt32LE(s.consoleId, 4);
    return this.send(buildV20(PayloadType.Rakp2, 0, 0, Buffer.concat([head, s.rc, this.guid, code]), null, false), address, port);
  }

  private rakp3(p: Buffer, address: string, port: number): boolean {
    if (p.length < 8) return false;
    const tag = p[0];
    const managedId = p.readUInt32LE(4);
    const s = this.sessions.get(managedId);
    if (s?.state !== 'rakp2') return false;
    const reply = (status: number, icv: Buffer = Buffer.alloc(0)) => {
      const b = Buffer.alloc(8);
      b[0] = tag;
      b[1] = status;
      b.writeUInt32LE(s.consoleId, 4);
      return this.send(buildV20(PayloadType.Rakp4, 0, 0, Buffer.concat([b, icv]), null, false), address, port);
    };
    if (p[1] !== 0) {
      // the console rejected our RAKP2 (e.g. its password differs): the session is over
      this.stats.authFailures++;
      this.sessions.delete(managedId);
      return true;
    }
    const roleUser = Buffer.concat([Buffer.from([s.role, s.user.length]), s.user]);
    const cid = Buffer.alloc(4);
    cid.writeUInt32LE(s.consoleId, 0);
    const expect = hmac(s.suite.hash, this.kuid, s.rc, cid, roleUser);
    const got = p.subarray(8);
    if (got.length !== expect.length || !got.equals(expect)) {
      this.stats.authFailures++;
      this.sessions.delete(managedId);
      return reply(Status.InvalidIntegrityCheck);
    }
    const sik = hmac(s.suite.hash, this.kuid, s.rm, s.rc, roleUser);
    // the key-derivation constants are 20 bytes for every suite (the SHA-256 suites included)
    const k1 = hmac(s.suite.hash, sik, Buffer.alloc(20, 0x01));
    const k2 = hmac(s.suite.hash, sik, Buffer.alloc(20, 0x02));
    s.keys = { suite: s.suite, k1, aesKey: k2.subarray(0, 16) };
    s.state = 'active';
    s.priv = Math.min(PRIV.User, s.role & 0x0f || MAX_PRIV);
    s.maxPriv = s.role & 0x0f || MAX_PRIV;
    s.lastSeen = Date.now();
    this.stats.sessionsOpened++;
    const mid = Buffer.alloc(4);
    mid.writeUInt32LE(s.managedId, 0);
    const icv = hmac(s.suite.hash, sik, s.rm, mid, this.guid).subarray(0, s.suite.icvLen);
    return reply(Status.OK, icv);
  }

  /** Sliding-window replay check: accept each sequence number once, within 32 of the highest. */
  private acceptSeq(s: Session, seq: number): boolean {
    if (seq === 0) return false;
    if (seq > s.inHigh) {
      const shift = seq - s.inHigh;
      s.inMask = shift >= 32 ? 0 : (s.inMask << shift) >>> 0;
      s.inMask = (s.inMask | 1) >>> 0;
      s.inHigh = seq;
      return true;
    }
    const back = s.inHigh - seq;
    if (back >= 32) return false;
    const bit = (1 << back) >>> 0;
    if (s.inMask & bit) return false;
    s.inMask = (s.inMask | bit) >>> 0;
    return true;
  }

  private ipmiPayload(p: V20Packet, address: string, port: number): boolean {
    if (p.sessionId === 0) {
      if (p.authenticated || p.encrypted) return false;
      const req = parseRequest(p.payload);
      if (!req) return false;
      const res = this.sessionless(req);
      return res ? this.send(buildV20(PayloadType.IPMI, 0, 0, res, null, false), address, port) : false;
    }
    const s = this.sessions.get(p.sessionId);
    if (s?.state !== 'active' || !s.keys) return false;
    if (!p.authenticated || !p.signed || !p.authCode) return false;
    const expect = hmac(s.suite.hash, s.keys.k1, p.signed).subarray(0, s.suite.icvLen);
    if (!expect.equals(p.authCode)) return false;
    if (!p.encrypted) return false;
    if (!this.acceptSeq(s, p.seq)) return false;
    const msg = decryptPayload(s.keys.aesKey, p.payload);
    if (!msg) return false;
    const req = parseRequest(msg);
    if (!req) return false;
    s.lastSeen = Date.now();
    s.address = address;
    s.port = port;
    let res: Buffer;
    let close = false;
    if (req.netFn === NetFn.App && req.cmd === 0x3b) {
      // Set Session Privilege Level
      const want = (req.data[0] ?? 0) & 0x0f;
      if (want === 0) res = buildResponse(req, CC.OK, [s.priv]);
      else if (want > s.maxPriv || want < PRIV.User) res = buildResponse(req, want > s.maxPriv ? 0x81 : 0x80);
      else {
        s.priv = want;
        res = buildResponse(req, CC.OK, [s.priv]);
      }
    } else if (req.netFn === NetFn.App && req.cmd === 0x3c) {
      // Close Session
      const id = req.data.length >= 4 ? req.data.readUInt32LE(0) : -1;
      if (id !== s.managedId && id !== 0) res = buildResponse(req, 0x87);
      else {
        res = buildResponse(req, CC.OK);
        close = true;
      }
    } else if (req.netFn === NetFn.App && (req.cmd === 0x38 || req.cmd === 0x54)) {
      res = this.sessionless(req) ?? buildResponse(req, CC.InvalidCommand);
    } else {
      if (s.priv < requiredPrivilege(req.netFn, req.cmd)) res = buildResponse(req, CC.InsufficientPrivilege);
      else {
        const r = this.command(req.netFn, req.cmd, req.data);
        res = buildResponse(req, r.cc, r.data ?? []);
      }
    }
    s.outSeq = (s.outSeq + 1) >>> 0 || 1;
    this.send(buildV20(PayloadType.IPMI, s.consoleId, s.outSeq, res, s.keys, true), address, port);
    if (close) this.sessions.delete(s.managedId);
    return true;
  }
}
