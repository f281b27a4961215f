// The Event recorder: core/v1 Events about an object, aggregated as client-go's recorder does —
// a repeat of the same reason and message bumps `count` and `lastTimestamp` on the existing
// Event instead of creating a new one.
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject } from './client.js';

export type EventType = 'Normal' | 'Warning';

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Who an Event says it comes from. Upstream's operator names each controller (BareMetalHost events
 * come from `metal3-baremetal-controller`, reported by `metal3.io/baremetal-controller`) and names
 * the Events `<reason>-<random>`; Ferrite's controllers do the same, so tools filtering on either
 * see Ferrite's Events as upstream's.
 */
export interface EventSource {
  component: string;
  reportingController?: string;
  /** `reason-` as generateName (upstream BMO's Events) instead of client-go's `<object>.<hex>` */
  nameByReason?: boolean;
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();

  constructor(
    private readonly client: KubeClient,
    readonly component: string,
    readonly host = '',
    private readonly source: EventSource = { component },
  ) {}

  /** The same recorder speaking as another source (one per controller). */
  as(source: EventSource): EventRecorder {
    return new EventRecorder(this.client, source.component, this.host, source);
  }

  /** Records an event; failures are returned, never thrown (events are best-effort). */
  async event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<Error | undefined> {
    const md = obj.metadata ?? {};
    const namespace = md.namespace || 'default';
    const key = [md.uid, type, reason, message].join('\u0000');
    try {
      const prev = this.seen.get(key);
      if (prev) {
        prev.count++;
        await this.client.patch(
          { apiVersion: 'v1', kind: 'Event', namespace: prev.namespace, name: prev.name },
          'merge',
          { count: prev.count, lastTimestamp: now() },
          { fieldManager: this.component },
        );
        return undefined;
      }
      const t = now();
      const created = await this.client.create(
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: this.source.nameByReason
            ? { generateName: `${reason}-`, namespace }
            : { name: `${md.name}.${randomBytes(8).toString('hex')}`, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: md.name,
            namespace: md.namespace,
            uid: md.uid,
            resourceVersion: md.resourceVersion,
          },
          reason,
          message,
          type,
          source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
          reportingComponent: this.source.reportingController ?? this.component,
          reportingInstance: this.host,
          firstTimestamp: t,
          lastTimestamp: t,
          count: 1,
        },
        this.component,
      );
      this.seen.set(key, { name: String(created.metadata?.name), namespace, count: 1 });
      if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
      return undefined;
    } catch (e) {
      this.seen.delete(key);
      return e as Error;
    }
  }
}
