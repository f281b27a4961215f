// One Ironic: the durable store, the conductor, the REST API and the HTTP root that serves iPXE
// scripts and virtual-media ISOs (over HTTPS with the API's certificate when asked, as metal3's
// IRONIC_VMEDIA_TLS_SETUP), started and stopped together (`ferrite ironic`).
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import express from 'express';
import pino, { type Logger } from 'pino';
import { BasicAuth } from './api/auth.js';
import { type IronicApi, startIronicApi } from './api/server.js';
import { Conductor, type ConductorOptions, DEFAULT_CONDUCTOR_OPTIONS } from './conductor/conductor.js';
import { AGENT_IMAGES, IPXE_MASTER, inspectorIpxe } from './drivers/boot.js';
import { IronicStore } from './store.js';

export interface IronicServiceOptions {
  dataDir: string;
  host?: string;
  port?: number;
  /** port of the HTTP root (iPXE scripts, boot ISOs); 0 picks a free one */
  httpPort?: number;
  /** URL the agent and BMCs use to reach the API / the HTTP root (derived when omitted) */
  publicUrl?: string;
  httpUrl?: string;
  /** a folder with agent.kernel and agent.initramfs to serve as the agent instead of the simulated markers */
  agentImages?: string;
  htpasswdFile?: string;
  tls?: { certFile: string; keyFile: string };
  /** serve the HTTP root over HTTPS too, with the API's certificate */
  httpTls?: boolean;
  /** Prometheus metrics at the API's /metrics */
  metrics?: boolean;
  sync?: 'full' | 'normal';
  conductor?: Partial<Omit<ConductorOptions, 'hostname' | 'apiUrl' | 'httpUrl' | 'httpRoot' | 'cacheDir' | 'log'>>;
  /** a PEM CA file trusted when downloading deploy images from a web server (Ironic's own HTTP root under httpTls) */
  webserverVerifyCa?: string;
  log?: Logger;
}

export interface IronicService {
  url: string;
  httpUrl: string;
  conductor: Conductor;
  store: IronicStore;
  api: IronicApi;
  close(): Promise<void>;
}

export async function startIronic(opts: IronicServiceOptions): Promise<IronicService> {
  const dataDir = resolve(opts.dataDir);
  const httpRoot = join(dataDir, 'httpboot');
  mkdirSync(httpRoot, { recursive: true });
  writeFileSync(join(httpRoot, 'boot.ipxe'), IPXE_MASTER);
  installSimulatedAgentImages(join(httpRoot, 'images'), opts.agentImages);
  const log = opts.log ?? pino({ level: 'silent' });
  const host = opts.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

  // the HTTP root first: the conductor needs its URL
  const files = express();
  files.disable('x-powered-by');
  files.use(express.static(httpRoot, { dotfiles: 'deny', index: false, fallthrough: true }));
  files.use((req, res) => {
    res.status(404).type('text/plain').send(`not found: ${req.path}\n`);
  });
  if (opts.httpTls && !opts.tls) throw new Error('an HTTPS HTTP root needs the API certificate (tls)');
  const httpServer =
    opts.httpTls && opts.tls
      ? https.createServer({ cert: readFileSync(opts.tls.certFile, 'utf8'), key: readFileSync(opts.tls.keyFile, 'utf8') }, files)
      : http.createServer(files);
  await new Promise<void>((res, rej) => {
    httpServer.once('error', rej);
    httpServer.listen(opts.httpPort ?? 6180, host, () => res());
  });
  const httpUrl = opts.httpUrl ?? `${opts.httpTls ? 'https' : 'http'}://${urlHost}:${(httpServer.address() as AddressInfo).port}`;

  const store = new IronicStore({ path: join(dataDir, 'ironic.sqlite'), synchronous: opts.sync ?? 'normal' });
  let api: IronicApi | null = null;
  let conductor: Conductor | null = null;
  try {
    const scheme = opts.tls ? 'https' : 'http';
    const port = opts.port ?? 6385;
    const auth = opts.htpasswdFile ? BasicAuth.fromFile(opts.htpasswdFile) : null;
    const tls = opts.tls ? { certPem: readFileSync(opts.tls.certFile, 'utf8'), keyPem: readFileSync(opts.tls.keyFile, 'utf8') } : null;
    conductor = new Conductor(store, {
      ...DEFAULT_CONDUCTOR_OPTIONS,
      ...opts.conductor,
      hostname: hostname(),
      apiUrl: opts.publicUrl ?? '',
      httpUrl,
      httpRoot,
      cacheDir: join(dataDir, 'cache'),
      webserverCas: opts.webserverVerifyCa ? [readFileSync(opts.webserverVerifyCa, 'utf8')] : opts.conductor?.webserverCas,
      log,
    });
    api = await startIronicApi({ conductor, host, port, publicUrl: opts.publicUrl, auth, tls, log, metrics: opts.metrics });
    // with port 0 the URL (which goes into the agent's kernel parameters) is known only now
    const apiUrl = opts.publicUrl ?? `${scheme}://${urlHost}:${api.port}`;
    conductor.opts.apiUrl = apiUrl;
    writeFileSync(join(httpRoot, 'inspector.ipxe'), inspectorIpxe(apiUrl));
    conductor.start();
    log.info({ api: apiUrl, http: httpUrl, nodes: store.nodeCount }, 'ironic started');
    const c = conductor;
    const a = api;
    return {
      url: apiUrl,
      httpUrl,
      conductor: c,
      store,
      api: a,
      async close() {
        await a.close();
        await c.stop();
        await new Promise<void>((r) => {
          httpServer.close(() => r());
          httpServer.closeAllConnections();
        });
        store.close();
      },
    };
  } catch (e) {
    await api?.close();
    await conductor?.stop();
    httpServer.close();
    store.close();
    throw e;
  }
}

/** Where upstream's Ironic image serves the agent (…/images/ironic-python-agent.{kernel,initramfs}). */
export const AGENT_KERNEL_PATH = AGENT_IMAGES.kernel;
export const AGENT_RAMDISK_PATH = AGENT_IMAGES.ramdisk;

/**
 * The emulator's simulated firmware boots "the agent" by fetching whatever kernel and ramdisk
 * it is pointed at, so these files only mark the boot as the simulated ironic-python-agent;
 * real machines need real images placed here instead (an existing file is never replaced).
 */
function installSimulatedAgentImages(dir: string, real?: string): void {
  mkdirSync(dir, { recursive: true });
  if (real) {
    // a real agent (scripts/build-vm-images.sh) for machines that really boot it: libvirt VMs
    for (const [from, to] of [
      ['agent.kernel', 'ironic-python-agent.kernel'],
      ['agent.initramfs', 'ironic-python-agent.initramfs'],
    ]) {
      const src = join(real, from);
      if (!existsSync(src)) throw new Error(`--agent-images ${real}: ${from} is missing (build it with scripts/build-vm-images.sh)`);
      copyFileSync(src, join(dir, to));
    }
    return;
  }
  for (const [file, what] of [
    ['ironic-python-agent.kernel', 'kernel'],
    ['ironic-python-agent.initramfs', 'initramfs'],
  ]) {
    const p = join(dir, file);
    if (!existsSync(p)) writeFileSync(p, `Ferrite simulated ironic-python-agent ${what}: boots only on emulated machines\n`);
  }
}
