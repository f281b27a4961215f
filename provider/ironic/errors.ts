// Ironic's error vocabulary: every failure the API or conductor reports carries a reason code
// and the HTTP status Ironic uses for it; the API turns it into Ironic's JSON-in-JSON body.

export type IronicReason =
  | 'NodeNotFound'
  | 'PortNotFound'
  | 'DriverNotFound'
  | 'NodeLocked'
  | 'NodeAssociated'
  | 'NodeInWrongPowerState'
  | 'InvalidState'
  | 'InvalidStateRequested'
  | 'InvalidParameterValue'
  | 'MissingParameterValue'
  | 'Invalid'
  | 'Conflict'
  | 'DuplicateName'
  | 'MACAlreadyExists'
  | 'NotAcceptable'
  | 'NotFound'
  | 'NotAuthorized'
  | 'MethodNotAllowed'
  | 'UnsupportedDriverExtension'
  | 'NoFreeConductorWorker'
  | 'PowerStateFailure'
  | 'BMCUnreachable'
  | 'BMCAuthFailed'
  | 'AgentError'
  | 'ImageError'
  | 'Internal';

const STATUS: Record<IronicReason, number> = {
  NodeNotFound: 404,
  PortNotFound: 404,
  DriverNotFound: 404,
  NotFound: 404,
  NodeLocked: 409,
  NodeAssociated: 409,
  Conflict: 409,
  DuplicateName: 409,
  MACAlreadyExists: 409,
  InvalidState: 409,
  NodeInWrongPowerState: 409,
  InvalidStateRequested: 400,
  InvalidParameterValue: 400,
  MissingParameterValue: 400,
  Invalid: 400,
  UnsupportedDriverExtension: 400,
  NotAcceptable: 406,
  NotAuthorized: 401,
  MethodNotAllowed: 405,
  NoFreeConductorWorker: 503,
  PowerStateFailure: 500,
  BMCUnreachable: 500,
  BMCAuthFailed: 500,
  AgentError: 500,
  ImageError: 500,
  Internal: 500,
};

export class IronicError extends Error {
  readonly status: number;
  constructor(
    readonly reason: IronicReason,
    message: string,
    status?: number,
  ) {
    super(message);
    this.status = status ?? STATUS[reason];
  }
}

export const notFound = (ident: string) => new IronicError('NodeNotFound', `Node ${ident} could not be found.`);
export const nodeLocked = (node: string, host: string) =>
  new IronicError('NodeLocked', `Node ${node} is locked by host ${host}, please retry after the current operation is completed.`);

/** Ironic's wire shape: `{"error_message": "<json of {faultstring, faultcode, debuginfo}>"}`. */
export function errorBody(status: number, message: string): string {
  const inner = JSON.stringify({ faultstring: message, faultcode: status >= 500 ? 'Server' : 'Client', debuginfo: null });
  return JSON.stringify({ error_message: inner });
}

export function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
