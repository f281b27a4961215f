// The Event recorder: core/v1 Events about an object, aggregated as client-go's recorder does —
// a repeat of the same reason and message bumps `count` and `lastTimestamp` on the existing
// Event instead of creating a new one.
import { randomBytes } from 'node:crypto';
import type { KubeClient, KubeObject } from './client.js';

export type EventType = 'Normal' | 'Warning';

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();

  constructor(
    private readonly client: KubeClient,
    readonly component: string,
    readonly host = '',
  ) {}

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
      const name = `${md.name}.${randomBytes(8).toString('hex')}`;
      const t = now();
      await this.client.create(
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace },
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
          reportingComponent: this.component,
          reportingInstance: this.host,
          firstTimestamp: t,
          lastTimestamp: t,
          count: 1,
        },
        this.component,
      );
      this.seen.set(key, { name, namespace, count: 1 });
      if (this.seen.size > 4096) this.seen.delete(this.seen.keys().next().value as string);
      return undefined;
    } catch (e) {
      this.seen.delete(key);
      return e as Error;
    }
  }
}
