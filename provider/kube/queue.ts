// A rate-limited work queue with client-go's semantics: a key is queued at most once, a key being
// processed is not handed out again until done() (a re-add meanwhile is kept and queued after),
// and failed keys come back with per-item exponential backoff until forget().
import type { Counter, Gauge, Histogram } from 'prom-client';

export interface QueueMetrics {
  depth: Gauge;
  adds: Counter;
  retries: Counter;
  queueDuration: Histogram;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  private waiters: Array<(k: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly opts: { baseDelayMs?: number; maxDelayMs?: number; metrics?: QueueMetrics } = {},
  ) {}

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.opts.metrics?.adds.inc({ name: this.name });
    if (this.processing.has(key)) return;
    this.addedAt.set(key, performance.now());
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.observeWait(key);
      w(key);
      return;
    }
    this.queue.push(key);
    this.opts.metrics?.depth.set({ name: this.name }, this.queue.length);
  }

  /** Adds the key after a delay (requeueAfter); of two pending delays for a key, the sooner wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = performance.now() + ms;
    const pending = this.timers.get(key);
    if (pending) {
      if (pending.due <= due) return;
      clearTimeout(pending.timer);
    }
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { timer, due });
  }

  /** Re-adds a failed key with exponential backoff: base·2^failures, capped (at `maxMs` when given). */
  addRateLimited(key: string, maxMs?: number): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.opts.metrics?.retries.inc({ name: this.name });
    this.addAfter(key, Math.min(this.backoff(n), maxMs ?? Number.POSITIVE_INFINITY));
  }

  backoff(failures: number): number {
    const base = this.opts.baseDelayMs ?? 5;
    const max = this.opts.maxDelayMs ?? 1000_000;
    return Math.min(base * 2 ** failures, max);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Next key to work on; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.observeWait(key);
      this.opts.metrics?.depth.set({ name: this.name }, this.queue.length);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((r) => this.waiters.push(r));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      // re-added while in flight: it goes back in line now
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  private observeWait(key: string): void {
    const at = this.addedAt.get(key);
    this.addedAt.delete(key);
    if (at !== undefined) this.opts.metrics?.queueDuration.observe({ name: this.name }, (performance.now() - at) / 1000);
  }
}
