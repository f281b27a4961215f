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

export function renderNode(
  node: Node,
  minor: number,
  base: string,
  fields: string[] | null,
  conductor: string | null = null,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) if (!PRIVATE_NODE_KEYS.has(k)) out[k] = v;
  out.driver_info = maskSecrets(node.driver_info);
  const ii = maskSecrets(node.instance_info);
  if (ii.configdrive !== undefined) ii.configdrive = '******';
  out.instance_info = ii;
  out.driver_internal_info = maskSecrets(node.driver_internal_info);
  if (minor < 2 && node.provision_state === 'available') out.provision_state = null;
  if (minor < 2 && node.target_provision_state === 'available') out.target_provision_state = null;
  out.links = link(base, 'nodes', node.uuid);
  out.ports = link(base, 'nodes', node.uuid, '/ports');
  out.states = link(base, 'nodes', node.uuid, '/states');
  if (minor >= 24) out.portgroups = link(base, 'nodes', node.uuid, '/portgroups');
  if (minor >= 32) out.volume = link(base, 'nodes', node.uuid, '/volume');
  if (minor >= 49) out.conductor = conductor;
  const visible = visibleFields(NODE_FIELD_VERSIONS, minor, out);
  if (!fields) return visible;
  const picked: Record<string, unknown> = {};
  for (const f of fields) if (f in visible) picked[f] = visible[f];
  if (!('links' in picked)) picked.links = out.links;
  return picked;
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
