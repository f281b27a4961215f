// The webhook's serving certificate, kept by the controllers themselves so a cluster needs no
// cert-manager: a CA and a certificate for the webhook Service's DNS names live in a Secret in the
// component's namespace (made by whichever replica comes first; the others read it), and the CA
// goes into the caBundle of the component's own ValidatingWebhookConfigurations and conversion CRDs.
// Certificates are renewed 30 days before they expire. Out of a cluster (`url`), the configurations
// are pointed at that URL instead of the Service.
import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { createCertificateAuthority, signCertificate } from '../apiserver/pki.js';
import { isAlreadyExists, isConflict, isNotFound, type KubeClient, type KubeObject } from './client.js';

export interface WebhookCertOptions {
  client: KubeClient;
  secret: { namespace: string; name: string };
  service: { namespace: string; name: string };
  webhookConfigurations: string[];
  crds: string[];
  /** the API server calls the webhooks here instead of through the Service (controllers outside the cluster) */
  url?: string;
  log: Logger;
}

export interface ServingCertificate {
  certPem: string;
  keyPem: string;
  caPem: string;
  notAfter: Date;
}

const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
const b64 = (s: string) => Buffer.from(s).toString('base64');
const unb64 = (s: unknown) => (typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '');

export function serviceHosts(svc: { namespace: string; name: string }, url?: string): string[] {
  const hosts = [
    svc.name,
    `${svc.name}.${svc.namespace}`,
    `${svc.name}.${svc.namespace}.svc`,
    `${svc.name}.${svc.namespace}.svc.cluster.local`,
  ];
  if (url) hosts.push(new URL(url).hostname.replace(/^\[(.*)\]$/, '$1'));
  return hosts;
}

/** The Secret's certificate when it covers these hosts and is not due for renewal. */
function usable(data: Record<string, string> | undefined, hosts: string[]): ServingCertificate | null {
  const certPem = unb64(data?.['tls.crt']);
  const keyPem = unb64(data?.['tls.key']);
  const caPem = unb64(data?.['ca.crt']);
  if (!certPem || !keyPem || !caPem) return null;
  try {
    const cert = new X509Certificate(certPem);
    const notAfter = new Date(cert.validTo);
    if (notAfter.getTime() - Date.now() < RENEW_BEFORE_MS) return null;
    if (!hosts.every((h) => cert.checkHost(h) !== undefined || cert.checkIP(h) !== undefined)) return null;
    return { certPem, keyPem, caPem, notAfter };
  } catch {
    return null;
  }
}

async function issue(hosts: string[], caData?: { certPem: string; keyPem: string }): Promise<Record<string, string>> {
  let ca = caData;
  try {
    if (ca && new Date(new X509Certificate(ca.certPem).validTo).getTime() - Date.now() < RENEW_BEFORE_MS) ca = undefined;
  } catch {
    ca = undefined;
  }
  ca ??= await createCertificateAuthority('ferrite-webhook-ca', 10);
  const leaf = await signCertificate({ ca, cn: hosts[2] ?? hosts[0], hosts, server: true, years: 1 });
  return { 'tls.crt': b64(leaf.certPem), 'tls.key': b64(leaf.keyPem), 'ca.crt': b64(ca.certPem), 'ca.key': b64(ca.keyPem) };
}

/** Makes sure the Secret holds a usable certificate (creating or renewing it) and returns it. */
export async function ensureServingCertificate(o: WebhookCertOptions): Promise<ServingCertificate> {
  const hosts = serviceHosts(o.service, o.url);
  const { namespace, name } = o.secret;
  for (let attempt = 0; attempt < 5; attempt++) {
    let secret: (KubeObject & { data?: Record<string, string> }) | null = null;
    try {
      secret = await o.client.get('v1', 'Secret', namespace, name);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    const ok = usable(secret?.data, hosts);
    if (ok) return ok;
    const caData = secret?.data?.['ca.key'] ? { certPem: unb64(secret.data['ca.crt']), keyPem: unb64(secret.data['ca.key']) } : undefined;
    const data = await issue(hosts, caData);
    try {
      if (secret) await o.client.update({ ...secret, type: secret.type ?? 'kubernetes.io/tls', data });
      else await o.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls', data });
      o.log.info({ secret: `${namespace}/${name}`, hosts }, secret ? 'renewed the webhook certificate' : 'made the webhook certificate');
    } catch (e) {
      // another replica wrote it first: use theirs
      if (!isConflict(e) && !isAlreadyExists(e)) throw e;
    }
  }
  throw new Error(`could not settle the webhook certificate in Secret ${namespace}/${name}: it kept changing`);
}

/** Puts the CA (and, out of a cluster, the URL) into the component's webhook configurations and CRDs. */
export async function injectCaBundle(o: WebhookCertOptions, caPem: string): Promise<void> {
  const caBundle = b64(caPem);
  for (const name of o.webhookConfigurations) {
    for (let attempt = 0; ; attempt++) {
      let vwc: KubeObject & { webhooks?: Array<{ clientConfig?: { service?: { path?: string }; url?: string; caBundle?: string } }> };
      try {
        vwc = await o.client.get('admissionregistration.k8s.io/v1', 'ValidatingWebhookConfiguration', undefined, name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        o.log.warn(
          { webhookConfiguration: name },
          `ValidatingWebhookConfiguration ${name} does not exist: apply the component's manifests`,
        );
        break;
      }
      let changed = false;
      for (const w of vwc.webhooks ?? []) {
        const cc = w.clientConfig ?? {};
        const want = o.url
          ? { url: `${o.url}${cc.service?.path ?? new URL(cc.url ?? 'https://x/').pathname}`, caBundle }
          : { ...cc, caBundle };
        if (JSON.stringify(want) !== JSON.stringify(cc)) {
          w.clientConfig = want;
          changed = true;
        }
      }
      if (!changed) break;
      try {
        await o.client.update(vwc);
        break;
      } catch (e) {
        if (!isConflict(e) || attempt > 3) throw e;
      }
    }
  }
  for (const name of o.crds) {
    const clientConfig = o.url ? { url: `${o.url}/convert`, service: null, caBundle } : { caBundle };
    try {
      await o.client.patch(
        { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name },
        'merge',
        { spec: { conversion: { webhook: { clientConfig } } } },
        { fieldManager: 'ferrite-webhook-certs' },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
      o.log.warn({ crd: name }, `CRD ${name} does not exist: apply the component's manifests`);
    }
  }
}
