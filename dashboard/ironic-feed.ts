// Ironic as the dashboard sees it: one list call for the whole fleet every interval (never one per
// node), with each node's provision state, power state, maintenance and last error; changes are
// told to the caller so the host timelines get Ironic's states interleaved.
import { type IronicClient, IronicHttpError } from '../provider/bmo/ironic-client.js';
import type { IronicNodeView } from './projections.js';

const FIELDS = 'uuid,name,provision_state,target_provision_state,power_state,maintenance,last_error';

interface WireNode {
  uuid: string;
  name?: string | null;
  provision_state?: string;
  target_provision_state?: string | null;
  power_state?: string | null;
  maintenance?: boolean;
  last_error?: string | null;
}

export class IronicFeed {
  readonly nodes = new Map<string, IronicNodeView>();
  /** the last poll's failure, shown on the page (null while Ironic answers) */
  error: string | null = null;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private polling?: Promise<void>;

  constructor(
    private readonly client: IronicClient,
    private readonly intervalMs: number,
    private readonly onChange: (node: IronicNodeView, old: IronicNodeView | undefined) => void,
    private readonly onStatus: () => void = () => {},
  ) {}

  async start(): Promise<void> {
    await this.poll();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.client.close();
  }

  /** Reads the node list once more now (tests, and a page that was just opened). */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => {
      this.polling = undefined;
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.poll(), this.intervalMs);
        this.timer.unref();
      }
    });
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    const was = this.error;
    try {
      const seen = new Set<string>();
      let path: string | null = `/v1/nodes?fields=${FIELDS}&limit=1000`;
      while (path) {
        const page: { nodes?: WireNode[]; next?: string } = await this.client.request('GET', path);
        for (const n of page.nodes ?? []) {
          const v = view(n);
          seen.add(v.name);
          const old = this.nodes.get(v.name);
          this.nodes.set(v.name, v);
          if (!old || (Object.keys(v) as Array<keyof IronicNodeView>).some((k) => old[k] !== v[k])) this.onChange(v, old);
        }
        path = page.next ? nextPath(page.next) : null;
      }
      for (const name of [...this.nodes.keys()]) if (!seen.has(name)) this.nodes.delete(name);
      this.error = null;
    } catch (e) {
      this.error = e instanceof IronicHttpError ? e.message : `Ironic: ${(e as Error).message}`;
    }
    if (was !== this.error) this.onStatus();
  }

  /** Ironic's own record of a node's errors and events (API 1.78). */
  async history(uuid: string): Promise<Array<{ created_at: string; severity: string; event: string; event_type?: string }>> {
    const r = await this.client.request<{ history?: Array<{ created_at: string; severity: string; event: string; event_type?: string }> }>(
      'GET',
      `/v1/nodes/${encodeURIComponent(uuid)}/history?detail=true`,
    );
    return r.history ?? [];
  }
}

function view(n: WireNode): IronicNodeView {
  return {
    uuid: n.uuid,
    name: n.name ?? n.uuid,
    provisionState: n.provision_state ?? '',
    targetProvisionState: n.target_provision_state ?? null,
    powerState: n.power_state ?? null,
    maintenance: n.maintenance === true,
    lastError: n.last_error ?? null,
  };
}

/** A `next` link's path and query, below /v1 (the client adds its own base). */
function nextPath(next: string): string {
  const u = new URL(next, 'http://ironic.invalid');
  const i = u.pathname.indexOf('/v1/');
  return `${i >= 0 ? u.pathname.slice(i) : u.pathname}${u.search}`;
}

/** The timeline lines one node change makes. */
export function ironicChangeLines(v: IronicNodeView, old: IronicNodeView | undefined): Array<{ what: string; error?: boolean }> {
  const out: Array<{ what: string; error?: boolean }> = [];
  if (!old || old.provisionState !== v.provisionState || old.targetProvisionState !== v.targetProvisionState)
    out.push({ what: `provision state ${v.provisionState}${v.targetProvisionState ? ` → ${v.targetProvisionState}` : ''}` });
  if (old && old.powerState !== v.powerState) out.push({ what: `power ${v.powerState ?? 'unknown'}` });
  if (old && old.maintenance !== v.maintenance) out.push({ what: v.maintenance ? 'maintenance on' : 'maintenance off' });
  if (v.lastError && v.lastError !== old?.lastError) out.push({ what: `last_error: ${v.lastError}`, error: true });
  return out;
}
