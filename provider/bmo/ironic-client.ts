// The Ironic REST client the operator uses, speaking to Ironic only over its public v1 API (as
// upstream's gophercloud client does): microversion negotiated from GET /v1, sent on every call;
// HTTP Basic auth; TLS with a CA bundle or without verification.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { closedWhileIdle, IDLE_SOCKET_MS } from '../../lib/keep-alive.js';

export interface IronicClientOptions {
  /** e.g. http://127.0.0.1:6385 or https://ironic:6385/v1/ */
  endpoint: string;
  username?: string;
  password?: string;
  caCert?: string;
  insecure?: boolean;
  timeoutMs?: number;
}

/** Upstream BMO refuses an Ironic older than this (virtual media attach/detach). */
export const BASELINE_MICROVERSION = 89;
const WANTED = [110, 109, 95, 93] as const;

export class IronicHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly method: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'IronicHttpError';
  }
}

export type Json = Record<string, unknown>;

export class IronicClient {
  private readonly base: URL;
  private version: number | null = null;
  /** One keep-alive pool and TLS context for this Ironic: no handshake per call. */
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(private readonly o: IronicClientOptions) {
    const u = new URL(o.endpoint);
    u.pathname = u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.base = u;
    this.agent =
      u.protocol === 'https:'
        ? new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ca: o.caCert, rejectUnauthorized: !o.insecure })
        : new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  }

  /** Closes the pooled connections. */
  close(): void {
    this.agent.destroy();
  }

  get microversion(): string | null {
    return this.version === null ? null : `1.${this.version}`;
  }

  /** Reads the API's version range; refuses an Ironic below the baseline. */
  async negotiate(): Promise<string> {
    const root = (await this.send('GET', '/v1', undefined, false)) as { version?: { version?: string; min_version?: string } };
    const max = Number(String(root.version?.version ?? '1.1').split('.')[1]);
    if (max < BASELINE_MICROVERSION) {
      throw new IronicHttpError(0, `Ironic API 1.${max} is older than the required 1.${BASELINE_MICROVERSION}`, 'GET', '/v1');
    }
    this.version = WANTED.find((v) => max >= v) ?? BASELINE_MICROVERSION;
    return `1.${this.version}`;
  }

  async request<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
    if (this.version === null) await this.negotiate();
    return (await this.send(method, path, body, true)) as T;
  }

  private send(method: string, path: string, body: unknown, versioned: boolean, retried = false): Promise<unknown> {
    const url = new URL(this.base.toString());
    const [p, q] = path.split('?');
    url.pathname = `${url.pathname.replace(/\/$/, '')}${p}`;
    url.search = q ? `?${q}` : '';
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (versioned && this.version !== null) headers['X-OpenStack-Ironic-API-Version'] = `1.${this.version}`;
    if (this.o.username !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.o.username}:${this.o.password ?? ''}`).toString('base64')}`;
    }
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    if (payload) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const tls = url.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const req = (tls ? httpsRequest : httpRequest)(
        url,
        {
          method,
          headers,
          timeout: this.o.timeoutMs ?? 30_000,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status >= 400) return reject(new IronicHttpError(status, errorMessage(status, text), method, path));
            if (!text) return resolve({});
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new IronicHttpError(status, `Ironic returned a non-JSON body for ${method} ${path}`, method, path));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`Ironic did not answer ${method} ${path} within ${this.o.timeoutMs ?? 30_000} ms`)));
      req.on('error', (e) => {
        // a pooled connection Ironic closed while idle: the request never reached it, send it again once
        if (closedWhileIdle(req, e) && !retried) {
          resolve(this.send(method, path, body, versioned, true));
        } else reject(new IronicHttpError(0, `cannot reach Ironic at ${this.base.origin}: ${e.message}`, method, path));
      });
      req.end(payload);
    });
  }
}

/** Ironic's error body is JSON whose error_message is itself JSON with a faultstring. */
function errorMessage(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as { error_message?: string; faultstring?: string };
    if (body.error_message) {
      try {
        const inner = JSON.parse(body.error_message) as { faultstring?: string };
        if (inner.faultstring) return inner.faultstring;
      } catch {
        return body.error_message;
      }
    }
    if (body.faultstring) return body.faultstring;
  } catch {
    // not JSON: fall through to the raw text
  }
  return `HTTP ${status}: ${text.slice(0, 200)}`;
}

export const isIronicStatus = (e: unknown, ...codes: number[]) => e instanceof IronicHttpError && codes.includes(e.status);
