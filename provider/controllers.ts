// The composition root: one process runs any subset of Ferrite's tiers — the Bare Metal Operator
// (bmo), Metal3 IPAM (ipam), CAPM3 (capm3), Cluster API core (capi) and its kubeadm bootstrap and
// control plane providers (kubeadm) — on one manager, with the webhooks of the tiers it runs and
// CRD conversion. Each tier registers itself from its own module; nothing here knows a controller.
import type { Logger } from 'pino';
import { converters } from './api/index.js';
import { contextFromCrds } from './api/versioning.js';
import { addBmoControllers, BMO_WEBHOOKS } from './bmo/controllers.js';
import { IronicClient, type IronicClientOptions } from './bmo/ironic-client.js';
import { IronicProvisioner } from './bmo/provisioner.js';
import { ContractResolver } from './capi/common.js';
import { addCapiCoreControllers, addKubeadmControllers } from './capi/controllers.js';
import { WorkloadClients } from './capi/workload.js';
import { addCapm3Controllers, CAPM3_WEBHOOKS } from './capm3/controllers.js';
import { addIpamControllers } from './ipam/controllers.js';
import type { KubeClient, KubeObject } from './kube/client.js';
import { Manager } from './kube/manager.js';
import { startWebhookServer, type WebhookServer } from './kube/webhook-server.js';
import { type ClientConfig, validatingWebhookConfiguration, validator, type WebhookDef } from './kube/webhooks.js';

export const COMPONENTS = ['bmo', 'ipam', 'capm3', 'capi', 'kubeadm'] as const;
export type Component = (typeof COMPONENTS)[number];

/** What each component is, for --help and the release manifests. */
export const COMPONENT_TITLES: Record<Component, string> = {
  bmo: 'Bare Metal Operator (BareMetalHost and its companions)',
  ipam: 'Metal3 IP Address Manager (IPPool)',
  capm3: 'Cluster API Provider Metal3 (Metal3Cluster, Metal3Machine, Metal3Data, Metal3Remediation)',
  capi: 'Cluster API core (Cluster, Machine, MachineSet, MachineDeployment, MachineHealthCheck)',
  kubeadm: 'Cluster API kubeadm bootstrap and control plane providers (KubeadmConfig, KubeadmControlPlane)',
};

export const WEBHOOKS: Record<Component, WebhookDef[]> = { bmo: BMO_WEBHOOKS, ipam: [], capm3: CAPM3_WEBHOOKS, capi: [], kubeadm: [] };

/**
 * The ValidatingWebhookConfigurations of these components (one per component that has webhooks),
 * reaching the webhooks however `client` says: a URL here (`dev up`) or a Service (manifests).
 */
export function webhookConfigurations(
  components: readonly Component[],
  client: (def: WebhookDef) => ClientConfig,
  annotations?: Record<string, string>,
): KubeObject[] {
  return components
    .filter((c) => WEBHOOKS[c].length > 0)
    .map((c) => validatingWebhookConfiguration(`ferrite-${c}-validating-webhook-configuration`, WEBHOOKS[c], client, annotations));
}

/** Parses `bmo,capm3`: known names, no repeats, in COMPONENTS order. */
export function parseComponents(v: string): Component[] {
  const names = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`name at least one of ${COMPONENTS.join(', ')}`);
  for (const n of names) {
    if (!(COMPONENTS as readonly string[]).includes(n)) throw new Error(`unknown controller set "${n}" (known: ${COMPONENTS.join(', ')})`);
  }
  return COMPONENTS.filter((c) => names.includes(c));
}

/** The Lease a replica set of this subset elects its leader on: two different subsets never share one. */
export function leaseName(components: readonly Component[]): string {
  return components.length === COMPONENTS.length ? 'ferrite-controllers' : `ferrite-${components.join('-')}`;
}

