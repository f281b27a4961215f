// DataImage: an image attached as a virtual CD to a provisioned host (named like it). The
// BareMetalHost controller attaches it just before powering the host on, as upstream does; this
// controller keeps the owner reference and finalizer, reports what is attached, and detaches the
// image when the DataImage is deleted.

import { cloneJson } from '../../lib/clone.js';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import type { KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { A, BMH } from './baremetalhost-controller.js';
import { getOrNull, nowIso } from './companion.js';
import { IronicHttpError } from './ironic-client.js';
import type { IronicProvisioner } from './provisioner.js';

export const DATA_IMAGE = { apiVersion: 'metal3.io/v1alpha1', kind: 'DataImage' };
export const DATA_IMAGE_FINALIZER = 'dataimage.metal3.io';

export interface DataImage extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: { url?: string };
  status?: { lastReconciled?: string; attachedImage?: { url: string }; error?: { count: number; message: string } };
}

export function dataImageController(o: { provisioner: IronicProvisioner }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<DataImage>(ctx.client, DATA_IMAGE, req.namespace, req.name);
    if (!found) return undefined;
    const di = found;
    const original = cloneJson(di);
    const save = async (res?: Result) => {
      await patchObject(ctx.client, original, di, { fieldManager: 'metal3-baremetal-controller' });
      return res;
    };
    const host = await getOrNull<BareMetalHost>(ctx.client, BMH, req.namespace, req.name);
    if (!host) {
      // nothing can be attached to a host that is gone
      removeFinalizer(di, DATA_IMAGE_FINALIZER);
      return save();
    }
    if (A.paused in (host.metadata.annotations ?? {})) return undefined;
    if (!(di.metadata.ownerReferences ?? []).some((r) => r.uid === host.metadata.uid)) {
      di.metadata.ownerReferences = [
        ...(di.metadata.ownerReferences ?? []),
        { apiVersion: BMH.apiVersion, kind: BMH.kind, name: host.metadata.name, uid: String(host.metadata.uid) },
      ];
      return save({ requeueAfterMs: 1 });
    }
    if (!isDeleting(di) && addFinalizer(di, DATA_IMAGE_FINALIZER)) return save({ requeueAfterMs: 1 });
    const detached = A.detached in (host.metadata.annotations ?? {}) || host.status?.operationalStatus === 'detached';
    const nodeId = host.status?.provisioning?.ID;
    if (detached || !nodeId) {
      if (isDeleting(di)) removeFinalizer(di, DATA_IMAGE_FINALIZER);
      return save(isDeleting(di) ? undefined : { requeueAfterMs: 30_000 });
    }
    let attached: string | null;
    try {
      attached = await o.provisioner.dataImageAttached(nodeId);
      if (isDeleting(di)) {
        if (attached !== null) await o.provisioner.detachDataImage(nodeId);
        removeFinalizer(di, DATA_IMAGE_FINALIZER);
        return save();
      }
    } catch (e) {
      if (!(e instanceof IronicHttpError)) throw e;
      const count = (di.status?.error?.count ?? 0) + 1;
      di.status = { ...(di.status ?? {}), lastReconciled: nowIso(), error: { count, message: e.message } };
      return save({ requeueAfterMs: Math.min(600_000, 10_000 * 2 ** Math.min(count, 6)) });
    }
    const status = { ...(di.status ?? {}) };
    if (attached !== null) status.attachedImage = { url: attached };
    else delete status.attachedImage;
    if (!semanticEqual(status, di.status ?? {})) {
      di.status = { ...status, lastReconciled: nowIso() };
      return save({ requeueAfterMs: 60_000 });
    }
    return { requeueAfterMs: 60_000 };
  }

  return {
    name: 'dataimage',
    // upstream's source and Event names (reason-<random>)
    eventSource: { component: 'metal3-dataimage-controller', reportingController: 'metal3.io/dataimage-controller', nameByReason: true },
    for: DATA_IMAGE,
    maxConcurrentReconciles: 2,
    watches: [{ ...BMH, map: (h) => [{ namespace: String(h.metadata?.namespace), name: String(h.metadata?.name) }] }],
    reconcile,
  };
}
