// The Metal3Machine reconciler (CAPM3): claims a BareMetalHost for the Machine by its hostSelector
// (upstream's eligibility rules, no double claims), gets the machine's meta and network data
// rendered through a Metal3DataClaim, hands the host its image, user data (the Machine's bootstrap
// Secret), meta data, network data, cleaning mode and online=true, waits for `provisioned`, then
// completes the providerID handshake with the workload Node (`metal3://<ns>/<bmh>/<m3m>`).
// Deleting deprovisions the host, waits until it is back in the pool and releases it (or keeps it
// for the same deployment when the template asks for node reuse).

import { cloneJson } from '../../lib/clone.js';
import type { Cluster } from '../capi/cluster-controller.js';
import { condition, isPaused, K, L, listIn, matchesSelector, obj, ownerOfKind, type Typed } from '../capi/common.js';
import type { Machine } from '../capi/machine-controller.js';
import { SYNC_PERIOD_MS, type WorkloadClients } from '../capi/workload.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull } from '../kube/read.js';
import { semanticEqual } from '../kube/semantic.js';
import { CAPM3_FIELD_MANAGER } from './metal3cluster-controller.js';

export const M3M_FINALIZER = 'metal3machine.infrastructure.cluster.x-k8s.io';
export const HOST_ANNOTATION = 'metal3.io/BareMetalHost';
export const PAUSE_ANNOTATION = 'baremetalhost.metal3.io/paused';
export const STATUS_ANNOTATION = 'baremetalhost.metal3.io/status';
export const CAPM3_PAUSE_VALUE = 'metal3.io/capm3';
export const UNHEALTHY_ANNOTATION = 'capm3.metal3.io/unhealthy';
const UNHEALTHY_DEPRECATED = 'capi.metal3.io/unhealthy';
export const NODE_REUSE_LABEL = 'infrastructure.cluster.x-k8s.io/node-reuse';
export const FAILURE_DOMAIN_LABEL = 'infrastructure.cluster.x-k8s.io/failure-domain';
const UUID_LABEL = 'metal3.io/uuid';
/** Host states a deprovisioned host may be released in. */
const RELEASED_STATES = new Set(['', 'registering', 'match profile', 'inspecting', 'ready', 'available', 'unmanaged']);
const WAIT_MS = 30_000;

interface M3MSpec {
  providerID?: string;
  image?: { url?: string; checksum?: string; checksumType?: string; diskFormat?: string };
  customDeploy?: { method?: string };
  userData?: { name?: string; namespace?: string };
  hostSelector?: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> };
  dataTemplate?: { name?: string; namespace?: string };
  metaData?: { name?: string; namespace?: string };
  networkData?: { name?: string; namespace?: string };
  automatedCleaningMode?: 'metadata' | 'disabled';
  failureDomain?: string;
}
export type Metal3Machine = Typed<M3MSpec>;
export interface Host extends Typed {
  spec?: Record<string, unknown> & {
    consumerRef?: { apiVersion?: string; kind?: string; name?: string; namespace?: string };
    image?: Record<string, unknown>;
    customDeploy?: Record<string, unknown>;
    online?: boolean;
    bootMACAddress?: string;
    bmc?: { credentialsName?: string };
  };
  status?: {
    provisioning?: { state?: string };
    errorMessage?: string;
    hardware?: { hostname?: string; nics?: Array<{ name: string; mac: string; ip?: string }> };
    poweredOn?: boolean;
  } & Record<string, unknown>;
}

// upstream serializes every association in the process: one choice, one claim, at a time
let associating: Promise<unknown> = Promise.resolve();
function exclusive<T>(f: () => Promise<T>): Promise<T> {
  const run = associating.then(f, f);
  associating = run.catch(() => undefined);
  return run;
}

const hostName = (m: Metal3Machine) => {
  const a = m.metadata.annotations?.[HOST_ANNOTATION];
  return a ? a.slice(a.indexOf('/') + 1) : undefined;
};

