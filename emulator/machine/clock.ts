// One clock for every simulated delay (POST, power transitions, media fetch, disk writes) so a
// whole fleet can run faster than real time, or step deterministically in tests.

export interface Clock {
  /** Simulated wall time in ms since the epoch. */
  now(): number;
  /** Resolves after `ms` of simulated time; rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Simulated seconds per real second (1 = real time). */
  readonly timeScale: number;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Real time sped up (or slowed down) by `timeScale`. */
export class ScaledClock implements Clock {
  private readonly realStart = Date.now();
  constructor(readonly timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale)) throw new RangeError(`time scale must be a positive number, not ${timeScale}`);
  }
  now(): number {
    return this.realStart + (Date.now() - this.realStart) * this.timeScale;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(t);
        reject(abortError(signal as AbortSignal));
      };
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms / this.timeScale);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Real time: the clock of what runs at the pace of the world outside, not the machines'. */
export const realClock: Clock = new ScaledClock(1);

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/** Time moves only when `advance` is called: deterministic tests of timed behaviour. */
export class ManualClock implements Clock {
  readonly timeScale = Number.POSITIVE_INFINITY;
  private t: number;
  private seq = 0;
  private timers: Timer[] = [];
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise((resolve, reject) => {
      const timer: Timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((x) => x !== timer);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
  }
  /** Number of sleeps still waiting. */
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in order and letting their continuations run. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.resolve();
    }
    this.t = end;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
}
