// Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`).
import { errors } from './errors.js';

export const PROTOBUF = 'application/vnd.kubernetes.protobuf';

export function isProtobuf(contentType: string): boolean {
  return contentType === PROTOBUF;
}

/**
 * Not decoded yet: answered with 415 naming the media types that are, so a client can tell
 * exactly what to switch to instead of failing on a garbled object.
 */
export function decodeProtobuf(_buf: Buffer, kind: string): never {
  throw errors.unsupportedMediaType(`${PROTOBUF} (${kind})`, ['application/json', 'application/yaml']);
}
