// The KubeadmConfig reconciler (Cluster API's kubeadm bootstrap provider): turns a machine's
// KubeadmConfig into cloud-init bootstrap data in a Secret named like the config. The first control
// plane machine runs `kubeadm init` (one at a time, behind a per-cluster lock); every other machine
// waits for the control plane to be initialized and joins with a bootstrap token made in the
// workload cluster and the CA pin of the cluster's certificate authority.
import { randomBytes } from 'node:crypto';
import { cloneJson } from '../../lib/clone.js';
import type { KubeadmConfigSpec } from '../api/bootstrap.cluster.x-k8s.io/kubeadm.js';
import { isAlreadyExists, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { getOrNull, nowIso } from '../kube/read.js';
import type { Cluster } from './cluster-controller.js';
import { condition, isControlPlane, isPaused, K, L, obj, ownerOfKind, type Typed } from './common.js';
import { caCertHash, lookupOrGenerate } from './kubeadm/certificates.js';
import {
  type ClusterFacts,
  cloudConfig,
  clusterConfiguration,
  INIT_CONFIG_PATH,
  initConfiguration,
  JOIN_CONFIG_PATH,
  joinConfiguration,
} from './kubeadm/cloud-init.js';
import type { WorkloadClients } from './workload.js';

const FIELD_MANAGER = 'capi-kubeadm-bootstrap-manager';
/** A bootstrap token lives this long and is refreshed while its machine has not joined. */
const TOKEN_TTL_MS = 15 * 60_000;

export type KubeadmConfig = Typed<KubeadmConfigSpec, { dataSecretName?: string; initialization?: { dataSecretCreated?: boolean } }>;
type Machine = Typed<{ clusterName?: string; version?: string; bootstrap?: { dataSecretName?: string } }, { nodeRef?: { name?: string } }>;

const b64 = (s: string) => Buffer.from(s).toString('base64');

function facts(c: Cluster, version: string): ClusterFacts {
  const ep = c.spec?.controlPlaneEndpoint ?? {};
  const host = String(ep.host ?? '');
  return {
    clusterName: c.metadata.name,
    controlPlaneEndpoint: `${host.includes(':') ? `[${host}]` : host}:${ep.port ?? 6443}`,
    kubernetesVersion: version,
    serviceSubnet: c.spec?.clusterNetwork?.services?.cidrBlocks?.join(','),
    podSubnet: c.spec?.clusterNetwork?.pods?.cidrBlocks?.join(','),
    dnsDomain: c.spec?.clusterNetwork?.serviceDomain,
  };
}

/** A kubeadm bootstrap token: [a-z0-9]{6}.[a-z0-9]{16}. */
function newToken(): { id: string; secret: string } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  return { id: pick(6), secret: pick(16) };
}

/** Creates (or refreshes) a bootstrap token in the workload cluster, as kubeadm's token Secret. */
export async function ensureBootstrapToken(w: KubeClient, token: string | undefined): Promise<string> {
  const t = token ? { id: token.split('.')[0], secret: token.split('.')[1] } : newToken();
  const expiration = new Date(Date.now() + TOKEN_TTL_MS).toISOString().replace(/\.\d+Z$/, 'Z');
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'bootstrap.kubernetes.io/token',
    metadata: { name: `bootstrap-token-${t.id}`, namespace: 'kube-system' },
    data: {
      'token-id': b64(t.id),
      'token-secret': b64(t.secret),
      expiration: b64(expiration),
      'usage-bootstrap-authentication': b64('true'),
      'usage-bootstrap-signing': b64('true'),
      'auth-extra-groups': b64('system:bootstrappers:kubeadm:default-node-token'),
    },
  };
  try {
    await w.create(secret);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    await w.patch({ apiVersion: 'v1', kind: 'Secret', namespace: 'kube-system', name: secret.metadata.name }, 'merge', {
      data: { expiration: secret.data.expiration },
    });
  }
  return `${t.id}.${t.secret}`;
}

