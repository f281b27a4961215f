// The Bare Metal Operator's process: a controller manager with the BareMetalHost reconciler,
// the BMH validating webhook, and the Ironic client — what `ferrite controllers` runs.
import type { Logger } from 'pino';
import { converters } from '../api/index.js';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { contextFromCrds } from '../api/versioning.js';
import { addClusterApiControllers } from '../capi/controllers.js';
import { CAPM3_WEBHOOKS } from '../capm3/validation.js';
import { IPPOOL, ipPoolController } from '../ipam/ippool-controller.js';
import type { KubeClient, KubeObject } from '../kube/client.js';
import { Manager } from '../kube/manager.js';
import { type AdmissionRequest, startWebhookServer, type WebhookServer } from '../kube/webhook-server.js';
import { BMH, hostController } from './baremetalhost-controller.js';
import { BES, bmcEventSubscriptionController } from './bmceventsubscription-controller.js';
import { DATA_IMAGE, dataImageController } from './dataimage-controller.js';
import { hostFirmwareComponentsController } from './hostfirmwarecomponents-controller.js';
import { hostFirmwareSettingsController } from './hostfirmwaresettings-controller.js';
import { IronicClient, type IronicClientOptions } from './ironic-client.js';
import { IronicProvisioner } from './provisioner.js';
import { validateHost, validateHostUpdate } from './validation.js';

export const WEBHOOK_PATH = '/validate-metal3-io-v1alpha1-baremetalhost';

