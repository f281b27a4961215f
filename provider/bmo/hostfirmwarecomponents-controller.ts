// HostFirmwareComponents: status.components mirrors the firmware versions Ironic reads from the
// BMC (bios, bmc, nic:*); spec.updates not yet in status.updates are a ChangeDetected change,
// Valid when every component name is one upstream allows. The BareMetalHost controller applies
// them while preparing (firmware.update) and records them in status.updates when it starts.

import { cloneJson } from '../../lib/clone.js';
import type { KubeObject } from '../kube/client.js';
import { type Condition, setCondition } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { getOrNull, hostWatch, nowIso, registeredHost, validChangeDetected } from './companion.js';
import { IronicHttpError } from './ironic-client.js';
import type { IronicProvisioner } from './provisioner.js';

export const HFC = { apiVersion: 'metal3.io/v1alpha1', kind: 'HostFirmwareComponents' };

export interface FirmwareUpdate {
  component: string;
  url: string;
}

export interface HostFirmwareComponents extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: { updates?: FirmwareUpdate[] };
  status?: {
    updates?: FirmwareUpdate[];
    components?: Array<{
      component: string;
      initialVersion: string;
      currentVersion?: string;
      lastVersionFlashed?: string;
      updatedAt?: string;
    }>;
    lastUpdated?: string;
    conditions?: Condition[];
  };
}

/** Upstream's rule for update names. */
export function componentError(updates: FirmwareUpdate[]): string | null {
  for (const u of updates) {
    if (u.component !== 'bmc' && u.component !== 'bios' && !u.component.startsWith('nic:')) {
      return `component ${u.component} is invalid, only 'bmc', 'bios', or names starting with 'nic:' are allowed as update names`;
    }
  }
  return null;
}

const sameUpdates = (a: FirmwareUpdate[] | undefined, b: FirmwareUpdate[] | undefined) => semanticEqual(a ?? [], b ?? []);

/** The updates a BareMetalHost should flash now: ChangeDetected and Valid for this generation. */
export function pendingUpdates(hfc: HostFirmwareComponents | null): FirmwareUpdate[] {
  if (!hfc?.spec?.updates?.length) return [];
  if (!validChangeDetected(hfc)) return [];
  const done = new Set((hfc.status?.updates ?? []).map((u) => `${u.component}\u0000${u.url}`));
  return hfc.spec.updates.filter((u) => !done.has(`${u.component}\u0000${u.url}`));
}

export function hostFirmwareComponentsController(o: { provisioner: IronicProvisioner }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await registeredHost(ctx.client, req);
    if ('result' in found) return found.result;
    const { nodeId: id } = found;
    // the BareMetalHost controller creates it on registration
    const hfc = await getOrNull<HostFirmwareComponents>(ctx.client, HFC, req.namespace, req.name);
    if (!hfc) return undefined;
    let components: NonNullable<NonNullable<HostFirmwareComponents['status']>['components']>;
    try {
      components = await o.provisioner.firmwareComponents(id);
    } catch (e) {
      if (e instanceof IronicHttpError) return { requeueAfterMs: 30_000 };
      throw e;
    }
    const next = cloneJson(hfc);
    next.status = { ...(next.status ?? {}), components };
    const gen = hfc.metadata.generation;
    let conds = next.status.conditions ?? [];
    const set = (type: string, status: 'True' | 'False', reason: string, message = '') =>
      (conds = setCondition(conds, { type, status, reason, message, observedGeneration: gen }));
    const mismatch =
      !sameUpdates(hfc.spec?.updates, hfc.status?.updates) && Boolean(hfc.spec?.updates?.length || hfc.status?.updates?.length);
    if (mismatch) {
      set('ChangeDetected', 'True', 'OK');
      const err = componentError(hfc.spec?.updates ?? []);
      if (err) {
        const prev = hfc.status?.conditions?.find((c) => c.type === 'Valid');
        if (prev?.status !== 'False' || prev.observedGeneration !== gen) {
          await ctx.recorder.event(hfc, 'Warning', 'ValidationFailed', `Invalid Firmware Components: ${err}`);
        }
        set('Valid', 'False', 'InvalidComponent', `Invalid Firmware Components: ${err}`);
      } else set('Valid', 'True', 'OK');
    } else {
      set('Valid', 'True', 'OK');
      set('ChangeDetected', 'False', 'OK');
    }
    next.status.conditions = conds;
    if (!semanticEqual(next.status, hfc.status)) {
      next.status.lastUpdated = nowIso();
      await patchObject(ctx.client, hfc, next, { fieldManager: 'metal3-baremetal-controller' });
    }
    return { requeueAfterMs: mismatch ? 60_000 : 5 * 60_000 };
  }

  return {
    name: 'hostfirmwarecomponents',
    // upstream's source and Event names (reason-<random>)
    eventSource: {
      component: 'metal3-hostfirmwarecomponents-controller',
      reportingController: 'metal3.io/hostfirmwarecomponents-controller',
      nameByReason: true,
    },
    for: HFC,
    maxConcurrentReconciles: 4,
    watches: [hostWatch],
    reconcile,
  };
}
