// HostFirmwareSettings: keeps status.settings equal to the BIOS settings Ironic reads from the
// BMC, publishes their registry as a FirmwareSchema shared by identical hardware (named from a
// hash of its contents), and flags ChangeDetected/Valid when spec.settings asks for other values —
// which the BareMetalHost controller then applies while preparing (bios.apply_configuration).
import { createHash } from 'node:crypto';
import { cloneJson } from '../../lib/clone.js';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { isAlreadyExists, isNotFound, type KubeObject } from '../kube/client.js';
import { type Condition, setCondition } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { getOrNull, hostWatch, nowIso, registeredHost, validChangeDetected } from './companion.js';
import { IronicHttpError } from './ironic-client.js';
import type { IronicProvisioner, SettingSchema } from './provisioner.js';

export const HFS = { apiVersion: 'metal3.io/v1alpha1', kind: 'HostFirmwareSettings' };
export const FIRMWARE_SCHEMA = { apiVersion: 'metal3.io/v1alpha1', kind: 'FirmwareSchema' };

export interface HostFirmwareSettings extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: { settings?: Record<string, string | number> };
  status?: {
    settings?: Record<string, string>;
    schema?: { name: string; namespace: string };
    conditions?: Condition[];
    lastUpdated?: string;
  };
}

const STEADY_MS = 5 * 60_000;
const CHANGE_DETECTED_MS = 60_000;

/** Upstream's GetSchemaName: the same keys and bounds give the same name on identical hardware. */
export function schemaName(schema: Record<string, SettingSchema>): string {
  const keys: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    keys.push(k, v.attribute_type ?? '', ...(v.allowable_values ?? []));
    for (const n of [v.lower_bound, v.upper_bound, v.min_length, v.max_length]) if (n !== undefined) keys.push(String(n));
    if (v.read_only !== undefined) keys.push(String(v.read_only));
  }
  keys.sort();
  return `schema-${createHash('sha256')
    .update(`[${keys.join(' ')}]`)
    .digest('hex')
    .slice(0, 8)}`;
}

/** Why a requested value is not acceptable under the schema, or null. */
export function settingError(
  name: string,
  value: string | number,
  schema: Record<string, SettingSchema>,
  current: Record<string, string>,
): string | null {
  if (name.includes('Password')) return 'cannot set Password field';
  if (!(name in current)) return `setting ${name} is not in the Status field`;
  const s = schema[name];
  if (!s) return null;
  if (s.read_only) return `setting ${name} is ReadOnly`;
  const text = String(value);
  switch (s.attribute_type) {
    case 'Enumeration':
      if (s.allowable_values?.length && !s.allowable_values.includes(text)) return `unknown enumeration value - ${text}`;
      break;
    case 'Integer': {
      const n = Number(value);
      if (!Number.isInteger(n)) return `setting ${name} must be an integer, not ${text}`;
      if ((s.lower_bound !== undefined && n < s.lower_bound) || (s.upper_bound !== undefined && n > s.upper_bound)) {
        return `integer ${n} is out of range [${s.lower_bound ?? ''}, ${s.upper_bound ?? ''}]`;
      }
      break;
    }
    case 'String':
      if ((s.min_length !== undefined && text.length < s.min_length) || (s.max_length !== undefined && text.length > s.max_length)) {
        return `string ${text} length is out of range [${s.min_length ?? ''}, ${s.max_length ?? ''}]`;
      }
      break;
    case 'Boolean':
      if (text !== 'true' && text !== 'false' && text !== 'True' && text !== 'False')
        return `setting ${name} must be a boolean, not ${text}`;
      break;
  }
  return null;
}

/** The settings a BareMetalHost should apply now: ChangeDetected and Valid for this generation. */
export function pendingSettings(hfs: HostFirmwareSettings | null): Record<string, string> {
  if (!hfs?.spec?.settings) return {};
  if (!validChangeDetected(hfs)) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(hfs.spec.settings)) if (hfs.status?.settings?.[k] !== String(v)) out[k] = String(v);
  return out;
}

