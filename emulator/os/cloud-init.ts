// The installed OS of a simulated machine, from the moment its disk boots: cloud-init reads the
// config drive (meta_data.json, network_data.json, user_data), renders `## template: jinja` user
// data against ds.meta_data, writes write_files and runs runcmd — once per instance, as cloud-init
// does: a reboot starts the kubelet again without re-running kubeadm. Commands are interpreted for
// their effect on the simulated node (kubeadm init/join, the success sentinel, sleeps on the
// simulated clock, file copies); commands with no counterpart here are logged as such.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import YAML from 'yaml';
import { readIso } from '../../lib/iso9660.js';
import type { Clock } from '../machine/clock.js';
import type { MachineSpec } from '../machine/model.js';
import { JINJA_HEADER, jinjaVars, renderJinja } from './jinja.js';
import { type KubeadmResult, kubeadmInit, kubeadmJoin } from './kubeadm.js';
import { Kubelet, type NodeIdentity, parseKubeletArgs } from './kubelet.js';
import type { WorkloadCluster, WorkloadClusters } from './workload-clusters.js';

type Obj = Record<string, unknown>;

export interface OsContext {
  machine: MachineSpec;
  configDrive: Buffer;
  imageUrl: string;
  clock: Clock;
  signal: AbortSignal;
  console(line: string): void;
}

/** What survives a reboot: the instance cloud-init finished, and the node the kubelet runs. */
interface Persisted {
  instance: string;
  node?: NodeIdentity & { endpoint: string };
  /** a control plane node's /etc/kubernetes/pki/ca.{crt,key}: its static API server pod starts from it at boot */
  pki?: { certPem: string; keyPem: string };
  failed?: string;
}

/** The Kubernetes version an image carries, from its name (…_K8S_v1.36.0…), if it says. */
function imageVersion(url: string): string | undefined {
  return /v(\d+\.\d+\.\d+)/.exec(url)?.[0];
}

function decode(content: string, encoding: unknown): string {
  switch (encoding) {
    case 'b64':
    case 'base64':
      return Buffer.from(content, 'base64').toString('utf8');
    case 'gz':
    case 'gzip':
      return gunzipSync(Buffer.from(content, 'binary')).toString('utf8');
    case 'gz+b64':
    case 'gzip+base64':
    case 'gz+base64':
      return gunzipSync(Buffer.from(content, 'base64')).toString('utf8');
    default:
      return content;
  }
}

export class InstalledOs {
  constructor(
    private readonly dir: string,
    private readonly clusters: WorkloadClusters,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  private statePath(machine: string) {
    return join(this.dir, `${machine}.json`);
  }

  private load(machine: string): Persisted | null {
    const p = this.statePath(machine);
    if (!existsSync(p)) return null;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as Persisted;
    } catch {
      return null;
    }
  }

  private save(machine: string, s: Persisted) {
    writeFileSync(this.statePath(machine), JSON.stringify(s));
  }

