// What every keep-alive HTTP client here shares: a bounded set of connection pools keyed by peer
// and TLS identity, and the one failure a pooled connection may meet that calls for sending again.
import type { ClientRequest, Agent as HttpAgent } from 'node:http';

/** Pooled sockets idle longer than this are closed: under the idle timeouts of the servers we talk to. */
export const IDLE_SOCKET_MS = 30_000;

/**
 * True when a request failed because the pooled connection it was given had been closed by the
 * peer while idle: the request never reached the peer, and sending it once more on a fresh
 * connection is safe (Node's documentation advises this for keep-alive agents).
 */
export function closedWhileIdle(req: ClientRequest, e: Error): boolean {
  return req.reusedSocket && (e as NodeJS.ErrnoException).code === 'ECONNRESET';
}

/** Connection pools by key, the oldest destroyed past `max` (peers come and go). */
export class AgentPools<A extends HttpAgent> {
  private readonly agents = new Map<string, A>();

  constructor(private readonly max: number) {}

  get(key: string, make: () => A): A {
    let a = this.agents.get(key);
    if (a) return a;
    a = make();
    this.agents.set(key, a);
    for (const [k, old] of this.agents) {
      if (this.agents.size <= this.max) break;
      this.agents.delete(k);
      old.destroy();
    }
    return a;
  }

  /** Destroys every pool (their in-flight requests too). */
  clear(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