export function metal3MachineController(o: { workload: WorkloadClients; machines?: () => KubeObject[] }): ControllerSpec {
  function consumerIs(h: Host, m: Metal3Machine): boolean {
    const c = h.spec?.consumerRef;
    return c?.kind === 'Metal3Machine' && c.name === m.metadata.name && (c.namespace ?? h.metadata.namespace) === m.metadata.namespace;
  }

  async function reuseName(client: KubeClient, machine: Machine): Promise<string | undefined> {
    const cpName = machine.metadata.labels?.[L.controlPlaneName];
    if (cpName) return cpName;
    const msRef = ownerOfKind(machine, 'MachineSet');
    if (!msRef) return undefined;
    const ms = await getOrNull<Typed>(client, K.machineSet, machine.metadata.namespace, msRef.name);
    return ms ? ownerOfKind(ms, 'MachineDeployment')?.name : undefined;
  }

  async function templateOf(client: KubeClient, m: Metal3Machine): Promise<Typed | null> {
    const name = m.metadata.annotations?.['cluster.x-k8s.io/cloned-from-name'];
    return name ? getOrNull<Typed>(client, K.metal3MachineTemplate, m.metadata.namespace, name) : null;
  }

  /** chooseHost: this machine's host if it has one, else a random eligible one (reused hosts first). */
  async function chooseHost(ctx: ReconcileContext, m: Metal3Machine, machine: Machine): Promise<Host | 'wait' | null> {
    const hosts = (await listIn<Host>(ctx.client, K.bmh, m.metadata.namespace)).filter((h) =>
      matchesSelector(h.metadata.labels, m.spec?.hostSelector),
    );
    const mine = hosts.find((h) => consumerIs(h, m));
    if (mine) return mine;
    const tmpl = await templateOf(ctx.client, m);
    const reuse = obj(tmpl?.spec).nodeReuse === true ? await reuseName(ctx.client, machine) : undefined;
    const eligible = (h: Host, allowReserved: boolean) => {
      const a = h.metadata.annotations ?? {};
      if (h.spec?.consumerRef && !(allowReserved && h.spec.consumerRef.kind === 'Cluster')) return false;
      if (h.metadata.deletionTimestamp || h.status?.errorMessage) return false;
      if (PAUSE_ANNOTATION in a || UNHEALTHY_ANNOTATION in a || UNHEALTHY_DEPRECATED in a) return false;
      return ['ready', 'available'].includes(String(h.status?.provisioning?.state ?? ''));
    };
    if (reuse) {
      const reserved = hosts.filter((h) => h.metadata.labels?.[NODE_REUSE_LABEL] === reuse);
      if (reserved.length) {
        const ready = reserved.filter((h) => eligible(h, true));
        // a reserved host still cleaning is waited for rather than replaced
        return ready.length ? ready[Math.floor(Math.random() * ready.length)] : 'wait';
      }
    }
    let pool = hosts.filter((h) => eligible(h, false) && !(NODE_REUSE_LABEL in (h.metadata.labels ?? {})));
    const fd = m.spec?.failureDomain ?? machine.spec?.failureDomain;
    if (fd) {
      const inFd = pool.filter((h) => h.metadata.labels?.[FAILURE_DOMAIN_LABEL] === fd);
      if (inFd.length) pool = inFd;
    }
    return pool.length ? pool[Math.floor(Math.random() * pool.length)] : null;
  }

  async function associate(ctx: ReconcileContext, m: Metal3Machine, machine: Machine, clusterName: string): Promise<Host | 'wait' | null> {
    return exclusive(async () => {
      const host = await chooseHost(ctx, m, machine);
      if (!host || host === 'wait') return host;
      const before = cloneJson(host);
      host.spec = {
        ...(host.spec ?? {}),
        consumerRef: {
          apiVersion: K.metal3Machine.apiVersion,
          kind: 'Metal3Machine',
          name: m.metadata.name,
          namespace: m.metadata.namespace,
        },
      };
      const labels = { ...(host.metadata.labels ?? {}), [L.clusterName]: clusterName };
      delete labels[NODE_REUSE_LABEL];
      host.metadata.labels = labels;
      // the resourceVersion read above makes a concurrent claim of the same host a 409
      await patchObject(ctx.client, before, host, { fieldManager: CAPM3_FIELD_MANAGER });
      const secret = host.spec.bmc?.credentialsName;
      if (secret) {
        await ctx.client
          .patch({ ...K.secret, namespace: m.metadata.namespace, name: secret }, 'merge', {
            metadata: { labels: { [L.clusterName]: clusterName } },
          })
          .catch(() => undefined);
      }
      return host;
    });
  }

  /** The rendered-data handshake: claim → Metal3Data → ready → secret names on the machine. */
  async function metadata(ctx: ReconcileContext, m: Metal3Machine): Promise<boolean> {
    const dt = m.spec?.dataTemplate?.name;
    if (!dt) return true;
    const ns = m.metadata.namespace;
    let claim = await getOrNull<Typed>(ctx.client, K.metal3DataClaim, ns, m.metadata.name);
    if (!claim) {
      claim = await ctx.client.create<Typed>(
        {
          apiVersion: K.metal3DataClaim.apiVersion,
          kind: 'Metal3DataClaim',
          metadata: {
            name: m.metadata.name,
            namespace: ns,
            labels: { [L.clusterName]: String(m.metadata.labels?.[L.clusterName] ?? '') },
            ownerReferences: [
              {
                apiVersion: String(m.apiVersion),
                kind: 'Metal3Machine',
                name: m.metadata.name,
                uid: String(m.metadata.uid),
                controller: true,
              },
            ],
          },
          spec: { template: { name: dt } },
        },
        CAPM3_FIELD_MANAGER,
      );
    }
    const rendered = obj(obj(claim.status).renderedData).name as string | undefined;
    const err = obj(claim.status).errorMessage as string | undefined;
    if (!rendered) {
      condition(m, 'Metal3DataReady', false, 'WaitingForMetal3Data', err ?? 'waiting for the Metal3DataTemplate to render the data');
      return false;
    }
    const data = await getOrNull<Typed>(ctx.client, K.metal3Data, ns, rendered);
    if (!data || obj(data.status).ready !== true) {
      condition(
        m,
        'Metal3DataReady',
        false,
        'WaitingForMetal3Data',
        String(obj(data?.status).errorMessage ?? `Metal3Data ${rendered} is not ready`),
      );
      return false;
    }
    const st = (m.status ?? {}) as Record<string, unknown>;
    st.renderedData = { name: rendered, namespace: ns };
    const md = obj(data.spec).metaData as { name?: string } | undefined;
    const nd = obj(data.spec).networkData as { name?: string } | undefined;
    if (md?.name && !m.spec?.metaData) st.metaData = { name: md.name, namespace: ns };
    if (nd?.name && !m.spec?.networkData) st.networkData = { name: nd.name, namespace: ns };
    m.status = st as never;
    condition(m, 'Metal3DataReady', true, 'Ready');
    return true;
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<Metal3Machine>(ctx.client, K.metal3Machine, req.namespace, req.name);
    if (!found) return undefined;
    const m = found;
    const original = cloneJson(m);
    const save = async (r?: Result) => {
      try {
        await patchObject(ctx.client, original, m, { fieldManager: CAPM3_FIELD_MANAGER });
      } catch (e) {
        if (isConflict(e)) return { requeue: true } as Result;
        throw e;
      }
      return r;
    };
    const ns = m.metadata.namespace;
    const mref = ownerOfKind(m, 'Machine');
    if (!mref) {
      if (isDeleting(m)) {
        removeFinalizer(m, M3M_FINALIZER);
        return save();
      }
      condition(m, 'Ready', false, 'WaitingForMetal3MachineOwnerRef');
      condition(m, 'AssociateBareMetalHost', false, 'WaitingForMetal3MachineOwnerRef');
      return save();
    }
    const machine = await getOrNull<Machine>(ctx.client, K.machine, ns, mref.name);
    const clusterName = machine?.spec?.clusterName ?? m.metadata.labels?.[L.clusterName] ?? '';
    const cluster = clusterName ? await getOrNull<Cluster>(ctx.client, K.cluster, ns, clusterName) : null;
    if (clusterName && m.metadata.labels?.[L.clusterName] !== clusterName)
      m.metadata.labels = { ...(m.metadata.labels ?? {}), [L.clusterName]: clusterName };
    const hn = hostName(m);
    const host = hn ? await getOrNull<Host>(ctx.client, K.bmh, ns, hn) : null;
    if (cluster && isPaused(cluster, m)) {
      if (host) await pauseHost(ctx, host, true);
      condition(m, 'Paused', true, 'Paused');
      return save({ requeueAfterMs: WAIT_MS });
    }
    condition(m, 'Paused', false, 'NotPaused');
    if (host) await pauseHost(ctx, host, false);
    if (isDeleting(m)) return save(await reconcileDelete(ctx, m, host, machine, cluster));
    if (!machine || !cluster) {
      condition(m, 'Ready', false, 'WaitingForCluster', `Machine ${mref.name} or its Cluster is not there yet`);
      return save({ requeueAfterMs: 5_000 });
    }
    if (addFinalizer(m, M3M_FINALIZER)) return save({ requeueAfterMs: 1 });
    if (obj(cluster.status?.initialization).infrastructureProvisioned !== true) {
      condition(m, 'Ready', false, 'WaitingForClusterInfrastructureReady');
      return save({ requeueAfterMs: 5_000 });
    }
    const st = (m.status ?? {}) as Record<string, unknown>;
    if (m.spec?.providerID && obj(st.initialization).provisioned === true && host) {
      await syncHost(ctx, m, host);
      updateAddresses(m, host);
      // its host and Machine are watched: a provisioned machine waits for their events and the
      // 10-minute sync period, as upstream's does
      return save({ requeueAfterMs: SYNC_PERIOD_MS });
    }
    const secretName = machine.spec?.bootstrap?.dataSecretName;
    if (!secretName) {
      condition(m, 'Ready', false, 'WaitingForBootstrapData');
      condition(m, 'AssociateBareMetalHost', false, 'WaitingForBootstrapData');
      return save({ requeueAfterMs: 10_000 });
    }
    let h = host;
    if (!h) {
      let chosen: Host | 'wait' | null;
      try {
        chosen = await associate(ctx, m, machine, clusterName);
      } catch (e) {
        if (isConflict(e)) return { requeue: true };
        throw e;
      }
      if (!chosen || chosen === 'wait') {
        condition(
          m,
          'AssociateBareMetalHost',
          false,
          'AssociateBareMetalHostFailed',
          chosen === 'wait' ? 'the host reserved for node reuse is not available yet' : 'No available host found. Requeuing.',
        );
        condition(m, 'Ready', false, 'AssociateBareMetalHostFailed');
        return save({ requeueAfterMs: WAIT_MS });
      }
      h = chosen;
      m.metadata.annotations = { ...(m.metadata.annotations ?? {}), [HOST_ANNOTATION]: `${ns}/${h.metadata.name}` };
      ctx.recorder.event(m, 'Normal', 'HostAssociated', `Associated with BareMetalHost ${h.metadata.name}`);
      condition(m, 'AssociateBareMetalHost', true, 'AssociateBareMetalHostSuccess');
      return save({ requeueAfterMs: 1 });
    }
    condition(m, 'AssociateBareMetalHost', true, 'AssociateBareMetalHostSuccess');
    st.userData = { name: secretName, namespace: ns };
    m.status = st as never;
    if (!(await metadata(ctx, m))) return save({ requeueAfterMs: 5_000 });
    await setHostSpec(ctx, m, h, secretName);
    updateAddresses(m, h);
    const state = h.status?.provisioning?.state;
    if (state !== 'provisioned') {
      condition(
        m,
        'Ready',
        false,
        'WaitingForBareMetalHostProvisioned',
        `BareMetalHost ${h.metadata.name} is ${state || 'not registered yet'}`,
      );
      return save({ requeueAfterMs: WAIT_MS });
    }
    // the providerID handshake with the workload Node
    const providerID = `metal3://${ns}/${h.metadata.name}/${m.metadata.name}`;
    const done = await nodeHandshake(cluster, h, providerID);
    if (!done.ok) {
      condition(m, 'Ready', false, 'WaitingForNode', done.why);
      return save({ requeueAfterMs: 5_000 });
    }
    m.spec = { ...(m.spec ?? {}), providerID };
    st.initialization = { provisioned: true };
    m.status = st as never;
    condition(m, 'Ready', true, 'Ready');
    return save();
  }

  async function nodeHandshake(cluster: Cluster, h: Host, providerID: string): Promise<{ ok: boolean; why: string }> {
    const w = await o.workload.get(cluster.metadata.namespace, cluster.metadata.name).catch(() => null);
    if (!w) return { ok: false, why: 'no kubeconfig for the workload cluster yet' };
    try {
      const nodes = (await w.list<KubeObject & { spec?: { providerID?: string } }>('v1', 'Node')).items;
      if (nodes.some((n) => n.spec?.providerID === providerID)) return { ok: true, why: '' };
      const byUuid = nodes.filter((n) => n.metadata?.labels?.[UUID_LABEL] === h.metadata.uid);
      if (byUuid.length > 1) return { ok: false, why: `more than one Node has label ${UUID_LABEL}=${h.metadata.uid}` };
      if (byUuid.length === 1) {
        const n = byUuid[0];
        if (n.spec?.providerID && n.spec.providerID !== providerID)
          return { ok: false, why: `Node ${n.metadata?.name} has providerID ${n.spec.providerID}` };
        await w.patch({ apiVersion: 'v1', kind: 'Node', name: String(n.metadata?.name) }, 'strategic', { spec: { providerID } });
        return { ok: true, why: '' };
      }
      return { ok: false, why: `no Node with providerID ${providerID} or label ${UUID_LABEL}=${h.metadata.uid} yet` };
    } catch (e) {
      return { ok: false, why: `workload cluster: ${(e as Error).message}` };
    }
  }

  function updateAddresses(m: Metal3Machine, h: Host) {
    const hw = h.status?.hardware;
    const addrs: Array<{ type: string; address: string }> = [];
    for (const nic of hw?.nics ?? []) if (nic.ip) addrs.push({ type: 'InternalIP', address: nic.ip });
    if (hw?.hostname) {
      addrs.push({ type: 'Hostname', address: hw.hostname });
      addrs.push({ type: 'InternalDNS', address: hw.hostname });
    }
    if (addrs.length) m.status = { ...(m.status ?? {}), addresses: addrs } as never;
  }

  async function setHostSpec(ctx: ReconcileContext, m: Metal3Machine, h: Host, secretName: string) {
    const before = cloneJson(h);
    const spec = { ...(h.spec ?? {}) };
    const ns = m.metadata.namespace;
    // a host gets its image once: a new image means a new Machine
    if (!spec.image && !spec.customDeploy) {
      if (m.spec?.customDeploy?.method) spec.customDeploy = { method: m.spec.customDeploy.method };
      else if (m.spec?.image) {
        const img = m.spec.image;
        spec.image = {
          url: img.url,
          ...(img.checksum ? { checksum: img.checksum } : {}),
          ...(img.checksumType ? { checksumType: img.checksumType } : {}),
          ...(img.diskFormat ? { format: img.diskFormat } : {}),
        };
      }
      spec.userData = { name: secretName, namespace: ns };
      const st = (m.status ?? {}) as { metaData?: { name?: string }; networkData?: { name?: string } };
      const md = m.spec?.metaData ?? st.metaData;
      const nd = m.spec?.networkData ?? st.networkData;
      if (md?.name) spec.metaData = { name: md.name, namespace: ns };
      if (nd?.name) spec.networkData = { name: nd.name, namespace: ns };
    }
    spec.online = true;
    if (m.spec?.automatedCleaningMode) spec.automatedCleaningMode = m.spec.automatedCleaningMode;
    h.spec = spec as Host['spec'];
    if (!semanticEqual(before.spec, h.spec)) await patchObject(ctx.client, before, h, { fieldManager: CAPM3_FIELD_MANAGER });
  }

  /** Keeps the live-updatable part of the host in step with the machine (cleaning mode). */
  async function syncHost(ctx: ReconcileContext, m: Metal3Machine, h: Host) {
    const mode = m.spec?.automatedCleaningMode;
    if (mode && h.spec?.automatedCleaningMode !== mode) {
      await ctx.client.patch({ ...K.bmh, namespace: h.metadata.namespace, name: h.metadata.name }, 'merge', {
        spec: { automatedCleaningMode: mode },
      });
    }
  }

  /** Cluster pause: the host is paused with CAPM3's value (and its status kept); unpausing removes only ours. */
  async function pauseHost(ctx: ReconcileContext, h: Host, pause: boolean) {
    const a = h.metadata.annotations ?? {};
    if (pause && !(PAUSE_ANNOTATION in a)) {
      const { hardware: _hw, ...status } = (h.status ?? {}) as Record<string, unknown>;
      await ctx.client.patch({ ...K.bmh, namespace: h.metadata.namespace, name: h.metadata.name }, 'merge', {
        metadata: { annotations: { [PAUSE_ANNOTATION]: CAPM3_PAUSE_VALUE, [STATUS_ANNOTATION]: JSON.stringify(status) } },
      });
    } else if (!pause && a[PAUSE_ANNOTATION] === CAPM3_PAUSE_VALUE) {
      await ctx.client.patch({ ...K.bmh, namespace: h.metadata.namespace, name: h.metadata.name }, 'merge', {
        metadata: { annotations: { [PAUSE_ANNOTATION]: null } },
      });
    }
  }

  async function reconcileDelete(
    ctx: ReconcileContext,
    m: Metal3Machine,
    h: Host | null,
    machine: Machine | null,
    cluster: Cluster | null,
  ): Promise<Result | undefined> {
    condition(m, 'Ready', false, 'Deleting');
    if (h && consumerIs(h, m)) {
      const before = cloneJson(h);
      const spec = { ...(h.spec ?? {}) };
      if (spec.image || spec.customDeploy || spec.userData || spec.metaData || spec.networkData || spec.online) {
        delete spec.image;
        delete spec.customDeploy;
        delete spec.userData;
        delete spec.metaData;
        delete spec.networkData;
        spec.online = false;
        h.spec = spec as Host['spec'];
        await patchObject(ctx.client, before, h, { fieldManager: CAPM3_FIELD_MANAGER });
        ctx.recorder.event(m, 'Normal', 'Deprovisioning', `Deprovisioning BareMetalHost ${h.metadata.name}`);
        return { requeueAfterMs: 2_000 };
      }
      const state = String(h.status?.provisioning?.state ?? '');
      if (!RELEASED_STATES.has(state)) {
        condition(m, 'Ready', false, 'Deprovisioning', `waiting for BareMetalHost ${h.metadata.name} to be deprovisioned (${state})`);
        return { requeueAfterMs: 3_000 };
      }
      const tmpl = await templateOf(ctx.client, m);
      const reuse =
        obj(tmpl?.spec).nodeReuse === true && cluster && !isDeleting(cluster) && machine ? await reuseName(ctx.client, machine) : undefined;
      const labels = { ...(h.metadata.labels ?? {}) };
      delete labels[L.clusterName];
      const annotations = { ...(h.metadata.annotations ?? {}) };
      if (annotations[PAUSE_ANNOTATION] === CAPM3_PAUSE_VALUE) delete annotations[PAUSE_ANNOTATION];
      const after = cloneJson(h);
      after.metadata.labels = reuse ? { ...labels, [NODE_REUSE_LABEL]: reuse } : labels;
      after.metadata.annotations = annotations;
      const s = { ...(h.spec ?? {}) };
      if (reuse && cluster)
        s.consumerRef = {
          apiVersion: K.cluster.apiVersion,
          kind: 'Cluster',
          name: cluster.metadata.name,
          namespace: cluster.metadata.namespace,
        };
      else delete s.consumerRef;
      after.spec = s as Host['spec'];
      await patchObject(ctx.client, h, after, { fieldManager: CAPM3_FIELD_MANAGER });
      const secret = h.spec?.bmc?.credentialsName;
      if (secret) {
        await ctx.client
          .patch({ ...K.secret, namespace: h.metadata.namespace, name: secret }, 'merge', {
            metadata: { labels: { [L.clusterName]: null } },
          })
          .catch(() => undefined);
      }
      ctx.recorder.event(m, 'Normal', 'HostReleased', `Released BareMetalHost ${h.metadata.name}${reuse ? ` (kept for ${reuse})` : ''}`);
    }
    await ctx.client.delete({ ...K.metal3DataClaim, namespace: m.metadata.namespace, name: m.metadata.name }).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
    removeFinalizer(m, M3M_FINALIZER);
    return undefined;
  }

  const waiting = (ns: string | undefined): Request[] =>
    (o.machines?.() ?? [])
      .filter((x) => x.metadata?.namespace === ns && !x.metadata?.annotations?.[HOST_ANNOTATION])
      .map((x) => ({ namespace: String(ns), name: String(x.metadata?.name) }));
  return {
    name: 'metal3machine',
    for: K.metal3Machine,
    maxConcurrentReconciles: 8,
    watches: [
      {
        ...K.bmh,
        map: (h) => {
          const c = (h as Host).spec?.consumerRef;
          if (c?.kind === 'Metal3Machine' && c.name) return [{ namespace: c.namespace ?? String(h.metadata?.namespace), name: c.name }];
          // a host coming free wakes the machines still looking for one
          return ['available', 'ready'].includes(String((h as Host).status?.provisioning?.state)) ? waiting(h.metadata?.namespace) : [];
        },
      },
      {
        ...K.machine,
        map: (mc) => {
          const ref = obj(obj((mc as Typed).spec).infrastructureRef);
          return ref.kind === 'Metal3Machine' && ref.name ? [{ namespace: String(mc.metadata?.namespace), name: String(ref.name) }] : [];
        },
      },
      {
        ...K.metal3DataClaim,
        map: (c) => {
          const r = ownerOfKind(c, 'Metal3Machine');
          return r ? [{ namespace: String(c.metadata?.namespace), name: r.name }] : [];
        },
      },
    ],
    reconcile,
  };
}
