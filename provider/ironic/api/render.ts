// How nodes and ports look on the wire at a given microversion: version-gated fields, masked
// secrets, `fields` selection and the links Ironic adds.
import { IronicError } from '../errors.js';
import { maskSecrets, type Node, type Port } from '../model.js';
import { NODE_FIELD_VERSIONS, PORT_FIELD_VERSIONS, visibleFields } from './microversion.js';

export const NODE_LIST_FIELDS = ['instance_uuid', 'maintenance', 'power_state', 'provision_state', 'uuid', 'name'];
export const PORT_LIST_FIELDS = ['uuid', 'address'];

const PRIVATE_NODE_KEYS = new Set(['inventory', 'bios', 'firmware']);

export function link(base: string, kind: string, id: string, sub = ''): Array<{ href: string; rel: string }> {
  return [
    { href: `${base}/v1/${kind}/${id}${sub}`, rel: 'self' },
    { href: `${base}/${kind}/${id}${sub}`, rel: 'bookmark' },
  ];
}

/** Checks a `fields` query against what exists at this version (Ironic answers 400 for unknown ones). */
export function parseFields(raw: unknown, known: Set<string>, minor: number, versions: Record<string, number>): string[] | null {
  if (raw === undefined || raw === null || raw === '') return null;
  if (minor < 8) throw new IronicError('NotAcceptable', 'The "fields" parameter needs API version 1.8');
  const list = String(raw)
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  const bad = list.filter((f) => !known.has(f) || (versions[f] ?? 1) > minor);
  if (bad.length) throw new IronicError('Invalid', `Field(s) "${bad.join(', ')}" are not valid`);
  return list;
}

export const NODE_API_FIELDS = new Set([
  ...Object.keys(NODE_FIELD_VERSIONS),
  'uuid',
  'driver',
  'driver_info',
  'extra',
  'instance_info',
  'instance_uuid',
  'last_error',
  'maintenance',
  'maintenance_reason',
  'power_state',
  'properties',
  'provision_state',
  'provision_updated_at',
  'reservation',
  'target_power_state',
  'target_provision_state',
  'console_enabled',
  'chassis_uuid',
  'created_at',
  'updated_at',
  'links',
  'ports',
  'portgroups',
  'states',
]);

/** One field of a node as the API shows it (secrets masked, pre-1.2 "available" as null, links). */
function nodeField(node: Node, k: string, minor: number, base: string, conductor: string | null): unknown {
  switch (k) {
    case 'driver_info':
    case 'driver_internal_info':
      return maskSecrets(node[k]);
    case 'instance_info': {
      const ii = maskSecrets(node.instance_info);
      if (ii.configdrive !== undefined) ii.configdrive = '******';
      return ii;
    }
    case 'provision_state':
    case 'target_provision_state':
      return minor < 2 && node[k] === 'available' ? null : node[k];
    case 'links':
      return link(base, 'nodes', node.uuid);
    case 'ports':
    case 'states':
    case 'portgroups':
    case 'volume':
      return link(base, 'nodes', node.uuid, `/${k}`);
    case 'conductor':
      return conductor;
    default:
      return (node as unknown as Record<string, unknown>)[k];
  }
}

/** The node's public fields at `minor`, in the order Ferrite shows them. */
function nodeKeys(node: Node, minor: number): string[] {
  const keys = Object.keys(node).filter((k) => !PRIVATE_NODE_KEYS.has(k));
  keys.push('links', 'ports', 'states');
  if (minor >= 24) keys.push('portgroups');
  if (minor >= 32) keys.push('volume');
  if (minor >= 49) keys.push('conductor');
  return keys.filter((k) => (NODE_FIELD_VERSIONS[k] ?? 1) <= minor);
}

// Only the requested fields are computed: a list of 1,000 nodes asks for six of them, and masking
// every node's secrets just to drop them was most of a list request's time.
export function renderNode(
  node: Node,
  minor: number,
  base: string,
  fields: string[] | null,
  conductor: string | null = null,
): Record<string, unknown> {
  const visible = nodeKeys(node, minor);
  const out: Record<string, unknown> = {};
  if (!fields) {
    for (const k of visible) out[k] = nodeField(node, k, minor, base, conductor);
    return out;
  }
  const shown = new Set(visible);
  for (const f of fields) if (shown.has(f)) out[f] = nodeField(node, f, minor, base, conductor);
  if (!('links' in out)) out.links = nodeField(node, 'links', minor, base, conductor);
  return out;
}

export const PORT_API_FIELDS = new Set([
  ...Object.keys(PORT_FIELD_VERSIONS),
  'uuid',
  'address',
  'node_uuid',
  'extra',
  'created_at',
  'updated_at',
  'links',
]);

export function renderPort(port: Port, minor: number, base: string, fields: string[] | null): Record<string, unknown> {
  const out: Record<string, unknown> = { ...port, links: link(base, 'ports', port.uuid) };
  const visible = visibleFields(PORT_FIELD_VERSIONS, minor, out);
  if (!fields) return visible;
  const picked: Record<string, unknown> = {};
  for (const f of fields) if (f in visible) picked[f] = visible[f];
  return picked;
}
