// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timing model: a candidate
// takes the lease when it is free or its holder has not renewed within leaseDuration; the leader
// renews every retryPeriod and steps down if it cannot renew within renewDeadline. Every write is
// a PUT carrying the resourceVersion read, so two candidates can never both win.
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from './client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (e: Error) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

function microTime(d = new Date()): string {
  return `${d.toISOString().replace(/Z$/, '')}000Z`;
}

export class LeaderElector {
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly deadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly o: LeaderElectionOptions,
  ) {
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.deadlineMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    const tick = async () => {
      if (this.stopped) return;
      try {
        const ok = await this.tryAcquireOrRenew();
        if (ok) {
          this.lastRenew = Date.now();
          if (!this.leading) {
            this.leading = true;
            this.o.onStartedLeading();
          }
        } else if (this.leading) this.lose();
      } catch (e) {
        this.o.onError?.(e as Error);
        if (this.leading && Date.now() - this.lastRenew > this.deadlineMs) this.lose();
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.retryMs);
    };
    void tick();
  }

  private lose(): void {
    // as client-go's Run returns after losing the lease, a lost elector does not campaign again
    this.stopped = true;
    this.leading = false;
    this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.o.namespace, name: this.o.name };
    const now = new Date();
    const mine: LeaseSpec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      renewTime: microTime(now),
    };
    let lease: KubeObject & { spec?: LeaseSpec };
    try {
      lease = await this.client.get(ref.apiVersion, ref.kind, ref.namespace, ref.name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await this.client.create({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
          spec: { ...mine, acquireTime: microTime(now), leaseTransitions: 0 },
        });
        return true;
      } catch (e2) {
        if (isAlreadyExists(e2)) return false; // another candidate created it first
        throw e2;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
    const expired = renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < now.getTime();
    if (holder !== this.o.identity && holder !== '' && !expired) return false;
    const next =
      holder === this.o.identity
        ? { ...spec, ...mine }
        : { ...mine, acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 };
    try {
      await this.client.update({ ...lease, spec: next });
      return true;
    } catch (e) {
      if (isConflict(e)) return false; // someone else wrote the lease in between
      throw e;
    }
  }

  /** Stops campaigning; a leader releases the lease so a successor need not wait for expiry. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.client.get<KubeObject & { spec?: LeaseSpec }>(
        'coordination.k8s.io/v1',
        'Lease',
        this.o.namespace,
        this.o.name,
      );
      if (lease.spec?.holderIdentity === this.o.identity) {
        await this.client.update({
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime() },
        });
      }
    } catch {
      // the lease expires on its own
    }
    this.o.onStoppedLeading();
  }
}
