// Every kind Ferrite serves as a CRD; `ferrite crds generate` writes crds/ from this list.
import { ClusterKind } from './cluster.x-k8s.io/cluster.js';
import type { KindDefinition } from './crdgen.js';
import { IPAddressKind as CapiIPAddressKind, IPAddressClaimKind } from './ipam.cluster.x-k8s.io/ipam.js';
import { IPAddressKind, IPClaimKind, IPPoolKind } from './ipam.metal3.io/v1alpha1/ipam.js';
import { BareMetalHostKind } from './metal3.io/v1alpha1/baremetalhost.js';
import { FirmwareSchemaKind, HostFirmwareComponentsKind, HostFirmwareSettingsKind } from './metal3.io/v1alpha1/firmware.js';
import { BMCEventSubscriptionKind, DataImageKind, HardwareDataKind, PreprovisioningImageKind } from './metal3.io/v1alpha1/host-data.js';
import { type ConversionContext, groupConverters } from './versioning.js';

export const kinds: KindDefinition[] = [
  BareMetalHostKind,
  BMCEventSubscriptionKind,
  DataImageKind,
  FirmwareSchemaKind,
  HardwareDataKind,
  HostFirmwareComponentsKind,
  HostFirmwareSettingsKind,
  PreprovisioningImageKind,
  IPPoolKind,
  IPClaimKind,
  IPAddressKind,
  IPAddressClaimKind,
  CapiIPAddressKind,
  ClusterKind,
];

/** Converters for every group with a multi-version kind, keyed by group. */
export function converters(ctx: ConversionContext) {
  return groupConverters(kinds, ctx);
}
