// A shared informer: list, then watch from the list's resourceVersion, keeping a local cache and
// telling handlers about adds, updates and deletes. It resumes watches from the last seen
// resourceVersion (bookmarks keep that fresh), re-lists on 410 Expired, and retries with backoff
// on connection errors, so it survives API server restarts. (client-node's informer stops on
// any error and ignores bookmarks, hence this one.)
import { EventEmitter } from 'node:events';
import { isGone, KubeApiError, type KubeClient, type KubeObject, type ResponseStream } from './client.js';

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  /** e.g. `metadata.name=node-1`: a kubelet's informer on its own Node */
  fieldSelector?: string;
  /** Re-deliver every cached object as an update this often (0 = never). */
  resyncMs?: number;
  /**
   * Told about list/watch failures: the first of a run, then at most once a minute while they go
   * on (an unreachable API server must show in the logs, without a line per retry).
   */
  onError?: (e: Error, info: { apiVersion: string; kind: string; server: string; failures: number }) => void;
}

type Handler<T> = (obj: T, old?: T) => void;

export function objectKey(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly emitter = new EventEmitter();
  private rv = '';
  private stream?: ResponseStream;
  private stopped = false;
  private synced = false;
  private syncWaiters: Array<() => void> = [];
  private resyncTimer?: NodeJS.Timeout;
  private backoffMs = 200;
  private failures = 0;
  private lastReportAt = 0;
  /** Last error seen (for health checks and tests). */
  lastError?: Error;
  private live = false;

  constructor(
    private readonly client: KubeClient,
    readonly apiVersion: string,
    readonly kind: string,
    private readonly opts: InformerOptions = {},
  ) {
    this.emitter.setMaxListeners(100);
  }

  on(ev: 'add' | 'update' | 'delete', fn: Handler<T>): this {
    this.emitter.on(ev, fn);
    return this;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.cache.get(`${namespace ?? ''}/${name}`);
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** True while a watch is open: the cache is as fresh as the server's event stream. */
  get isWatching(): boolean {
    return this.live && !this.stopped;
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  /** Whether the cache holds every object of the kind (no namespace, label or field restriction). */
  get isWhole(): boolean {
    return !this.opts.namespace && !this.opts.labelSelector && !this.opts.fieldSelector;
  }

  /** The resourceVersion the cache is at (the last list's, then the watch's). */
  get resourceVersion(): string {
    return this.rv;
  }

  /** Starts the list/watch loop; resolves once the first list is in the cache. */
  start(): Promise<void> {
    void this.loop();
    if (this.opts.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const o of this.cache.values()) this.emitter.emit('update', o, o);
      }, this.opts.resyncMs);
      this.resyncTimer.unref();
    }
    return this.waitForSync();
  }

  waitForSync(): Promise<void> {
    return this.synced ? Promise.resolve() : new Promise((r) => this.syncWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.stream?.destroy();
  }

  private query(extra: Record<string, string>): string {
    const q = new URLSearchParams(extra);
    if (this.opts.labelSelector) q.set('labelSelector', this.opts.labelSelector);
    if (this.opts.fieldSelector) q.set('fieldSelector', this.opts.fieldSelector);
    return q.toString();
  }

  private async relist(): Promise<void> {
    const seen = new Map<string, T>();
    let cont = '';
    let rv = '';
    do {
      const page = await this.client.list<T>(
        this.apiVersion,
        this.kind,
        this.opts.namespace,
        this.query({ limit: '500', ...(cont ? { continue: cont } : {}) }),
      );
      for (const o of page.items) {
        // list items carry no apiVersion/kind; handlers expect whole objects
        seen.set(objectKey(o), { apiVersion: this.apiVersion, kind: this.kind, ...o });
      }
      cont = page.metadata.continue ?? '';
      rv = page.metadata.resourceVersion;
    } while (cont);
    for (const [k, o] of seen) {
      const old = this.cache.get(k);
      this.cache.set(k, o);
      if (!old) this.emitter.emit('add', o);
      else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) this.emitter.emit('update', o, old);
    }
    for (const [k, old] of this.cache) {
      if (!seen.has(k)) {
        this.cache.delete(k);
        this.emitter.emit('delete', old);
      }
    }
    this.rv = rv;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private async loop(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        await this.watchOnce();
        this.live = false;
        this.backoffMs = 200;
        this.failures = 0;
      } catch (e) {
        this.live = false;
        this.lastError = e as Error;
        if (isGone(e)) {
          needList = true;
          continue;
        }
        if (this.stopped) return;
        this.report(e as Error);
        await new Promise((r) => setTimeout(r, this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
      }
    }
  }

  private report(e: Error): void {
    this.failures++;
    const now = Date.now();
    if (this.failures > 1 && now - this.lastReportAt < 60_000) return;
    this.lastReportAt = now;
    this.opts.onError?.(e, { apiVersion: this.apiVersion, kind: this.kind, server: this.client.server, failures: this.failures });
  }

  private async watchOnce(): Promise<void> {
    const r = await this.client.resource(this.apiVersion, this.kind);
    const path = `${this.client.path(r, this.opts.namespace)}?${this.query({ watch: 'true', resourceVersion: this.rv, allowWatchBookmarks: 'true', timeoutSeconds: String(300 + Math.floor(Math.random() * 300)) })}`;
    const stream = await this.client.stream(path);
    this.stream = stream;
    this.live = true;
    if (this.stopped) {
      stream.destroy();
      return;
    }
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      let failed = false;
      stream.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        for (let i = buf.indexOf('\n'); i >= 0 && !failed; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (!line.trim()) continue;
          try {
            this.handle(JSON.parse(line) as { type: string; object: T & { code?: number; reason?: string; message?: string } });
          } catch (e) {
            failed = true;
            stream.destroy();
            reject(e);
          }
        }
      });
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
      stream.on('error', (e) => reject(e));
    });
  }

  private handle(ev: { type: string; object: T & { code?: number; reason?: string; message?: string } }): void {
    const o = ev.object;
    if (ev.type === 'ERROR') {
      throw new KubeApiError(Number(o.code ?? 500), String(o.reason ?? 'Unknown'), String(o.message ?? 'watch error'));
    }
    const rv = o.metadata?.resourceVersion;
    if (rv) this.rv = rv;
    if (ev.type === 'BOOKMARK') return;
    const k = objectKey(o);
    const old = this.cache.get(k);
    if (ev.type === 'DELETED') {
      this.cache.delete(k);
      this.emitter.emit('delete', old ?? o);
    } else {
      this.cache.set(k, o);
      this.emitter.emit(old ? 'update' : 'add', o, old);
    }
  }
}
