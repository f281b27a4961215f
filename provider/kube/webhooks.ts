// Validating webhooks as data: the path controller-runtime would serve, the kind it guards and the
// check. The same definitions feed the webhook server, the ValidatingWebhookConfiguration `dev up`
// registers by URL, and the release manifests, which reach the webhook through a Service.
import type { KubeObject } from './client.js';
import type { AdmissionRequest, Validator } from './webhook-server.js';

export interface WebhookDef {
  /** the webhook's name in its configuration (a DNS-style name, unique in the configuration) */
  name: string;
  path: string;
  group: string;
  /** the version the API server sends (matchPolicy Equivalent converts to it) */
  version: string;
  resource: string;
  validate(o: KubeObject, old?: KubeObject): string[];
}

export type ClientConfig =
  | { url: string; caBundle?: string }
  | { service: { name: string; namespace: string; path?: string }; caBundle?: string };

/** The handler the webhook server mounts at def.path: deletes pass, the namespace is filled in from the request. */
export function validator(def: WebhookDef): Validator {
  return (r: AdmissionRequest) => {
    if (r.operation === 'DELETE' || !r.object) return [];
    const o = { ...r.object, metadata: { ...r.object.metadata, namespace: r.object.metadata?.namespace ?? r.namespace ?? 'default' } };
    return def.validate(o, r.operation === 'UPDATE' ? r.oldObject : undefined);
  };
}

/**
 * One ValidatingWebhookConfiguration for a set of webhooks; `client(def)` says how the API server
 * reaches each (a URL on this machine, or the component's Service in a cluster).
 */
export function validatingWebhookConfiguration(
  name: string,
  defs: WebhookDef[],
  client: (def: WebhookDef) => ClientConfig,
  annotations?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    webhooks: defs.map((d) => ({
      name: d.name,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: 'Fail',
      timeoutSeconds: 10,
      matchPolicy: 'Equivalent',
      clientConfig: client(d),
      rules: [{ apiGroups: [d.group], apiVersions: [d.version], operations: ['CREATE', 'UPDATE'], resources: [d.resource] }],
    })),
  };
}

/** A ClientConfig for a webhook served at `url` (its path appended), trusting the PEM CA. */
export function urlClient(url: string, caPem: string): (def: WebhookDef) => ClientConfig {
  return (d) => ({ url: `${url}${d.path}`, caBundle: Buffer.from(caPem).toString('base64') });
}
