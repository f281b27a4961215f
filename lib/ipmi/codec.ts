// RMCP / IPMI 1.5 / IPMI 2.0 (RMCP+) framing, IPMI message checksums, and the two cipher
// suites (3: HMAC-SHA1, 17: HMAC-SHA256; both AES-CBC-128), shared by the emulator's server and
// the client Ironic uses. Hand-written: no maintained JavaScript IPMI library exists, and the
// byte layout is small and fixed by the IPMI 2.0 spec.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const RMCP_CLASS_ASF = 0x06;
export const RMCP_CLASS_IPMI = 0x07;
export const AUTH_RMCPP = 0x06;

export const PayloadType = {
  IPMI: 0x00,
  SOL: 0x01,
  OpenSessionRequest: 0x10,
  OpenSessionResponse: 0x11,
  Rakp1: 0x12,
  Rakp2: 0x13,
  Rakp3: 0x14,
  Rakp4: 0x15,
} as const;

export interface CipherSuite {
  id: number;
  auth: number; // 1 RAKP-HMAC-SHA1, 3 RAKP-HMAC-SHA256
  integrity: number; // 1 HMAC-SHA1-96, 4 HMAC-SHA256-128
  confidentiality: number; // 1 AES-CBC-128
  hash: 'sha1' | 'sha256';
  /** bytes of the RAKP4 integrity check value and of each packet's AuthCode */
  icvLen: number;
}

export const CIPHER_SUITES: CipherSuite[] = [
  { id: 3, auth: 1, integrity: 1, confidentiality: 1, hash: 'sha1', icvLen: 12 },
  { id: 17, auth: 3, integrity: 4, confidentiality: 1, hash: 'sha256', icvLen: 16 },
];

export function hmac(hash: 'sha1' | 'sha256', key: Buffer, ...parts: Buffer[]): Buffer {
  const h = createHmac(hash, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

export function checksum(b: Buffer, start: number, end: number): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + b[i]) & 0xff;
  return (0x100 - s) & 0xff;
}

export interface IpmiRequest {
  rsAddr: number;
  netFn: number;
  rsLun: number;
  rqAddr: number;
  rqSeq: number;
  rqLun: number;
  cmd: number;
  data: Buffer;
}

/** Parses an IPMI LAN request message; null when too short or a checksum is wrong. */
export function parseRequest(m: Buffer): IpmiRequest | null {
  if (m.length < 7) return null;
  if (checksum(m, 0, 2) !== m[2]) return null;
  if (checksum(m, 3, m.length - 1) !== m[m.length - 1]) return null;
  return {
    rsAddr: m[0],
    netFn: m[1] >> 2,
    rsLun: m[1] & 3,
    rqAddr: m[3],
    rqSeq: m[4] >> 2,
    rqLun: m[4] & 3,
    cmd: m[5],
    data: m.subarray(6, m.length - 1),
  };
}

export function buildResponse(req: IpmiRequest, cc: number, data: Buffer | number[] = []): Buffer {
  const d = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const b = Buffer.alloc(8 + d.length);
  b[0] = req.rqAddr;
  b[1] = ((req.netFn | 1) << 2) | req.rqLun;
  b[2] = checksum(b, 0, 2);
  b[3] = req.rsAddr;
  b[4] = (req.rqSeq << 2) | req.rsLun;
  b[5] = req.cmd;
  b[6] = cc;
  d.copy(b, 7);
  b[b.length - 1] = checksum(b, 3, b.length - 1);
  return b;
}

export interface V15Packet {
  kind: 'v15';
  authType: number;
  seq: number;
  sessionId: number;
  message: Buffer;
}

export interface V20Packet {
  kind: 'v20';
  encrypted: boolean;
  authenticated: boolean;
  payloadType: number;
  sessionId: number;
  seq: number;
  payload: Buffer;
  /** bytes covered by the AuthCode (from the auth type through next header), when authenticated */
  signed: Buffer | null;
  authCode: Buffer | null;
}

export interface AsfPing {
  kind: 'asf-ping';
  tag: number;
}