export interface OperatorOptions {
  client: KubeClient;
  ironic: IronicClientOptions;
  log: Logger;
  deployKernelUrl?: string;
  deployRamdiskUrl?: string;
  deployIsoUrl?: string;
  pollMs?: number;
  provisioningLimit?: number;
  errorBackoffBaseMs?: number;
  maxConcurrentReconciles?: number;
  metricsBindAddress?: string;
  healthProbeBindAddress?: string;
  leaderElection?: { namespace: string; identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** run the Cluster API, kubeadm and CAPM3 controllers too (default true) */
  clusterApi?: boolean;
  /** serve the validating webhook (tls.crt/tls.key in certDir) */
  webhook?: { host: string; port: number; certDir: string };
}

export interface Operator {
  manager: Manager;
  ironic: IronicClient;
  webhook?: WebhookServer;
  stop(): Promise<void>;
}

export async function startOperator(o: OperatorOptions): Promise<Operator> {
  const ironic = new IronicClient(o.ironic);
  const provisioner = new IronicProvisioner({
    client: ironic,
    deployKernelUrl: o.deployKernelUrl,
    deployRamdiskUrl: o.deployRamdiskUrl,
    deployIsoUrl: o.deployIsoUrl,
    pollMs: o.pollMs ?? 10_000,
    provisioningLimit: o.provisioningLimit ?? 20,
  });
  const manager = new Manager({
    client: o.client,
    name: 'baremetal-operator',
    log: o.log,
    metricsBindAddress: o.metricsBindAddress,
    healthProbeBindAddress: o.healthProbeBindAddress,
    leaderElection: o.leaderElection,
  });
  const spec = hostController({
    provisioner,
    errorBackoffBaseMs: o.errorBackoffBaseMs,
    maxConcurrentReconciles: o.maxConcurrentReconciles,
  });
  const hosts = manager.informer(BMH);
  // a Secret change reaches every host whose BMC credentials or config data it holds
  spec.watches = [
    ...(spec.watches ?? []),
    {
      apiVersion: 'v1',
      kind: 'Secret',
      map: (s: KubeObject) =>
        hosts
          .list()
          .filter((h) => {
            const b = h as unknown as BareMetalHost;
            if (b.metadata.namespace !== s.metadata?.namespace) return false;
            const n = s.metadata?.name;
            return (
              b.spec?.bmc?.credentialsName === n ||
              b.spec?.userData?.name === n ||
              b.spec?.networkData?.name === n ||
              b.spec?.metaData?.name === n
            );
          })
          .map((h) => ({ namespace: String(h.metadata?.namespace), name: String(h.metadata?.name) })),
    },
  ];
  manager.add(spec);
  manager.add(hostFirmwareSettingsController({ provisioner }));
  manager.add(hostFirmwareComponentsController({ provisioner }));
  const subs = bmcEventSubscriptionController({ provisioner });
  const subCache = manager.informer(BES);
  subs.watches = [
    {
      ...BMH,
      map: (h) =>
        subCache
          .list()
          .filter(
            (x) =>
              x.metadata?.namespace === h.metadata?.namespace &&
              (x as { spec?: { hostName?: string } }).spec?.hostName === h.metadata?.name,
          )
          .map((x) => ({ namespace: String(x.metadata?.namespace), name: String(x.metadata?.name) })),
    },
  ];
  manager.add(subs);
  const images = dataImageController({ provisioner });
  const imageCache = manager.informer(DATA_IMAGE);
  // only hosts that have a DataImage wake its controller
  images.watches = [
    {
      ...BMH,
      map: (h) =>
        imageCache.get(h.metadata?.namespace, String(h.metadata?.name))
          ? [{ namespace: String(h.metadata?.namespace), name: String(h.metadata?.name) }]
          : [],
    },
  ];
  manager.add(images);
  const pools = manager.informer(IPPOOL);
  manager.add(ipPoolController({ pools: () => pools.list() }));
  if (o.clusterApi !== false) addClusterApiControllers(manager, o.client);
  let webhook: WebhookServer | undefined;
  if (o.webhook) {
    // CRD conversion for clusters that call webhooks (the embedded server converts in-process)
    // the CRDs (for their contract labels) are listed at most every 30 s, not on every review
    let crds: { at: number; items: Array<Record<string, unknown>> } | null = null;
    const byGroup = converters(contextFromCrds(() => crds?.items ?? []));
    const convert = async (objects: KubeObject[], to: string) => {
      if (!crds || Date.now() - crds.at > 30_000) {
        const items = (await o.client.list<KubeObject>('apiextensions.k8s.io/v1', 'CustomResourceDefinition')).items;
        crds = { at: Date.now(), items: items as unknown as Array<Record<string, unknown>> };
      }
      return objects.map((x) => {
        const conv = byGroup.get(String(x.apiVersion).split('/')[0]);
        return (conv ? conv(x as Record<string, unknown>, to) : { ...x, apiVersion: to }) as KubeObject;
      });
    };
    webhook = await startWebhookServer({
      ...o.webhook,
      convert,
      metrics: manager.metrics,
      validators: {
        [WEBHOOK_PATH]: (r) => {
          if (r.operation === 'DELETE' || !r.object) return [];
          const h = r.object as unknown as BareMetalHost;
          h.metadata.namespace ??= r.namespace ?? 'default';
          return r.operation === 'UPDATE' && r.oldObject ? validateHostUpdate(r.oldObject as unknown as BareMetalHost, h) : validateHost(h);
        },
        ...Object.fromEntries(
          Object.entries(CAPM3_WEBHOOKS).map(([path, rule]) => [
            path,
            (r: AdmissionRequest) => {
              if (r.operation === 'DELETE' || !r.object) return [];
              const o = { ...r.object, metadata: { ...r.object.metadata, namespace: r.object.metadata?.namespace ?? r.namespace } };
              return rule.validate(o, r.operation === 'UPDATE' ? r.oldObject : undefined);
            },
          ]),
        ),
      },
    });
  }
  await manager.start();
  return {
    manager,
    ironic,
    webhook,
    async stop() {
      await manager.stop();
      await webhook?.close();
    },
  };
}

/** The ValidatingWebhookConfiguration that routes BareMetalHost writes to the operator's webhook. */
export function webhookConfiguration(url: string, caPem: string): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'baremetal-operator-validating-webhook-configuration' },
    webhooks: [
      {
        name: 'baremetalhost.metal3.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        clientConfig: { url: `${url}${WEBHOOK_PATH}`, caBundle: Buffer.from(caPem).toString('base64') },
        rules: [{ apiGroups: ['metal3.io'], apiVersions: ['v1alpha1'], operations: ['CREATE', 'UPDATE'], resources: ['baremetalhosts'] }],
      },
      // the API server sends these in the storage version (v1beta2), whichever version was written
      ...Object.entries(CAPM3_WEBHOOKS).map(([path, rule]) => ({
        name: `validation.${rule.resource.replace(/s$/, '')}.infrastructure.cluster.x-k8s.io`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 10,
        matchPolicy: 'Equivalent',
        clientConfig: { url: `${url}${path}`, caBundle: Buffer.from(caPem).toString('base64') },
        rules: [
          {
            apiGroups: ['infrastructure.cluster.x-k8s.io'],
            apiVersions: ['v1beta2'],
            operations: ['CREATE', 'UPDATE'],
            resources: [rule.resource],
          },
        ],
      })),
    ],
  };
}
