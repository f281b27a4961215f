// The conductor's side of the ironic-python-agent command API: POST /v1/commands/ with
// {name, params} (sync with wait=true, async otherwise) and GET /v1/commands/ to follow async
// commands, authenticated with the node's agent token.
import { IronicError } from '../errors.js';

export interface AgentCommand {
  id: string;
  command_name: string;
  command_params?: Record<string, unknown>;
  command_status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CLEAN_VERSION_MISMATCH' | 'VERSION_MISMATCH';
  command_error: unknown;
  command_result: Record<string, unknown> | null;
}

export class AgentClient {
  constructor(private readonly timeoutMs = 60_000) {}

  private async call(url: string, init: RequestInit): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new IronicError('AgentError', `Failed to connect to the agent at ${new URL(url).origin}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      throw new IronicError('AgentError', `The agent at ${new URL(url).origin} answered HTTP ${res.status} with a body that is not JSON`);
    }
    if (!res.ok) {
      const msg =
        (body as { faultstring?: string; message?: string } | null)?.faultstring ??
        (body as { message?: string } | null)?.message ??
        text.slice(0, 200);
      throw new IronicError('AgentError', `Agent returned error for command: HTTP ${res.status}: ${msg}`);
    }
    return body;
  }

  async command(agentUrl: string, token: string, name: string, params: Record<string, unknown>, wait: boolean): Promise<AgentCommand> {
    const url = `${agentUrl.replace(/\/+$/, '')}/v1/commands/?wait=${wait}&agent_token=${encodeURIComponent(token)}`;
    const r = (await this.call(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name, params }),
    })) as AgentCommand;
    if (wait && r.command_status === 'FAILED')
      throw new IronicError('AgentError', `Agent command ${name} failed: ${errorText(r.command_error)}`);
    return r;
  }

  async list(agentUrl: string, token: string): Promise<AgentCommand[]> {
    const url = `${agentUrl.replace(/\/+$/, '')}/v1/commands/?agent_token=${encodeURIComponent(token)}`;
    const r = (await this.call(url, { method: 'GET' })) as { commands?: AgentCommand[] };
    return r.commands ?? [];
  }
}

export function errorText(e: unknown): string {
  if (!e) return 'unknown error';
  if (typeof e === 'string') return e;
  const o = e as { message?: string; details?: string; type?: string };
  return [o.type, o.details ?? o.message].filter(Boolean).join(': ') || JSON.stringify(e);
}
