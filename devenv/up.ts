// `ferrite dev up`: brings the stack up in order (API server → Ironic → BMC emulator →
// controllers), registers the fleet as BareMetalHosts with their Secrets, and reports progress
// until every host is available (or one fails).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import bcrypt from 'bcryptjs';
import { parseAllDocuments } from 'yaml';
import { installCrdObjects } from '../cli/crds.js';
import { defaultFleet, loadFleetFile, type ResolvedFleet, resolveFleet } from '../emulator/fleet/config.js';
import { Fleet } from '../emulator/fleet/fleet.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { FleetStore } from '../emulator/fleet/store.js';
import { bindingProblem } from '../emulator/machine/libvirt/hypervisor.js';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { type Component, webhookConfigurations } from '../provider/controllers.js';
import { AGENT_KERNEL_PATH, AGENT_RAMDISK_PATH } from '../provider/ironic/service.js';
import { isAlreadyExists, isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import { urlClient } from '../provider/kube/webhooks.js';
import { DevPorts } from './ports.js';
import { kubeBinaryProblem } from './real-kube.js';
import {
  CHECKOUT,
  componentAlive,
  freeTcpPort,
  readState,
  StackError,
  type StackState,
  startComponent,
  stopStack,
  tcpFree,
  writeState,
} from './stack.js';

/** The controllers dev up runs in its `controllers` process (the Bare Metal Operator) and in its `cluster-api` one. */
export const HOST_CONTROLLERS: readonly Component[] = ['bmo'];
export const CLUSTER_CONTROLLERS: readonly Component[] = ['ipam', 'capm3', 'capi', 'kubeadm-bootstrap', 'kubeadm-control-plane'];

export interface UpOptions {
  dataDir: string;
  /** a fleet file (YAML); else `hosts` default machines */
  fleetFile?: string;
  hosts: number;
  /** run the controllers against this cluster instead of starting the embedded API server */
  kubeconfig?: string;
  /** which API server to start when no kubeconfig is given: Ferrite's embedded one, or a real
   * etcd + kube-apiserver + kube-controller-manager (scripts/install-kube.sh) */
  kube?: 'embedded' | 'real';
  apiPort: number;
  namespace: string;
  /** BMC address kind for machines that offer several */
  protocol: 'redfish' | 'redfish-virtualmedia' | 'ipmi';
  timeScale: number;
  /** Ironic heartbeat timeout handed to agents (s): the pace of agent-driven steps */
  heartbeatTimeout: number;
  pollInterval: number;
  /** wait for hosts to be available; 0 = do not wait */
  waitTimeoutMs: number;
  progress?: (line: string, final: boolean) => void;
  /** register the fleet's hosts (scenarios apply their own manifests) */
  registerHosts?: boolean;
  /** start Ferrite's controllers (default); false leaves the stack to other controllers (upstream BMO) */
  controllers?: boolean;
  /** what runs the machines, overriding the fleet file's `backend` */
  backend?: 'sim' | 'libvirt';
  /** the agent ramdisk for libvirt VMs (scripts/build-vm-images.sh; default .vm-images or $FERRITE_VM_IMAGES) */
  vmImages?: string;
  /** Ironic over HTTPS (API and HTTP root) with a generated CA and Basic auth, as deployed (docs/deploy.md) */
  ironicTls?: boolean;
  /** start `ferrite dashboard` (default true) on this port (default: 8088 when free, else any free one) */
  dashboard?: boolean;
  dashboardPort?: number;
}

export interface UpResult {
  state: StackState;
  hosts: string[];
  counts: Record<string, number>;
}

export async function devUp(o: UpOptions): Promise<UpResult> {
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const prev = readState(dataDir);
  if (prev && Object.entries(prev.components).some(([name, c]) => c && componentAlive(name, c.pid))) {
    throw new StackError(
      'AlreadyRunning',
      `a dev environment already runs from ${dataDir}: \`ferrite dev status --data-dir ${o.dataDir}\` shows it, \`ferrite dev down --data-dir ${o.dataDir}\` stops it`,
    );
  }
  // kept state (after `dev down`, or a crash) is resumed: same fleet, same ports, same objects
  // a bad fleet file is refused before anything starts
  const fleet = o.fleetFile ? resolveFleet(loadFleetFile(o.fleetFile)) : null;
  if ((o.backend ?? fleet?.backend) === 'libvirt') {
    const missing = await bindingProblem();
    if (missing) throw new StackError('ComponentFailed', missing);
  }
  const ports = new DevPorts(dataDir);
  checkSameFleet(dataDir, o, fleet);
  await ports.checkKept();
  const real = !o.kubeconfig && o.kube === 'real';
  if (real) {
    const missing = kubeBinaryProblem();
    if (missing) throw new StackError('ComponentFailed', missing);
  }
  if (prev && !o.kubeconfig && Boolean(prev.realKube) !== real)
    throw new StackError(
      'StaleState',
      `${dataDir} holds an environment on ${prev.realKube ? 'the real kube-apiserver (--kube real)' : 'the embedded API server'}: resume it with${prev.realKube ? ' --kube real' : 'out --kube real'}, use another --data-dir, or start over with \`ferrite dev down --purge --data-dir ${o.dataDir}\``,
    );
  const s: StackState = {
    dataDir,
    kubeconfig: o.kubeconfig
      ? resolve(o.kubeconfig)
      : real
        ? join(dataDir, 'kube', 'kubeconfig')
        : join(dataDir, 'apiserver', 'kubeconfig'),
    embedded: !o.kubeconfig && !real,
    realKube: real,
    ironicUrl: '',
    ironicHttpUrl: '',
    redfishUrl: '',
    namespace: o.namespace,
    components: {},
  };
  writeState(s);
  try {
    await startAll(s, o, ports, fleet);
    return await register(s, o);
  } catch (e) {
    await stopStack(s);
    throw e;
  }
}

async function startAll(s: StackState, o: UpOptions, ports: DevPorts, fleet: ResolvedFleet | null): Promise<void> {
  const step = (m: string) => o.progress?.(m, true);
  if (s.realKube) {
    step('starting etcd, kube-apiserver and kube-controller-manager');
    const port = await ports.tcp('apiserver', o.apiPort);
    await startComponent(
      s,
      'apiserver',
      ['--log-format', 'text', 'kube', 'serve', '--data-dir', join(s.dataDir, 'kube'), '--port', String(port)],
      'log:Kubernetes control plane is up',
      180_000,
    );
  } else if (s.embedded) {
    step('starting the API server');
    const port = await ports.tcp('apiserver', o.apiPort);
    await startComponent(
      s,
      'apiserver',
      ['--log-format', 'text', 'apiserver', '--data-dir', join(s.dataDir, 'apiserver'), '--port', String(port), '--sync', 'normal'],
      `https://127.0.0.1:${port}/readyz`,
    );
  }
  const client = KubeClient.fromFile(s.kubeconfig);
  // the controllers' webhook: its certificate and port are known before the CRDs name it
  const certDir = join(s.dataDir, 'webhook');
  const pki = await loadOrCreateCredentials(certDir, ['127.0.0.1'], 'webhook');
  writeFileSync(join(certDir, 'tls.crt'), pki.certPem);
  writeFileSync(join(certDir, 'tls.key'), pki.keyPem, { mode: 0o600 });
  const [metrics, probes, webhook] = [await ports.tcp('metrics'), await ports.tcp('probes'), await ports.tcp('webhook')];
  const webhookUrl = `https://127.0.0.1:${webhook}`;
  const [capiMetrics, capiProbes, capiWebhook] = [
    await ports.tcp('clusterApiMetrics'),
    await ports.tcp('clusterApiProbes'),
    await ports.tcp('clusterApiWebhook'),
  ];
  if (!s.embedded) {
    step('installing the CRDs in the cluster');
    // a real API server on this machine reaches the webhook on loopback: conversion goes there; an
    // outside cluster keeps the in-cluster Service the CRDs name (docs/real-kubernetes.md)
    await installCrdObjects(client, s.realKube ? { conversionUrl: `${webhookUrl}/convert`, caPem: pki.caPem } : undefined);
  }

  const backend = o.backend ?? fleet?.backend ?? 'sim';
  const vmArgs: string[] = [];
  if (backend === 'libvirt') {
    const images = resolve(o.vmImages ?? process.env.FERRITE_VM_IMAGES ?? join(CHECKOUT, '.vm-images'));
    for (const f of ['agent.kernel', 'agent.initramfs'])
      if (!existsSync(join(images, f)))
        throw new StackError(
          'ComponentFailed',
          `the fleet runs libvirt VMs but ${join(images, f)} is missing: run scripts/build-vm-images.sh`,
        );
    vmArgs.push('--agent-images', images);
    // QEMU runs as libvirt-qemu: it must pass through the data directory to the VM files
    chmodSync(s.dataDir, 0o755);
  }
  const count = fleet ? fleet.machines.length : o.hosts;
  step("starting Ferrite's Ironic");
  const [ironicPort, httpPort] = [await ports.tcp('ironic'), await ports.tcp('ironicHttp')];
  const tls = o.ironicTls ? await ironicTlsFiles(join(s.dataDir, 'ironic-tls')) : null;
  const auth = ironicAuthFiles(join(s.dataDir, IRONIC_AUTH_DIR));
  const scheme = tls ? 'https' : 'http';
  s.ironicUrl = `${scheme}://127.0.0.1:${ironicPort}`;
  s.ironicHttpUrl = `${scheme}://127.0.0.1:${httpPort}`;
  const ironicTlsArgs = tls ? ['--tls-cert', tls.cert, '--tls-key', tls.key, '--http-tls', '--webserver-verify-ca', tls.ca] : [];
  await startComponent(
    s,
    'ironic',
    [
      '--log-format',
      'text',
      'ironic',
      '--data-dir',
      join(s.dataDir, 'ironic'),
      '--port',
      String(ironicPort),
      '--http-port',
      String(httpPort),
      '--heartbeat-timeout',
      String(o.heartbeatTimeout),
      // behind the same Basic auth; bench:clusters reads which tasks held the worker pool
      '--metrics',
      // Ironic's minute, sped up with the machines (a lost machine is noticed by two syncs in a row),
      // but no more than about 16 BMC reads a second: each sync reads every node's power state, and
      // at 1,000 hosts a 15 s round kept Ironic and the emulator busy with nothing changing
      '--power-sync-interval',
      String(powerSyncSeconds(o.timeScale, count)),
      // an agent that never calls in (its machine lost its boot with a BMC restart, say) fails the
      // wait after a quarter hour (Ironic's default: half an hour), sped up likewise but never under
      // a minute, nor under 0.3 s per host: the agents of a fleet booting at once share this
      // machine's cores (at 1,000 hosts on two, inspections outlasted the minute, failed and were
      // retried into more load) — and not sped up at all on VMs, which boot and run the agent in
      // real time whatever the scale (under TCG on a busy machine an inspection can take longer
      // than the 90 s scale 10 would leave it)
      ...['--deploy-callback-timeout', '--clean-callback-timeout', '--inspect-wait-timeout'].flatMap((f) => [
        f,
        String(backend === 'libvirt' ? 900 : Math.max(60, Math.round(900 / o.timeScale), Math.round(0.3 * count))),
      ]),
      '--htpasswd',
      auth.htpasswd,
      ...ironicTlsArgs,
      ...vmArgs,
    ],
    `${s.ironicUrl}/v1`,
  );

  step('starting the BMC emulator');
  const fleetArgs = o.fleetFile ? ['--fleet', resolve(o.fleetFile)] : ['--machines', String(o.hosts)];
  const redfishPort = await ports.tcp('redfish');
  const ipmiBase = await ports.udpRange(count);
  s.redfishUrl = `https://127.0.0.1:${redfishPort}`;
  await startComponent(
    s,
    'bmc',
    [
      '--log-format',
      'text',
      'bmc',
      'serve',
      ...fleetArgs,
      '--data-dir',
      join(s.dataDir, 'bmc'),
      '--port',
      String(redfishPort),
      '--ipmi-base-port',
      String(ipmiBase),
      '--pxe-url',
      `${s.ironicHttpUrl}/boot.ipxe`,
      '--time-scale',
      String(o.timeScale),
      // as the API server's: a killed process loses nothing, a power cut may lose the last changes
      '--sync',
      'normal',
      ...(tls ? ['--trusted-ca', tls.ca] : []),
      ...(o.backend ? ['--backend', o.backend] : []),
    ],
    // `bmc serve` prints this once every BMC listens (a fleet may have no Redfish BMC at all)
    'log:Press Ctrl-C to stop.',
  );

  if (o.dashboard !== false) await startDashboardComponent(s, o, auth.userDir, tls?.ca);
  if (o.controllers === false) {
    writeState(s);
    return;
  }
  // two processes, as upstream deploys them: the Bare Metal Operator, and Cluster API with its
  // kubeadm providers, CAPM3 and IPAM — each tier on its own core (at 1,000 clusters one process
  // doing both was the stack's bottleneck at 100 % of a core)
  step('starting the controllers');
  await startControllerProcess(s, 'controllers', HOST_CONTROLLERS, { metrics, probes, webhook }, certDir, [
    '--ironic-url',
    s.ironicUrl,
    '--ironic-auth-dir',
    auth.userDir,
    ...(tls ? ['--ironic-cacert', tls.ca] : []),
    '--deploy-kernel-url',
    `${s.ironicHttpUrl}/${AGENT_KERNEL_PATH}`,
    '--deploy-ramdisk-url',
    `${s.ironicHttpUrl}/${AGENT_RAMDISK_PATH}`,
    '--poll-interval',
    String(o.pollInterval),
    '--error-backoff-base',
    '10',
  ]);
  await startControllerProcess(
    s,
    'cluster-api',
    CLUSTER_CONTROLLERS,
    { metrics: capiMetrics, probes: capiProbes, webhook: capiWebhook },
    certDir,
    [],
  );
  // an outside cluster's API server may not reach a webhook on this machine's loopback, and a
  // Fail-policy webhook it cannot reach would refuse every BareMetalHost write: only the API
  // servers started here (embedded or real) get it
  if (s.embedded || s.realKube) {
    for (const [set, port] of [
      [HOST_CONTROLLERS, webhook],
      [CLUSTER_CONTROLLERS, capiWebhook],
    ] as const)
      for (const w of webhookConfigurations(set, urlClient(`https://127.0.0.1:${port}`, pki.caPem))) await applyObject(client, w);
  }
  writeState(s);
}

/** One `ferrite controllers` process of dev up: its controllers, and where it serves metrics, probes and webhooks. */
async function startControllerProcess(
  s: StackState,
  name: 'controllers' | 'cluster-api',
  set: readonly Component[],
  ports: { metrics: number; probes: number; webhook: number },
  certDir: string,
  extra: string[],
): Promise<void> {
  await startComponent(
    s,
    name,
    [
      '--log-format',
      'text',
      'controllers',
      '--controllers',
      set.join(','),
      '--kubeconfig',
      s.kubeconfig,
      '--metrics-bind-address',
      `127.0.0.1:${ports.metrics}`,
      '--health-probe-bind-address',
      `127.0.0.1:${ports.probes}`,
      '--webhook-cert-dir',
      certDir,
      '--webhook-port',
      String(ports.webhook),
      ...extra,
    ],
    `http://127.0.0.1:${ports.probes}/readyz`,
  );
}

/** The dashboard reads the same APIs any client does; its port is not kept (nothing names it). */
async function startDashboardComponent(s: StackState, o: UpOptions, ironicAuthDir: string, ironicCa?: string): Promise<void> {
  o.progress?.('starting the dashboard', true);
  // 0 (or nothing, with 8088 taken) means any free port
  const port =
    o.dashboardPort ||
    (o.dashboardPort === undefined && (await tcpFree(DASHBOARD_PORT, '127.0.0.1')) ? DASHBOARD_PORT : await freeTcpPort());
  await startComponent(
    s,
    'dashboard',
    [
      '--log-format',
      'text',
      'dashboard',
      '--kubeconfig',
      s.kubeconfig,
      '--ironic-url',
      s.ironicUrl,
      '--ironic-auth-dir',
      ironicAuthDir,
      ...(ironicCa ? ['--ironic-cacert', ironicCa] : []),
      '--emulator-url',
      s.redfishUrl,
      '--bmc-time-scale',
      String(o.timeScale),
      '--port',
      String(port),
      '--reports',
      resolve('scenario-reports'),
      '--reports',
      resolve('bench-results'),
    ],
    `http://127.0.0.1:${port}/healthz`,
  );
  s.dashboardUrl = `http://127.0.0.1:${port}/`;
}

/** `ferrite dashboard`'s usual port; dev up takes another free one when something holds it. */
export const DASHBOARD_PORT = 8088;

/**
 * Ironic's CA and certificate (for 127.0.0.1), made once in `dir` and kept, so a resumed
 * environment keeps trusting the same CA.
 */
async function ironicTlsFiles(dir: string) {
  await loadOrCreateCredentials(dir, ['127.0.0.1'], 'ironic');
  return { ca: join(dir, 'pki', 'ca.crt'), cert: join(dir, 'pki', 'ironic.crt'), key: join(dir, 'pki', 'ironic.key') };
}

/** Where dev up keeps Ironic's Basic-auth credentials, in METAL3_AUTH_ROOT_DIR's layout. */
export const IRONIC_AUTH_DIR = 'ironic-auth';

/**
 * dev up's Ironic power sync interval (s): Ironic's 60 s sped up with the machines' clock, never
 * under 15 s, and never more than about 16 BMC reads a second over the fleet (up to Ironic's own 60 s).
 */
export function powerSyncSeconds(timeScale: number, hosts: number): number {
  return Math.max(15, Math.round(60 / timeScale), Math.min(60, Math.ceil(hosts / 16)));
}

/**
 * Ironic's Basic-auth credentials, as metal3 deploys it: a random password made once and kept
 * (a resumed environment keeps it), `<dir>/ironic/{username,password}` for the operator
 * (METAL3_AUTH_ROOT_DIR's layout) and `<dir>/htpasswd` (bcrypt) for Ironic.
 */
export function ironicAuthFiles(dir: string): { htpasswd: string; userDir: string; username: string; password: string } {
  const userDir = join(dir, 'ironic');
  const htpasswd = join(dir, 'htpasswd');
  if (!existsSync(htpasswd) || !existsSync(join(userDir, 'password'))) {
    mkdirSync(userDir, { recursive: true, mode: 0o700 });
    const password = randomBytes(24).toString('base64url');
    writeFileSync(join(userDir, 'username'), 'ironic\n');
    writeFileSync(join(userDir, 'password'), `${password}\n`, { mode: 0o600 });
    writeFileSync(htpasswd, `ironic:${bcrypt.hashSync(password, 8)}\n`, { mode: 0o600 });
  }
  const read = (f: string) => readFileSync(join(userDir, f), 'utf8').trim();
  return { htpasswd, userDir, username: read('username'), password: read('password') };
}

/**
 * Resuming kept state with another fleet would leave BareMetalHosts whose machines are gone (or
 * machines nobody registered): refuse, naming the way out.
 */
function checkSameFleet(dataDir: string, o: UpOptions, fleet: ResolvedFleet | null): void {
  const saved = new FleetStore(join(dataDir, 'bmc')).loadFleet();
  if (!saved) return;
  const was = saved.machines.map((m) => m.spec.name);
  const now = fleet ? fleet.machines.map((m) => m.spec.name) : defaultFleet(o.hosts).machines.map((m) => String(m.name));
  if (was.join(',') !== now.join(',')) {
    throw new StackError(
      'StaleState',
      `${dataDir} holds an environment of ${was.length} machines (${abbrev(was)}), not the ${now.length} asked for (${abbrev(now)}): resume it with the same ${o.fleetFile ? '--fleet' : '--hosts'}, use another --data-dir, or start over with \`ferrite dev down --purge --data-dir ${o.dataDir}\``,
    );
  }
}

function abbrev(names: string[]): string {
  return names.length > 4 ? `${names.slice(0, 3).join(', ')}, … ${names.at(-1)}` : names.join(', ');
}

/** Creates the object, or replaces it when it exists (kubectl apply's effect for our own objects). */
/**
 * Server-side apply, as `kubectl apply --server-side --force-conflicts` does: a controller writing the same
 * object meanwhile is no conflict, and fields other managers own (finalizers, status) stay as they are.
 */
export async function applyObject(client: KubeClient, o: KubeObject): Promise<KubeObject> {
  const name = o.metadata?.name;
  if (!name) return client.create(o);
  const ref = { apiVersion: String(o.apiVersion), kind: String(o.kind), namespace: o.metadata?.namespace, name };
  return client.patch(ref, 'apply', o, { fieldManager: 'ferrite-apply', force: true });
}

/** The fleet's BMC addresses as the running emulator saved them. */
export function fleetAddresses(s: StackState) {
  const saved = new FleetStore(join(s.dataDir, 'bmc')).loadFleet();
  if (!saved) throw new StackError('ComponentFailed', 'the BMC emulator saved no fleet');
  const fleet = new Fleet(saved, {});
  return { addrs: fleet.addresses(), machines: saved.machines };
}

async function register(s: StackState, o: UpOptions): Promise<UpResult> {
  const client = KubeClient.fromFile(s.kubeconfig);
  const { addrs, machines } = fleetAddresses(s);
  const names = addrs.map((a) => a.name);
  if (o.registerHosts !== false) {
    o.progress?.(`registering ${addrs.length} hosts in namespace ${o.namespace}`, true);
    await ensureNamespace(client, o.namespace);
    for (const [i, a] of addrs.entries()) {
      const own = machines[i].protocols;
      const protocol = own.length === 1 ? own[0] : own.includes(o.protocol) ? o.protocol : own[0];
      for (const d of parseAllDocuments(fleetManifests([a], { protocol, namespace: o.namespace }))) {
        const obj = d.toJS() as KubeObject & { spec?: { bmc?: { address?: string } } };
        if (obj.kind === 'BareMetalHost') await checkNotOthers(client, obj, o);
        await applyObject(client, obj);
      }
    }
  }
  // without Ferrite's controllers nothing here makes hosts available: whoever runs them waits
  if (!o.waitTimeoutMs || o.registerHosts === false || o.controllers === false) return { state: s, hosts: names, counts: {} };
  const counts = await waitAvailable(client, o.namespace, names, o.waitTimeoutMs, o.progress);
  return { state: s, hosts: names, counts };
}

/**
 * A BareMetalHost of the same name that names another BMC belongs to another environment (or a
 * user's own host): the webhook would refuse the change, so say whose it is and what to do.
 */
async function checkNotOthers(client: KubeClient, h: KubeObject & { spec?: { bmc?: { address?: string } } }, o: UpOptions) {
  const ns = String(h.metadata?.namespace);
  const name = String(h.metadata?.name);
  let cur: KubeObject & { spec?: { bmc?: { address?: string } } };
  try {
    cur = await client.get('metal3.io/v1alpha1', 'BareMetalHost', ns, name);
  } catch (e) {
    if (isNotFound(e)) return;
    throw e;
  }
  if (cur.spec?.bmc?.address && cur.spec.bmc.address !== h.spec?.bmc?.address) {
    throw new StackError(
      'StaleState',
      `BareMetalHost ${ns}/${name} already exists in ${client.server} with BMC ${cur.spec.bmc.address}, not this environment's ${h.spec?.bmc?.address} (another dev environment registered it?): use another --namespace, or delete it (kubectl delete bmh -n ${ns} ${name}), or \`ferrite dev down --purge --data-dir ${o.dataDir}\` if it is this environment's own, left from an earlier start`,
    );
  }
}

export async function ensureNamespace(client: KubeClient, ns: string): Promise<void> {
  try {
    await client.get('v1', 'Namespace', undefined, ns);
  } catch (e) {
    if (!isNotFound(e)) throw e;
    try {
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    } catch (e2) {
      if (!isAlreadyExists(e2)) throw e2;
    }
  }
}

type Bmh = KubeObject & { status?: { provisioning?: { state?: string }; errorType?: string; errorMessage?: string } };

export async function waitAvailable(
  client: KubeClient,
  ns: string,
  names: string[],
  timeoutMs: number,
  progress?: (line: string, final: boolean) => void,
): Promise<Record<string, number>> {
  const end = Date.now() + timeoutMs;
  const want = new Set(names);
  let last = '';
  for (;;) {
    const list = await client.list<Bmh>('metal3.io/v1alpha1', 'BareMetalHost', ns);
    const counts: Record<string, number> = {};
    for (const h of list.items) {
      if (!want.has(String(h.metadata?.name))) continue;
      const st = h.status?.errorType ? `error: ${h.status.errorType}` : h.status?.provisioning?.state || 'new';
      counts[st] = (counts[st] ?? 0) + 1;
    }
    // a resumed environment's hosts may already carry its cluster: provisioned counts as settled
    const provisioned = (counts.provisioned ?? 0) + (counts['externally provisioned'] ?? 0);
    const avail = (counts.available ?? 0) + provisioned;
    const shown = Object.entries(counts).filter(([k]) => provisioned > 0 || k !== 'available');
    const line = `hosts: ${avail}/${names.length} ${provisioned ? 'available or provisioned' : 'available'}${shown
      .map(([k, v]) => ` · ${k} ${v}`)
      .join('')}`;
    if (line !== last) progress?.(line, false);
    last = line;
    if (avail === names.length) {
      progress?.(line, true);
      return counts;
    }
    if (Date.now() > end) {
      const failed = list.items
        .filter((h) => h.status?.errorType)
        .map((h) => `${h.metadata?.name}: ${h.status?.errorType}: ${h.status?.errorMessage}`);
      throw new StackError(
        'Timeout',
        `not every host became available within ${timeoutMs / 1000}s (${line})${failed.length ? `\n${failed.join('\n')}` : ''}`,
      );
    }
    await sleep(500);
  }
}
