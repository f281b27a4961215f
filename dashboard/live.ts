// Server-sent events to the open pages: a snapshot on connect, then batched changes (hosts every
// 200 ms at most, cluster trees as they change, the status line). One message per batch whatever
// the number of pages: the work is done once and written to each.
import type { Response } from 'express';
import type { FleetModel } from './fleet-model.js';
import type { ClusterTree, HostSummary } from './projections.js';

const BATCH_MS = 200;
/** open pages at once: more get 503 (each holds a connection and a copy of every batch) */
export const MAX_PAGES = 200;
const KEEPALIVE_MS = 20_000;

export class LiveHub {
  private readonly pages = new Set<Response>();
  private pendingHosts = new Map<string, HostSummary | null>();
  private pendingTimelines = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly model: FleetModel,
    private readonly info: { actions: boolean; namespace: string | null },
  ) {
    model.on('host', (key: string, s: HostSummary | null) => {
      if (!this.pages.size) return;
      this.pendingHosts.set(key, s);
      this.schedule();
    });
    model.on('timeline', (key: string) => {
      if (!this.pages.size) return;
      this.pendingTimelines.add(key);
      this.schedule();
    });
    model.on('clusters', (changed: ClusterTree[], removed: string[]) => this.send('clusters', { upsert: changed, remove: removed }));
    model.on('status', () => this.send('status', this.status()));
    this.keepalive = setInterval(() => {
      for (const p of this.pages) p.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  get pageCount(): number {
    return this.pages.size;
  }

  status() {
    return { kinds: this.model.kinds(), ironicError: this.model.ironicError, ...this.info };
  }

  snapshot() {
    return { hosts: this.model.hosts(), clusters: this.model.clusters(), status: this.status(), at: new Date().toISOString() };
  }

  attach(res: Response): void {
    if (this.pages.size >= MAX_PAGES) {
      res.status(503).json({
        kind: 'Status',
        status: 'Failure',
        code: 503,
        reason: 'TooManyPages',
        message: `${MAX_PAGES} pages are open already; close one and reload`,
      });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');
    res.write(frame('snapshot', this.snapshot()));
    this.pages.add(res);
    res.on('close', () => this.pages.delete(res));
  }

  close(): void {
    clearInterval(this.keepalive);
    clearTimeout(this.timer);
    for (const p of this.pages) p.end();
    this.pages.clear();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    const hosts = this.pendingHosts;
    const timelines = this.pendingTimelines;
    this.pendingHosts = new Map();
    this.pendingTimelines = new Set();
    if (hosts.size) {
      const upsert: HostSummary[] = [];
      const remove: string[] = [];
      for (const [k, s] of hosts) s ? upsert.push(s) : remove.push(k);
      this.send('hosts', { upsert, remove });
    }
    if (timelines.size) this.send('timeline', { hosts: [...timelines] });
  }

  private send(event: string, data: unknown): void {
    if (!this.pages.size) return;
    const f = frame(event, data);
    for (const p of this.pages) p.write(f);
  }
}

const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
