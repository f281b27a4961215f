// The harness's Redfish client: every request is kept as evidence, headers are sent as sushy
// sends them (OData-Version, Accept-Encoding: identity, Connection: close), and nothing is retried
// behind the check's back — a check sees exactly what the BMC answered.
import http from 'node:http';
import https from 'node:https';
import type { Exchange } from './types.js';

export interface RedfishTarget {
  /** scheme://host:port */
  base: string;
  /** /redfish/v1/Systems/<id> */
  systemPath: string;
  username: string;
  password: string;
  insecure: boolean;
  timeoutMs: number;
}

export interface RfResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  text: string;
  ms: number;
}

export type Auth = { kind: 'basic' } | { kind: 'session'; token: string } | { kind: 'none' };

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  auth?: Auth;
  /** omit sushy's default headers (to test them one by one) */
  bare?: boolean;
  /** send the body raw (not JSON-encoded), or no body at all when undefined */
  rawBody?: string;
}

export class RedfishRequestError extends Error {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
  }
}

const SENSITIVE = /^(authorization|x-auth-token)$/i;

export class RedfishClient {
  constructor(
    readonly target: RedfishTarget,
    private readonly record: (x: Exchange) => void,
  ) {}

  get system(): string {
    return this.target.systemPath;
  }

  /** Sends one request; a transport failure throws RedfishRequestError (also recorded). */
  request(method: string, path: string, o: RequestOptions = {}): Promise<RfResponse> {
    const url = new URL(path, this.target.base);
    const auth = o.auth ?? { kind: 'basic' };
    const headers: Record<string, string> = o.bare
      ? {}
      : { 'OData-Version': '4.0', 'Accept-Encoding': 'identity', Connection: 'close', Accept: 'application/json' };
    if (auth.kind === 'basic')
      headers.Authorization = `Basic ${Buffer.from(`${this.target.username}:${this.target.password}`).toString('base64')}`;
    if (auth.kind === 'session') headers['X-Auth-Token'] = auth.token;
    let payload: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['Content-Type'] = 'application/json';
    }
    Object.assign(headers, o.headers ?? {});
    if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
    const t0 = Date.now();
    const ex: Exchange = {
      at: new Date(t0).toISOString(),
      method,
      url: url.toString(),
      requestHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, SENSITIVE.test(k) ? '<redacted>' : v])),
      requestBody: o.body ?? o.rawBody,
      status: null,
      responseHeaders: {},
      ms: 0,
    };
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<RfResponse>((resolve, reject) => {
      const req = mod.request(
        url,
        { method, headers, agent: false, rejectUnauthorized: !this.target.insecure, timeout: this.target.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => done(e));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = text;
            if (/json/i.test(String(res.headers['content-type'] ?? '')) || /^\s*[{[]/.test(text)) {
              try {
                body = text ? JSON.parse(text) : undefined;
              } catch {
                body = text;
              }
            }
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
            const r: RfResponse = { status: res.statusCode ?? 0, headers: h, body, text, ms: Date.now() - t0 };
            Object.assign(ex, {
              status: r.status,
              responseHeaders: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, SENSITIVE.test(k) ? '<redacted>' : v])),
              responseBody: body,
              ms: r.ms,
            });
            this.record(ex);
            resolve(r);
          });
        },
      );
      let settled = false;
      const done = (e: Error) => {
        if (settled) return;
        settled = true;
        ex.error = e.message;
        ex.ms = Date.now() - t0;
        this.record(ex);
        reject(new RedfishRequestError(`${method} ${url.pathname}: ${e.message}`, url.toString()));
      };
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.target.timeoutMs} ms`)));
      req.on('error', done);
      req.end(payload);
    });
  }

  get(path: string, o: RequestOptions = {}): Promise<RfResponse> {
    return this.request('GET', path, o);
  }

  /** GET that must answer 200 with a JSON object, else throws with what came back. */
  async json(path: string, o: RequestOptions = {}): Promise<Record<string, unknown>> {
    const r = await this.get(path, o);
    if (r.status !== 200 || !r.body || typeof r.body !== 'object')
      throw new RedfishRequestError(`GET ${path} answered ${r.status}${errorMessage(r) ? `: ${errorMessage(r)}` : ''}`, path);
    return r.body as Record<string, unknown>;
  }
}

/** The message of a Redfish error body, or the text. */
export function errorMessage(r: RfResponse): string {
  const e = (r.body as { error?: { message?: string; '@Message.ExtendedInfo'?: Array<{ MessageId?: string; Message?: string }> } })?.error;
  if (e) {
    const info = e['@Message.ExtendedInfo']?.[0];
    return [info?.MessageId, info?.Message ?? e.message].filter(Boolean).join(': ');
  }
  return typeof r.body === 'string' ? r.body.slice(0, 200).trim() : '';
}

export const is2xx = (r: RfResponse) => r.status >= 200 && r.status < 300;

/** The @odata.id a link object names ('' when none). */
export const odataId = (x: unknown): string => String((x as Record<string, unknown> | undefined)?.['@odata.id'] ?? '');
