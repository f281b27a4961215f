// Finalizer helpers: pure functions on an object copy, so they compose with the patch helper.
import type { KubeObject } from './client.js';

export function hasFinalizer(o: KubeObject, f: string): boolean {
  return (o.metadata?.finalizers ?? []).includes(f);
}

/** Adds the finalizer; returns true if the object changed. */
export function addFinalizer(o: KubeObject, f: string): boolean {
  if (hasFinalizer(o, f)) return false;
  o.metadata = { ...(o.metadata ?? {}), finalizers: [...(o.metadata?.finalizers ?? []), f] };
  return true;
}

/** Removes the finalizer; returns true if the object changed. */
export function removeFinalizer(o: KubeObject, f: string): boolean {
  if (!hasFinalizer(o, f)) return false;
  o.metadata = { ...(o.metadata ?? {}), finalizers: (o.metadata?.finalizers ?? []).filter((x) => x !== f) };
  return true;
}

export function isDeleting(o: KubeObject): boolean {
  return Boolean(o.metadata?.deletionTimestamp);
}
