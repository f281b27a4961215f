// Types shared by the Redfish service's modules: requests, results, routes and the service
// context (machines, accounts, sessions, tasks, events).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../machine/clock.js';
import type { Machine } from '../machine/machine.js';
import type { AuthService, Principal } from './auth.js';
import type { EventService } from './events.js';
import type { TaskService } from './tasks.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RfRequest {
  method: Method;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: unknown;
  principal: Principal | null;
  /** the machine named by {sys}, when the route has one */
  machine: Machine;
  raw: IncomingMessage;
  res: ServerResponse;
}

export interface RfResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** the handler wrote the response itself (SSE) */
  streamed?: boolean;
}

export type Handler = (req: RfRequest) => RfResult | Promise<RfResult>;

export interface Route {
  pattern: string;
  handlers: Partial<Record<Method, Handler>>;
  /** routes readable without credentials (service root, $metadata, session login) */
  public?: Method[];
  /** the media type GET answers with, checked against Accept; application/json when absent */
  produces?: 'application/xml' | 'text/event-stream';
}

export interface RedfishContext {
  machines: Machine[];
  byId: Map<string, Machine>;
  clock: Clock;
  auth: AuthService;
  tasks: TaskService;
  events: EventService;
  serviceUuid: string;
  /** the advertised product and version (ServiceRoot Product/Vendor) */
  product: string;
  vendor: string;
}

export const V1 = '/redfish/v1';

export function ref(id: string): { '@odata.id': string } {
  return { '@odata.id': id };
}

export function collection(
  id: string,
  type: string,
  name: string,
  members: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    '@odata.id': id,
    '@odata.type': `#${type}.${type}`,
    Name: name,
    'Members@odata.count': members.length,
    Members: members.map(ref),
    ...extra,
  };
}

export function status(state = 'Enabled', health = 'OK'): { State: string; Health: string } {
  return { State: state, Health: health };
}

/** The machines the caller's account administers (its BMCs' systems). */
export function visibleMachines(ctx: RedfishContext, r: Pick<RfRequest, 'principal'>): Machine[] {
  return ctx.machines.filter((m) => r.principal?.account.systems.has(m.uuid));
}

export function ok(body: unknown, statusCode = 200, headers?: Record<string, string>): RfResult {
  return { status: statusCode, body, headers };
}

export const noContent: RfResult = { status: 204 };
