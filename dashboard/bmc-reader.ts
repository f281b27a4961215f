// What a host's BMC says, read the way Ironic reads it: Redfish on the host's own BMC address with
// the host's credentials (System power and boot, virtual media, the event log and the serial
// console log where the BMC keeps them). An IPMI-only host has no Redfish of its own; when the BMC
// is Ferrite's emulator (--emulator-url) its machine is found there by name.
import { Agent, request } from 'undici';

export interface BmcView {
  source: string;
  power: string;
  boot: { target: string; enabled: string; mode: string };
  virtualMedia: Array<{ id: string; inserted: boolean; image: string }>;
  events: Array<{ at: string; severity: string; message: string }>;
  console: string[];
}

export class BmcReadError extends Error {
  constructor(
    readonly reason: 'NoRedfish' | 'Unreachable' | 'Refused' | 'NotFound',
    message: string,
  ) {
    super(message);
    this.name = 'BmcReadError';
  }
}

interface Target {
  base: string;
  system: string;
  insecure: boolean;
  auth: string;
}

const CONSOLE_TAIL = 40;
const EVENT_TAIL = 50;
/** a log entry collection lists references only ($expand is optional in Redfish): entries are read one by one */
const ENTRY_READS_AT_ONCE = 8;

export class BmcReader {
  private readonly agents = new Map<string, Agent>();
  /** emulator machine name → System path, filled on the first IPMI host opened */
  private byName?: Map<string, string>;

  private readonly entryCache = new Map<string, Record<string, unknown>>();

  /**
   * @param timeScale how many times faster than real time the BMCs' clocks run (Ferrite's emulator
   *   at `--time-scale N` runs them N times faster): their log times are mapped back to real time
   *   with the BMC's own current time (LogService DateTime), which also corrects a skewed clock.
   */
  constructor(
    private readonly emulatorUrl?: string,
    private readonly timeScale = 1,
  ) {}

  private remember(k: string, v: Record<string, unknown>): void {
    this.entryCache.set(k, v);
    // bounded: the oldest entries go first (a Map keeps insertion order)
    if (this.entryCache.size > 20_000) this.entryCache.delete(this.entryCache.keys().next().value as string);
  }

  close(): void {
    for (const a of this.agents.values()) void a.close();
  }

  async read(address: string, username: string, password: string, insecure: boolean, hostName: string): Promise<BmcView> {
    const auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    const t = await this.target(address, auth, insecure, hostName);
    const sys = await this.get(t, t.system);
    const boot = (sys.Boot ?? {}) as Record<string, string>;
    const vmRef = (sys.VirtualMedia as { '@odata.id'?: string } | undefined)?.['@odata.id'];
    const logsRef = (sys.LogServices as { '@odata.id'?: string } | undefined)?.['@odata.id'];
    const [vms, events, console, clock] = await Promise.all([
      vmRef ? this.members(t, vmRef) : Promise.resolve([]),
      logsRef ? this.entries(t, `${logsRef}/EventLog/Entries`, EVENT_TAIL, true) : Promise.resolve([]),
      logsRef ? this.entries(t, `${logsRef}/Console/Entries`, CONSOLE_TAIL, false) : Promise.resolve([]),
      logsRef ? this.clock(t, `${logsRef}/EventLog`) : Promise.resolve(null),
    ]);
    // real time of a BMC time: now, less the BMC's age of the entry slowed back to real seconds
    const real = (v: unknown) => {
      const ms = Date.parse(String(v ?? ''));
      if (!clock || Number.isNaN(ms)) return String(v ?? '');
      return new Date(clock.localNow - (clock.bmcNow - ms) / this.timeScale).toISOString();
    };
    return {
      source: `${t.base}${t.system}`,
      power: String(sys.PowerState ?? ''),
      boot: {
        target: String(boot.BootSourceOverrideTarget ?? ''),
        enabled: String(boot.BootSourceOverrideEnabled ?? ''),
        mode: String(boot.BootSourceOverrideMode ?? ''),
      },
      virtualMedia: vms.map((v) => ({ id: String(v.Id ?? ''), inserted: v.Inserted === true, image: String(v.Image ?? '') })),
      events: events.map((e) => ({
        at: real(e.Created),
        severity: String(e.Severity ?? ''),
        message: String(e.Message ?? ''),
      })),
      console: console.map((e) => `${real(e.Created)} ${e.Message ?? ''}`),
    };
  }

