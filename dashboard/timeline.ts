// Each host's story as the dashboard saw it happen: the BareMetalHost's state changes, Ironic's
// provision and power states, and Kubernetes Events, kept per host in a bounded list. What
// happened before the dashboard started comes from what the APIs keep (operationHistory, Events,
// Ironic's node history, the BMC's logs), merged when a host is opened.

export type TimelineSource = 'host' | 'ironic' | 'event' | 'bmc' | 'console' | 'operation' | 'history';

export interface TimelineEntry {
  /** ISO time */
  at: string;
  source: TimelineSource;
  what: string;
  severity?: 'info' | 'warning' | 'error';
}

const PER_HOST = 400;

export class Timelines {
  private readonly byHost = new Map<string, TimelineEntry[]>();

  add(key: string, e: TimelineEntry): void {
    const l = this.byHost.get(key) ?? [];
    if (!l.length) this.byHost.set(key, l);
    l.push(e);
    if (l.length > PER_HOST) l.splice(0, l.length - PER_HOST);
  }

  get(key: string): TimelineEntry[] {
    return this.byHost.get(key) ?? [];
  }

  forget(key: string): void {
    this.byHost.delete(key);
  }
}

/**
 * One ordered story from several sources. Entries with the same source, time and text (an Event
 * the watch delivered and the list repeated, say) appear once.
 */
export function mergeTimeline(...lists: TimelineEntry[][]): TimelineEntry[] {
  const seen = new Set<string>();
  const out: TimelineEntry[] = [];
  for (const e of lists.flat()) {
    const k = `${e.at}|${e.source}|${e.what}`;
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  // a stable sort keeps same-millisecond entries in the order each source gave them
  return out.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** operationHistory's start and end times as timeline entries (what happened before the dashboard watched). */
export function operationEntries(status: Record<string, unknown> | undefined): TimelineEntry[] {
  const h = (status?.operationHistory ?? {}) as Record<string, { start?: string | null; end?: string | null }>;
  const out: TimelineEntry[] = [];
  for (const op of ['register', 'inspect', 'provision', 'deprovision']) {
    const t = h[op];
    if (t?.start) out.push({ at: t.start, source: 'operation', what: `${op} started` });
    if (t?.end) out.push({ at: t.end, source: 'operation', what: `${op} finished` });
  }
  return out;
}
