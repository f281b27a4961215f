// Validating webhooks as data: the path controller-runtime would serve, the kind it guards and the
// check. The same definitions feed the webhook server, the ValidatingWebhookConfiguration `dev up`
// registers by URL, and the release manifests, which reach the webhook through a Service.
import type { KubeClient, KubeObject } from './client.js';
import type { AdmissionRequest, Validator } from './webhook-server.js';

export interface WebhookDef {
  /** the webhook's name in its configuration (a DNS-style name, unique in the configuration) */
  name: string;
  path: string;
  group: string;
  /** the version the API server sends (matchPolicy Equivalent converts to it) */
  version: string;
  resource: string;
  /** the operations the API server sends (CREATE and UPDATE when absent); on DELETE `o` is the object going away */
  operations?: Array<'CREATE' | 'UPDATE' | 'DELETE'>;
  validate(o: KubeObject, old: KubeObject | undefined, ctx: WebhookContext): string[] | Promise<string[]>;
}

/** What a validation may look at besides the object: the cluster, through the controllers' client. */
export interface WebhookContext {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  client?: KubeClient;
}

export type ClientConfig =
  | { url: string; caBundle?: string }
  | { service: { name: string; namespace: string; path?: string }; caBundle?: string };

const operationsOf = (def: WebhookDef) => def.operations ?? ['CREATE', 'UPDATE'];

/**
 * The handler the webhook server mounts at def.path: operations the definition does not guard
 * pass, a DELETE is judged on the object going away, the namespace is filled in from the request.
 */
export function validator(def: WebhookDef, client?: KubeClient): Validator {
  const ops = operationsOf(def);
  return (r: AdmissionRequest) => {
    const op = r.operation as WebhookContext['operation'];
    if (!ops.includes(op)) return [];
    const subject = op === 'DELETE' ? r.oldObject : r.object;
    if (!subject) return [];
    const o = { ...subject, metadata: { ...subject.metadata, namespace: subject.metadata?.namespace ?? r.namespace ?? 'default' } };
    return def.validate(o, op === 'UPDATE' ? r.oldObject : undefined, { operation: op, client });
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
      rules: [{ apiGroups: [d.group], apiVersions: [d.version], operations: operationsOf(d), resources: [d.resource] }],
    })),
  };
}

/** A ClientConfig for a webhook served at `url` (its path appended), trusting the PEM CA. */
export function urlClient(url: string, caPem: string): (def: WebhookDef) => ClientConfig {
  return (d) => ({ url: `${url}${d.path}`, caBundle: Buffer.from(caPem).toString('base64') });
}
