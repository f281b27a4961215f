// Test harness for the Bare Metal Operator: Ferrite's API server (CRDs installed), Ferrite's
// Ironic, an emulated fleet on its provisioning network, a file server for agent images and disk
// images, and the operator in-process (optionally with its webhook registered) — plus kubectl
// and a poll for a host's status.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import pino from 'pino';
import { installCrds } from '../../cli/crds.js';
import type { FleetFile } from '../../emulator/fleet/config.js';
import { createCertificateAuthority, createServingCertificate, loadOrCreateCredentials } from '../../provider/apiserver/pki.js';
import { COMPONENTS, type RunningControllers, startControllers, webhookConfigurations } from '../../provider/controllers.js';
import type { IronicServiceOptions } from '../../provider/ironic/service.js';
import { KubeClient } from '../../provider/kube/client.js';
import { urlClient } from '../../provider/kube/webhooks.js';
import { cleanup, type ExecResult, kubectl, startTestServer } from './apiserver.js';
import { startFileServer, startTestFleet, type TestFleet } from './bmc.js';
import { startTestIronic } from './ironic.js';

export interface HostView {
  metadata: { name?: string; annotations?: Record<string, string>; generation?: number };
  status?: {
    provisioning?: { state?: string; ID?: string; image?: { url?: string } };
    operationalStatus?: string;
    errorType?: string;
    errorMessage?: string;
    errorCount?: number;
    provisioningFailCount?: number;
    lastAttemptedImage?: { url?: string };
    poweredOn?: boolean;
    hardware?: { cpu?: { count?: number; model?: string; arch?: string }; hostname?: string };
    operationHistory?: { inspect?: { start?: string; end?: string | null } };
    lastUpdated?: string;
  };
}

export interface BmoStack {
  api: Awaited<ReturnType<typeof startTestServer>>;
  fleet: TestFleet;
  ironic: Awaited<ReturnType<typeof startTestIronic>>;
  files: Awaited<ReturnType<typeof startFileServer>>;
  op: RunningControllers;
  /** the CA of Ironic's certificate, with tls */
  ironicCa?: string;
  client: KubeClient;
  k(args: string[], input?: string): Promise<ExecResult>;
  host(name: string, namespace?: string): Promise<HostView>;
  /** Polls the host until `pred` holds; fails with its last status. */
  waitFor(name: string, pred: (h: HostView) => boolean, what: string, timeoutMs?: number): Promise<HostView>;
  close(): Promise<void>;
}

