// Redfish errors: the HTTP status plus a body in the extended-error format clients parse
// (`error.code`, `error.message`, `error.@Message.ExtendedInfo[].MessageId`).
import type { MachineError } from '../machine/errors.js';

export const BASE_REGISTRY = 'Base.1.15.0';

interface MessageDef {
  message: (args: string[]) => string;
  severity: 'OK' | 'Warning' | 'Critical';
  resolution: string;
}

// The Base registry messages Ferrite emits; ids and meaning follow DMTF's Base registry.
export const BASE_MESSAGES: Record<string, MessageDef> = {
  Success: { message: () => 'The request completed successfully.', severity: 'OK', resolution: 'None.' },
  Created: { message: () => 'The resource was created successfully.', severity: 'OK', resolution: 'None.' },
  GeneralError: { message: (a) => a[0] ?? 'A general error has occurred.', severity: 'Critical', resolution: 'None.' },
  InternalError: {
    message: () => 'The request failed due to an internal service error.',
    severity: 'Critical',
    resolution: 'Resubmit the request.',
  },
  MalformedJSON: {
    message: () => 'The request body submitted was malformed JSON and could not be parsed by the receiving service.',
    severity: 'Critical',
    resolution: 'Ensure that the request body is valid JSON and resubmit the request.',
  },
  PropertyUnknown: {
    message: (a) => `The property ${a[0]} is not in the list of valid properties for the resource.`,
    severity: 'Warning',
    resolution: 'Remove the unknown property from the request body and resubmit the request.',
  },
  PropertyNotWritable: {
    message: (a) => `The property ${a[0]} is a read only property and cannot be assigned a value.`,
    severity: 'Warning',
    resolution: 'Remove the property from the request body and resubmit the request.',
  },
  PropertyValueNotInList: {
    message: (a) => `The value ${a[0]} for the property ${a[1]} is not in the list of acceptable values.`,
    severity: 'Warning',
    resolution: 'Choose a value from the enumeration list that the implementation can support and resubmit the request.',
  },
  PropertyValueTypeError: {
    message: (a) => `The value ${a[0]} for the property ${a[1]} is of a different type than the property can accept.`,
    severity: 'Warning',
    resolution: 'Correct the value for the property in the request body and resubmit the request.',
  },
  PropertyValueFormatError: {
    message: (a) => `The value ${a[0]} for the property ${a[1]} is of a different format than the property can accept.`,
    severity: 'Warning',
    resolution: 'Correct the value for the property in the request body and resubmit the request.',
  },
  PropertyMissing: {
    message: (a) => `The property ${a[0]} is a required property and must be included in the request.`,
    severity: 'Warning',
    resolution: 'Ensure that the property is in the request body and has a valid value and resubmit the request.',
  },
  ActionParameterMissing: {
    message: (a) => `The action ${a[0]} requires the parameter ${a[1]} to be present in the request body.`,
    severity: 'Critical',
    resolution: 'Supply the action with the required parameter in the request body when the request is resubmitted.',
  },
  ActionParameterUnknown: {
    message: (a) => `The action ${a[0]} was submitted with the invalid parameter ${a[1]}.`,
    severity: 'Warning',
    resolution: 'Correct the invalid parameter and resubmit the request if the operation failed.',
  },
  ActionParameterValueNotInList: {
    message: (a) => `The value ${a[0]} for the parameter ${a[1]} in the action ${a[2]} is not in the list of acceptable values.`,
    severity: 'Warning',
    resolution:
      'Choose a value from the enumeration list that the implementation can support and resubmit the request if the operation failed.',
  },
  ActionParameterValueFormatError: {
    message: (a) =>
      `The value ${a[0]} for the parameter ${a[1]} in the action ${a[2]} is of a different format than the parameter can accept.`,
    severity: 'Warning',
    resolution: 'Correct the value for the parameter in the request body and resubmit the request if the operation failed.',
  },
  ActionParameterValueConflict: {
    message: (a) => `The value ${a[0]} for the parameter ${a[1]} conflicts with the current state: ${a[2] ?? ''}`.trim(),
    severity: 'Warning',
    resolution: 'Resubmit the request with a value that agrees with the resource state.',
  },
  ActionNotSupported: {
    message: (a) => `The action ${a[0]} is not supported by the resource.`,
    severity: 'Critical',
    resolution: 'The action supplied cannot be resubmitted to the implementation.',
  },
  ResourceNotFound: {
    message: (a) => `The requested resource of type ${a[0]} named ${a[1]} was not found.`,
    severity: 'Critical',
    resolution: 'Provide a valid resource identifier and resubmit the request.',
  },
  ResourceMissingAtURI: {
    message: (a) => `The resource at the URI ${a[0]} was not found.`,
    severity: 'Critical',
    resolution: 'Place a valid resource at the URI or correct the URI and resubmit the request.',
  },
  ResourceInUse: {
    message: (a) => `The change to the requested resource failed because the resource is in use or in transition: ${a[0] ?? ''}`.trim(),
    severity: 'Warning',
    resolution: 'Remove the condition and resubmit the request if the operation failed.',
  },
  ResourceExhaustion: {
    message: (a) => `The resource ${a[0]} was unable to satisfy the request due to unavailability of resources.`,
    severity: 'Critical',
    resolution: 'Ensure that the resources are available and resubmit the request.',
  },
  OperationNotAllowed: { message: () => 'The HTTP method is not allowed on this resource.', severity: 'Critical', resolution: 'None.' },
  InsufficientPrivilege: {
    message: () =>
      'There are insufficient privileges for the account or credentials associated with the current session to perform the requested operation.',
    severity: 'Critical',
    resolution: 'Either abandon the operation or change the associated access rights and resubmit the request if the operation failed.',
  },
  NoValidSession: {
    message: () => 'There is no valid session established with the implementation.',
    severity: 'Critical',
    resolution: 'Establish a session before attempting any operations.',
  },
  PreconditionFailed: {
    message: () => 'The ETag supplied did not match the ETag required to change this resource.',
    severity: 'Critical',
    resolution: 'Try the operation again using the appropriate ETag.',
  },
  PreconditionRequired: {
    message: () => 'A precondition header or annotation is required to change this resource.',
    severity: 'Critical',
    resolution: 'Try the operation again using an If-Match or If-None-Match header and appropriate ETag.',
  },
  QueryNotSupported: {
    message: () => 'Querying is not supported by the implementation.',
    severity: 'Warning',
    resolution: 'Remove the query parameters and resubmit the request if the operation failed.',
  },
  QueryParameterOutOfRange: {
    message: (a) => `The value ${a[0]} for the query parameter ${a[1]} is out of range.`,
    severity: 'Warning',
    resolution: 'Reduce the value for the query parameter to a value that is within range.',
  },
  CreateFailedMissingReqProperties: {
    message: (a) => `The create operation failed because the required property ${a[0]} was missing from the request.`,
    severity: 'Critical',
    resolution: 'Correct the body to include the required property with a valid value and resubmit the request if the operation failed.',
  },
  NoOperation: {
    message: () => 'The request body submitted contain no data to act upon and no changes to the resource took place.',
    severity: 'Warning',
    resolution: 'Add properties in the JSON object and resubmit the request.',
  },
  UnsupportedMediaType: {
    message: () => 'The request specifies a Content-Type for the body that is not supported.',
    severity: 'Critical',
    resolution: 'Resubmit the request with a supported Content-Type.',
  },
  ServiceTemporarilyUnavailable: {
    message: (a) => `The service is temporarily unavailable.  Retry in ${a[0]} seconds.`,
    severity: 'Critical',
    resolution: 'Wait for the indicated retry duration and retry the operation.',
  },
  SessionLimitExceeded: {
    message: () => 'The session establishment failed due to the number of simultaneous sessions exceeding the limit of the implementation.',
    severity: 'Critical',
    resolution:
      'Reduce the number of other sessions before trying to establish the session or increase the limit of simultaneous sessions (if supported).',
  },
  PasswordChangeRequired: {
    message: () => 'The password provided for this account must be changed before access is granted.',
    severity: 'Critical',
    resolution: 'Change the password for this account using a PATCH to the Password property.',
  },
  ResetRequired: {
    message: (a) => `In order to apply changes, recovery of the resource ${a[0]} is needed.`,
    severity: 'Warning',
    resolution: 'Reset the component to apply the changes.',
  },
};

