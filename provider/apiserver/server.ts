// The embedded Kubernetes-API-compatible server: HTTPS + bearer token on a data directory that
// holds the SQLite store, the PKI and a kubeconfig for kubectl and client libraries.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { collectDefaultMetrics, Registry as MetricsRegistry } from 'prom-client';
import { ADMIN_USER, ApiCore } from './core.js';
import { GarbageCollector } from './gc.js';
import { buildApp } from './http.js';
import { type Credentials, kubeconfigYaml, loadOrCreateCredentials } from './pki.js';
import { Store } from './store.js';

export interface ApiServerOptions {
  /** Directory for the database, PKI and kubeconfig; required unless inMemory. */
  dataDir: string;
  address?: string;
  port?: number;
  /** Keep objects in memory only (tests that ask for it); PKI still goes to dataDir. */
  inMemory?: boolean;
  synchronous?: 'full' | 'normal';
  maxBodyBytes?: number;
  historySize?: number;
  log?: Logger;
  /** Serve with these instead of the data directory's own PKI (a workload cluster's kubeadm-made certs). */
  credentials?: Credentials;
  /** Accept client certificates signed by this CA as well as the bearer token (kubeadm's admin.conf). */
  clientCaPem?: string;
}

export interface ApiServer {
  url: string;
  port: number;
  kubeconfigPath: string;
  token: string;
  caPem: string;
  core: ApiCore;
  gc: GarbageCollector;
  /** what /metrics serves: this server's request metrics and the process's shared ones */
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

// Process metrics (CPU, heap, GC, event-loop lag) describe the process, not one server, so they are
// collected once however many servers it runs: the BMC emulator runs one per workload cluster, and
// each collection adds a GC observer and a 10 ms event-loop timer (at 1,000 clusters, a wake-up
// every 10 ms walking a thousand timers, and each GC reported to a thousand observers).
let processMetrics: MetricsRegistry | undefined;
function sharedProcessMetrics(): MetricsRegistry {
  if (!processMetrics) {
    processMetrics = new MetricsRegistry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-ferrite' };

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const address = opts.address ?? '127.0.0.1';
  const log = opts.log ?? pino({ level: 'info' }, pino.destination(2));
  const creds = opts.credentials ?? (await loadOrCreateCredentials(dataDir, [address]));
  const store = new Store({
    path: opts.inMemory ? undefined : join(dataDir, 'apiserver.db'),
    synchronous: opts.synchronous,
    historySize: opts.historySize,
  });
  const core = new ApiCore(store);
  await core.bootstrap();
  const gc = new GarbageCollector(core);
  gc.start();
  // this server's request metrics beside the shared process metrics (the same metric objects)
  const metrics = MetricsRegistry.merge([sharedProcessMetrics()]);
  const server = createHttps({
    cert: creds.certPem,
    key: creds.keyPem,
    ...(opts.clientCaPem ? { ca: opts.clientCaPem, requestCert: true, rejectUnauthorized: false } : {}),
  });
  const host = address.includes(':') ? `[${address}]` : address;
  let port = opts.port ?? 6443;
  const app = buildApp({
    core,
    token: creds.token,
    clientCertAuth: Boolean(opts.clientCaPem),
    serverAddress: `${host}:${port}`,
    maxBodyBytes: opts.maxBodyBytes ?? 3 * 1024 * 1024,
    log,
    metrics,
    version: KUBE_VERSION,
  });
  core.identify = (t) => (t === creds.token ? ADMIN_USER : null);
  server.on('request', app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, address, () => res());
  });
  port = (server.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(url, creds), { mode: 0o600 });
  log.info({ url, kubeconfig: kubeconfigPath }, 'apiserver listening');
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    kubeconfigPath,
    token: creds.token,
    caPem: creds.caPem,
    core,
    gc,
    metrics,
    close() {
      closing ??= new Promise<void>((res) => {
        gc.stop();
        server.close(() => res());
        server.closeAllConnections();
      }).then(() => store.close());
      return closing;
    },
  };
}
