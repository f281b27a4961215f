// Shapes the Metal3 infrastructure kinds share (cluster-api-provider-metal3 api/v1beta2 and
// api/v1beta1 common_types.go), and the conversions between their two spellings.
import { z } from 'zod';
import { contractLabels, objectReference } from '../cluster.x-k8s.io/common.js';
import { getPath, isObj, move, setPath } from '../versioning.js';

type Obj = Record<string, unknown>;

export const GROUP = 'infrastructure.cluster.x-k8s.io';
/** CAPM3 v1.13+: the v1beta1 contract is served by v1beta1, the v1beta2 contract by v1beta2. */
export const CAPM3_LABELS = { ...contractLabels('v1beta1', 'v1beta2'), 'cluster.x-k8s.io/provider': 'infrastructure-metal3' };

export const secretRef = z.object({ name: z.string().optional(), namespace: z.string().optional() });
export const metal3ObjectRef = z.object({ name: z.string().min(1).max(253).optional(), namespace: z.string().max(63).optional() });
export const v1beta1ObjectRef = objectReference;

export const CHECKSUM_TYPES = ['md5', 'sha256', 'sha512'] as const;
export const DISK_FORMATS = ['raw', 'qcow2', 'vdi', 'vmdk', 'live-iso'] as const;

export const imageV1beta2 = z.object({
  url: z.string().optional().describe('URL is a location of an image to deploy.'),
  checksum: z.string().optional().describe('Checksum is the checksum of the image, or a URL of it.'),
  checksumType: z.enum(CHECKSUM_TYPES).optional(),
  diskFormat: z.enum(DISK_FORMATS).optional(),
});

export const imageV1beta1 = z.object({
  url: z.string(),
  checksum: z.string().optional(),
  checksumType: z.enum(CHECKSUM_TYPES).optional(),
  format: z.enum(DISK_FORMATS).optional(),
});

export const hostSelector = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(z.object({ key: z.string().optional(), operator: z.string().optional(), values: z.array(z.string()).optional() }))
    .optional(),
});

export const machineAddress = z.object({
  type: z.enum(['Hostname', 'ExternalIP', 'InternalIP', 'ExternalDNS', 'InternalDNS']),
  address: z.string().min(1).max(256),
});

export const apiEndpointV1beta2 = z.object({ host: z.string().max(512).optional(), port: z.number().int().optional() });
export const apiEndpointV1beta1 = z.object({ host: z.string(), port: z.number().int() });

/** corev1.ObjectReference → Metal3ObjectRef: only the name and namespace carry over. */
export function toMetal3Ref(r: unknown): Obj | undefined {
  if (!isObj(r)) return undefined;
  const out: Obj = {};
  if (r.name) out.name = r.name;
  if (r.namespace) out.namespace = r.namespace;
  return out;
}

export function refsToMetal3(o: Obj, paths: string[]): Obj {
  let r = o;
  for (const p of paths) {
    const v = getPath(r, p);
    if (v !== undefined) r = setPath(r, p, toMetal3Ref(v));
  }
  return r;
}

/** A Metal3ObjectRef written as the v1beta1 ObjectReference of a known kind. */
export function refsToV1beta1(o: Obj, paths: Array<[string, string]>): Obj {
  let r = o;
  for (const [p, kind] of paths) {
    const v = getPath(r, p);
    if (isObj(v)) r = setPath(r, p, { ...v, kind, apiVersion: `${GROUP}/v1beta1` });
  }
  return r;
}

export function imageToV1beta2(o: Obj, base: string): Obj {
  return move(o, `${base}.format`, `${base}.diskFormat`);
}

export function imageToV1beta1(o: Obj, base: string): Obj {
  return move(o, `${base}.diskFormat`, `${base}.format`);
}

/** v1beta1's `ready: true` is v1beta2's initialization.provisioned (a false is left unsaid). */
export function readyToProvisioned(o: Obj): Obj {
  const ready = getPath(o, 'status.ready');
  let r = setPath(o, 'status.ready', undefined);
  if (ready === true) r = setPath(r, 'status.initialization.provisioned', true);
  if (isObj(r.status) && Object.keys(r.status).length === 0) r = setPath(r, 'status', undefined);
  return r;
}

export function provisionedToReady(o: Obj): Obj {
  const p = getPath(o, 'status.initialization.provisioned');
  let r = setPath(o, 'status.initialization', undefined);
  r = setPath(r, 'status.ready', p === true);
  return r;
}
