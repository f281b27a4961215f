// Calls a webhook the way kube-apiserver does for admission and conversion: POST of a JSON
// review to `clientConfig.url`, or to a service reference, over HTTPS trusting `caBundle`.
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';

export interface ClientConfig {
  url?: string;
  caBundle?: string;
  service?: { name: string; namespace: string; path?: string; port?: number };
}

/** Where a service reference points on a machine without cluster DNS: the local host. */
export type ServiceResolver = (svc: { name: string; namespace: string; port?: number }) => string;

export const localServiceResolver: ServiceResolver = (svc) => `127.0.0.1:${svc.port ?? 443}`;

export function callWebhook(
  cc: ClientConfig,
  body: unknown,
  timeoutMs: number,
  resolveService: ServiceResolver = localServiceResolver,
): Promise<Record<string, unknown>> {
  let url: URL;
  if (cc.url) url = new URL(cc.url);
  else if (cc.service) url = new URL(`https://${resolveService(cc.service)}${cc.service.path ?? '/'}`);
  else return Promise.reject(new Error('webhook has neither clientConfig.url nor clientConfig.service'));
  const ca = cc.caBundle ? Buffer.from(cc.caBundle, 'base64').toString('utf8') : undefined;
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'http:' ? httpRequest : request)(
      url,
      {
        method: 'POST',
        ca,
        timeout: timeoutMs,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(data) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if ((res.statusCode ?? 0) >= 400) return reject(new Error(`the server responded with status ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>);
          } catch (e) {
            reject(new Error(`the response is not JSON: ${(e as Error).message}`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`context deadline exceeded (timeout ${timeoutMs / 1000}s)`)));
    req.on('error', reject);
    req.end(data);
  });
}
