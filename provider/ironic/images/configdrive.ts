// Config drives as Ironic builds them: an ISO 9660 volume labelled config-2 with
// openstack/latest/{meta_data.json,user_data,network_data.json,vendor_data2.json}, gzipped and
// base64-encoded for instance_info and the agent's write_image.
import { gunzipSync, gzipSync } from 'node:zlib';
import { buildIso, type IsoFile, readIso } from '../../../lib/iso9660.js';
import { IronicError } from '../errors.js';

export interface ConfigDriveSpec {
  meta_data?: Record<string, unknown>;
  user_data?: string | Record<string, unknown> | unknown[];
  network_data?: Record<string, unknown>;
  vendor_data?: Record<string, unknown>;
}

const KEYS = new Set(['meta_data', 'user_data', 'network_data', 'vendor_data']);

export function validateConfigDrive(v: unknown): asserts v is string | ConfigDriveSpec {
  if (typeof v === 'string') return;
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new IronicError('Invalid', 'configdrive must be a string (gzipped, base64-encoded ISO or URL) or an object');
  for (const k of Object.keys(v))
    if (!KEYS.has(k))
      throw new IronicError('Invalid', `Invalid configdrive key "${k}": allowed keys are meta_data, network_data, user_data, vendor_data`);
  const o = v as Record<string, unknown>;
  for (const k of ['meta_data', 'network_data', 'vendor_data'])
    if (o[k] !== undefined && o[k] !== null && (typeof o[k] !== 'object' || Array.isArray(o[k])))
      throw new IronicError('Invalid', `configdrive ${k} must be an object`);
}

/** Builds the gzipped, base64 ISO from a dict, defaulting uuid and name from the node as Ironic does. */
export function buildConfigDrive(spec: ConfigDriveSpec, node: { uuid: string; name: string | null }): string {
  const meta: Record<string, unknown> = { ...(spec.meta_data ?? {}) };
  if (meta.uuid === undefined) meta.uuid = node.uuid;
  if (node.name && meta.name === undefined) meta.name = node.name;
  const files: IsoFile[] = [{ path: 'openstack/latest/meta_data.json', data: Buffer.from(JSON.stringify(meta)) }];
  if (spec.user_data !== undefined && spec.user_data !== null && spec.user_data !== '') {
    const ud = typeof spec.user_data === 'string' ? spec.user_data : JSON.stringify(spec.user_data);
    files.push({ path: 'openstack/latest/user_data', data: Buffer.from(ud) });
  }
  if (spec.network_data) files.push({ path: 'openstack/latest/network_data.json', data: Buffer.from(JSON.stringify(spec.network_data)) });
  if (spec.vendor_data) files.push({ path: 'openstack/latest/vendor_data2.json', data: Buffer.from(JSON.stringify(spec.vendor_data)) });
  return gzipSync(buildIso('config-2', files)).toString('base64');
}

/** The ISO bytes inside a gzipped+base64 config drive (what the agent writes to disk). */
export function decodeConfigDrive(encoded: string): Buffer {
  const raw = Buffer.from(encoded, 'base64');
  let iso: Buffer;
  try {
    iso = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  } catch (e) {
    throw new IronicError('Invalid', `config drive is not valid gzip: ${(e as Error).message}`);
  }
  readIso(iso); // throws a clear error when it is not an ISO
  return iso;
}
