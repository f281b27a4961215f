// Kubernetes-style API errors. Every failure leaves the server as a `kind: Status` object whose
// reason/code pair is what client-go's apierrors.Is* helpers key on.

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: compactDetails(this.details) } : {}),
      code: this.code,
    };
  }
}

// metav1.StatusDetails' fields are omitempty: an empty name or group (the core group) is not sent
function compactDetails(d: StatusDetails): StatusDetails {
  const out: StatusDetails = {};
  for (const [k, v] of Object.entries(d)) if (v !== undefined && v !== '') (out as Record<string, unknown>)[k] = v;
  return out;
}

/** The object changed while a write awaited webhooks or conversion: the write may be recomputed and retried. */
export class RacedWriteError extends ApiError {}

export interface ResourceRef {
  group: string;
  plural: string;
  kind?: string;
}

function qualified(r: ResourceRef): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

const STALE = 'the object has been modified; please apply your changes to the latest version and try again';

export const errors = {
  notFound(r: ResourceRef, name: string): ApiError {
    return new ApiError(404, 'NotFound', `${qualified(r)} "${name}" not found`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  },
  alreadyExists(r: ResourceRef, name: string): ApiError {
    return new ApiError(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  },
  conflict(r: ResourceRef, name: string, why: string): ApiError {
    return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${why}`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  },
  staleResourceVersion(r: ResourceRef, name: string): ApiError {
    return errors.conflict(r, name, STALE);
  },
  raced(r: ResourceRef, name: string): RacedWriteError {
    return new RacedWriteError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(r)} "${name}": ${STALE}`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  },
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
    // one cause reads bare, several as an aggregate in brackets, as apimachinery prints them
    const each = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const summary = each.length > 1 ? `[${each.join(', ')}]` : each.join('');
    const what = group ? `${kind}.${group}` : kind;
    return new ApiError(422, 'Invalid', `${what} "${name}" is invalid: ${summary}`, {
      name,
      group,
      kind,
      causes,
    });
  },
  /** Invalid request options (?fieldValidation=, ?dryRun=, DeleteOptions…), as meta.k8s.io's validation words them. */
  invalidOptions(
    kind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'ListOptions' | 'DeleteOptions',
    causes: StatusCause[],
  ): ApiError {
    const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    return new ApiError(422, 'Invalid', `${kind}.meta.k8s.io "" is invalid: ${summary}`, { group: 'meta.k8s.io', kind, causes });
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  methodNotAllowed(message = 'the server does not allow this method on the requested resource'): ApiError {
    return new ApiError(405, 'MethodNotAllowed', message, {});
  },
  unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${contentType}) - accepted media types include: ${accepted.join(', ')}`,
    );
  },
  /** A PATCH content type the resource does not take, worded as kube-apiserver words it (without the type). */
  unsupportedPatchType(accepted: string[] | null): ApiError {
    // built-in kinds answer with the bare HTTP status text, custom resources list what they take
    return accepted
      ? new ApiError(
          415,
          'UnsupportedMediaType',
          `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
        )
      : new ApiError(415, 'UnsupportedMediaType', '415: Unsupported Media Type', {});
  },
  gone(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  forbidden(r: ResourceRef, name: string, why: string): ApiError {
    return new ApiError(403, 'Forbidden', `${qualified(r)} "${name}" is forbidden: ${why}`, {
      name,
      group: r.group,
      kind: r.plural,
    });
  },
  unauthorized(): ApiError {
    return new ApiError(401, 'Unauthorized', 'Unauthorized');
  },
  tooLarge(limit: number): ApiError {
    return new ApiError(413, 'RequestEntityTooLarge', `request entity too large: limit is ${limit} bytes`);
  },
  internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', `Internal error occurred: ${message}`);
  },
};