export interface ExtendedInfo {
  messageId: string;
  args?: string[];
  property?: string;
}

export class RedfishError extends Error {
  readonly info: ExtendedInfo[];
  constructor(
    readonly status: number,
    info: ExtendedInfo | ExtendedInfo[],
    readonly headers: Record<string, string> = {},
  ) {
    const list = Array.isArray(info) ? info : [info];
    super(renderMessage(list[0]));
    this.info = list;
  }
}

export function renderMessage(i: ExtendedInfo): string {
  const def = BASE_MESSAGES[i.messageId];
  return def ? def.message(i.args ?? []) : (i.args?.[0] ?? i.messageId);
}

export function messageObject(i: ExtendedInfo): Record<string, unknown> {
  const def = BASE_MESSAGES[i.messageId];
  return {
    '@odata.type': '#Message.v1_1_1.Message',
    MessageId: `${BASE_REGISTRY}.${i.messageId}`,
    Message: renderMessage(i),
    MessageArgs: i.args ?? [],
    Severity: def?.severity ?? 'Critical',
    MessageSeverity: def?.severity ?? 'Critical',
    Resolution: def?.resolution ?? 'None.',
    ...(i.property ? { RelatedProperties: [`#/${i.property}`] } : {}),
  };
}

export function errorBody(e: RedfishError): Record<string, unknown> {
  const first = e.info[0];
  return {
    error: {
      code: e.info.length === 1 ? `${BASE_REGISTRY}.${first.messageId}` : `${BASE_REGISTRY}.GeneralError`,
      message: e.info.length === 1 ? renderMessage(first) : 'A general error has occurred. See ExtendedInfo for more information.',
      '@Message.ExtendedInfo': e.info.map(messageObject),
    },
  };
}

/** Maps a machine's typed error onto the Redfish status and message it means. */
export function fromMachineError(e: MachineError, action?: string): RedfishError {
  const prop = e.field;
  switch (e.reason) {
    case 'InvalidValue':
      return new RedfishError(
        400,
        action
          ? { messageId: 'ActionParameterValueFormatError', args: [e.message, prop ?? '', action], property: prop }
          : { messageId: 'PropertyValueFormatError', args: [e.message, prop ?? ''], property: prop },
      );
    case 'NotFound':
      return new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [e.message] });
    case 'Conflict':
    case 'PoweredOff':
      return new RedfishError(409, {
        messageId: 'ActionParameterValueConflict',
        args: [prop ?? '', prop ?? '', e.message],
        property: prop,
      });
    case 'Busy':
      return new RedfishError(503, { messageId: 'ServiceTemporarilyUnavailable', args: ['5'] }, { 'Retry-After': '5' });
    case 'Unavailable':
      return new RedfishError(503, { messageId: 'GeneralError', args: [e.message] }, { 'Retry-After': '10' });
    case 'MediaFetchFailed':
      return new RedfishError(400, { messageId: 'GeneralError', args: [e.message], property: prop });
    case 'NotSupported':
      return new RedfishError(400, { messageId: 'ActionNotSupported', args: [e.message] });
  }
}
