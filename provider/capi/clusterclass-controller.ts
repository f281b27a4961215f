// The ClusterClass reconciler (Cluster API core, core/reconcilers/clusterclass): publishes the
// class's variables in status.variables (all defined inline here: Runtime SDK discovery is not
// served), checks that every template it names exists (RefVersionsUpToDate) and records the
// generation it judged, which the Cluster webhook reads as "reconciled".

import { cloneJson } from '../../lib/clone.js';
import type { ClusterClassSpec } from '../api/cluster.x-k8s.io/cluster-class.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { isDeleting } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import { CLUSTER_CLASS, loadBlueprint } from './cluster-topology-controller.js';
import { condition, type Typed } from './common.js';
import { CapiError } from './errors.js';

const FIELD_MANAGER = 'capi-clusterclass';

export function clusterClassController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Typed<ClusterClassSpec>>(ctx.client, CLUSTER_CLASS, req.namespace, req.name);
    if (!found || isDeleting(found)) return undefined;
    const cls = found;
    const original = cloneJson(cls);
    const spec = (cls.spec ?? {}) as ClusterClassSpec;
    cls.status = {
      ...(cls.status ?? {}),
      variables: (spec.variables ?? []).map((v) => ({
        name: v.name,
        definitionsConflict: false,
        definitions: [
          {
            from: 'inline',
            required: v.required,
            ...(v.deprecatedV1Beta1Metadata ? { deprecatedV1Beta1Metadata: v.deprecatedV1Beta1Metadata } : {}),
            schema: v.schema,
          },
        ],
      })),
      observedGeneration: cls.metadata.generation,
    } as never;
    condition(cls, 'VariablesReady', true, 'VariablesReady');
    let requeue: number | undefined;
    try {
      await loadBlueprint(ctx.client, cls as never);
      condition(cls, 'RefVersionsUpToDate', true, 'RefVersionsUpToDate');
    } catch (e) {
      if (!(e instanceof CapiError)) throw e;
      condition(cls, 'RefVersionsUpToDate', false, 'RefVersionsNotUpToDate', e.message);
      requeue = 5_000;
    }
    await patchObject(ctx.client, original, cls, { fieldManager: FIELD_MANAGER });
    return requeue ? { requeueAfterMs: requeue } : undefined;
  }
  return { name: 'clusterclass', for: CLUSTER_CLASS, reconcile };
}
