// One loopback listener for every simulated agent's command API (as fake-ipa does): the agent's
// callback URL is http://127.0.0.1:<port>/<agent-id>, under which IPA's routes live. Agents that
// talk to an https Ironic use IPA's automatic TLS: the hub's second, HTTPS listener with a
// self-signed certificate the agent sends as agent_verify_ca, so Ironic verifies it.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type TrustedFetch, trustingFetch } from '../../lib/trusted-fetch.js';
import { AgentCommandError, type AgentFaults, type SimulatedAgent } from './ipa.js';

export class AgentHub {
  private server: http.Server | null = null;
  private starting: Promise<void> | null = null;
  private tlsServer: https.Server | null = null;
  private tlsStarting: Promise<void> | null = null;
  /** the certificate of the HTTPS listener (what an agent sends as agent_verify_ca) */
  certificatePem: string | null = null;
  tlsPort = 0;
  /** fetch for the firmware and agents: trusts the public roots and the CAs given to trust() */
  fetch: TrustedFetch = trustingFetch([]);
  private readonly agents = new Map<string, SimulatedAgent>();
  private life = new AbortController();
  /** aborted when the hub closes, so no agent outlives the emulator */
  get lifetime(): AbortSignal {
    return this.life.signal;
  }
  /** faults injected per machine name; read when an agent boots */
  readonly faults = new Map<string, AgentFaults>();
  /** per machine name: the address its BMC reports in band (what `ipmitool lan print` shows the agent) */
  readonly bmcAddresses = new Map<string, string>();
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

  /** Trust these PEM CAs (and the public roots) for HTTPS from now on. */
  trust(cas: string[]): void {
    this.fetch = trustingFetch(cas);
  }

  /** The HTTPS listener, made on first use with a certificate for the hub's address. */
  async startTls(): Promise<void> {
    if (this.life.signal.aborted) throw new Error('emulator stopping: no agent can boot');
    if (this.tlsServer) return;
    this.tlsStarting ??= (async () => {
      // loaded on first use: the agent ramdisk's bundle never serves TLS and should not carry the PKI code
      const { createServingCertificate } = await import('../../provider/apiserver/pki.js');
      const leaf = await createServingCertificate('ironic-python-agent', [this.host, 'localhost']);
      // IPA sends its self-signed certificate; here the leaf's issuer is what verifies it
      this.certificatePem = leaf.caPem;
      await new Promise<void>((resolve, reject) => {
        const s = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => void this.handle(req, res));
        s.once('error', reject);
        s.listen(0, this.host, () => {
          this.tlsPort = (s.address() as AddressInfo).port;
          this.tlsServer = s;
          resolve();
        });
      });
    })();
    await this.tlsStarting;
  }

  url(agent: SimulatedAgent): string {
    if (agent.tls && !this.advertise) return `https://${this.host}:${this.tlsPort}/${agent.id}`;
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
    const servers = [this.server, this.tlsServer];
    this.server = null;
    this.tlsServer = null;
    this.starting = null;
    this.tlsStarting = null;
    this.agents.clear();
    this.life.abort(new Error('emulator stopping'));
    for (const s of servers) {
      if (!s) continue;
      await new Promise<void>((r) => {
        s.close(() => r());
        s.closeAllConnections();
      });
    }
  }
}
