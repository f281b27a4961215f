// The Metal3Remediation reconciler (CAPM3): the Reboot strategy a MachineHealthCheck asks for.
// It backs up the Node's labels and annotations, holds the host off with the BareMetalHost reboot
// annotation `reboot.metal3.io/metal3-remediation-<name>` ({"mode":"hard"}), deletes the Node,
// releases the host to power on, and waits for the Node to come back (restoring what it backed up).
// A Node that does not return within the timeout is retried up to retryLimit times; then the host is
// marked `capm3.metal3.io/unhealthy` and the Machine handed to its owner for replacement.

import { cloneJson } from '../../lib/clone.js';
import { condition, K, L, ownerOfKind, type Typed } from '../capi/common.js';
import type { Machine } from '../capi/machine-controller.js';
import type { WorkloadClients } from '../capi/workload.js';
import { isNotFound, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import { CAPM3_FIELD_MANAGER } from './metal3cluster-controller.js';
import { HOST_ANNOTATION, type Host, UNHEALTHY_ANNOTATION } from './metal3machine-controller.js';

export const REMEDIATION_FINALIZER = 'metal3remediation.infrastructure.cluster.x-k8s.io';
const LABELS_BACKUP = 'remediation.metal3.io/node-labels-backup';
const ANNOTATIONS_BACKUP = 'remediation.metal3.io/node-annotations-backup';
const DEFAULT_TIMEOUT_S = 600;

type M3R = Typed<
  { strategy?: { type?: string; retryLimit?: number; timeoutSeconds?: number } },
  { phase?: 'Running' | 'Waiting' | 'Deleting machine' | 'Failed'; retryCount?: number; lastRemediated?: string }
>;
type NodeObj = KubeObject & { status?: { conditions?: Array<{ type: string; status: string }> } };

export function metal3RemediationController(o: { workload: WorkloadClients }): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<M3R>(ctx.client, K.metal3Remediation, req.namespace, req.name);
    if (!found) return undefined;
    const r = found;
    const original = cloneJson(r);
    const save = async (res?: Result) => {
      await patchObject(ctx.client, original, r, { fieldManager: CAPM3_FIELD_MANAGER });
      return res;
    };
    const ns = r.metadata.namespace;
    const rebootKey = `reboot.metal3.io/metal3-remediation-${r.metadata.name}`;
    const machineRef = ownerOfKind(r, 'Machine');
    const machine = machineRef ? await getOrNull<Machine>(ctx.client, K.machine, ns, machineRef.name) : null;
    const m3mName = (machine?.spec?.infrastructureRef?.name as string | undefined) ?? r.metadata.name;
    const m3m = await getOrNull<Typed>(ctx.client, K.metal3Machine, ns, m3mName);
    const hostRef = m3m?.metadata.annotations?.[HOST_ANNOTATION];
    const host = hostRef ? await getOrNull<Host>(ctx.client, K.bmh, ns, hostRef.slice(hostRef.indexOf('/') + 1)) : null;
    const setReboot = async (on: boolean) => {
      if (!host) return;
      const has = rebootKey in (host.metadata.annotations ?? {});
      if (has === on) return;
      await ctx.client.patch({ ...K.bmh, namespace: ns, name: host.metadata.name }, 'merge', {
        metadata: { annotations: { [rebootKey]: on ? JSON.stringify({ mode: 'hard' }) : null } },
      });
    };
    if (r.metadata.deletionTimestamp) {
      // a request withdrawn (the Machine healthy again, or gone) never leaves its host held off
      await setReboot(false);
      return undefined;
    }
    if (!machine || !host) {
      condition(r, 'Ready', false, 'WaitingForHost', 'the Machine or its host is not there');
      return save({ requeueAfterMs: 10_000 });
    }
    const strategy = r.spec?.strategy ?? {};
    if ((strategy.type ?? 'Reboot') !== 'Reboot') {
      r.status = { ...(r.status ?? {}), phase: 'Failed' };
      return save();
    }
    const retryLimit = strategy.retryLimit ?? 1;
    const timeoutMs = (strategy.timeoutSeconds || DEFAULT_TIMEOUT_S) * 1000;
    const clusterName = machine.spec?.clusterName ?? machine.metadata.labels?.[L.clusterName] ?? '';
    const w = await o.workload.get(ns, clusterName).catch(() => null);
    const nodeName = machine.status?.nodeRef?.name;
    const st = { ...(r.status ?? {}) };
    const phase = st.phase;

    if (!phase) {
      // back up what the Node carries, then hold the host off and delete the Node
      if (w && nodeName) {
        const node = await w.get<NodeObj>('v1', 'Node', undefined, nodeName).catch((e: unknown) => {
          if (isNotFound(e)) return null;
          throw e;
        });
        if (node) {
          r.metadata.annotations = {
            ...(r.metadata.annotations ?? {}),
            [LABELS_BACKUP]: JSON.stringify(node.metadata?.labels ?? {}),
            [ANNOTATIONS_BACKUP]: JSON.stringify(node.metadata?.annotations ?? {}),
          };
        }
      }
      await setReboot(true);
      r.status = { phase: 'Running', retryCount: (st.retryCount ?? 0) + 1, lastRemediated: nowIso() };
      ctx.recorder.event(
        r,
        'Normal',
        'Rebooting',
        `Powering off BareMetalHost ${host.metadata.name} to remediate Machine ${machine.metadata.name}`,
      );
      return save({ requeueAfterMs: 1_000 });
    }
    if (phase === 'Running') {
      if (host.status?.poweredOn === true) return { requeueAfterMs: 1_000 };
      if (w && nodeName) {
        await w.delete({ apiVersion: 'v1', kind: 'Node', name: nodeName }).catch((e: unknown) => {
          if (!isNotFound(e)) ctx.log.info({ err: (e as Error).message }, 'could not delete the node before the reboot');
        });
      }
      await setReboot(false);
      r.status = { ...st, phase: 'Waiting' };
      return save({ requeueAfterMs: 2_000 });
    }
    if (phase === 'Waiting') {
      const node = w && nodeName ? await w.get<NodeObj>('v1', 'Node', undefined, nodeName).catch(() => null) : null;
      const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (node && w && nodeName) {
        // put back what the Node carried before it was deleted
        const labels = JSON.parse(r.metadata.annotations?.[LABELS_BACKUP] ?? '{}') as Record<string, string>;
        const annotations = JSON.parse(r.metadata.annotations?.[ANNOTATIONS_BACKUP] ?? '{}') as Record<string, string>;
        const missing =
          Object.entries(labels).some(([k, v]) => node.metadata?.labels?.[k] !== v) ||
          Object.entries(annotations).some(([k, v]) => node.metadata?.annotations?.[k] !== v);
        if (missing)
          await w
            .patch({ apiVersion: 'v1', kind: 'Node', name: nodeName }, 'merge', { metadata: { labels, annotations } })
            .catch(() => undefined);
      }
      if (ready) {
        condition(r, 'Ready', true, 'NodeBack');
        return save({ requeueAfterMs: 30_000 });
      }
      const since = Date.parse(String(st.lastRemediated));
      if (Date.now() - since < timeoutMs) return save({ requeueAfterMs: 2_000 });
      if ((st.retryCount ?? 0) < retryLimit) {
        await setReboot(true);
        r.status = { ...st, phase: 'Running', retryCount: (st.retryCount ?? 0) + 1, lastRemediated: nowIso() };
        return save({ requeueAfterMs: 1_000 });
      }
      // the reboots did not bring the Node back: the host is unhealthy, the Machine is replaced
      await ctx.client.patch({ ...K.bmh, namespace: ns, name: host.metadata.name }, 'merge', {
        metadata: { annotations: { [UNHEALTHY_ANNOTATION]: '' } },
      });
      const before = cloneJson(machine);
      condition(
        machine,
        'OwnerRemediated',
        false,
        'RemediationFailed',
        `Metal3Remediation ${r.metadata.name}: the node did not come back after ${retryLimit} reboot(s)`,
      );
      await patchObject(ctx.client, before, machine, { fieldManager: CAPM3_FIELD_MANAGER });
      r.status = { ...st, phase: 'Deleting machine' };
      ctx.recorder.event(r, 'Warning', 'RemediationFailed', `Machine ${machine.metadata.name} is handed to its owner for replacement`);
      return save();
    }
    return undefined;
  }
  return { name: 'metal3remediation', for: K.metal3Remediation, maxConcurrentReconciles: 2, reconcile };
}
