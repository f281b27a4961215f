// The composition root: one process runs any subset of Ferrite's tiers — the Bare Metal Operator
// (bmo), Metal3 IPAM (ipam), CAPM3 (capm3), Cluster API core (capi) and its kubeadm bootstrap
// (kubeadm-bootstrap) and control plane (kubeadm-control-plane) providers — on one manager, with the webhooks of the tiers it runs and
// CRD conversion. Each tier registers itself from its own module; nothing here knows a controller.
import type { Logger } from 'pino';
import { converters, kinds } from './api/index.js';
import { contextFromCrds } from './api/versioning.js';
import type { SwitchNetworkingOptions } from './bmo/baremetalswitch-controller.js';
import { addBmoControllers, BMO_WEBHOOKS } from './bmo/controllers.js';
import { IronicClient, type IronicClientOptions } from './bmo/ironic-client.js';
import { IronicProvisioner } from './bmo/provisioner.js';
import { ContractResolver } from './capi/common.js';
import { addCapiCoreControllers, addKubeadmBootstrapControllers, addKubeadmControlPlaneControllers } from './capi/controllers.js';
import { CAPI_WEBHOOKS } from './capi/topology/validation.js';
import { WorkloadClients } from './capi/workload.js';
import { addCapm3Controllers, CAPM3_WEBHOOKS } from './capm3/controllers.js';
import { addIpamControllers } from './ipam/controllers.js';
import type { KubeClient, KubeObject } from './kube/client.js';
import { Manager } from './kube/manager.js';
import { ensureServingCertificate, injectCaBundle } from './kube/webhook-certs.js';
import { startWebhookServer, type WebhookServer } from './kube/webhook-server.js';
import { type ClientConfig, validatingWebhookConfiguration, validator, type WebhookDef } from './kube/webhooks.js';

export const COMPONENTS = ['bmo', 'ipam', 'capm3', 'capi', 'kubeadm-bootstrap', 'kubeadm-control-plane'] as const;
/** names that stand for several components */
const ALIASES: Record<string, Component[]> = { kubeadm: ['kubeadm-bootstrap', 'kubeadm-control-plane'], all: [...COMPONENTS] };
export type Component = (typeof COMPONENTS)[number];

export const WEBHOOKS: Record<Component, WebhookDef[]> = {
  bmo: BMO_WEBHOOKS,
  ipam: [],
  capm3: CAPM3_WEBHOOKS,
  capi: CAPI_WEBHOOKS,
  'kubeadm-bootstrap': [],
  'kubeadm-control-plane': [],
};

/**
 * The ValidatingWebhookConfigurations of these components (one per component that has webhooks),
 * reaching the webhooks however `client` says: a URL here (`dev up`) or a Service (manifests).
 */
export function webhookConfigurations(
  components: readonly Component[],
  client: (def: WebhookDef) => ClientConfig,
  annotations?: Record<string, string>,
): KubeObject[] {
  const names = webhookConfigurationNames(components);
  return components
    .filter((c) => WEBHOOKS[c].length > 0)
    .map((c, i) => validatingWebhookConfiguration(names[i], WEBHOOKS[c], client, annotations));
}

/** The names of those configurations. */
export function webhookConfigurationNames(components: readonly Component[]): string[] {
  return components.filter((c) => WEBHOOKS[c].length > 0).map((c) => `ferrite-${c}-validating-webhook-configuration`);
}

/** Parses `bmo,capm3` (or the aliases `kubeadm`, `all`): known names, in COMPONENTS order. */
export function parseComponents(v: string): Component[] {
  const names = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (names.length === 0) throw new Error(`name at least one of ${COMPONENTS.join(', ')}`);
  const wanted = new Set<string>();
  for (const n of names) {
    const set = ALIASES[n] ?? ((COMPONENTS as readonly string[]).includes(n) ? [n] : null);
    if (!set) throw new Error(`unknown controller set "${n}" (known: ${COMPONENTS.join(', ')}; kubeadm for both kubeadm ones; all)`);
    for (const c of set) wanted.add(c);
  }
  return COMPONENTS.filter((c) => wanted.has(c));
}

/** The API groups whose CRDs each component owns (and converts, for multi-version kinds). */
export const CRD_GROUPS: Record<Component, string[]> = {
  bmo: ['metal3.io'],
  ipam: ['ipam.metal3.io'],
  capm3: ['infrastructure.cluster.x-k8s.io'],
  capi: ['cluster.x-k8s.io', 'ipam.cluster.x-k8s.io'],
  'kubeadm-bootstrap': ['bootstrap.cluster.x-k8s.io'],
  'kubeadm-control-plane': ['controlplane.cluster.x-k8s.io'],
};

