// What the per-host companion controllers (HostFirmwareSettings, HostFirmwareComponents) share:
// reading an object that may not exist, finding the registered host they belong to, the change
// conditions they gate on, and the BareMetalHost watch that wakes them.
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { getOrNull, nowIso } from '../kube/read.js';

export { getOrNull, nowIso };

import type { Condition } from '../kube/conditions.js';
import type { Request, Result } from '../kube/controller.js';

export const BMH_GVK = { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost' };

const UNREGISTERED = new Set(['', 'unmanaged', 'registering', 'deleting', 'powering off before delete']);

/**
 * The host of that name with its Ironic node id, or the result to return: nothing when the host
 * is gone, a later look while it is not registered (or is detached or paused).
 */
export async function registeredHost(
  client: KubeClient,
  req: Request,
): Promise<{ host: BareMetalHost; nodeId: string } | { result: Result | undefined }> {
  const host = await getOrNull<BareMetalHost>(client, BMH_GVK, req.namespace, req.name);
  if (!host) return { result: undefined };
  const nodeId = host.status?.provisioning?.ID;
  if (
    !nodeId ||
    UNREGISTERED.has(host.status?.provisioning?.state ?? '') ||
    host.status?.operationalStatus === 'detached' ||
    'baremetalhost.metal3.io/paused' in (host.metadata.annotations ?? {})
  ) {
    return { result: { requeueAfterMs: 30_000 } };
  }
  return { host, nodeId };
}

/** True when ChangeDetected and Valid are both True for the object's current generation. */
export function validChangeDetected(o: KubeObject & { status?: { conditions?: Condition[] } }): boolean {
  const gen = o.metadata?.generation;
  const at = (t: string) => o.status?.conditions?.find((c) => c.type === t);
  const changed = at('ChangeDetected');
  const valid = at('Valid');
  return changed?.status === 'True' && valid?.status === 'True' && changed.observedGeneration === gen && valid.observedGeneration === gen;
}

/** Wakes the companion of the same name when its host settles in a state where it can act. */
export const hostWatch = {
  ...BMH_GVK,
  map: (o: KubeObject): Request[] => {
    const state = (o as unknown as BareMetalHost).status?.provisioning?.state ?? '';
    return ['available', 'provisioned', 'externally provisioned', 'preparing'].includes(state)
      ? [{ namespace: String(o.metadata?.namespace), name: String(o.metadata?.name) }]
      : [];
  },
};
