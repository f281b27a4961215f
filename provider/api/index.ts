// Every kind Ferrite serves as a CRD; `ferrite crds generate` writes crds/ from this list.
import { KubeadmConfigKind, KubeadmConfigTemplateKind } from './bootstrap.cluster.x-k8s.io/kubeadm.js';
import { ClusterKind } from './cluster.x-k8s.io/cluster.js';
import { ClusterClassKind } from './cluster.x-k8s.io/cluster-class.js';
import { MachineDeploymentKind, MachineHealthCheckKind, MachineKind, MachineSetKind } from './cluster.x-k8s.io/machine.js';
import { KubeadmControlPlaneKind, KubeadmControlPlaneTemplateKind } from './controlplane.cluster.x-k8s.io/kubeadm-control-plane.js';
import type { KindDefinition } from './crdgen.js';
import { Metal3ClusterKind, Metal3ClusterTemplateKind } from './infrastructure.cluster.x-k8s.io/metal3cluster.js';
import { Metal3DataClaimKind, Metal3DataKind, Metal3DataTemplateKind } from './infrastructure.cluster.x-k8s.io/metal3data.js';
import { Metal3MachineKind, Metal3MachineTemplateKind } from './infrastructure.cluster.x-k8s.io/metal3machine.js';
import { Metal3RemediationKind, Metal3RemediationTemplateKind } from './infrastructure.cluster.x-k8s.io/metal3remediation.js';
import { IPAddressKind as CapiIPAddressKind, IPAddressClaimKind } from './ipam.cluster.x-k8s.io/ipam.js';
import { IPAddressKind, IPClaimKind, IPPoolKind } from './ipam.metal3.io/v1alpha1/ipam.js';
import { BareMetalHostKind } from './metal3.io/v1alpha1/baremetalhost.js';
import { FirmwareSchemaKind, HostFirmwareComponentsKind, HostFirmwareSettingsKind } from './metal3.io/v1alpha1/firmware.js';
import { HostClaimKind, HostDeployPolicyKind, HostUpdatePolicyKind } from './metal3.io/v1alpha1/host-claim.js';
import { BMCEventSubscriptionKind, DataImageKind, HardwareDataKind, PreprovisioningImageKind } from './metal3.io/v1alpha1/host-data.js';
import { BareMetalSwitchKind, HostNetworkAttachmentKind } from './metal3.io/v1alpha1/host-network.js';
import { type ConversionContext, groupConverters } from './versioning.js';

export const kinds: KindDefinition[] = [
  BareMetalHostKind,
  BareMetalSwitchKind,
  BMCEventSubscriptionKind,
  DataImageKind,
  FirmwareSchemaKind,
  HardwareDataKind,
  HostClaimKind,
  HostDeployPolicyKind,
  HostFirmwareComponentsKind,
  HostFirmwareSettingsKind,
  HostNetworkAttachmentKind,
  HostUpdatePolicyKind,
  PreprovisioningImageKind,
  IPPoolKind,
  IPClaimKind,
  IPAddressKind,
  IPAddressClaimKind,
  CapiIPAddressKind,
  ClusterKind,
  ClusterClassKind,
  MachineKind,
  MachineSetKind,
  MachineDeploymentKind,
  MachineHealthCheckKind,
  KubeadmConfigKind,
  KubeadmConfigTemplateKind,
  KubeadmControlPlaneKind,
  KubeadmControlPlaneTemplateKind,
  Metal3ClusterKind,
  Metal3ClusterTemplateKind,
  Metal3MachineKind,
  Metal3MachineTemplateKind,
  Metal3DataTemplateKind,
  Metal3DataKind,
  Metal3DataClaimKind,
  Metal3RemediationKind,
  Metal3RemediationTemplateKind,
];

/** Converters for every group with a multi-version kind, keyed by group. */
export function converters(ctx: ConversionContext) {
  return groupConverters(kinds, ctx);
}