  /** Runs the OS until the machine powers off (the signal aborts). */
  async boot(ctx: OsContext): Promise<void> {
    const iso = readIso(ctx.configDrive);
    const meta = JSON.parse(iso.read('openstack/latest/meta_data.json')?.toString('utf8') ?? '{}') as Obj;
    const network = JSON.parse(iso.read('openstack/latest/network_data.json')?.toString('utf8') ?? '{}') as Obj;
    const userData = iso.read('openstack/latest/user_data')?.toString('utf8') ?? null;
    const instance = createHash('sha256').update(ctx.configDrive).update(ctx.imageUrl).digest('hex').slice(0, 16);
    const name = ctx.machine.name;
    const prior = this.load(name);
    const hostname = String(meta['local-hostname'] ?? meta.local_hostname ?? meta.hostname ?? meta.name ?? name);
    ctx.console(`cloud-init: instance ${String(meta.uuid ?? '?')} (${instance}), hostname ${hostname}`);
    if (prior?.instance === instance) {
      // not the first boot of this instance: runcmd ran already, systemd starts the kubelet
      if (prior.node) await this.runKubelet(ctx, prior.node, prior.pki);
      else ctx.console(`cloud-init: modules already ran for this instance${prior.failed ? ` (runcmd failed: ${prior.failed})` : ''}`);
      return;
    }
    const state: Persisted = { instance };
    this.save(name, state);
    if (!userData) {
      ctx.console('cloud-init: no user data');
      return;
    }
    let text = userData;
    if (JINJA_HEADER.test(text)) text = renderJinja(text.replace(JINJA_HEADER, ''), jinjaVars(meta));
    if (!/^#cloud-config/m.test(text.split('\n').find((l) => l.trim()) ?? '')) {
      ctx.console('cloud-init: user data is not #cloud-config; nothing the simulated OS runs');
      return;
    }
    let cfg: Obj;
    try {
      cfg = (YAML.parse(text) ?? {}) as Obj;
    } catch (e) {
      ctx.console(`cloud-init: failed to load cloud-config: ${(e as Error).message}`);
      state.failed = 'invalid cloud-config';
      this.save(name, state);
      return;
    }
    const files = new Map<string, string>();
    for (const f of (cfg.write_files as Obj[] | undefined) ?? []) {
      const path = String(f.path ?? '').trim();
      if (!path) continue;
      const content = decode(String(f.content ?? ''), f.encoding);
      files.set(path, f.append === true ? (files.get(path) ?? '') + content : content);
    }
    ctx.console(`cloud-init: wrote ${files.size} files`);
    const addr = ((network.networks as Obj[] | undefined) ?? []).find((n) => typeof n.ip_address === 'string')?.ip_address as
      | string
      | undefined;
    let joined: KubeadmResult | null = null;
    for (const entry of (cfg.runcmd as Array<string | string[]> | undefined) ?? []) {
      const line = Array.isArray(entry) ? entry.join(' ') : String(entry);
      for (const part of line.split('&&').map((x) => x.trim())) {
        try {
          const r = await this.run(part, files, ctx, name);
          if (r) joined = r;
        } catch (e) {
          if (ctx.signal.aborted) return;
          const msg = (e as Error).message;
          ctx.console(`cloud-init: runcmd: ${part}: error: ${msg}`);
          state.failed = msg;
          this.save(name, state);
          break;
        }
      }
    }
    if (!joined) {
      if (!state.failed) ctx.console('cloud-init: finished; no kubeadm in runcmd');
      return;
    }
    const reg = joined.nodeRegistration;
    const kargs = parseKubeletArgs(reg.kubeletExtraArgs as never);
    const node: NodeIdentity & { endpoint: string } = {
      endpoint: joined.endpoint,
      name: String(reg.name || hostname).toLowerCase(),
      labels: kargs.labels,
      providerID: kargs.providerID,
      taints:
        (reg.taints as NodeIdentity['taints'] | undefined) ??
        (joined.controlPlane ? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] : []),
      controlPlane: joined.controlPlane,
      version: imageVersion(ctx.imageUrl) ?? joined.kubernetesVersion ?? 'v0.0.0',
      address: addr,
      hostname,
      systemUUID: ctx.machine.uuid,
      cpus: ctx.machine.cpu.sockets * ctx.machine.cpu.coresPerSocket * ctx.machine.cpu.threadsPerCore,
      memoryMiB: ctx.machine.memory.dimms * ctx.machine.memory.dimmGiB * 1024,
    };
    state.node = node;
    if (joined.controlPlane && joined.ca) state.pki = joined.ca;
    this.save(name, state);
    await this.runKubelet(ctx, node);
  }

  private async run(cmd: string, files: Map<string, string>, ctx: OsContext, member: string): Promise<KubeadmResult | null> {
    const argv = cmd.split(/\s+/).filter(Boolean);
    const env = {
      files,
      clusters: this.clusters,
      clock: ctx.clock,
      member,
      log: (l: string) => ctx.console(`kubeadm: ${l}`),
      signal: ctx.signal,
    };
    const configOf = () => {
      const i = argv.indexOf('--config');
      return i >= 0 ? argv[i + 1] : '';
    };
    if (argv[0] === 'kubeadm' && argv[1] === 'init') return kubeadmInit(env, configOf());
    if (argv[0] === 'kubeadm' && argv[1] === 'join') return kubeadmJoin(env, configOf());
    if (argv[0] === 'sleep') {
      await ctx.clock.sleep(Number(argv[1] ?? 0) * 1000, ctx.signal);
      return null;
    }
    const redirect = /^echo\s+(.*?)\s*>\s*(\S+)$/.exec(cmd);
    if (redirect) {
      files.set(redirect[2], `${redirect[1]}\n`);
      return null;
    }
    if (argv[0] === 'cp' && argv.length >= 3) {
      const src = files.get(argv[argv.length - 2]);
      if (src === undefined) throw new Error(`cp: cannot stat '${argv[argv.length - 2]}': No such file or directory`);
      files.set(argv[argv.length - 1], src);
      return null;
    }
    if (argv[0] === 'rm') {
      for (const p of argv.slice(1).filter((a) => !a.startsWith('-'))) {
        const prefix = p.endsWith('*') ? p.slice(0, -1) : null;
        for (const k of [...files.keys()]) if (k === p || (prefix !== null && k.startsWith(prefix))) files.delete(k);
      }
      return null;
    }
    if (
      ['mkdir', 'chown', 'chmod', 'netplan', 'systemctl', 'sed', 'modprobe', 'sysctl', 'swapoff', 'hostnamectl', 'true'].includes(argv[0])
    ) {
      ctx.console(`cloud-init: runcmd: ${cmd}`);
      return null;
    }
    ctx.console(`cloud-init: runcmd: ${cmd} (not simulated: no effect on the simulated node)`);
    return null;
  }

  private async runKubelet(
    ctx: OsContext,
    node: NodeIdentity & { endpoint: string },
    pki?: { certPem: string; keyPem: string },
  ): Promise<void> {
    let c = this.clusters.get(node.endpoint);
    // a control plane node that boots again starts its static API server pod from its own pki
    if (!c && node.controlPlane && pki) {
      try {
        c = await this.clusters.up(node.endpoint, pki, ctx.machine.name);
        ctx.console(`kubelet: static pod kube-apiserver started for ${node.endpoint}`);
      } catch (e) {
        ctx.console(`kubelet: static pod kube-apiserver failed to start: ${(e as Error).message}`);
      }
    }
    if (c) return this.startKubelet(ctx, node, c);
    // as the kubelet does, keep trying in the background until the API server answers
    ctx.console(`kubelet: the API server at ${node.endpoint} does not answer; retrying`);
    void (async () => {
      while (!ctx.signal.aborted) {
        try {
          await ctx.clock.sleep(10_000, ctx.signal);
        } catch {
          return;
        }
        const up = this.clusters.get(node.endpoint);
        if (up) return this.startKubelet(ctx, node, up);
      }
    })();
  }

  private async startKubelet(ctx: OsContext, node: NodeIdentity & { endpoint: string }, c: WorkloadCluster): Promise<void> {
    if (node.controlPlane) c.members.add(ctx.machine.name);
    const kubelet = new Kubelet(this.clusters.local(node.endpoint, 'kubelet'), node, this.clusters.timings, (l) => ctx.console(l));
    try {
      await kubelet.register();
    } catch (e) {
      ctx.console(`kubelet: registering node ${node.name} failed: ${(e as Error).message}`);
    }
    ctx.signal.addEventListener(
      'abort',
      () => {
        if (node.controlPlane) void this.clusters.leave(node.endpoint, ctx.machine.name);
      },
      { once: true },
    );
    void kubelet.run(ctx.signal);
  }
}