/** Parses one UDP datagram; null for anything malformed. Never throws. */
export function parsePacket(b: Buffer, icvLenFor: (sessionId: number) => number): V15Packet | V20Packet | AsfPing | null {
  if (b.length < 5 || b[0] !== 0x06 || b[1] !== 0x00) return null;
  if (b[3] === RMCP_CLASS_ASF) {
    // ASF presence ping: IANA 4542, type 0x80
    if (b.length >= 12 && b.readUInt32BE(4) === 4542 && b[8] === 0x80) return { kind: 'asf-ping', tag: b[9] };
    return null;
  }
  if ((b[3] & 0x1f) !== RMCP_CLASS_IPMI) return null;
  const authType = b[4] & 0x0f;
  if (authType === AUTH_RMCPP) {
    if (b.length < 16) return null;
    const pt = b[5];
    const payloadType = pt & 0x3f;
    if (payloadType === 0x02) return null; // OEM explicit payloads are not served
    const sessionId = b.readUInt32LE(6);
    const seq = b.readUInt32LE(10);
    const len = b.readUInt16LE(14);
    if (16 + len > b.length) return null;
    const payload = b.subarray(16, 16 + len);
    const authenticated = (pt & 0x40) !== 0;
    let signed: Buffer | null = null;
    let authCode: Buffer | null = null;
    if (authenticated) {
      const icv = icvLenFor(sessionId);
      if (icv <= 0) return null;
      const end = b.length - icv;
      if (end < 16 + len + 2) return null;
      const padLen = b[end - 2];
      if (b[end - 1] !== 0x07 || end - 2 - padLen !== 16 + len) return null;
      signed = b.subarray(4, end);
      authCode = b.subarray(end);
    }
    return { kind: 'v20', encrypted: (pt & 0x80) !== 0, authenticated, payloadType, sessionId, seq, payload, signed, authCode };
  }
  // IPMI 1.5: auth type, seq, session id, [16-byte auth code], length, message
  if (b.length < 14) return null;
  const seq = b.readUInt32LE(5);
  const sessionId = b.readUInt32LE(9);
  let off = 13;
  if (authType !== 0) off += 16;
  if (b.length < off + 1) return null;
  const len = b[off];
  if (off + 1 + len > b.length) return null;
  return { kind: 'v15', authType, seq, sessionId, message: b.subarray(off + 1, off + 1 + len) };
}

const RMCP_HDR = Buffer.from([0x06, 0x00, 0xff, RMCP_CLASS_IPMI]);

export function buildV15(message: Buffer, seq = 0, sessionId = 0): Buffer {
  const h = Buffer.alloc(10);
  h[0] = 0; // auth type none
  h.writeUInt32LE(seq, 1);
  h.writeUInt32LE(sessionId, 5);
  h[9] = message.length;
  return Buffer.concat([RMCP_HDR, h, message]);
}

export function buildAsfPong(tag: number): Buffer {
  const b = Buffer.alloc(28);
  Buffer.from([0x06, 0x00, 0xff, RMCP_CLASS_ASF]).copy(b, 0);
  b.writeUInt32BE(4542, 4);
  b[8] = 0x40; // pong
  b[9] = tag;
  b[10] = 0;
  b[11] = 16; // data length
  b.writeUInt32BE(4542, 12); // IANA
  b.writeUInt32BE(0, 16); // OEM
  b[20] = 0x81; // supported entities: IPMI, ASF 1.0
  return b;
}

export interface SessionKeys {
  suite: CipherSuite;
  k1: Buffer;
  aesKey: Buffer;
}

export function buildV20(
  payloadType: number,
  sessionId: number,
  seq: number,
  payload: Buffer,
  keys: SessionKeys | null,
  encrypt: boolean,
): Buffer {
  let body = payload;
  if (keys && encrypt) body = encryptPayload(keys.aesKey, payload);
  const hdr = Buffer.alloc(12);
  hdr[0] = AUTH_RMCPP;
  hdr[1] = (payloadType & 0x3f) | (keys ? 0x40 : 0) | (keys && encrypt ? 0x80 : 0);
  hdr.writeUInt32LE(sessionId, 2);
  hdr.writeUInt32LE(seq, 6);
  hdr.writeUInt16LE(body.length, 10);
  if (!keys) return Buffer.concat([RMCP_HDR, hdr, body]);
  // integrity pad: from the auth type byte through the next-header byte is a multiple of 4
  const padLen = (4 - ((hdr.length + body.length + 2) % 4)) % 4;
  const signed = Buffer.concat([hdr, body, Buffer.alloc(padLen, 0xff), Buffer.from([padLen, 0x07])]);
  const code = hmac(keys.suite.hash, keys.k1, signed).subarray(0, keys.suite.icvLen);
  return Buffer.concat([RMCP_HDR, signed, code]);
}

export function encryptPayload(key: Buffer, plain: Buffer): Buffer {
  const iv = randomBytes(16);
  const padLen = (16 - ((plain.length + 1) % 16)) % 16;
  const pad = Buffer.alloc(padLen);
  for (let i = 0; i < padLen; i++) pad[i] = i + 1;
  const c = createCipheriv('aes-128-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([iv, c.update(Buffer.concat([plain, pad, Buffer.from([padLen])])), c.final()]);
}

/** Decrypts an AES-CBC-128 payload; null when the length or pad is wrong. */
export function decryptPayload(key: Buffer, data: Buffer): Buffer | null {
  if (data.length < 32 || (data.length - 16) % 16 !== 0) return null;
  const d = createDecipheriv('aes-128-cbc', key, data.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = Buffer.concat([d.update(data.subarray(16)), d.final()]);
  const padLen = plain[plain.length - 1];
  if (padLen > 15 || padLen + 1 > plain.length) return null;
  return plain.subarray(0, plain.length - 1 - padLen);
}
