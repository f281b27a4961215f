// `ferrite dev up`: brings the stack up in order (API server → Ironic → BMC emulator →
// controllers), registers the fleet as BareMetalHosts with their Secrets, and reports progress
// until every host is available (or one fails).
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import { installCrdObjects } from '../cli/crds.js';
import { Fleet } from '../emulator/fleet/fleet.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { FleetStore } from '../emulator/fleet/store.js';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { webhookConfiguration } from '../provider/bmo/operator.js';
import { AGENT_KERNEL_PATH, AGENT_RAMDISK_PATH } from '../provider/ironic/service.js';
import { isAlreadyExists, isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import {
  alive,
  CHECKOUT,
  freeTcpPort,
  freeUdpRange,
  readState,
  StackError,
  type StackState,
  startComponent,
  stopStack,
  writeState,
} from './stack.js';

export interface UpOptions {
  dataDir: string;
  /** a fleet file (YAML); else `hosts` default machines */
  fleetFile?: string;
  hosts: number;
  /** run the controllers against this cluster instead of starting the embedded API server */
  kubeconfig?: string;
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
  /** what runs the machines, overriding the fleet file's `backend` */
  backend?: 'sim' | 'libvirt';
  /** the agent ramdisk for libvirt VMs (scripts/build-vm-images.sh; default .vm-images or $FERRITE_VM_IMAGES) */
  vmImages?: string;
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
  if (prev && Object.values(prev.components).some((c) => c && alive(c.pid))) {
    throw new StackError(
      'AlreadyRunning',
      `a dev environment already runs from ${dataDir}: \`ferrite dev status\` shows it, \`ferrite dev down\` stops it`,
    );
  }
  const s: StackState = {
    dataDir,
    kubeconfig: o.kubeconfig ? resolve(o.kubeconfig) : join(dataDir, 'apiserver', 'kubeconfig'),
    embedded: !o.kubeconfig,
    ironicUrl: '',
    ironicHttpUrl: '',
    redfishUrl: '',
    namespace: o.namespace,
    components: {},
  };
  writeState(s);
  try {
    await startAll(s, o);
    return await register(s, o);
  } catch (e) {
    await stopStack(s);
    throw e;
  }
}

async function startAll(s: StackState, o: UpOptions): Promise<void> {
  const step = (m: string) => o.progress?.(m, true);
  if (s.embedded) {
    step('starting the API server');
    const port = o.apiPort || (await freeTcpPort());
    await startComponent(
      s,
      'apiserver',
      ['--log-format', 'text', 'apiserver', '--data-dir', join(s.dataDir, 'apiserver'), '--port', String(port), '--sync', 'normal'],
      `https://127.0.0.1:${port}/readyz`,
    );
  }
  const client = KubeClient.fromFile(s.kubeconfig);
  if (!s.embedded) {
    step('installing the CRDs in the cluster');
    await installCrdObjects(client);
  }

  const backend = o.backend ?? (o.fleetFile ? fleetBackend(o.fleetFile) : 'sim');
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
  step("starting Ferrite's Ironic");
  const [ironicPort, httpPort] = [await freeTcpPort(), await freeTcpPort()];
  s.ironicUrl = `http://127.0.0.1:${ironicPort}`;
  s.ironicHttpUrl = `http://127.0.0.1:${httpPort}`;
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
      ...vmArgs,
    ],
    `${s.ironicUrl}/v1`,
  );

  step('starting the BMC emulator');
  const fleetArgs = o.fleetFile ? ['--fleet', resolve(o.fleetFile)] : ['--machines', String(o.hosts)];
  const count = o.fleetFile ? fleetSize(o.fleetFile) : o.hosts;
  const redfishPort = await freeTcpPort();
  const ipmiBase = await freeUdpRange(count);
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
      ...(o.backend ? ['--backend', o.backend] : []),
    ],
    // `bmc serve` prints this once every BMC listens (a fleet may have no Redfish BMC at all)
    'log:Press Ctrl-C to stop.',
  );

  step('starting the controllers');
  const certDir = join(s.dataDir, 'webhook');
  const pki = await loadOrCreateCredentials(certDir, ['127.0.0.1'], 'webhook');
  writeFileSync(join(certDir, 'tls.crt'), pki.certPem);
  writeFileSync(join(certDir, 'tls.key'), pki.keyPem, { mode: 0o600 });
  const [metrics, probes, webhook] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  await startComponent(
    s,
    'controllers',
    [
      '--log-format',
      'text',
      'controllers',
      '--kubeconfig',
      s.kubeconfig,
      '--ironic-url',
      s.ironicUrl,
      '--metrics-bind-address',
      `127.0.0.1:${metrics}`,
      '--health-probe-bind-address',
      `127.0.0.1:${probes}`,
      '--webhook-cert-dir',
      certDir,
      '--webhook-port',
      String(webhook),
      '--deploy-kernel-url',
      `${s.ironicHttpUrl}/${AGENT_KERNEL_PATH}`,
      '--deploy-ramdisk-url',
      `${s.ironicHttpUrl}/${AGENT_RAMDISK_PATH}`,
      '--poll-interval',
      String(o.pollInterval),
      '--error-backoff-base',
      '10',
    ],
    `http://127.0.0.1:${probes}/readyz`,
  );
  // an outside cluster's API server may not reach a webhook on this machine's loopback, and a
  // Fail-policy webhook it cannot reach would refuse every BareMetalHost write: embedded only
  if (s.embedded) await applyObject(client, webhookConfiguration(`https://127.0.0.1:${webhook}`, pki.caPem));
  writeState(s);
}

function fleetSize(file: string): number {
  const docs = parseAllDocuments(fleetText(file));
  const m = (docs[0]?.toJS() as { machines?: unknown[] } | null)?.machines;
  return Array.isArray(m) ? m.length : 1;
}

/** The `backend` field of a fleet file (its first document). */
function fleetBackend(file: string): 'sim' | 'libvirt' {
  const doc = parseAllDocuments(fleetText(file))[0]?.toJS() as { backend?: unknown } | undefined;
  return doc?.backend === 'libvirt' ? 'libvirt' : 'sim';
}

function fleetText(file: string): string {
  if (!existsSync(file)) throw new StackError('ComponentFailed', `fleet file ${file} does not exist`);
  return readFileSync(file, 'utf8');
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
        await applyObject(client, d.toJS() as KubeObject);
      }
    }
  }
  if (!o.waitTimeoutMs || o.registerHosts === false) return { state: s, hosts: names, counts: {} };
  const counts = await waitAvailable(client, o.namespace, names, o.waitTimeoutMs, o.progress);
  return { state: s, hosts: names, counts };
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
    const avail = counts.available ?? 0;
    const line = `hosts: ${avail}/${names.length} available${Object.entries(counts)
      .filter(([k]) => k !== 'available')
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
