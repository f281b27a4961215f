// Small reads every controller needs: an object that may be absent, and the timestamp format
// Kubernetes writes.
import { isNotFound, type KubeClient, type KubeObject } from './client.js';
import type { GVK } from './controller.js';

/** Kubernetes timestamps: RFC 3339, whole seconds. */
export const nowIso = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export async function getOrNull<T extends KubeObject>(
  client: KubeClient,
  kind: GVK,
  namespace: string | undefined,
  name: string,
): Promise<T | null> {
  try {
    return await client.get<T>(kind.apiVersion, kind.kind, namespace, name);
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}