export async function startBmoStack(o: {
  /** a default fleet of N machines, or a fleet file */
  machines: number | FleetFile;
  files?: Record<string, Buffer>;
  webhook?: boolean;
  pollMs?: number;
  provisioningLimit?: number;
  maxProvisioningRetries?: number;
  /** hosts get their agent image through PreprovisioningImages (--build-preprov-image) */
  buildPreprovImage?: boolean;
  /** BareMetalSwitches rendered into Ironic's switch configuration Secrets (IRONIC_NETWORKING_ENABLED) */
  switchNetworking?: { configsSecret: string; credentialsSecret: string; credentialsPath: string };
  /** a prebuilt agent ISO, served at /ipa.iso and given as --deploy-iso-url (built once Ironic's URL is known) */
  deployIso?: (ironicUrl: string) => Buffer;
  /**
   * Ironic over HTTPS with a generated CA (its API, and its HTTP root too unless httpRoot is false),
   * behind Basic auth; the operator trusts the CA, the machines' firmware and agent trust `trust`
   * ('wrong': a different CA)
   */
  tls?: { httpRoot?: boolean; trust?: 'right' | 'wrong'; conductor?: IronicServiceOptions['conductor'] };
}): Promise<BmoStack> {
  const api = await startTestServer({ inMemory: true });
  await installCrds(api.core);
  const files = await startFileServer({
    '/ipa.kernel': Buffer.from('agent kernel'),
    '/ipa.initramfs': Buffer.from('agent initramfs'),
    ...o.files,
  });
  let ironicTls: { ca: string; auth: [string, string] } | undefined;
  let ironicOpts: Parameters<typeof startTestIronic>[0] = {};
  let trustedCas: string[] = [];
  if (o.tls) {
    const dir = join(api.dir, 'ironic-tls');
    mkdirSync(dir, { recursive: true });
    const leaf = await createServingCertificate('ironic', ['127.0.0.1', 'localhost']);
    const ca = { certPem: leaf.caPem };
    writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
    writeFileSync(join(dir, 'htpasswd'), `ironic:${bcrypt.hashSync('s3cret', 4)}\n`);
    ironicTls = { ca: ca.certPem, auth: ['ironic', 's3cret'] };
    ironicOpts = {
      tls: { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') },
      httpTls: o.tls.httpRoot !== false,
      htpasswdFile: join(dir, 'htpasswd'),
      metrics: true,
      conductor: o.tls.conductor,
    };
    trustedCas = [o.tls.trust === 'wrong' ? (await createCertificateAuthority('not-ironic-ca')).certPem : ca.certPem];
  }
  const fleet = await startTestFleet(o.machines, { tls: true, trustedCas });
  const ironic = await startTestIronic(ironicOpts);
  if (o.deployIso) files.put('/ipa.iso', o.deployIso(ironic.url));
  fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
  const client = KubeClient.fromFile(api.kubeconfigPath);
  let webhook: { host: string; port: number; certDir: string } | undefined;
  let caPem = '';
  if (o.webhook) {
    const certDir = join(api.dir, 'webhook');
    const pki = await loadOrCreateCredentials(certDir, ['127.0.0.1'], 'webhook');
    writeFileSync(join(certDir, 'tls.crt'), pki.certPem);
    writeFileSync(join(certDir, 'tls.key'), pki.keyPem);
    webhook = { host: '127.0.0.1', port: 0, certDir };
    caPem = pki.caPem;
  }
  const op = await startControllers({
    client,
    ironic: ironicTls
      ? { endpoint: ironic.url, caCert: ironicTls.ca, username: ironicTls.auth[0], password: ironicTls.auth[1] }
      : { endpoint: ironic.url },
    log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
    deployKernelUrl: `${files.url}/ipa.kernel`,
    deployRamdiskUrl: `${files.url}/ipa.initramfs`,
    deployIsoUrl: o.deployIso ? `${files.url}/ipa.iso` : undefined,
    pollMs: o.pollMs ?? 300,
    errorBackoffBaseMs: 1000,
    provisioningLimit: o.provisioningLimit,
    maxProvisioningRetries: o.maxProvisioningRetries,
    buildPreprovImage: o.buildPreprovImage,
    switchNetworking: o.switchNetworking,
    webhook,
  });
  const k = (args: string[], input?: string) => kubectl(api.kubeconfigPath, args, { input });
  if (o.webhook) {
    for (const w of webhookConfigurations(COMPONENTS, urlClient(String(op.webhook?.url), caPem))) {
      const r = await k(['apply', '-f', '-'], JSON.stringify(w));
      if (r.code !== 0) throw new Error(`registering the webhook failed: ${r.stderr}`);
    }
  }
  const host = (name: string, namespace = 'default') =>
    client.get<HostView & { [k: string]: unknown }>('metal3.io/v1alpha1', 'BareMetalHost', namespace, name);
  return {
    api,
    fleet,
    ironic,
    ironicCa: ironicTls?.ca,
    files,
    op,
    client,
    k,
    host,
    async waitFor(name, pred, what, timeoutMs = 90_000) {
      const end = Date.now() + timeoutMs;
      let last: HostView | undefined;
      while (Date.now() < end) {
        try {
          last = await host(name);
          if (pred(last)) return last;
        } catch {
          // not created yet
        }
        await sleep(150);
      }
      throw new Error(
        `${name}: timed out waiting for ${what}; last ${JSON.stringify({ annotations: last?.metadata.annotations, status: last?.status })}`,
      );
    },
    async close() {
      await op.stop();
      await ironic.close();
      await fleet.close();
      await files.close();
      await api.close();
      cleanup(api.dir);
    },
  };
}
