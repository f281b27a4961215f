// Durable object store for the embedded API server.
//
// Objects live in memory as serialized JSON (cheap lists and watches: rows are concatenated, not
// re-serialized) and on disk in SQLite (WAL). Writes are applied to memory at once, so optimistic
// concurrency checks see the latest state, and are committed to disk in groups: every write made
// in the same event-loop turn shares one transaction and one fsync. Nothing is acknowledged, and
// no watch event is sent, before its transaction has committed.
import Database from 'better-sqlite3';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredObject {
  readonly resource: string;
  readonly ns: string;
  readonly name: string;
  readonly rv: number;
  readonly json: string;
  readonly labels: Readonly<Record<string, string>> | undefined;
}

export interface StoreEvent {
  readonly type: EventType;
  readonly rv: number;
  readonly obj: StoredObject;
  readonly prev: StoredObject | undefined;
}

/** `value` is the written object itself (parsed), so listeners need not parse `obj.json`. */
export type Listener = (ev: StoreEvent, value: Record<string, unknown>) => void;

export interface StoreOptions {
  /** SQLite file; undefined keeps everything in memory (tests that ask for it). */
  path?: string;
  /** 'full' fsyncs each group commit (survives power loss); 'normal' survives process kill only. */
  synchronous?: 'full' | 'normal';
  /** How many events are kept for watch resumption before clients get 410 Expired. */
  historySize?: number;
}

interface PendingWrite {
  ev: StoreEvent;
  value: Record<string, unknown>;
}

export class StoreError extends Error {
  constructor(
    readonly reason: 'CommitFailed' | 'Closed',
    message: string,
  ) {
    super(message);
  }
}

