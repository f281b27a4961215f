// The Metal3Cluster reconciler (CAPM3): there is no load balancer to build on bare metal, the
// control plane endpoint is the address the user gives (a keepalived VIP in metal3-dev-env), so the
// infrastructure is provisioned as soon as the owning Cluster exists and the endpoint is valid.
// Deletion waits until the cluster's Machines are gone.

import { cloneJson } from '../../lib/clone.js';
import { condition, isPaused, K, L, listIn, ownerOfKind, type Typed } from '../capi/common.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import { semanticEqual } from '../kube/semantic.js';

export const METAL3_CLUSTER_FINALIZER = 'metal3cluster.infrastructure.cluster.x-k8s.io';
export const CAPM3_FIELD_MANAGER = 'capm3-manager';

type M3C = Typed<{ controlPlaneEndpoint?: { host?: string; port?: number }; failureDomains?: unknown[] }>;

export function metal3ClusterController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<M3C>(ctx.client, K.metal3Cluster, req.namespace, req.name);
    if (!found) return undefined;
    const m = found;
    const original = cloneJson(m);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, m, { fieldManager: CAPM3_FIELD_MANAGER });
      return r;
    };
    m.status = { ...(m.status ?? {}) };
    if (!semanticEqual(m.spec?.failureDomains, m.status.failureDomains)) {
      if (m.spec?.failureDomains) m.status.failureDomains = m.spec.failureDomains;
      else delete m.status.failureDomains;
    }
    const owner = ownerOfKind(m, 'Cluster');
    if (!owner) {
      ctx.log.info({ metal3cluster: req.name }, 'waiting for the Cluster controller to set the owner reference');
      return save();
    }
    const cluster = await getOrNull<Typed>(ctx.client, K.cluster, m.metadata.namespace, owner.name);
    if (isPaused(cluster, m)) {
      condition(m, 'Paused', true, 'Paused');
      return save({ requeueAfterMs: 30_000 });
    }
    condition(m, 'Paused', false, 'NotPaused');
    if (isDeleting(m)) {
      const machines = await listIn(ctx.client, K.metal3Machine, m.metadata.namespace, { [L.clusterName]: owner.name });
      if (machines.length > 0) {
        condition(m, 'Ready', false, 'Deleting', `waiting for ${machines.length} Metal3Machines to be deleted`);
        return save({ requeueAfterMs: 5_000 });
      }
      removeFinalizer(m, METAL3_CLUSTER_FINALIZER);
      return save();
    }
    addFinalizer(m, METAL3_CLUSTER_FINALIZER);
    m.metadata.labels = { ...(m.metadata.labels ?? {}), [L.clusterName]: owner.name };
    const ep = m.spec?.controlPlaneEndpoint;
    const valid = Boolean(ep?.host) && Number(ep?.port ?? 0) > 0;
    const st = m.status as Record<string, unknown>;
    if ((st.initialization as { provisioned?: boolean } | undefined)?.provisioned !== valid) {
      st.initialization = { provisioned: valid };
      st.lastUpdated = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    }
    if (valid) {
      condition(m, 'Ready', true, 'Ready');
      delete st.deprecated;
    } else {
      condition(m, 'Ready', false, 'ControlPlaneEndpointFailed', 'invalid ControlPlaneEndpoint values: host and port are required');
      st.deprecated = { v1beta1: { failureReason: 'InvalidConfiguration', failureMessage: 'Invalid ControlPlaneEndpoint values' } };
    }
    return save();
  }
  return { name: 'metal3cluster', for: K.metal3Cluster, maxConcurrentReconciles: 2, reconcile };
}
