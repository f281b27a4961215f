// The Redfish client Ironic's redfish interfaces use: session auth with fallback to Basic, one
// keep-alive connection pool per BMC, ETag-aware PATCH, and errors that say what the BMC said.
// Hand-written (the design's list): sushy has no JS counterpart worth a dependency.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { AgentPools } from '../../../lib/keep-alive.js';
import { IronicError } from '../errors.js';

export interface RedfishEndpoint {
  /** scheme://host[:port] */
  address: string;
  username?: string;
  password?: string;
  /** false, true, or a CA bundle (PEM) */
  verifyCa: boolean | string;
  authType: 'auto' | 'session' | 'basic';
  timeoutMs: number;
  /** retries of transient BMC errors, and the delay between them (grows per attempt) */
  retries: number;
  retryDelayMs: number;
}

const TRANSIENT_MESSAGES = ['ActionParameterValueConflict', 'UnableToModifyDuringSystemPOST', 'InvalidOperationForSystemState', 'SYS518'];

export class RedfishHttpError extends IronicError {
  constructor(
    readonly httpStatus: number,
    readonly messageIds: string[],
    message: string,
  ) {
    super('Internal', message);
  }
}

function messageIds(body: Record<string, unknown>): string[] {
  const err = body.error as { code?: string; '@Message.ExtendedInfo'?: Array<{ MessageId?: string }> } | undefined;
  const ids = (err?.['@Message.ExtendedInfo'] ?? []).map((m) => String(m.MessageId ?? ''));
  if (err?.code) ids.push(String(err.code));
  return ids.filter(Boolean);
}

export interface RedfishResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** One keep-alive pool per BMC; bounded well above a fleet's size, as BMCs come and go. */
const agents = new AgentPools<http.Agent>(4096);
/**
 * Connections to one Redfish address at once. A BMC sees one or two (its node's task and the power
 * sync); an address serving many systems (sushy-tools, Ferrite's emulator, a chassis manager) sees
 * every node's: at 1,000 nodes behind one emulator, 4 made 300 cleaning tasks queue for minutes.
 */
const MAX_SOCKETS_PER_ADDRESS = 16;

function agentFor(ep: RedfishEndpoint, secure: boolean): http.Agent {
  // the CA itself is part of the key: two BMCs at one address with different CAs get different pools
  const ca = typeof ep.verifyCa === 'string' ? createHash('sha256').update(ep.verifyCa).digest('hex') : ep.verifyCa;
  return agents.get(`${secure}|${ep.address}|${ca}`, () =>
    secure
      ? new https.Agent({
          keepAlive: true,
          maxSockets: MAX_SOCKETS_PER_ADDRESS,
          rejectUnauthorized: ep.verifyCa !== false,
          ca: typeof ep.verifyCa === 'string' ? ep.verifyCa : undefined,
        })
      : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS_PER_ADDRESS }),
  );
}

export class RedfishClient {
  private token: string | null = null;
  private sessionUri: string | null = null;
  private useBasic: boolean;
  private systemPath: string | null = null;

  constructor(
    readonly ep: RedfishEndpoint,
    private readonly systemId: string | null,
  ) {
    this.useBasic = ep.authType === 'basic';
  }