  private async target(address: string, auth: string, insecure: boolean, hostName: string): Promise<Target> {
    const m = /^[a-z0-9-]*redfish[a-z-]*(?:\+(https?))?:\/\/([^/]+)(\/.*)?$/i.exec(address);
    if (m) {
      const scheme = m[1] ?? 'https';
      return {
        base: `${scheme}://${m[2]}`,
        system: m[3] && m[3] !== '/' ? m[3].replace(/\/$/, '') : '/redfish/v1/Systems/1',
        insecure,
        auth,
      };
    }
    if (!this.emulatorUrl)
      throw new BmcReadError(
        'NoRedfish',
        `the BMC at ${address} speaks no Redfish; start the dashboard with --emulator-url to read an emulated machine`,
      );
    // the emulator serves every machine's System on one Redfish endpoint, whatever the host's address
    const base = new URL(this.emulatorUrl).origin;
    const t: Target = { base, system: '', insecure: true, auth };
    if (!this.byName?.has(hostName)) {
      this.byName = new Map();
      const coll = await this.get(t, '/redfish/v1/Systems');
      for (const ref of (coll.Members ?? []) as Array<{ '@odata.id': string }>) {
        const s = await this.get(t, ref['@odata.id']);
        this.byName.set(String(s.Name), ref['@odata.id']);
      }
    }
    const system = this.byName.get(hostName);
    if (!system) throw new BmcReadError('NotFound', `the emulator at ${this.emulatorUrl} has no machine named ${hostName}`);
    return { ...t, system };
  }

  /** The BMC's current time (a log service's DateTime) beside ours, or null when it does not say. */
  private async clock(t: Target, path: string): Promise<{ bmcNow: number; localNow: number } | null> {
    try {
      const svc = await this.get(t, path);
      const localNow = Date.now();
      const bmcNow = Date.parse(String(svc.DateTime ?? ''));
      return Number.isNaN(bmcNow) ? null : { bmcNow, localNow };
    } catch {
      return null;
    }
  }

  private async members(t: Target, path: string): Promise<Array<Record<string, unknown>>> {
    const coll = await this.get(t, path);
    return Promise.all(((coll.Members ?? []) as Array<{ '@odata.id': string }>).map((r) => this.get(t, r['@odata.id'])));
  }

  private async entries(t: Target, path: string, tail: number, stable: boolean): Promise<Array<Record<string, unknown>>> {
    try {
      const refs = (((await this.get(t, path)).Members ?? []) as Array<Record<string, unknown>>).slice(-tail);
      const out: Array<Record<string, unknown>> = new Array(refs.length);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < refs.length; i = next++) {
          const id = String(refs[i]['@odata.id'] ?? '');
          // an expanded member is already whole; an event log entry never changes once written
          if (!id || 'Message' in refs[i]) out[i] = refs[i];
          else {
            const k = `${t.base}${id}`;
            const hit = stable ? this.entryCache.get(k) : undefined;
            out[i] = hit ?? (await this.get(t, id));
            if (stable && !hit) this.remember(k, out[i]);
          }
        }
      };
      await Promise.all(Array.from({ length: ENTRY_READS_AT_ONCE }, worker));
      return out;
    } catch (e) {
      // a BMC without this log service: nothing to show, not a failure of the whole read
      if (e instanceof BmcReadError && e.reason === 'NotFound') return [];
      throw e;
    }
  }

  private agent(t: Target): Agent {
    const k = `${t.base}|${t.insecure}`;
    let a = this.agents.get(k);
    if (!a) {
      a = new Agent({ connect: { rejectUnauthorized: !t.insecure }, keepAliveTimeout: 10_000 });
      this.agents.set(k, a);
    }
    return a;
  }

  private async get(t: Target, path: string): Promise<Record<string, unknown>> {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${t.base}${path}`, {
        dispatcher: this.agent(t),
        headers: { authorization: t.auth, accept: 'application/json' },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
    } catch (e) {
      throw new BmcReadError('Unreachable', `cannot reach the BMC at ${t.base}: ${(e as Error).message}`);
    }
    const text = await res.body.text();
    if (res.statusCode === 401 || res.statusCode === 403)
      throw new BmcReadError('Refused', `the BMC at ${t.base} refused the host's credentials (HTTP ${res.statusCode})`);
    if (res.statusCode === 404) throw new BmcReadError('NotFound', `the BMC at ${t.base} has no ${path}`);
    if (res.statusCode >= 400) throw new BmcReadError('Unreachable', `the BMC at ${t.base} answered HTTP ${res.statusCode} for ${path}`);
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new BmcReadError('Unreachable', `the BMC at ${t.base} sent a non-JSON body for ${path}`);
    }
  }
}
