// Two small CAPM3 reconcilers that keep things in step:
//  - Metal3MachineTemplate: a changed automatedCleaningMode reaches every Metal3Machine cloned from
//    the template (and from there its host), as upstream's template controller does;
//  - label sync: BareMetalHost labels under the prefixes a Metal3Cluster lists in its annotation
//    `metal3.io/metal3-label-sync-prefixes` are kept on the workload Node (added, changed, removed).

import { cloneJson } from '../../lib/clone.js';
import type { Cluster } from '../capi/cluster-controller.js';
import { A, K, L, listIn, obj, ownerOfKind, type Typed } from '../capi/common.js';
import type { Machine } from '../capi/machine-controller.js';
import type { WorkloadClients } from '../capi/workload.js';
import type { KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import { CAPM3_FIELD_MANAGER } from './metal3cluster-controller.js';
import type { Host } from './metal3machine-controller.js';

export const LABEL_SYNC_PREFIXES = 'metal3.io/metal3-label-sync-prefixes';
const GROUP_KIND = 'Metal3MachineTemplate.infrastructure.cluster.x-k8s.io';

export function metal3MachineTemplateController(): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const t = await getOrNull<Typed>(ctx.client, K.metal3MachineTemplate, req.namespace, req.name);
    if (!t || t.metadata.deletionTimestamp) return undefined;
    const mode = obj(obj(obj(t.spec).template).spec).automatedCleaningMode as string | undefined;
    if (!mode) return undefined;
    for (const m of await listIn<Typed>(ctx.client, K.metal3Machine, req.namespace)) {
      const a = m.metadata.annotations ?? {};
      if (a[A.clonedFromName] !== t.metadata.name || a[A.clonedFromGroupKind] !== GROUP_KIND) continue;
      if (obj(m.spec).automatedCleaningMode === mode) continue;
      const before = cloneJson(m);
      m.spec = { ...(m.spec ?? {}), automatedCleaningMode: mode };
      await patchObject(ctx.client, before, m, { fieldManager: CAPM3_FIELD_MANAGER });
    }
    return undefined;
  }
  return { name: 'metal3machinetemplate', for: K.metal3MachineTemplate, maxConcurrentReconciles: 1, reconcile };
}

/** Labels of `labels` whose prefix (the part before '/') is one of `prefixes`. */
export function syncedLabels(labels: Record<string, string> | undefined, prefixes: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    const i = k.indexOf('/');
    if (i > 0 && prefixes.includes(k.slice(0, i))) out[k] = v;
  }
  return out;
}

export function labelSyncController(o: { workload: WorkloadClients }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const h = await getOrNull<Host>(ctx.client, K.bmh, req.namespace, req.name);
    const c = h?.spec?.consumerRef;
    if (!h || c?.kind !== 'Metal3Machine' || !c.name) return undefined;
    const m3m = await getOrNull<Typed>(ctx.client, K.metal3Machine, req.namespace, c.name);
    const mref = m3m ? ownerOfKind(m3m, 'Machine') : undefined;
    const machine = mref ? await getOrNull<Machine>(ctx.client, K.machine, req.namespace, mref.name) : null;
    const nodeName = machine?.status?.nodeRef?.name;
    const clusterName = machine?.spec?.clusterName ?? machine?.metadata.labels?.[L.clusterName];
    if (!machine || !nodeName || !clusterName) return { requeueAfterMs: 30_000 };
    const cluster = await getOrNull<Cluster>(ctx.client, K.cluster, req.namespace, clusterName);
    const m3cName = cluster?.spec?.infrastructureRef?.name;
    const m3c = m3cName ? await getOrNull<KubeObject>(ctx.client, K.metal3Cluster, req.namespace, m3cName) : null;
    const prefixes = (m3c?.metadata?.annotations?.[LABEL_SYNC_PREFIXES] ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    if (!prefixes.length) return undefined;
    const w = await o.workload.get(req.namespace, clusterName).catch(() => null);
    if (!w) return { requeueAfterMs: 30_000 };
    const node = await w.get<KubeObject>('v1', 'Node', undefined, nodeName).catch(() => null);
    if (!node) return { requeueAfterMs: 30_000 };
    const want = syncedLabels(h.metadata.labels, prefixes);
    const have = syncedLabels(node.metadata?.labels, prefixes);
    const patch: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(want)) if (have[k] !== v) patch[k] = v;
    for (const k of Object.keys(have)) if (!(k in want)) patch[k] = null;
    if (Object.keys(patch).length)
      await w.patch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, 'merge', { metadata: { labels: patch } });
    // node labels can be changed behind our back: look again now and then, as upstream's resync
    return { requeueAfterMs: 60_000 };
  }
  return { name: 'metal3labelsync', for: K.bmh, maxConcurrentReconciles: 2, reconcile };
}
