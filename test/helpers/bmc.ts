// Helpers for BMC emulator tests: a fleet on ephemeral loopback ports, a Redfish client that
// trusts the fleet's generated CA, ipmitool and the Python peers from .peers/venv.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { defaultFleet, type FleetFile, resolveFleet } from '../../emulator/fleet/config.js';
import { type BmcAddresses, Fleet, type FleetOptions } from '../../emulator/fleet/fleet.js';
import { type ExecResult, ROOT, run, tempDir } from './apiserver.js';

export { type ExecResult, run };

export const PYTHON = join(ROOT, '.peers', 'venv', 'bin', 'python');
export const havePythonPeers = existsSync(PYTHON);

export interface TestFleet {
  fleet: Fleet;
  addrs: BmcAddresses[];
  dir: string;
  ca: string | null;
  url: string;
  close(): Promise<void>;
}

export async function startTestFleet(file: FleetFile | number = 1, opts: FleetOptions & { tls?: boolean } = {}): Promise<TestFleet> {
  const f = typeof file === 'number' ? defaultFleet(file) : file;
  f.redfish = { ...f.redfish, tls: opts.tls ?? f.redfish?.tls ?? false };
  f.timeScale ??= 1000;
  const dir = opts.dataDir ?? tempDir('ferrite-bmc-');
  const fleet = new Fleet(resolveFleet(f), { ...opts, dataDir: dir });
  const addrs = await fleet.start({ redfishPort: 0, ipmiPorts: 'ephemeral' });
  const caPath = join(dir, 'pki', 'ca.crt');
  return {
    fleet,
    addrs,
    dir,
    ca: existsSync(caPath) ? readFileSync(caPath, 'utf8') : null,
    url: fleet.redfishUrl ?? '',
    close: () => fleet.close(),
  };
}

/** The UDP port of machine i's IPMI BMC. */
export function ipmiPort(t: TestFleet, i = 0): number {
  const a = t.addrs[i].ipmi;
  if (!a) throw new Error(`machine ${t.addrs[i].name} has no IPMI BMC`);
  return Number(a.slice(a.lastIndexOf(':') + 1));
}

export interface RfResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: Record<string, unknown>;
}

/** One Redfish request; `auth` is [user, password] for Basic or a session token string. */
export function rf(
  base: string,
  method: string,
  path: string,
  o: { auth?: [string, string] | string; body?: unknown; headers?: Record<string, string>; ca?: string | null; raw?: string } = {},
): Promise<RfResponse> {
  const u = new URL(path, base);
  const headers: Record<string, string> = { ...o.headers };
  if (Array.isArray(o.auth)) headers.authorization = `Basic ${Buffer.from(o.auth.join(':')).toString('base64')}`;
  else if (o.auth) headers['x-auth-token'] = o.auth;
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const mod = u.protocol === 'https:' ? https : http;
    const req = mod.request(u, { method, headers, ca: o.ca ?? undefined, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = text ? JSON.parse(text) : {};
        } catch {}
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function ipmitool(port: number, args: string[], o: { user?: string; password?: string; cipher?: number } = {}): Promise<ExecResult> {
  const base = [
    '-I',
    'lanplus',
    '-H',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    o.user ?? 'admin',
    '-P',
    o.password ?? 'password',
    '-R',
    '1',
    '-N',
    '1',
  ];
  if (o.cipher !== undefined) base.push('-C', String(o.cipher));
  return run('ipmitool', [...base, ...args], { timeoutMs: 30_000 });
}

/** A loopback HTTP server serving `files` (path → bytes); records every request it sees. */
export async function startFileServer(files: Record<string, Buffer>): Promise<{
  url: string;
  requests: string[];
  /** serves (or, with null, stops serving) a file from now on */
  put(path: string, body: Buffer | null): void;
  close(): Promise<void>;
}> {
  const requests: string[] = [];
  const srv = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-length': f.length, 'content-type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : f);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    requests,
    put(path, body) {
      if (body) files[path] = body;
      else delete files[path];
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}
