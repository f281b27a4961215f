// BMCEventSubscription: a Redfish event subscription on a host's BMC, made and removed through
// Ironic's vendor passthru (create_subscription / delete_subscription) as upstream's controller
// does; HTTP headers come from a Secret; the finalizer keeps the object until the BMC forgets it.

import { cloneJson } from '../../lib/clone.js';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { isNotFound, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { BMH } from './baremetalhost-controller.js';
import { getOrNull } from './companion.js';
import { IronicHttpError } from './ironic-client.js';
import type { IronicProvisioner } from './provisioner.js';

export const BES = { apiVersion: 'metal3.io/v1alpha1', kind: 'BMCEventSubscription' };
export const BES_FINALIZER = 'bmceventsubscription.metal3.io';
const RETRY_MS = 60_000;

interface Subscription extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: { hostName?: string; destination?: string; context?: string; httpHeadersRef?: { name?: string; namespace?: string } };
  status?: { subscriptionID?: string; error?: string };
}

export function bmcEventSubscriptionController(o: { provisioner: IronicProvisioner }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Subscription>(ctx.client, BES, req.namespace, req.name);
    if (!found) return undefined;
    const sub = found;
    const original = cloneJson(sub);
    const save = async (res?: Result) => {
      await patchObject(ctx.client, original, sub, { fieldManager: 'metal3-baremetal-controller' });
      return res;
    };
    const fail = async (message: string, res: Result = { requeueAfterMs: RETRY_MS }) => {
      if (sub.status?.error !== message) await ctx.recorder.event(sub, 'Warning', 'SubscriptionError', message);
      sub.status = { ...(sub.status ?? {}), error: message };
      return save(res);
    };

    const host = await getOrNull<BareMetalHost>(ctx.client, BMH, req.namespace, String(sub.spec?.hostName ?? ''));
    const nodeId = host?.status?.provisioning?.ID;

    if (isDeleting(sub)) {
      if (!sub.metadata.finalizers?.includes(BES_FINALIZER)) return undefined;
      if (sub.status?.subscriptionID && nodeId) {
        try {
          await o.provisioner.removeEventSubscription(nodeId, sub.status.subscriptionID);
        } catch (e) {
          if (e instanceof IronicHttpError) return fail(`failed to delete a subscription: ${e.message}`);
          throw e;
        }
      }
      removeFinalizer(sub, BES_FINALIZER);
      return save();
    }
    if (!host) return fail(`baremetal host "${sub.spec?.hostName ?? ''}" not found`);
    if (addFinalizer(sub, BES_FINALIZER)) return save({ requeueAfterMs: 1 });
    if (sub.status?.subscriptionID) return undefined;
    if (!nodeId) return { requeueAfterMs: 10_000 }; // the host is not registered yet
    if (!sub.spec?.destination) return fail('spec.destination is required');

    let headers: Array<Record<string, string>> = [];
    const ref = sub.spec.httpHeadersRef;
    if (ref?.name) {
      if (ref.namespace && ref.namespace !== req.namespace) {
        return fail('httpHeadersRef secret must be in the same namespace as the BMCEventSubscription');
      }
      try {
        const secret = await ctx.client.get<{ data?: Record<string, string> } & KubeObject>('v1', 'Secret', req.namespace, ref.name);
        headers = Object.entries(secret.data ?? {}).map(([k, v]) => ({ [k]: Buffer.from(v, 'base64').toString('utf8') }));
      } catch (e) {
        if (isNotFound(e)) return fail('failed to retrieve HTTP headers secret');
        throw e;
      }
    }
    try {
      const id = await o.provisioner.addEventSubscription(nodeId, sub.spec.destination, sub.spec.context ?? '', headers);
      sub.status = { subscriptionID: id };
    } catch (e) {
      if (e instanceof IronicHttpError) return fail(`failed to create a subscription: ${e.message}`);
      throw e;
    }
    return save();
  }

  return {
    name: 'bmceventsubscription',
    for: BES,
    maxConcurrentReconciles: 2,
    // the operator adds a BareMetalHost watch (it holds the cache mapping hosts to subscriptions)
    reconcile,
  };
}
