// Typed BMO errors with a reason code; the reconciler maps each to upstream's errorType and to
// whether retrying can help.
export type BmoErrorReason =
  | 'UnknownBMCType' // the address scheme maps to no driver: fixing the spec is the only cure
  | 'InvalidBMCAddress'
  | 'EmptyBMCAddress'
  | 'EmptyBMCSecret'
  | 'BMCSecretMissing' // the Secret may be created later: retry
  | 'InvalidCredentials'
  | 'IronicUnavailable' // transient: the provisioner is not ready
  | 'IronicError'
  | 'ConfigData'; // user/network/meta data Secret problems

export class BmoError extends Error {
  constructor(
    readonly reason: BmoErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'BmoError';
  }
}
