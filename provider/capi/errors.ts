// Typed errors for the Cluster API tier (core, kubeadm bootstrap and control plane, CAPM3): a reason
// code a caller can branch on, and a message a user can act on.
export type CapiReason =
  | 'RenderFailed'
  | 'ReferenceNotFound'
  | 'WaitingFor'
  | 'InvalidReference'
  | 'WorkloadUnreachable'
  | 'CertificatesFailed'
  | 'NoHostAvailable'
  | 'HostConflict'
  | 'PatchFailed'
  | 'TopologyInvalid';

export class CapiError extends Error {
  constructor(
    readonly reason: CapiReason,
    message: string,
  ) {
    super(message);
  }
}
