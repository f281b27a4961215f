// The harness's own HTTP(S) server: it serves a small boot ISO, an iPXE script and a kernel, and
// records every hit, so a check can see the BMC fetch media and the host boot it rather than
// trusting what the BMC reports. The ISO's boot entry and the iPXE script name a phone-home URL
// that the booted kernel requests (the emulator's simulated kernel does; on real hardware use an
// ISO whose init fetches the `ferrite.phone_home=` URL from its command line).
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { buildIso } from '../lib/iso9660.js';
import { createCertificateAuthority, signCertificate } from '../provider/apiserver/pki.js';

export interface Hit {
  at: number;
  method: string;
  path: string;
  range?: string;
  from: string;
  userAgent?: string;
  tls: boolean;
}

export class GroundTruth {
  readonly hits: Hit[] = [];
  readonly token = randomBytes(6).toString('hex');
  private servers: Array<http.Server | https.Server> = [];
  url = '';
  httpsUrl = '';
  private iso: Buffer = Buffer.alloc(0);
  private readonly kernel = Buffer.from('ferrite conformance kernel: a stand-in the simulated firmware fetches\n');

  /** `address` is host[:port] the BMC can reach (the harness's side of the provisioning network). */
  constructor(private readonly address: string) {}

  get isoUrl(): string {
    return `${this.url}/conformance-${this.token}.iso`;
  }

  get httpsIsoUrl(): string {
    return `${this.httpsUrl}/conformance-${this.token}.iso`;
  }

  get ipxeUrl(): string {
    return `${this.url}/boot.ipxe`;
  }

  phoneHomePath(kind: string): string {
    return `/phone-home/${this.token}/${kind}`;
  }

  async start(withHttps: boolean): Promise<void> {
    const [host, portText] = splitHostPort(this.address);
    const plain = http.createServer((q, s) => this.handle(q, s, false));
    const port = await listen(plain, host, Number(portText ?? 0));
    this.servers.push(plain);
    const shown = host.includes(':') ? `[${host}]` : host;
    this.url = `http://${shown}:${port}`;
    this.iso = buildIso('FERRITE_CONF', [
      {
        path: 'boot/grub/grub.cfg',
        data: Buffer.from(
          `set timeout=1\nmenuentry "Ferrite conformance" {\n  linux /vmlinuz ferrite.phone_home=${this.url}${this.phoneHomePath('media')}\n}\n`,
        ),
      },
      { path: 'vmlinuz', data: this.kernel },
    ]);
    if (withHttps) {
      const ca = await createCertificateAuthority('ferrite-conformance-ca', 1);
      const cert = await signCertificate({ ca, cn: host, hosts: [host], server: true, years: 1 });
      const secure = https.createServer({ cert: cert.certPem, key: cert.keyPem }, (q, s) => this.handle(q, s, true));
      const sp = await listen(secure, host, 0);
      this.servers.push(secure);
      this.httpsUrl = `https://${shown}:${sp}`;
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse, tls: boolean): void {
    const path = (req.url ?? '/').split('?')[0];
    this.hits.push({
      at: Date.now(),
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      range: req.headers.range,
      from: req.socket.remoteAddress ?? '',
      userAgent: req.headers['user-agent'],
      tls,
    });
    req.resume();
    if (path === `/conformance-${this.token}.iso`) {
      serveBytes(req, res, this.iso, 'application/x-iso9660-image');
      return;
    }
    if (path === '/vmlinuz') {
      serveBytes(req, res, this.kernel, 'application/octet-stream');
      return;
    }
    if (path === '/boot.ipxe') {
      const body = `#!ipxe\nkernel ${this.url}/vmlinuz ferrite.phone_home=${this.url}${this.phoneHomePath('pxe')}-\${mac:hexhyp}\nboot\n`;
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    if (path.startsWith(`/phone-home/${this.token}/`)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    res.writeHead(404);
    res.end();
  }

  hitsSince(t: number, pred: (h: Hit) => boolean): Hit[] {
    return this.hits.filter((h) => h.at >= t && pred(h));
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((r) => {
            s.close(() => r());
            s.closeAllConnections();
          }),
      ),
    );
    this.servers = [];
  }
}

function serveBytes(req: IncomingMessage, res: ServerResponse, data: Buffer, type: string): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (range) {
    const start = range[1] ? Number(range[1]) : Math.max(0, data.length - Number(range[2]));
    const end = range[1] && range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1;
    if (start >= data.length || start > end) {
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
      res.end();
      return;
    }
    res.writeHead(206, {
      'Content-Type': type,
      'Content-Range': `bytes ${start}-${end}/${data.length}`,
      'Content-Length': end - start + 1,
    });
    res.end(req.method === 'HEAD' ? undefined : data.subarray(start, end + 1));
    return;
  }
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': data.length, 'Accept-Ranges': 'bytes' });
  res.end(req.method === 'HEAD' ? undefined : data);
}

function listen(s: http.Server | https.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => {
      s.off('error', reject);
      resolve((s.address() as AddressInfo).port);
    });
  });
}

export function splitHostPort(a: string): [string, string | undefined] {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(a);
  if (v6) return [v6[1], v6[2]];
  const i = a.lastIndexOf(':');
  if (i > 0 && a.indexOf(':') === i) return [a.slice(0, i), a.slice(i + 1)];
  return [a, undefined];
}