export function kubeadmConfigController(o: { workload: WorkloadClients }): ControllerSpec {
  async function readSecretFiles(client: KubeClient, ns: string, spec: KubeadmConfigSpec): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const f of spec.files ?? []) {
      const ref = f.contentFrom?.secret;
      if (!ref) continue;
      const s = await getOrNull<KubeObject & { data?: Record<string, string> }>(client, K.secret, ns, ref.name);
      const v = s?.data?.[ref.key];
      if (v === undefined) throw new Error(`secret ${ref.name} has no key ${ref.key} (for file ${f.path})`);
      out[f.path] = Buffer.from(v, 'base64').toString('utf8');
    }
    return out;
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<KubeadmConfig>(ctx.client, K.kubeadmConfig, req.namespace, req.name);
    if (!found || found.metadata.deletionTimestamp) return undefined;
    const cfg = found;
    const original = cloneJson(cfg);
    const save = async (r?: Result) => {
      await patchObject(ctx.client, original, cfg, { fieldManager: FIELD_MANAGER });
      return r;
    };
    const ns = cfg.metadata.namespace;
    const owner = ownerOfKind(cfg, 'Machine');
    if (!owner) return undefined;
    const machine = await getOrNull<Machine>(ctx.client, K.machine, ns, owner.name);
    if (!machine) return { requeueAfterMs: 5_000 };
    const clusterName = machine.spec?.clusterName ?? machine.metadata.labels?.[L.clusterName];
    const cluster = clusterName ? await getOrNull<Cluster>(ctx.client, K.cluster, ns, clusterName) : null;
    if (!cluster) {
      condition(cfg, 'Ready', false, 'WaitingForCluster', `Cluster ${clusterName ?? '?'} does not exist`);
      return save({ requeueAfterMs: 5_000 });
    }
    if (isPaused(cluster, cfg)) return undefined;
    cfg.metadata.labels = { ...(cfg.metadata.labels ?? {}), [L.clusterName]: cluster.metadata.name };
    const init = obj(cluster.status?.initialization);

    if (cfg.status?.dataSecretName) {
      // already bootstrapped: keep a joining machine's token alive until its Node shows up
      const token =
        cfg.spec?.joinConfiguration?.discovery?.bootstrapToken?.token ??
        (cfg.metadata.annotations?.['ferrite.dev/bootstrap-token'] as string | undefined);
      if (token && !machine.status?.nodeRef?.name) {
        const w = await o.workload.get(ns, cluster.metadata.name).catch(() => null);
        if (w) await ensureBootstrapToken(w, token).catch(() => undefined);
        return save({ requeueAfterMs: TOKEN_TTL_MS / 3 });
      }
      return save();
    }
    if (init.infrastructureProvisioned !== true) {
      condition(cfg, 'DataSecretAvailable', false, 'WaitingForClusterInfrastructure');
      condition(cfg, 'Ready', false, 'WaitingForClusterInfrastructure');
      return save({ requeueAfterMs: 5_000 });
    }
    const version = machine.spec?.version ?? '';
    const spec = (cfg.spec ?? {}) as KubeadmConfigSpec;
    const cp = isControlPlane(machine);
    const lockName = `${cluster.metadata.name}-lock`;
    let value: string;
    let token: string | undefined;
    try {
      if (init.controlPlaneInitialized !== true) {
        const isInit =
          cp && (spec.initConfiguration !== undefined || spec.clusterConfiguration !== undefined || spec.joinConfiguration === undefined);
        if (!isInit) {
          condition(cfg, 'DataSecretAvailable', false, 'WaitingForControlPlaneInitialization');
          condition(cfg, 'Ready', false, 'WaitingForControlPlaneInitialization');
          return save({ requeueAfterMs: 5_000 });
        }
        if (!(await acquireInitLock(ctx.client, ns, lockName, machine))) {
          condition(
            cfg,
            'DataSecretAvailable',
            false,
            'WaitingForControlPlaneInitialization',
            'another control plane machine is initializing the cluster',
          );
          return save({ requeueAfterMs: 5_000 });
        }
        const certs = await lookupOrGenerate(ctx.client, ns, cluster.metadata.name, cfg);
        const docs = [clusterConfiguration(spec, facts(cluster, version)), initConfiguration(spec)];
        value = cloudConfig({
          spec,
          command: 'init',
          certificates: certs,
          kubeadm: { path: INIT_CONFIG_PATH, documents: docs },
          secretFiles: await readSecretFiles(ctx.client, ns, spec),
        });
      } else {
        await ctx.client.delete({ ...K.configMap, namespace: ns, name: lockName }).catch((e: unknown) => {
          if (!isNotFound(e)) throw e;
        });
        const w = await o.workload.get(ns, cluster.metadata.name);
        if (!w) {
          condition(
            cfg,
            'DataSecretAvailable',
            false,
            'WaitingForControlPlaneInitialization',
            'no kubeconfig for the workload cluster yet',
          );
          return save({ requeueAfterMs: 5_000 });
        }
        token = await ensureBootstrapToken(w, spec.joinConfiguration?.discovery?.bootstrapToken?.token);
        const certs = await lookupOrGenerate(ctx.client, ns, cluster.metadata.name, cfg);
        const f = facts(cluster, version);
        const join = joinConfiguration(spec, {
          apiServerEndpoint: f.controlPlaneEndpoint,
          token,
          caCertHashes: [caCertHash(certs.ca.certPem)],
        });
        const cpJoin = cp && spec.joinConfiguration?.controlPlane !== undefined;
        value = cloudConfig({
          spec,
          command: 'join',
          certificates: cpJoin ? certs : undefined,
          kubeadm: { path: JOIN_CONFIG_PATH, documents: [join] },
          secretFiles: await readSecretFiles(ctx.client, ns, spec),
        });
      }
    } catch (e) {
      ctx.log.info({ config: req.name, err: (e as Error).message }, 'bootstrap data not ready');
      condition(cfg, 'DataSecretAvailable', false, 'BootstrapDataSecretGenerationFailed', (e as Error).message);
      return save({ requeueAfterMs: 10_000 });
    }
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'cluster.x-k8s.io/secret',
      metadata: {
        name: cfg.metadata.name,
        namespace: ns,
        labels: { [L.clusterName]: cluster.metadata.name },
        ownerReferences: [
          {
            apiVersion: String(cfg.apiVersion),
            kind: 'KubeadmConfig',
            name: cfg.metadata.name,
            uid: String(cfg.metadata.uid),
            controller: true,
          },
        ],
      },
      data: { value: b64(value), format: b64(spec.format ?? 'cloud-config') },
    };
    try {
      await ctx.client.create(secret, FIELD_MANAGER);
    } catch (e) {
      // a retry after a crash finds its own Secret: it is the same bootstrap data's home
      if (!isAlreadyExists(e)) throw e;
    }
    if (token) cfg.metadata.annotations = { ...(cfg.metadata.annotations ?? {}), 'ferrite.dev/bootstrap-token': token };
    cfg.status = {
      ...(cfg.status ?? {}),
      dataSecretName: cfg.metadata.name,
      initialization: { dataSecretCreated: true },
      observedGeneration: cfg.metadata.generation,
    } as never;
    condition(cfg, 'DataSecretAvailable', true, 'Available');
    condition(cfg, 'CertificatesAvailable', true, 'Available');
    condition(cfg, 'Ready', true, 'Ready');
    return save();
  }

  return {
    name: 'kubeadmconfig',
    for: K.kubeadmConfig,
    maxConcurrentReconciles: 4,
    watches: [
      {
        ...K.machine,
        map: (m) => {
          const ref = obj(obj(obj((m as Obj).spec).bootstrap).configRef);
          return ref.kind === 'KubeadmConfig' && ref.name ? [{ namespace: String(m.metadata?.namespace), name: String(ref.name) }] : [];
        },
      },
    ],
    reconcile,
  };
}

type Obj = Record<string, unknown>;

/** Only one machine runs `kubeadm init`: the one whose name the lock ConfigMap holds. */
async function acquireInitLock(client: KubeClient, ns: string, name: string, machine: Machine): Promise<boolean> {
  const info = JSON.stringify({ machineName: machine.metadata.name });
  try {
    await client.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: ns, labels: { [L.clusterName]: name.replace(/-lock$/, '') } },
      data: { 'lock-information': info, 'created-at': nowIso() },
    });
    return true;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const cm = await getOrNull<KubeObject & { data?: Record<string, string> }>(client, K.configMap, ns, name);
    if (!cm) return false;
    const holder = (JSON.parse(cm.data?.['lock-information'] ?? '{}') as { machineName?: string }).machineName;
    if (holder === machine.metadata.name) return true;
    // a lock held by a machine that no longer exists is stale
    const other = holder ? await getOrNull(client, K.machine, ns, holder) : null;
    if (!other) {
      await client.delete({ ...K.configMap, namespace: ns, name }).catch(() => undefined);
    }
    return false;
  }
}