export class Store {
  private readonly db: Database.Database;
  private readonly byResource = new Map<string, Map<string, StoredObject>>();
  private rvCounter = 0;
  private committedRV = 0;
  private readonly history: StoreEvent[] = [];
  private historyStart = 0;
  private readonly historySize: number;
  private pending: PendingWrite[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private flushScheduled = false;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly globalListeners = new Set<Listener>();
  private closed = false;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly setMeta: Database.Statement;

  constructor(opts: StoreOptions = {}) {
    this.historySize = opts.historySize ?? 20000;
    this.db = new Database(opts.path ?? ':memory:');
    if (opts.path) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (
        resource TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
        rv INTEGER NOT NULL, data TEXT NOT NULL,
        PRIMARY KEY (resource, ns, name)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
    `);
    this.upsert = this.db.prepare(
      'INSERT INTO objects (resource, ns, name, rv, data) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (resource, ns, name) DO UPDATE SET rv = excluded.rv, data = excluded.data',
    );
    this.remove = this.db.prepare('DELETE FROM objects WHERE resource = ? AND ns = ? AND name = ?');
    this.setMeta = this.db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v');
    this.load();
  }

  private load(): void {
    this.byResource.clear();
    const row = this.db.prepare("SELECT v FROM meta WHERE k = 'rv'").get() as { v: string } | undefined;
    let rv = row ? Number(row.v) : 0;
    for (const r of this.db.prepare('SELECT resource, ns, name, rv, data FROM objects').iterate() as Iterable<{
      resource: string;
      ns: string;
      name: string;
      rv: number;
      data: string;
    }>) {
      const labels = (JSON.parse(r.data) as { metadata?: { labels?: Record<string, string> } }).metadata?.labels;
      this.bucket(r.resource).set(key(r.ns, r.name), makeStored(r.resource, r.ns, r.name, r.rv, r.data, labels));
      if (r.rv > rv) rv = r.rv;
    }
    this.rvCounter = rv;
    this.committedRV = rv;
    // History does not survive a restart: a watch from an older resourceVersion gets 410 and re-lists.
    this.history.length = 0;
    this.historyStart = rv;
  }

  private bucket(resource: string): Map<string, StoredObject> {
    let b = this.byResource.get(resource);
    if (!b) {
      b = new Map();
      this.byResource.set(resource, b);
    }
    return b;
  }

  /** The resourceVersion of the newest committed write (what a LIST reports). */
  get resourceVersion(): number {
    return this.committedRV;
  }

  /** Oldest resourceVersion a watch may resume from without 410. */
  get oldestResumableRV(): number {
    return this.historyStart;
  }

  get(resource: string, ns: string, name: string): StoredObject | undefined {
    return this.byResource.get(resource)?.get(key(ns, name));
  }

  list(resource: string, ns?: string): StoredObject[] {
    const b = this.byResource.get(resource);
    if (!b) return [];
    const out: StoredObject[] = [];
    for (const o of b.values()) if (ns === undefined || o.ns === ns) out.push(o);
    out.sort((a, c) => (a.ns === c.ns ? cmp(a.name, c.name) : cmp(a.ns, c.ns)));
    return out;
  }

  /**
   * The objects of `resource` as they were at resourceVersion `rv`: the current state with the
   * newer events undone. 'expired' once the history no longer reaches back that far. Used for
   * consistent paginated lists and exact-resourceVersion lists.
   */
  listAt(resource: string, ns: string | undefined, rv: number): StoredObject[] | 'expired' {
    if (rv >= this.committedRV) return this.list(resource, ns);
    const events = this.eventsSince(resource, rv);
    if (events === 'expired') return 'expired';
    const state = new Map<string, StoredObject>();
    for (const o of this.list(resource, ns)) state.set(key(o.ns, o.name), o);
    for (let i = events.length - 1; i >= 0; i--) {
      const ev = events[i];
      if (ns !== undefined && ev.obj.ns !== ns) continue;
      const k = key(ev.obj.ns, ev.obj.name);
      if (ev.type === 'ADDED') state.delete(k);
      else if (ev.prev) state.set(k, ev.prev);
    }
    return [...state.values()].sort((a, c) => (a.ns === c.ns ? cmp(a.name, c.name) : cmp(a.ns, c.ns)));
  }

  count(resource: string): number {
    return this.byResource.get(resource)?.size ?? 0;
  }

  resources(): string[] {
    return [...this.byResource.keys()];
  }

  /** Allocates the next resourceVersion; the caller stamps it into the object before write(). */
  nextRV(): number {
    return this.rvCounter + 1;
  }

  /**
   * Writes (or, with obj null, deletes) one object. The object must already carry
   * metadata.resourceVersion === String(nextRV()). Returns the stored row and a promise that
   * settles when it is durable.
   */
  write(resource: string, ns: string, name: string, obj: Record<string, unknown> | null): Promise<StoredObject> {
    if (this.closed) return Promise.reject(new StoreError('Closed', 'store is closed'));
    const b = this.bucket(resource);
    const k = key(ns, name);
    const prev = b.get(k);
    const rv = ++this.rvCounter;
    let stored: StoredObject;
    let type: EventType;
    let value: Record<string, unknown>;
    if (obj === null) {
      if (!prev) throw new Error(`delete of missing ${resource} ${k}`);
      b.delete(k);
      // A DELETED event carries the object's last state with the deletion's resourceVersion.
      const last = JSON.parse(prev.json) as { metadata: Record<string, unknown> };
      last.metadata.resourceVersion = String(rv);
      stored = makeStored(resource, ns, name, rv, JSON.stringify(last), prev.labels);
      value = last;
      type = 'DELETED';
    } else {
      const labels = (obj.metadata as { labels?: Record<string, string> } | undefined)?.labels;
      stored = makeStored(resource, ns, name, rv, JSON.stringify(obj), labels);
      value = obj;
      b.set(k, stored);
      type = prev ? 'MODIFIED' : 'ADDED';
    }
    this.pending.push({ ev: { type, rv, obj: stored, prev }, value });
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.scheduleFlush();
    return p.then(() => stored);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /** Commits every pending write in one transaction, then acknowledges and publishes them. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      this.db.transaction(() => {
        for (const { ev } of batch) {
          const o = ev.obj;
          if (ev.type === 'DELETED') this.remove.run(o.resource, o.ns, o.name);
          else this.upsert.run(o.resource, o.ns, o.name, o.rv, o.json);
        }
        this.setMeta.run('rv', String(batch[batch.length - 1].ev.rv));
      })();
    } catch (e) {
      // The disk refused the batch: memory is ahead of disk, so reload memory from disk and fail
      // every write of the batch. Nothing unacknowledged is ever reported as done.
      const err = new StoreError('CommitFailed', `storage commit failed: ${(e as Error).message}`);
      this.load();
      for (const w of waiters) w.reject(err);
      return;
    }
    this.committedRV = batch[batch.length - 1].ev.rv;
    for (const { ev, value } of batch) {
      this.history.push(ev);
      for (const l of this.listeners.get(ev.obj.resource) ?? []) l(ev, value);
      for (const l of this.globalListeners) l(ev, value);
    }
    if (this.history.length > this.historySize) {
      const drop = this.history.length - this.historySize;
      this.historyStart = this.history[drop - 1].rv;
      this.history.splice(0, drop);
    }
    for (const w of waiters) w.resolve();
  }

  /**
   * Events for `resource` with rv > since, or 'expired' when the history no longer reaches back
   * that far (the caller answers 410 Gone and the client re-lists).
   */
  eventsSince(resource: string | undefined, since: number): StoreEvent[] | 'expired' {
    if (since < this.historyStart) return 'expired';
    const out: StoreEvent[] = [];
    // History is ordered by rv: binary-search the first event after `since`.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= since) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.history.length; i++) {
      const ev = this.history[i];
      if (resource === undefined || ev.obj.resource === resource) out.push(ev);
    }
    return out;
  }

  subscribe(resource: string | undefined, fn: Listener): () => void {
    if (resource === undefined) {
      this.globalListeners.add(fn);
      return () => this.globalListeners.delete(fn);
    }
    let s = this.listeners.get(resource);
    if (!s) {
      s = new Set();
      this.listeners.set(resource, s);
    }
    s.add(fn);
    return () => s.delete(fn);
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.db.close();
  }
}

function key(ns: string, name: string): string {
  return `${ns}/${name}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function makeStored(
  resource: string,
  ns: string,
  name: string,
  rv: number,
  json: string,
  labels: Record<string, string> | undefined,
): StoredObject {
  // Labels are kept parsed because label selectors run on every list and watch event.
  const l = labels && Object.keys(labels).length > 0 ? labels : undefined;
  return { resource, ns, name, rv, json, labels: l };
}