export interface ControllersOptions {
  client: KubeClient;
  log: Logger;
  /** which tiers run (default: all) */
  components?: readonly Component[];
  /** required when bmo runs */
  ironic?: IronicClientOptions;
  deployKernelUrl?: string;
  deployRamdiskUrl?: string;
  deployIsoUrl?: string;
  pollMs?: number;
  provisioningLimit?: number;
  errorBackoffBaseMs?: number;
  maxConcurrentReconciles?: number;
  metricsBindAddress?: string;
  /** serve /metrics over HTTPS, callers authenticated by TokenReview and authorized by SubjectAccessReview */
  metricsSecure?: { certDir?: string };
  healthProbeBindAddress?: string;
  leaderElection?: { namespace: string; identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** serve the validating webhooks and CRD conversion (tls.crt/tls.key in certDir) */
  webhook?: { host: string; port: number; certDir: string };
}

export interface RunningControllers {
  components: readonly Component[];
  manager: Manager;
  ironic?: IronicClient;
  webhook?: WebhookServer;
  stop(): Promise<void>;
}

export async function startControllers(o: ControllersOptions): Promise<RunningControllers> {
  const components = o.components ?? COMPONENTS;
  const has = (c: Component) => components.includes(c);
  const manager = new Manager({
    client: o.client,
    name: 'baremetal-operator',
    leaseName: leaseName(components),
    log: o.log,
    metricsBindAddress: o.metricsBindAddress,
    metricsSecure: o.metricsSecure,
    healthProbeBindAddress: o.healthProbeBindAddress,
    leaderElection: o.leaderElection,
  });
  let ironic: IronicClient | undefined;
  if (has('bmo')) {
    if (!o.ironic) throw new Error('the bmo controllers need an Ironic endpoint');
    ironic = new IronicClient(o.ironic);
    const provisioner = new IronicProvisioner({
      client: ironic,
      deployKernelUrl: o.deployKernelUrl,
      deployRamdiskUrl: o.deployRamdiskUrl,
      deployIsoUrl: o.deployIsoUrl,
      pollMs: o.pollMs ?? 10_000,
      provisioningLimit: o.provisioningLimit ?? 20,
    });
    addBmoControllers(manager, {
      provisioner,
      errorBackoffBaseMs: o.errorBackoffBaseMs,
      maxConcurrentReconciles: o.maxConcurrentReconciles,
    });
  }
  if (has('ipam')) addIpamControllers(manager);
  const shared = { contracts: new ContractResolver(o.client), workload: new WorkloadClients(o.client) };
  if (has('capi')) addCapiCoreControllers(manager, shared);
  if (has('kubeadm')) addKubeadmControllers(manager, shared);
  if (has('capm3')) addCapm3Controllers(manager, shared);

  let webhook: WebhookServer | undefined;
  if (o.webhook) {
    const defs = components.flatMap((c) => WEBHOOKS[c]);
    webhook = await startWebhookServer({
      ...o.webhook,
      convert: crdConverter(o.client),
      metrics: manager.metrics,
      validators: Object.fromEntries(defs.map((d) => [d.path, validator(d)])),
    });
  }
  try {
    await manager.start();
  } catch (e) {
    await webhook?.close();
    throw e;
  }
  return {
    components,
    manager,
    ironic,
    webhook,
    async stop() {
      await manager.stop();
      await webhook?.close();
    },
  };
}

/**
 * CRD conversion for API servers that call webhooks (the embedded server converts in-process);
 * the CRDs (for their contract labels) are listed at most every 30 s, not on every review.
 */
function crdConverter(client: KubeClient) {
  let crds: { at: number; items: Array<Record<string, unknown>> } | null = null;
  const byGroup = converters(contextFromCrds(() => crds?.items ?? []));
  return async (objects: KubeObject[], to: string) => {
    if (!crds || Date.now() - crds.at > 30_000) {
      const items = (await client.list<KubeObject>('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items;
      crds = { at: Date.now(), items: items as unknown as Array<Record<string, unknown>> };
    }
    return objects.map((x) => {
      const conv = byGroup.get(String(x.apiVersion).split('/')[0]);
      return (conv ? conv(x as Record<string, unknown>, to) : { ...x, apiVersion: to }) as KubeObject;
    });
  };
}
