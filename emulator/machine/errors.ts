// Typed machine errors: each carries a reason code the BMC fronts translate into protocol errors
// (Redfish MessageIds, IPMI completion codes).

export type MachineErrorReason =
  | 'InvalidValue'
  | 'NotSupported'
  | 'Conflict'
  | 'NotFound'
  | 'MediaFetchFailed'
  | 'PoweredOff'
  | 'Busy'
  | 'Unavailable';

export class MachineError extends Error {
  constructor(
    readonly reason: MachineErrorReason,
    message: string,
    /** the property or parameter at fault, when there is one */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'MachineError';
  }
}
