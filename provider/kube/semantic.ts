// Semantic equality of API objects, as apimachinery's equality.Semantic: the same JSON value,
// whatever the order of object keys. A real kube-apiserver returns keys sorted while a controller
// builds them in its own order, so comparing serialized text would see a change on every read and
// rewrite status forever; an absent key and one set to undefined are the same (JSON drops both).
// Compared in place, without serializing: a reconcile compares a whole BareMetalHost (hardware
// details and all) before and after, and a JSON round trip of both was a seventh of an idle
// operator's CPU. Hand-written because deep-equal libraries compare JavaScript values, not JSON's
// (undefined keys, toJSON, non-finite numbers).

/** What JSON.stringify writes for `v`: toJSON applied, non-finite numbers null, undefined/functions/symbols absent. */
function asJson(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return (v as { toJSON(): unknown }).toJSON();
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (typeof v === 'function' || typeof v === 'symbol') return undefined;
  return v;
}

function equal(x: unknown, y: unknown): boolean {
  const a = asJson(x);
  const b = asJson(y);
  if (a === b) return true;
  // an absent value where a value stands (top level, array element) is JSON's null
  if (a === null || a === undefined || b === null || b === undefined || typeof a !== 'object' || typeof b !== 'object')
    return (a ?? null) === (b ?? null);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!equal(a[i], bb[i])) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  let present = 0;
  for (const k of Object.keys(ao)) {
    const v = asJson(ao[k]);
    if (v === undefined) continue;
    present++;
    if (!Object.hasOwn(bo, k) || asJson(bo[k]) === undefined || !equal(v, bo[k])) return false;
  }
  for (const k of Object.keys(bo)) if (asJson(bo[k]) !== undefined) present--;
  return present === 0;
}

/** True when a and b serialize to the same JSON value (object key order ignored, undefined = absent). */
export function semanticEqual(a: unknown, b: unknown): boolean {
  return equal(a, b);
}
