// Admission webhooks served the controller-runtime way: HTTPS with tls.crt/tls.key from a cert
// directory, AdmissionReview v1 in and out, one path per webhook; the API server (Ferrite's or
// kube-apiserver) calls them through a ValidatingWebhookConfiguration.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import type { KubeObject } from './client.js';
import type { ControllerMetrics } from './metrics.js';

export interface AdmissionRequest {
  uid: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  object?: KubeObject;
  oldObject?: KubeObject;
  namespace?: string;
  name?: string;
}

/** Returns the reasons to deny (empty = allowed). */
export type Validator = (req: AdmissionRequest) => string[] | Promise<string[]>;

export interface WebhookServer {
  url: string;
  /** serves a renewed certificate to new connections */
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

/** Converts a ConversionReview request's objects to desiredAPIVersion. */
export type Converter = (objects: KubeObject[], desiredAPIVersion: string) => Promise<KubeObject[]>;

export async function startWebhookServer(o: {
  host: string;
  port: number;
  /** tls.crt and tls.key from here, or the PEMs themselves */
  certDir?: string;
  tls?: { certPem: string; keyPem: string };
  validators: Record<string, Validator>;
  /** serve CRD conversion (ConversionReview v1) at /convert */
  convert?: Converter;
  /** counts every call per path and status code, as controller-runtime's webhook metrics do */
  metrics?: ControllerMetrics;
}): Promise<WebhookServer> {
  const app = express();
  if (o.metrics) {
    const m = o.metrics;
    app.use((req, res, next) => {
      const end = m.webhookLatency.startTimer({ webhook: req.path });
      res.on('finish', () => {
        end();
        m.webhookRequests.inc({ webhook: req.path, code: String(res.statusCode) });
      });
      next();
    });
  }
  app.use(express.json({ limit: '16mb' }));
  if (o.convert) {
    const convert = o.convert;
    app.post('/convert', async (req, res) => {
      const request = (req.body as { request?: { uid?: string; desiredAPIVersion?: string; objects?: KubeObject[] } }).request;
      if (!request?.uid || !request.desiredAPIVersion) {
        res.status(400).json({ error: 'not a ConversionReview request' });
        return;
      }
      try {
        const convertedObjects = await convert(request.objects ?? [], request.desiredAPIVersion);
        res.json({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid: request.uid, convertedObjects, result: { status: 'Success' } },
        });
      } catch (e) {
        res.json({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'ConversionReview',
          response: { uid: request.uid, convertedObjects: [], result: { status: 'Failure', message: (e as Error).message } },
        });
      }
    });
  }
  for (const [path, validate] of Object.entries(o.validators)) {
    app.post(path, async (req, res) => {
      const review = req.body as { apiVersion?: string; request?: AdmissionRequest };
      const r = review.request;
      if (!r?.uid) {
        res.status(400).json({ error: 'not an AdmissionReview request' });
        return;
      }
      let errs: string[];
      try {
        errs = await validate(r);
      } catch (e) {
        errs = [`webhook failed: ${(e as Error).message}`];
      }
      const kind = String(r.object?.kind ?? r.oldObject?.kind ?? 'object');
      res.json({
        apiVersion: 'admission.k8s.io/v1',
        kind: 'AdmissionReview',
        response: errs.length
          ? {
              uid: r.uid,
              allowed: false,
              status: {
                code: 403,
                reason: 'Forbidden',
                message: `${kind} "${r.name ?? r.object?.metadata?.name ?? ''}" is invalid: ${errs.join(', ')}`,
              },
            }
          : { uid: r.uid, allowed: true },
      });
    });
  }
  const creds = o.tls
    ? { cert: o.tls.certPem, key: o.tls.keyPem }
    : o.certDir
      ? { cert: readFileSync(join(o.certDir, 'tls.crt'), 'utf8'), key: readFileSync(join(o.certDir, 'tls.key'), 'utf8') }
      : null;
  if (!creds) throw new Error('the webhook server needs a certificate: certDir or tls');
  const server: Server = createServer(creds, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `https://${o.host.includes(':') ? `[${o.host}]` : o.host}:${a.port}`,
    setCertificate: (cert, key) => server.setSecureContext({ cert, key }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
