// The conductor's side of the ironic-python-agent command API: POST /v1/commands/ with
// {name, params} (sync with wait=true, async otherwise) and GET /v1/commands/ to follow async
// commands, authenticated with the node's agent token.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { AgentPools, closedWhileIdle, IDLE_SOCKET_MS } from '../../../lib/keep-alive.js';
import { IronicError } from '../errors.js';

/** A running agent: its API URL, its token and, for an https URL, the certificate it sent (agent_verify_ca). */
export interface AgentRef {
  url: string;
  token: string;
  verifyCa?: string;
}

interface Reply {
  status: number;
  text: string;
}

/** Keep-alive pools per running agent (origin and the certificate it sent): a deploy's commands and
 * polls share connections. Bounded, oldest dropped: agents come and go with deployments. */
const pools = new AgentPools<http.Agent>(256);

function poolFor(url: URL, ca: string | undefined, insecure: boolean): http.Agent {
  const key = `${url.origin}|${insecure}|${ca ? createHash('sha256').update(ca).digest('hex') : ''}`;
  return pools.get(key, () =>
    url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS, ca, rejectUnauthorized: !insecure })
      : new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  );
}

/** One HTTP(S) request; an https agent is verified against its own certificate. */
function send(
  url: URL,
  init: { method: string; body?: string; ca?: string; insecure?: boolean; timeoutMs: number },
  retried = false,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const req = (secure ? https : http).request(
      url,
      {
        method: init.method,
        headers: init.body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(init.body) } : {},
        agent: poolFor(url, secure ? init.ca : undefined, secure && !!init.insecure),
        timeout: init.timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${init.timeoutMs / 1000} s`)));
    req.on('error', (e) => {
      // the agent closed a pooled connection while it idled: the command never reached it, send once more
      if (closedWhileIdle(req, e) && !retried) resolve(send(url, init, true));
      else reject(e);
    });
    if (init.body) req.write(init.body);
    req.end();
  });
}

export interface AgentCommand {
  id: string;
  command_name: string;
  command_params?: Record<string, unknown>;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEAN_VERSION_MISMATCH' | 'VERSION_MISMATCH';
  command_error: unknown;
  command_result: Record<string, unknown> | null;
}

export class AgentClient {
  /** insecure: do not verify an https agent (Ironic's [agent]verify_ca = False) */
  constructor(
    private readonly timeoutMs = 60_000,
    private readonly insecure = false,
  ) {}

  private async call(agent: AgentRef, url: string, init: { method: string; body?: string }): Promise<unknown> {
    let res: Reply;
    try {
      res = await send(new URL(url), { ...init, ca: agent.verifyCa, insecure: this.insecure, timeoutMs: this.timeoutMs });
    } catch (e) {
      throw new IronicError('AgentError', `Failed to connect to the agent at ${new URL(url).origin}: ${(e as Error).message}`);
    }
    const text = res.text;
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new IronicError('AgentError', `The agent at ${new URL(url).origin} answered HTTP ${res.status} with a body that is not JSON`);
    }
    if (res.status < 200 || res.status >= 300) {
      const msg =
        (body as { faultstring?: string; message?: string } | null)?.faultstring ??
        (body as { message?: string } | null)?.message ??
        text.slice(0, 200);
      throw new IronicError('AgentError', `Agent returned error for command: HTTP ${res.status}: ${msg}`);
    }
    return body;
  }

  async command(agent: AgentRef, name: string, params: Record<string, unknown>, wait: boolean): Promise<AgentCommand> {
    const url = `${agent.url.replace(/\/+$/, '')}/v1/commands/?wait=${wait}&agent_token=${encodeURIComponent(agent.token)}`;
    const r = (await this.call(agent, url, { method: 'POST', body: JSON.stringify({ name, params }) })) as AgentCommand;
    if (wait && r.command_status === 'FAILED')
      throw new IronicError('AgentError', `Agent command ${name} failed: ${errorText(r.command_error)}`);
    return r;
  }

  async list(agent: AgentRef): Promise<AgentCommand[]> {
    const url = `${agent.url.replace(/\/+$/, '')}/v1/commands/?agent_token=${encodeURIComponent(agent.token)}`;
    const r = (await this.call(agent, url, { method: 'GET' })) as { commands?: AgentCommand[] };
    return r.commands ?? [];
  }
}

export function errorText(e: unknown): string {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  const o = e as { message?: string; details?: string; type?: string };
  return [o.type, o.details ?? o.message].filter(Boolean).join(': ') || JSON.stringify(e);
}
