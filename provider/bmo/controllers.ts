// The Bare Metal Operator tier: the BareMetalHost reconciler and its companions (firmware
// settings and components, BMC event subscriptions, DataImages) on one manager, and the
// BareMetalHost validating webhook.

import { isDeepStrictEqual } from 'node:util';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import type { HostNetworkAttachment } from '../api/metal3.io/v1alpha1/host-network.js';
import type { KubeObject } from '../kube/client.js';
import type { Manager } from '../kube/manager.js';
import type { WebhookDef } from '../kube/webhooks.js';
import { BMH, hostController } from './baremetalhost-controller.js';
import { bareMetalSwitchController, type SwitchNetworkingOptions } from './baremetalswitch-controller.js';
import { BES, bmcEventSubscriptionController } from './bmceventsubscription-controller.js';
import { DATA_IMAGE, dataImageController } from './dataimage-controller.js';
import { type HostClaim, hostClaimController } from './hostclaim-controller.js';
import { hostFirmwareComponentsController } from './hostfirmwarecomponents-controller.js';
import { FIRMWARE_SCHEMA, hostFirmwareSettingsController } from './hostfirmwaresettings-controller.js';
import { EnvImageProvider, type ImageSources, PPI, preprovisioningImageController } from './preprovisioningimage-controller.js';
import type { IronicProvisioner } from './provisioner.js';
import { attachmentUsers, validateHost, validateHostClaim, validateHostUpdate, validateNetworkAttachment } from './validation.js';

export const BMO_WEBHOOKS: WebhookDef[] = [
  {
    name: 'baremetalhost.metal3.io',
    path: '/validate-metal3-io-v1alpha1-baremetalhost',
    group: 'metal3.io',
    version: 'v1alpha1',
    resource: 'baremetalhosts',
    validate: (o, old) => {
      const h = o as unknown as BareMetalHost;
      return old ? validateHostUpdate(old as unknown as BareMetalHost, h) : validateHost(h);
    },
  },
  {
    name: 'hostclaim.metal3.io',
    path: '/validate-metal3-io-v1alpha1-hostclaim',
    group: 'metal3.io',
    version: 'v1alpha1',
    resource: 'hostclaims',
    validate: (o) => validateHostClaim(o as HostClaim),
  },
  {
    // a switchport configuration in use cannot change or go away: the switch ports already carry it
    name: 'hostnetworkattachment.metal3.io',
    path: '/validate-metal3-io-v1alpha1-hostnetworkattachment',
    group: 'metal3.io',
    version: 'v1alpha1',
    resource: 'hostnetworkattachments',
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    validate: async (o, old, ctx) => {
      const a = o as unknown as HostNetworkAttachment;
      if (ctx.operation !== 'DELETE') {
        const errs = validateNetworkAttachment(a);
        if (errs.length || ctx.operation === 'CREATE') return errs;
        if (isDeepStrictEqual((old as unknown as HostNetworkAttachment).spec, a.spec)) return [];
      }
      if (!ctx.client) return [];
      const hosts = (await ctx.client.list<BareMetalHost & KubeObject>('metal3.io/v1alpha1', 'BareMetalHost')).items;
      const users = attachmentUsers(a, hosts);
      if (!users.length) return [];
      return ctx.operation === 'DELETE'
        ? [`cannot delete attachment while referenced by BMH interfaces: ${users.join(', ')}`]
        : [`HostNetworkAttachment spec is immutable while referenced by BMH interfaces: ${users.join(', ')}`];
    },
  },
];

export interface BmoOptions {
  provisioner: IronicProvisioner;
  errorBackoffBaseMs?: number;
  maxProvisioningRetries?: number;
  maxConcurrentReconciles?: number;
  /** --build-preprov-image: where the default image provider finds the agent images */
  preprovisioningImages?: ImageSources;
  switchNetworking?: SwitchNetworkingOptions;
}

const ref = (o: KubeObject) => ({ namespace: String(o.metadata?.namespace), name: String(o.metadata?.name) });

export function addBmoControllers(manager: Manager, o: BmoOptions): void {
  const { provisioner } = o;
  const spec = hostController({
    provisioner,
    errorBackoffBaseMs: o.errorBackoffBaseMs,
    maxProvisioningRetries: o.maxProvisioningRetries,
    maxConcurrentReconciles: o.maxConcurrentReconciles,
    buildPreprovImage: Boolean(o.preprovisioningImages),
  });
  // a host's PreprovisioningImage (owned by it) wakes the host when its status changes
  if (o.preprovisioningImages) spec.owns = [...(spec.owns ?? []), PPI];
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
          .map(ref),
    },
  ];
  manager.add(spec);
  manager.add(hostFirmwareSettingsController({ provisioner }));
  // every firmware settings reconcile reads its host's FirmwareSchema: from a cache, as upstream's client reads it
  manager.cacheForReads(FIRMWARE_SCHEMA);
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
          .map(ref),
    },
  ];
  manager.add(subs);
  const images = dataImageController({ provisioner });
  const imageCache = manager.informer(DATA_IMAGE);
  // only hosts that have a DataImage wake its controller
  images.watches = [{ ...BMH, map: (h) => (imageCache.get(h.metadata?.namespace, String(h.metadata?.name)) ? [ref(h)] : []) }];
  manager.add(images);
  manager.add(hostClaimController());
  if (o.switchNetworking) manager.add(bareMetalSwitchController(o.switchNetworking));
  const provider = o.preprovisioningImages ? new EnvImageProvider(o.preprovisioningImages) : null;
  // as upstream, the image controller starts only when there is an image to give
  if (provider?.enabled) manager.add(preprovisioningImageController({ provider }));
}
