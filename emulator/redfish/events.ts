// EventService: subscriptions pushed by HTTP POST and a Server-Sent Events stream. Deliveries go
// only to loopback destinations unless the operator allows more (`allowDestinations`), so an
// emulator in a lab never sprays events at hosts it was pointed at by a test.
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import http from 'node:http';
import https from 'node:https';
import type { Clock } from '../machine/clock.js';
import { type Route, V1 } from './context.js';
import { RedfishError } from './errors.js';

export interface EventRecord {
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  Severity: string;
  OriginOfCondition?: string;
  EventType?: string;
}

interface Subscription {
  id: string;
  destination: string;
  context: string;
  protocol: string;
  registryPrefixes: string[];
  resourceTypes: string[];
  originResources: string[];
  allowed: boolean;
  deliveryFailures: number;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[?::1\]?|localhost)$/i;

export class EventService {
  private readonly subs = new Map<string, Subscription>();
  private readonly streams = new Set<ServerResponse>();
  private seq = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly clock: Clock,
    private readonly allowDestinations: string[] = [],
    private readonly log: (msg: string) => void = () => {},
  ) {}

  private destinationAllowed(dest: string): boolean {
    try {
      const h = new URL(dest).hostname;
      return LOOPBACK.test(h) || this.allowDestinations.includes(h);
    } catch {
      return false;
    }
  }

  publish(e: EventRecord): void {
    const id = String(++this.seq);
    const event = (context: string) => ({
      '@odata.type': '#Event.v1_7_0.Event',
      Id: id,
      Name: 'Event',
      Context: context,
      Events: [
        {
          EventId: id,
          EventTimestamp: new Date(this.clock.now()).toISOString(),
          Severity: e.Severity,
          MessageSeverity: e.Severity,
          Message: e.Message,
          MessageId: e.MessageId,
          MessageArgs: e.MessageArgs,
          ...(e.OriginOfCondition ? { OriginOfCondition: { '@odata.id': e.OriginOfCondition } } : {}),
        },
      ],
    });
    if (this.streams.size) {
      const data = `id: ${id}\ndata: ${JSON.stringify(event(''))}\n\n`;
      for (const s of this.streams) s.write(data);
    }
    for (const sub of this.subs.values()) {
      if (!matches(sub, e)) continue;
      if (!sub.allowed) {
        this.log(`event ${id} not delivered to ${sub.destination}: destination not allowed (see allowDestinations)`);
        continue;
      }
      const p = this.deliver(sub, event(sub.context)).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  private async deliver(sub: Subscription, body: unknown): Promise<void> {
    const data = JSON.stringify(body);
    for (let attempt = 0; attempt < 3; attempt++) {
      const ok = await new Promise<boolean>((resolve) => {
        const u = new URL(sub.destination);
        const mod = u.protocol === 'https:' ? https : http;
        const req = mod.request(
          u,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
            rejectUnauthorized: false,
            timeout: 5000,
          },
          (res) => {
            res.resume();
            resolve((res.statusCode ?? 500) < 300);
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', () => resolve(false));
        req.end(data);
      });
      if (ok) return;
      await new Promise((r) => setTimeout(r, 200 * (attempt + 1)).unref());
    }
    sub.deliveryFailures++;
  }

  async close(): Promise<void> {
    for (const s of this.streams) s.end();
    this.streams.clear();
    await Promise.allSettled([...this.pending]);
  }

  private renderSub(s: Subscription): Record<string, unknown> {
    return {
      '@odata.id': `${V1}/EventService/Subscriptions/${s.id}`,
      '@odata.type': '#EventDestination.v1_10_0.EventDestination',
      Id: s.id,
      Name: 'Event Subscription',
      Destination: s.destination,
      Context: s.context,
      Protocol: s.protocol,
      SubscriptionType: 'RedfishEvent',
      EventFormatType: 'Event',
      RegistryPrefixes: s.registryPrefixes,
      ResourceTypes: s.resourceTypes,
      OriginResources: s.originResources.map((o) => ({ '@odata.id': o })),
      Status: { State: s.allowed ? 'Enabled' : 'Disabled', Health: s.deliveryFailures ? 'Warning' : 'OK' },
    };
  }

  routes(): Route[] {
    return [
      {
        pattern: `${V1}/EventService`,
        handlers: {
          GET: () => ({
            body: {
              '@odata.id': `${V1}/EventService`,
              '@odata.type': '#EventService.v1_8_0.EventService',
              Id: 'EventService',
              Name: 'Event Service',
              ServiceEnabled: true,
              DeliveryRetryAttempts: 3,
              DeliveryRetryIntervalSeconds: 1,
              EventFormatTypes: ['Event'],
              RegistryPrefixes: ['Ferrite', 'Base'],
              ResourceTypes: ['ComputerSystem', 'Task', 'VirtualMedia'],
              ServerSentEventUri: `${V1}/EventService/SSE`,
              SSEFilterPropertiesSupported: {
                MessageId: false,
                RegistryPrefix: false,
                ResourceType: false,
                OriginResource: false,
                EventFormatType: false,
                MetricReportDefinition: false,
                SubordinateResources: false,
              },
              Status: { State: 'Enabled', Health: 'OK' },
              Subscriptions: { '@odata.id': `${V1}/EventService/Subscriptions` },
              Actions: { '#EventService.SubmitTestEvent': { target: `${V1}/EventService/Actions/EventService.SubmitTestEvent` } },
            },
          }),
        },
      },
      {
        pattern: `${V1}/EventService/Subscriptions`,
        handlers: {
          GET: () => {
            const ids = [...this.subs.keys()].map((id) => ({ '@odata.id': `${V1}/EventService/Subscriptions/${id}` }));
            return {
              body: {
                '@odata.id': `${V1}/EventService/Subscriptions`,
                '@odata.type': '#EventDestinationCollection.EventDestinationCollection',
                Name: 'Event Subscriptions',
                'Members@odata.count': ids.length,
                Members: ids,
              },
            };
          },
          POST: (r) => {
            const b = (r.body ?? {}) as Record<string, unknown>;
            if (typeof b.Destination !== 'string')
              throw new RedfishError(400, {
                messageId: 'CreateFailedMissingReqProperties',
                args: ['Destination'],
                property: 'Destination',
              });
            let u: URL;
            try {
              u = new URL(b.Destination);
            } catch {
              throw new RedfishError(400, {
                messageId: 'PropertyValueFormatError',
                args: [String(b.Destination), 'Destination'],
                property: 'Destination',
              });
            }
            if (u.protocol !== 'http:' && u.protocol !== 'https:')
              throw new RedfishError(400, {
                messageId: 'PropertyValueFormatError',
                args: [b.Destination, 'Destination'],
                property: 'Destination',
              });
            const protocol = b.Protocol ?? 'Redfish';
            if (protocol !== 'Redfish')
              throw new RedfishError(400, {
                messageId: 'PropertyValueNotInList',
                args: [String(protocol), 'Protocol'],
                property: 'Protocol',
              });
            const strings = (v: unknown, name: string): string[] => {
              if (v === undefined) return [];
              if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
                throw new RedfishError(400, { messageId: 'PropertyValueTypeError', args: [JSON.stringify(v), name], property: name });
              return v as string[];
            };
            const s: Subscription = {
              id: randomUUID(),
              destination: b.Destination,
              context: typeof b.Context === 'string' ? b.Context : '',
              protocol: 'Redfish',
              registryPrefixes: strings(b.RegistryPrefixes, 'RegistryPrefixes'),
              resourceTypes: strings(b.ResourceTypes, 'ResourceTypes'),
              originResources: Array.isArray(b.OriginResources)
                ? (b.OriginResources as { '@odata.id'?: string }[]).map((o) => String(o?.['@odata.id'] ?? ''))
                : [],
              allowed: this.destinationAllowed(b.Destination),
              deliveryFailures: 0,
            };
            this.subs.set(s.id, s);
            return { status: 201, headers: { Location: `${V1}/EventService/Subscriptions/${s.id}` }, body: this.renderSub(s) };
          },
        },
      },
      {
        pattern: `${V1}/EventService/Subscriptions/{sub}`,
        handlers: {
          GET: (r) => ({ body: this.renderSub(this.sub(r.params.sub)) }),
          DELETE: (r) => {
            this.sub(r.params.sub);
            this.subs.delete(r.params.sub);
            return { status: 204 };
          },
        },
      },
      {
        pattern: `${V1}/EventService/Actions/EventService.SubmitTestEvent`,
        handlers: {
          POST: (r) => {
            const b = (r.body ?? {}) as Record<string, unknown>;
            this.publish({
              MessageId: typeof b.MessageId === 'string' ? b.MessageId : 'Ferrite.1.0.TestEvent',
              Message: typeof b.Message === 'string' ? b.Message : 'Test event',
              MessageArgs: Array.isArray(b.MessageArgs) ? b.MessageArgs.map(String) : [],
              Severity: typeof b.Severity === 'string' ? b.Severity : 'OK',
              OriginOfCondition: typeof b.OriginOfCondition === 'string' ? b.OriginOfCondition : `${V1}/EventService`,
            });
            return { status: 204 };
          },
        },
      },
      {
        pattern: `${V1}/EventService/SSE`,
        produces: 'text/event-stream',
        handlers: {
          GET: (r) => {
            r.res.writeHead(200, {
              'Content-Type': 'text/event-stream',
              'Cache-Control': 'no-cache',
              Connection: 'keep-alive',
              'OData-Version': '4.0',
            });
            r.res.write(': ferrite event stream\n\n');
            this.streams.add(r.res);
            r.res.on('close', () => this.streams.delete(r.res));
            return { streamed: true };
          },
        },
      },
    ];
  }

  private sub(id: string): Subscription {
    const s = this.subs.get(id);
    if (!s) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['EventDestination', id] });
    return s;
  }
}

function matches(s: Subscription, e: EventRecord): boolean {
  if (s.registryPrefixes.length && !s.registryPrefixes.some((p) => e.MessageId.startsWith(`${p}.`))) return false;
  if (s.originResources.length && !s.originResources.some((o) => e.OriginOfCondition?.startsWith(o))) return false;
  return true;
}