export function hostFirmwareSettingsController(o: { provisioner: IronicProvisioner }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await registeredHost(ctx.client, req);
    if ('result' in found) return found.result;
    const { host, nodeId: id } = found;
    // the BareMetalHost controller creates it on registration
    const hfs = await getOrNull<HostFirmwareSettings>(ctx.client, HFS, req.namespace, req.name);
    if (!hfs) return undefined;
    let read: Awaited<ReturnType<IronicProvisioner['firmwareSettings']>>;
    try {
      read = await o.provisioner.firmwareSettings(id);
    } catch (e) {
      if (e instanceof IronicHttpError) {
        ctx.log.info({ err: e.message }, 'provisioner not ready for firmware settings');
        return { requeueAfterMs: 30_000 };
      }
      throw e;
    }
    const schema = await ensureSchema(ctx, hfs, host, read.schema);
    const next = cloneJson(hfs);
    const settings: Record<string, string> = {};
    for (const [k, v] of Object.entries(read.settings)) if (!k.includes('Password')) settings[k] = v;
    next.status = { ...(next.status ?? {}), settings, schema: { name: schema, namespace: req.namespace } };
    const gen = hfs.metadata.generation;
    const want = hfs.spec?.settings ?? {};
    const mismatch = Object.entries(want).filter(([k, v]) => settings[k] !== String(v));
    const errors = mismatch.length
      ? Object.entries(want)
          .map(([k, v]) => settingError(k, v, read.schema, settings))
          .filter((x): x is string => x !== null)
      : [];
    let conds = next.status.conditions ?? [];
    const set = (type: string, status: 'True' | 'False', reason: string, message = '') =>
      (conds = setCondition(conds, { type, status, reason, message, observedGeneration: gen }));
    if (mismatch.length) {
      set('ChangeDetected', 'True', 'Success');
      if (errors.length) {
        set('Valid', 'False', 'ConfigurationError', 'Invalid BIOS setting');
        const prevValid = hfs.status?.conditions?.find((c) => c.type === 'Valid');
        if (prevValid?.status !== 'False' || prevValid.observedGeneration !== gen) {
          for (const err of errors) await ctx.recorder.event(hfs, 'Warning', 'ValidationFailed', `Invalid BIOS setting: ${err}`);
        }
      } else set('Valid', 'True', 'Success');
    } else {
      set('Valid', 'True', 'Success');
      set('ChangeDetected', 'False', 'Success');
    }
    next.status.conditions = conds;
    if (!semanticEqual(next.status, hfs.status)) {
      next.status.lastUpdated = nowIso();
      await patchObject(ctx.client, hfs, next, { fieldManager: 'metal3-baremetal-controller' });
    }
    return { requeueAfterMs: mismatch.length ? CHANGE_DETECTED_MS : STEADY_MS };
  }

  async function ensureSchema(
    ctx: ReconcileContext,
    hfs: HostFirmwareSettings,
    host: BareMetalHost,
    schema: Record<string, SettingSchema>,
  ): Promise<string> {
    const name = schemaName(schema);
    const owner = { apiVersion: HFS.apiVersion, kind: HFS.kind, name: hfs.metadata.name, uid: String(hfs.metadata.uid) };
    const ref = { ...FIRMWARE_SCHEMA, namespace: hfs.metadata.namespace, name };
    try {
      const cur = await ctx.client.get(FIRMWARE_SCHEMA.apiVersion, FIRMWARE_SCHEMA.kind, hfs.metadata.namespace, name);
      // shared by every host with this hardware: each HostFirmwareSettings using it is an owner
      if (!(cur.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.uid)) {
        await ctx.client.patch(ref, 'merge', {
          metadata: { ownerReferences: [...(cur.metadata?.ownerReferences ?? []), owner], resourceVersion: cur.metadata?.resourceVersion },
        });
      }
    } catch (e) {
      if (!isNotFound(e)) throw e;
      try {
        await ctx.client.create({
          ...FIRMWARE_SCHEMA,
          metadata: { name, namespace: hfs.metadata.namespace, ownerReferences: [owner] },
          spec: {
            hardwareVendor: host.status?.hardware?.systemVendor?.manufacturer,
            hardwareModel: host.status?.hardware?.systemVendor?.productName,
            schema,
          },
        });
      } catch (e2) {
        if (!isAlreadyExists(e2)) throw e2;
      }
    }
    return name;
  }

  return {
    name: 'hostfirmwaresettings',
    // upstream's source and Event names (reason-<random>)
    eventSource: {
      component: 'metal3-hostfirmwaresettings-controller',
      reportingController: 'metal3.io/hostfirmwaresettings-controller',
      nameByReason: true,
    },
    for: HFS,
    maxConcurrentReconciles: 4,
    // a host's changes (registered, prepared, re-inspected) refresh its settings
    watches: [hostWatch],
    reconcile,
  };
}
