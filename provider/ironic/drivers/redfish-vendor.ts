// The redfish vendor interface's passthru methods: Redfish event subscriptions on the node's BMC
// (what BMO's BMCEventSubscription drives), with Ironic's argument checks and field filtering.
import { describe, IronicError } from '../errors.js';
import type { Node } from '../model.js';
import type { RedfishDriver } from './redfish.js';

const FIELDS = ['Id', 'Context', 'Protocol', 'Destination', 'EventTypes'];
const EVENT_TYPES = ['StatusChange', 'ResourceUpdated', 'ResourceAdded', 'ResourceRemoved', 'Alert'];

function pick(sub: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(FIELDS.filter((k) => k in sub).map((k) => [k, sub[k]]));
}

export const VENDOR_METHODS: Record<string, { http: string[]; description: string }> = {
  create_subscription: {
    http: ['POST'],
    description: "Creates a subscription on a node. Required argument: a dictionary of {'Destination': 'destination_url'}",
  },
  delete_subscription: {
    http: ['DELETE'],
    description: "Delete a subscription on a node. Required argument: a dictionary of {'id': 'subscription_bmc_id'}",
  },
  get_all_subscriptions: { http: ['GET'], description: 'Returns all subscriptions on the node.' },
  get_subscription: {
    http: ['GET'],
    description: "Get a subscription on the node. Required argument: a dictionary of {'id': 'subscription_bmc_id'}",
  },
};

export async function redfishPassthru(
  rf: RedfishDriver,
  node: Node,
  method: string,
  httpMethod: string,
  args: Record<string, unknown>,
): Promise<unknown> {
  const m = VENDOR_METHODS[method];
  if (!m) throw new IronicError('InvalidParameterValue', `Unsupported method (${method}) passed to the redfish vendor interface.`);
  if (!m.http.includes(httpMethod))
    throw new IronicError(
      'InvalidParameterValue',
      `The method ${method} does not support HTTP ${httpMethod}. Supported methods are: ${m.http.join(', ')}.`,
    );
  const c = rf.client(node);
  const base = '/redfish/v1/EventService/Subscriptions';
  try {
    switch (method) {
      case 'create_subscription': {
        const dest = args.Destination;
        if (typeof dest !== 'string' || !/^https?:\/\/[^/]/.test(dest))
          throw new IronicError('InvalidParameterValue', `Destination ${String(dest)} is not a valid URI`);
        const types = (args.EventTypes as unknown[] | undefined) ?? ['Alert'];
        if (!Array.isArray(types) || types.some((t) => !EVENT_TYPES.includes(String(t))))
          throw new IronicError(
            'InvalidParameterValue',
            `EventTypes ${JSON.stringify(types)} is not a valid value, allowed values ${EVENT_TYPES.join(', ')}`,
          );
        if (args.Context !== undefined && typeof args.Context !== 'string')
          throw new IronicError('InvalidParameterValue', `Context ${String(args.Context)} is not a valid string`);
        if (args.HttpHeaders !== undefined && !Array.isArray(args.HttpHeaders))
          throw new IronicError('InvalidParameterValue', `HttpHeaders ${JSON.stringify(args.HttpHeaders)} is not a list of headers`);
        const payload: Record<string, unknown> = {
          Destination: dest,
          Protocol: args.Protocol ?? 'Redfish',
          Context: args.Context ?? '',
          EventTypes: types,
        };
        if (Array.isArray(args.HttpHeaders) && args.HttpHeaders.length) payload.HttpHeaders = args.HttpHeaders;
        const r = await c.post(base, payload);
        const loc = typeof r.headers.location === 'string' ? r.headers.location : null;
        const body = Object.keys(r.body).length || !loc ? r.body : (await c.get(new URL(loc, c.ep.address).pathname)).body;
        return pick(body);
      }
      case 'delete_subscription': {
        if (!args.id) throw new IronicError('InvalidParameterValue', "id can't be None");
        await c.request('DELETE', `${base}/${String(args.id)}`);
        return null;
      }
      case 'get_all_subscriptions':
        return (await c.get(base)).body;
      default: {
        if (!args.id) throw new IronicError('InvalidParameterValue', "id can't be None");
        return pick((await c.get(`${base}/${String(args.id)}`)).body);
      }
    }
  } catch (e) {
    if (e instanceof IronicError && e.reason !== 'Internal') throw e;
    throw new IronicError(
      'Internal',
      `Redfish ${method} failed on node ${node.uuid}. Error: ${describe(e)}`,
      method === 'delete_subscription' ? 404 : 500,
    );
  }
}
