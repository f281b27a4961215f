// One loopback HTTP listener for every simulated agent's command API (as fake-ipa does): the
// agent's callback URL is http://127.0.0.1:<port>/<agent-id>, under which IPA's routes live.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentCommandError, type AgentFaults, type SimulatedAgent } from './ipa.js';

export class AgentHub {
  private server: http.Server | null = null;
  private starting: Promise<void> | null = null;
  private readonly agents = new Map<string, SimulatedAgent>();
  private life = new AbortController();
  /** aborted when the hub closes, so no agent outlives the emulator */
  get lifetime(): AbortSignal {
    return this.life.signal;
  }
  /** faults injected per machine name; read when an agent boots */
  readonly faults = new Map<string, AgentFaults>();
  port = 0;

  constructor(
    private readonly host = '127.0.0.1',
    /** fixed port (the agent ramdisk listens on IPA's 9999); 0 = any free one */
    private readonly listenPort = 0,
    /** the base URL Ironic reaches this listener at, when that is not host:port (a VM behind port forwarding) */
    private readonly advertise: string | null = null,
  ) {}

  async start(): Promise<void> {
    if (this.life.signal.aborted) throw new Error('emulator stopping: no agent can boot');
    if (this.server) return;
    this.starting ??= new Promise<void>((resolve, reject) => {
      const s = http.createServer((req, res) => void this.handle(req, res));
      s.once('error', reject);
      s.listen(this.listenPort, this.host, () => {
        this.port = (s.address() as AddressInfo).port;
        this.server = s;
        resolve();
      });
    });
    await this.starting;
  }

  url(agent: SimulatedAgent): string {
    return `${this.advertise ?? `http://${this.host}:${this.port}`}/${agent.id}`;
  }

  register(agent: SimulatedAgent): void {
    this.agents.set(agent.id, agent);
  }

  unregister(agent: SimulatedAgent): void {
    this.agents.delete(agent.id);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://agent');
    const [id, ...rest] = url.pathname.split('/').filter(Boolean);
    const agent = this.agents.get(id ?? '');
    if (!agent || agent.crashed) {
      // nothing listens there any more: a refused/reset connection, as with a dead agent
      req.socket.destroy();
      return;
    }
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    };
    const path = rest.join('/');
    try {
      if (req.method === 'GET' && (path === '' || path === 'v1')) return send(200, { name: 'ironic-python-agent', version: 'v1' });
      if (req.method === 'GET' && path === 'v1/status') return send(200, agent.status());
      if (path === 'v1/commands' || path.startsWith('v1/commands/')) {
        if (agent.token && url.searchParams.get('agent_token') !== agent.token)
          return send(401, { faultstring: 'Agent token is required or invalid', faultcode: 'Client' });
        const cmdId = rest[2];
        if (req.method === 'GET' && !cmdId) return send(200, { commands: agent.listCommands() });
        if (req.method === 'GET' && cmdId) {
          const c = agent.command(cmdId);
          return c ? send(200, c) : send(404, { faultstring: `Command ${cmdId} not found`, faultcode: 'Client' });
        }
        if (req.method === 'POST' && !cmdId) {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          let body: { name?: unknown; params?: unknown };
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
          } catch {
            return send(400, { faultstring: 'Invalid JSON body', faultcode: 'Client' });
          }
          if (typeof body.name !== 'string') return send(400, { faultstring: 'Missing command name', faultcode: 'Client' });
          const wait = url.searchParams.get('wait') === 'true';
          const r = await agent.execute(body.name, (body.params ?? {}) as Record<string, unknown>, wait);
          return send(200, r);
        }
      }
      send(404, { faultstring: `No such resource: /${path}`, faultcode: 'Client' });
    } catch (e) {
      if (e instanceof AgentCommandError) return send(400, { faultstring: e.message, faultcode: 'Client', type: e.type });
      send(500, { faultstring: (e as Error).message, faultcode: 'Server' });
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    this.starting = null;
    this.agents.clear();
    this.life.abort(new Error('emulator stopping'));
    if (s)
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
  }
}