/** The CRDs of these components that convert through the webhook. */
export function conversionCrdNames(components: readonly Component[]): string[] {
  const groups = components.flatMap((c) => CRD_GROUPS[c]);
  return kinds.filter((k) => groups.includes(k.group) && k.conversion).map((k) => `${k.plural}.${k.group}`);
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
  /** upstream's --build-preprov-image: hosts get their agent image through PreprovisioningImages */
  buildPreprovImage?: boolean;
  /** IRONIC_NETWORKING_ENABLED: BareMetalSwitches rendered into Ironic's switch configuration Secrets */
  switchNetworking?: SwitchNetworkingOptions;
  pollMs?: number;
  provisioningLimit?: number;
  errorBackoffBaseMs?: number;
  /** failed provisionings of one image before a host stops retrying it (0: no limit; default 5) */
  maxProvisioningRetries?: number;
  maxConcurrentReconciles?: number;
  metricsBindAddress?: string;
  /** serve /metrics over HTTPS, callers authenticated by TokenReview and authorized by SubjectAccessReview */
  metricsSecure?: { certDir?: string };
  healthProbeBindAddress?: string;
  leaderElection?: { namespace: string; identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /**
   * serve the validating webhooks and CRD conversion: with tls.crt/tls.key from certDir, or with a
   * certificate the controllers keep in certSecret for `service` and inject into their webhook
   * configurations and CRDs (pointed at `url` instead of the Service when running outside the cluster)
   */
  webhook?: {
    host: string;
    port: number;
    certDir?: string;
    certSecret?: { namespace: string; name: string };
    service?: { namespace: string; name: string };
    url?: string;
  };
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
      maxProvisioningRetries: o.maxProvisioningRetries,
      maxConcurrentReconciles: o.maxConcurrentReconciles,
      switchNetworking: o.switchNetworking,
      preprovisioningImages: o.buildPreprovImage
        ? { isoUrl: o.deployIsoUrl, kernelUrl: o.deployKernelUrl, ramdiskUrl: o.deployRamdiskUrl, env: process.env }
        : undefined,
    });
  }
  if (has('ipam')) addIpamControllers(manager);
  // contract references (infrastructure, control plane, bootstrap objects) and kubeconfig Secrets
  // are read as upstream reads them: through the cache when this process caches the kind
  const shared = { contracts: new ContractResolver(manager.readClient), workload: new WorkloadClients(manager.readClient) };
  if (has('capi')) addCapiCoreControllers(manager, shared);
  if (has('kubeadm-bootstrap')) addKubeadmBootstrapControllers(manager, shared);
  if (has('kubeadm-control-plane')) addKubeadmControlPlaneControllers(manager, shared);
  if (has('capm3')) addCapm3Controllers(manager, shared);
  // Cluster API reads the Secrets it made (certificates, kubeconfigs, bootstrap data: all labelled
  // with their cluster) on every reconcile; like upstream's secret-caching client, from a cache of
  // just those — not of every Secret in the cluster (a process that watches all Secrets has them)
  if (has('capi') || has('kubeadm-bootstrap') || has('kubeadm-control-plane'))
    manager.cacheForReads({ apiVersion: 'v1', kind: 'Secret' }, 'cluster.x-k8s.io/cluster-name');

  let webhook: WebhookServer | undefined;
  let renewTimer: NodeJS.Timeout | undefined;
  if (o.webhook) {
    const defs = components.flatMap((c) => WEBHOOKS[c]);
    const w = o.webhook;
    let tls: { certPem: string; keyPem: string } | undefined;
    let renew: (() => Promise<void>) | undefined;
    if (w.certSecret) {
      if (!w.service) throw new Error('a webhook certificate kept in a Secret needs the webhook Service it is for');
      const certOpts = {
        client: o.client,
        secret: w.certSecret,
        service: w.service,
        webhookConfigurations: webhookConfigurationNames(components),
        crds: conversionCrdNames(components),
        url: w.url,
        log: o.log,
      };
      const cert = await ensureServingCertificate(certOpts);
      await injectCaBundle(certOpts, cert.caPem);
      tls = cert;
      renew = async () => {
        const next = await ensureServingCertificate(certOpts);
        if (next.certPem !== tls?.certPem) {
          webhook?.setCertificate(next.certPem, next.keyPem);
          await injectCaBundle(certOpts, next.caPem);
          tls = next;
        }
      };
    }
    webhook = await startWebhookServer({
      host: w.host,
      port: w.port,
      certDir: w.certDir,
      tls,
      convert: crdConverter(o.client),
      metrics: manager.metrics,
      validators: Object.fromEntries(defs.map((d) => [d.path, validator(d, o.client)])),
    });
    // a renewal (or a replica's newer certificate) is picked up within hours, long before expiry
    if (renew) {
      const r = renew;
      renewTimer = setInterval(
        () => r().catch((e: Error) => o.log.warn({ err: e.message }, 'webhook certificate renewal failed')),
        6 * 3600_000,
      );
      renewTimer.unref();
    }
  }
  try {
    await manager.start();
  } catch (e) {
    clearInterval(renewTimer);
    await webhook?.close();
    throw e;
  }
  return {
    components,
    manager,
    ironic,
    webhook,
    async stop() {
      clearInterval(renewTimer);
      await manager.stop();
      shared.workload.close();
      ironic?.close();
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
