// Fetches a virtual-media or firmware image over HTTP(S) into the data directory, streaming, so a
// multi-GB ISO neither blocks the BMC's other requests nor sits in memory.
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { MachineError } from './errors.js';

export interface FetchOptions {
  userName?: string | null;
  password?: string | null;
  verifyCertificate?: boolean;
  /** extra PEM CAs to trust for HTTPS */
  ca?: string[];
  signal?: AbortSignal;
  /** called once the server answered 2xx, before the body is read */
  onResponse?: (size: number | null) => void;
}

const MAX_REDIRECTS = 5;

function request(url: URL, opts: FetchOptions): Promise<http.IncomingMessage> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.reject(
      new MachineError('InvalidValue', `unsupported transfer protocol ${url.protocol.replace(':', '')}: use http or https`, 'Image'),
    );
  }
  const headers: Record<string, string> = { 'user-agent': 'ferrite-bmc/1' };
  if (opts.userName) headers.authorization = `Basic ${Buffer.from(`${opts.userName}:${opts.password ?? ''}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(
      url,
      { headers, signal: opts.signal, rejectUnauthorized: opts.verifyCertificate === true, ca: opts.ca, timeout: 30_000 },
      resolve,
    );
    req.on('timeout', () => req.destroy(new Error('connection timed out after 30 s')));
    req.on('error', (e) => reject(new MachineError('MediaFetchFailed', `cannot fetch ${url.href}: ${e.message}`, 'Image')));
  });
}

/** Downloads `url` to `dest` (atomically: a partial file never appears under `dest`). Returns the size. */
export async function fetchImage(url: string, dest: string, opts: FetchOptions = {}): Promise<number> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MachineError('InvalidValue', `"${url}" is not a valid URL`, 'Image');
  }
  let res = await request(u, opts);
  for (let hops = 0; res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location; hops++) {
    res.resume();
    if (hops >= MAX_REDIRECTS) throw new MachineError('MediaFetchFailed', `too many redirects fetching ${url}`, 'Image');
    u = new URL(res.headers.location, u);
    res = await request(u, opts);
  }
  if (!res.statusCode || res.statusCode >= 400) {
    res.resume();
    throw new MachineError('MediaFetchFailed', `fetching ${u.href} returned HTTP ${res.statusCode}`, 'Image');
  }
  const len = Number(res.headers['content-length']);
  opts.onResponse?.(Number.isFinite(len) ? len : null);
  mkdirSync(dirname(dest), { recursive: true });
  const part = `${dest}.part`;
  let bytes = 0;
  res.on('data', (c: Buffer) => {
    bytes += c.length;
  });
  try {
    await pipeline(res, createWriteStream(part), { signal: opts.signal });
  } catch (e) {
    rmSync(part, { force: true });
    throw new MachineError('MediaFetchFailed', `fetching ${u.href} failed: ${(e as Error).message}`, 'Image');
  }
  renameSync(part, dest);
  return bytes;
}
