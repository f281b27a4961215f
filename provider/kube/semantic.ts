// Semantic equality of API objects, as apimachinery's equality.Semantic: the same JSON value,
// whatever the order of object keys. A real kube-apiserver returns keys sorted while a controller
// builds them in its own order, so comparing serialized text would see a change on every read and
// rewrite status forever; an absent key and one set to undefined are the same (JSON drops both).
import { isDeepStrictEqual } from 'node:util';

function normalize(v: unknown): unknown {
  return v === undefined ? null : JSON.parse(JSON.stringify(v));
}

/** True when a and b serialize to the same JSON value (object key order ignored, undefined = absent). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(normalize(a), normalize(b));
}