  private raw(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RedfishResponse> {
    const url = new URL(path, this.ep.address);
    const secure = url.protocol === 'https:';
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const h: Record<string, string> = { Accept: 'application/json', 'OData-Version': '4.0', ...headers };
    if (data) {
      h['Content-Type'] = 'application/json';
      h['Content-Length'] = String(data.length);
    }
    if (this.token) h['X-Auth-Token'] = this.token;
    else if (this.useBasic && this.ep.username !== undefined)
      h.Authorization = `Basic ${Buffer.from(`${this.ep.username}:${this.ep.password ?? ''}`).toString('base64')}`;
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        { method, headers: h, agent: agentFor(this.ep, secure), timeout: this.ep.timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            if (text.trim()) {
              try {
                const v = JSON.parse(text);
                parsed = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
              } catch {
                parsed = { '@ferrite.text': text.slice(0, 200) };
              }
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.ep.timeoutMs} ms`)));
      req.on('error', (e) =>
        reject(new IronicError('BMCUnreachable', `Unable to connect to Redfish service at ${this.ep.address}: ${e.message}`)),
      );
      req.end(data);
    });
  }

  private async login(): Promise<void> {
    if (this.useBasic || this.token) return;
    const r = await this.raw('POST', '/redfish/v1/SessionService/Sessions', {
      UserName: this.ep.username ?? '',
      Password: this.ep.password ?? '',
    });
    if (r.status === 201 || r.status === 200) {
      this.token = String(r.headers['x-auth-token'] ?? '') || null;
      this.sessionUri = typeof r.headers.location === 'string' ? r.headers.location : null;
      if (this.token) return;
    }
    if (r.status === 401 || r.status === 403) throw authFailed(this.ep.address, r);
    if (this.ep.authType === 'session')
      throw new IronicError('BMCAuthFailed', `Redfish session creation at ${this.ep.address} failed with HTTP ${r.status}`);
    // no usable session service: Basic on every request, as sushy's auto mode falls back
    this.useBasic = true;
  }

  /** One request; re-authenticates once when the session expired. Non-2xx answers throw. */
  /**
   * One request; re-authenticates once when the session expired, and retries what real BMCs
   * report as transient (5xx while busy, iDRAC's 409 on Reset, iLO's "during POST" and
   * "invalid for system state", iDRAC SYS518) a few times, as sushy and Ironic do.
   * Other non-2xx answers throw a RedfishHttpError carrying the status and message ids.
   */
  async request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<RedfishResponse> {
    await this.login();
    for (let attempt = 0; ; attempt++) {
      let r = await this.raw(method, path, body, headers);
      if (r.status === 401 && this.token) {
        this.token = null;
        await this.login();
        r = await this.raw(method, path, body, headers);
      }
      if (r.status === 401 || r.status === 403) throw authFailed(this.ep.address, r);
      if (r.status < 400) return r;
      const ids = messageIds(r.body);
      const transient = (r.status >= 500 && r.status !== 501) || ids.some((id) => TRANSIENT_MESSAGES.some((t) => id.endsWith(t)));
      if (!transient || attempt >= this.ep.retries)
        throw new RedfishHttpError(r.status, ids, `Redfish ${method} ${path} failed with HTTP ${r.status}: ${redfishMessage(r.body)}`);
      await new Promise((res) => setTimeout(res, this.ep.retryDelayMs * (attempt + 1)));
    }
  }

  get(path: string): Promise<RedfishResponse> {
    return this.request('GET', path);
  }

  /** PATCH with the resource's ETag when it has one (some BMCs require If-Match). */
  async patch(path: string, body: unknown): Promise<RedfishResponse> {
    const cur = await this.get(path);
    const etag = typeof cur.headers.etag === 'string' ? cur.headers.etag : (cur.body['@odata.etag'] as string | undefined);
    if (!etag) return this.request('PATCH', path, body);
    // BMCs disagree on ETags: some refuse the weak form, some any If-Match; try as sushy does
    const tries = [etag, ...(etag.startsWith('W/') ? [etag.slice(2)] : []), null];
    for (const [i, tag] of tries.entries()) {
      try {
        return await this.request('PATCH', path, body, tag ? { 'If-Match': tag } : {});
      } catch (e) {
        if (!(e instanceof RedfishHttpError && e.httpStatus === 412) || i === tries.length - 1) throw e;
      }
    }
    throw new IronicError('Internal', 'unreachable');
  }

  post(path: string, body: unknown): Promise<RedfishResponse> {
    return this.request('POST', path, body);
  }

  /** The system this node is: redfish_system_id, or the only member of /Systems. */
  async system(): Promise<string> {
    if (this.systemPath) return this.systemPath;
    if (this.systemId) {
      await this.get(this.systemId);
      this.systemPath = this.systemId;
      return this.systemId;
    }
    const col = await this.get('/redfish/v1/Systems');
    const members = (col.body.Members as Array<{ '@odata.id': string }> | undefined) ?? [];
    if (members.length !== 1)
      throw new IronicError(
        'InvalidParameterValue',
        `redfish_system_id is required: the Redfish service at ${this.ep.address} has ${members.length} systems`,
      );
    this.systemPath = members[0]['@odata.id'];
    return this.systemPath;
  }

  async close(): Promise<void> {
    if (this.token && this.sessionUri) await this.raw('DELETE', this.sessionUri).catch(() => {});
    this.token = null;
  }
}

function authFailed(address: string, r: RedfishResponse): IronicError {
  return new IronicError(
    'BMCAuthFailed',
    `Redfish authentication at ${address} failed (HTTP ${r.status}): check the BMC username and password`,
  );
}

export function redfishMessage(body: Record<string, unknown>): string {
  const err = body.error as { message?: string; '@Message.ExtendedInfo'?: Array<{ Message?: string }> } | undefined;
  const ext = err?.['@Message.ExtendedInfo']?.map((m) => m.Message).filter(Boolean);
  if (ext?.length) return ext.join('; ');
  if (err?.message) return err.message;
  if (typeof body['@ferrite.text'] === 'string') return body['@ferrite.text'] as string;
  return 'no details';
}

/** Follows a 202's task monitor until the operation ends; throws with the BMC's messages if it failed. */
export async function waitForTask(c: RedfishClient, r: RedfishResponse, timeoutMs: number, pollMs: number): Promise<RedfishResponse> {
  if (r.status !== 202) return r;
  const monitor = typeof r.headers.location === 'string' ? new URL(r.headers.location, c.ep.address).pathname : null;
  if (!monitor) return r;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const m = await c.request('GET', monitor).catch((e: unknown) => {
      throw new IronicError('Internal', `Redfish task ${monitor} failed: ${(e as Error).message}`);
    });
    if (m.status !== 202) {
      const state = m.body.TaskState;
      if (state === 'Exception' || state === 'Cancelled')
        throw new IronicError('Internal', `Redfish task ${monitor} ended ${String(state)}: ${redfishMessage(m.body)}`);
      return m;
    }
    if (Date.now() > until) throw new IronicError('Internal', `Redfish task ${monitor} did not finish within ${timeoutMs / 1000} s`);
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
