// Every kind Ferrite serves as a CRD; `ferrite crds generate` writes crds/ from this list.
import type { KindDefinition } from './crdgen.js';
import { BareMetalHostKind } from './metal3.io/v1alpha1/baremetalhost.js';
import { FirmwareSchemaKind, HostFirmwareComponentsKind, HostFirmwareSettingsKind } from './metal3.io/v1alpha1/firmware.js';
import { BMCEventSubscriptionKind, DataImageKind, HardwareDataKind, PreprovisioningImageKind } from './metal3.io/v1alpha1/host-data.js';

export const kinds: KindDefinition[] = [
  BareMetalHostKind,
  BMCEventSubscriptionKind,
  DataImageKind,
  FirmwareSchemaKind,
  HardwareDataKind,
  HostFirmwareComponentsKind,
  HostFirmwareSettingsKind,
  PreprovisioningImageKind,
];
