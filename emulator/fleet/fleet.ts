// A running fleet: machines built from a resolved fleet file, their state persisted in the data
// directory, and their BMCs (one Redfish listener for all, one IPMI UDP port each).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateCredentials } from '../../provider/apiserver/pki.js';
import { installAgentBoot } from '../agent/boot.js';
import { AgentHub } from '../agent/hub.js';
import { IpmiServer } from '../ipmi/server.js';
import type { MachineBackend } from '../machine/backend.js';
import { BootHandlers } from '../machine/boot-handlers.js';
import { type Clock, ScaledClock } from '../machine/clock.js';
import { LibvirtBackend } from '../machine/libvirt/backend.js';
import { Machine } from '../machine/machine.js';
import { initialState, type MachineState } from '../machine/model.js';
import { SimBackend } from '../machine/sim-backend.js';
import { type FleetMetrics, fleetMetrics } from '../metrics.js';
import { InstalledOs } from '../os/cloud-init.js';
import { KUBE_TIMINGS } from '../os/kubelet.js';
import { WorkloadClusters } from '../os/workload-clusters.js';
import { firmwareQuirks } from '../redfish/personalities/catalog.js';
import { type RedfishServer, startRedfish } from '../redfish/server.js';
import type { ResolvedFleet, ResolvedMachine } from './config.js';
import { FleetStore, type SyncMode } from './store.js';

export interface FleetOptions {
  /** persist machine state here; in-memory (temporary media dir) without it */
  dataDir?: string;
  /** how machine-state writes are made durable (default 'full': fsynced; see FleetStore) */
  sync?: SyncMode;
  clock?: Clock;
  /** the clock Redfish session timeouts run on (real time unless given; see RedfishOptions) */
  sessionClock?: Clock;
  bootHandlers?: BootHandlers;
  log?: (obj: Record<string, unknown>, msg: string) => void;
  /** PEM CAs the machines' firmware (iPXE) and agent ramdisk trust for HTTPS, besides the public roots */
  trustedCas?: string[];
}

export interface BmcAddresses {
  name: string;
  uuid: string;
  redfish: string | null;
  redfishVirtualMedia: string | null;
  ipmi: string | null;
  username: string;
  password: string;
  bootMac: string;
}

export class Fleet {
  readonly machines: Machine[];
  readonly clock: Clock;
  readonly bootHandlers: BootHandlers;
  private readonly store: FleetStore | null;
  private readonly workDir: string;
  private redfish: RedfishServer | null = null;
  /** machines with a personality other than generic each get a listener of their own, as a real BMC is one box */
  private readonly ownRedfish = new Map<Machine, RedfishServer>();
  private readonly ipmi: IpmiServer[] = [];
  private readonly ipmiByMachine = new Map<Machine, IpmiServer>();
  private readonly entries: Map<string, ResolvedMachine>;
  readonly metrics: FleetMetrics;
  /** the simulated agents' command API listener */
  readonly agents = new AgentHub();
  /** API servers of the workload clusters the machines' installed OS brought up */
  readonly workloadClusters: WorkloadClusters;
  private pxeUrl: string | null;
  /** set when the machines are libvirt domains */
  readonly libvirt: LibvirtBackend | null = null;

  constructor(
    readonly config: ResolvedFleet,
    private readonly opts: FleetOptions = {},
  ) {
    this.clock = opts.clock ?? new ScaledClock(config.timeScale);
    this.bootHandlers = opts.bootHandlers ?? new BootHandlers();
    this.pxeUrl = config.provisioning?.pxeUrl ?? null;
    for (const m of config.machines) {
      if (m.agentFaults) this.agents.faults.set(m.spec.name, m.agentFaults);
      // the BMC's own LAN address, which the agent reports so Ironic can find a node without ports
      // (an IPMI BMC's is set once its port is known, in start())
      const bmcIp = config.redfish.listenIp;
      if (!m.protocols.includes('ipmi') && bmcIp && bmcIp !== '0.0.0.0' && bmcIp !== '::') this.agents.bmcAddresses.set(m.spec.name, bmcIp);
    }
    if (opts.trustedCas?.length) this.agents.trust(opts.trustedCas);
    this.store = opts.dataDir
      ? new FleetStore(
          opts.dataDir,
          (uuid, e) => opts.log?.({ machine: uuid, err: e.message }, 'saving the machine state failed; retrying'),
          opts.sync,
        )
      : null;
    this.workDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'ferrite-fleet-'));
    mkdirSync(this.workDir, { recursive: true });
    this.workloadClusters = new WorkloadClusters(join(this.workDir, 'workload-clusters'), KUBE_TIMINGS, opts.log);
    if (!opts.bootHandlers) {
      installAgentBoot(
        this.bootHandlers,
        { pxeUrl: () => this.pxeUrl },
        this.agents,
        new InstalledOs(join(this.workDir, 'os'), this.workloadClusters),
      );
    }
    this.entries = new Map(config.machines.map((e) => [e.spec.uuid, e]));
    const saved: Record<string, MachineState> = this.store?.loadStates() ?? {};
    let backend: MachineBackend;
    if (config.backend === 'libvirt') {
      // QEMU runs as libvirt-qemu and must reach the VM files and fetched media under here
      chmodSync(this.workDir, 0o755);
      this.libvirt = new LibvirtBackend({
        uri: config.libvirt?.uri ?? 'qemu:///system',
        maxMemoryMiB: config.libvirt?.maxMemoryMiB,
        maxVcpus: config.libvirt?.maxVcpus,
        dir: join(this.workDir, 'libvirt'),
        pxeUrl: () => this.pxeUrl,
        log: opts.log,
      });
      backend = this.libvirt;
    } else backend = new SimBackend(this.clock, this.bootHandlers);
    this.machines = config.machines.map(
      (rm) =>
        new Machine(rm.spec, saved[rm.spec.uuid] ?? initialState(rm.spec), {
          clock: this.clock,
          backend,
          mediaDir: join(this.workDir, 'media'),
        }),
    );
    for (const m of this.machines) m.quirks = firmwareQuirks(this.entry(m).personality.quirks);
    this.metrics = fleetMetrics(this.machines, () => this.ipmi);
    if (this.store) {
      this.store.saveFleet(config);
      const store = this.store;
      const byUuid = new Map(this.machines.map((m) => [m.uuid, m]));
      store.track((uuid) => byUuid.get(uuid)?.state);
      for (const m of this.machines) {
        m.on('changed', (part: string) => store.dirty(m.uuid, part !== 'logs'));
        store.dirty(m.uuid, true);
      }
    }
  }

  /** Attaches the machines to a provisioning network whose DHCP offers this iPXE script (null detaches). */
  setPxeUrl(url: string | null): void {
    this.pxeUrl = url;
  }

  machine(nameOrUuid: string): Machine | undefined {
    return this.machines.find((m) => m.name === nameOrUuid || m.uuid === nameOrUuid);
  }

  entry(m: Machine): ResolvedMachine {
    return this.entries.get(m.uuid) as ResolvedMachine;
  }

  /** Starts the Redfish listener and one IPMI listener per machine that speaks IPMI. */
  async start(overrides: { redfishPort?: number; ipmiPorts?: 'ephemeral' } = {}): Promise<BmcAddresses[]> {
    if (this.libvirt) {
      const down = await this.libvirt.probe();
      if (down) this.opts.log?.({ uri: this.config.libvirt.uri }, `libvirt unreachable: ${down}`);
    }
    await Promise.all(this.machines.map((m) => m.attachBackend()));
    const rf = this.config.redfish;
    const redfishMachines = this.machines.filter((m) => this.entry(m).protocols.some((p) => p.startsWith('redfish')));
    const own = (m: Machine) => Object.keys(this.entry(m).personality.quirks).length > 0;
    if (redfishMachines.length) {
      let tls: { certPem: string; keyPem: string } | null = null;
      if (rf.tls) {
        if (rf.sslCertificate && rf.sslKey) {
          tls = { certPem: readFileSync(rf.sslCertificate, 'utf8'), keyPem: readFileSync(rf.sslKey, 'utf8') };
        } else {
          const c = await loadOrCreateCredentials(this.workDir, [rf.listenIp], 'redfish');
          tls = { certPem: c.certPem, keyPem: c.keyPem };
        }
      }
      const listen = (machines: Machine[], port: number, quirks?: (typeof this.config.machines)[number]['personality']['quirks']) =>
        startRedfish({
          machines,
          credentials: machines.map((m) => ({
            machineUuid: m.uuid,
            username: this.entry(m).username,
            password: this.entry(m).password,
          })),
          clock: this.clock,
          sessionClock: this.opts.sessionClock,
          address: rf.listenIp,
          port,
          tls,
          sessionTimeoutS: rf.sessionTimeout,
          maxSessions: rf.maxSessions,
          allowEventDestinations: rf.allowEventDestinations,
          metrics: this.metrics,
          tmpDir: join(this.workDir, 'tmp'),
          log: this.opts.log,
          quirks,
        });
      const shared = redfishMachines.filter((m) => !own(m));
      if (shared.length) this.redfish = await listen(shared, overrides.redfishPort ?? rf.port);
      for (const m of redfishMachines.filter(own))
        this.ownRedfish.set(m, await listen([m], this.entry(m).redfishPort ?? 0, this.entry(m).personality.quirks));
    }
    for (const m of this.machines) {
      const e = this.entry(m);
      if (!e.protocols.includes('ipmi')) continue;
      const s = new IpmiServer({
        machine: m,
        username: e.username,
        password: e.password,
        address: this.config.ipmi.listenIp,
        port: overrides.ipmiPorts === 'ephemeral' ? 0 : e.ipmiPort,
        quirks: e.personality.quirks,
        log: this.opts.log,
      });
      await s.start();
      // the emulator's BMCs share one IP, so a BMC off IPMI's 623 is told apart by its port: the
      // simulated agent reports ip:port where IPA would report the IP alone
      const ip = this.config.ipmi.listenIp;
      if (ip !== '0.0.0.0' && ip !== '::') this.agents.bmcAddresses.set(m.spec.name, s.port === 623 ? ip : joinHostPort(ip, s.port));
      this.ipmi.push(s);
      this.ipmiByMachine.set(m, s);
    }
    return this.addresses();
  }

  get redfishUrl(): string | null {
    return this.redfish?.url ?? null;
  }

  get redfishServer(): RedfishServer | null {
    return this.redfish;
  }

  /** The Redfish listener that serves this machine. */
  redfishServerFor(m: Machine): RedfishServer | null {
    return this.ownRedfish.get(m) ?? this.redfish;
  }

  ipmiServer(m: Machine): IpmiServer | undefined {
    return this.ipmiByMachine.get(m);
  }

  addresses(): BmcAddresses[] {
    const { listenIp, port, tls } = this.config.redfish;
    const scheme = tls ? 'https' : 'http';
    return this.machines.map((m) => {
      const e = this.entry(m);
      const ipmi = this.ipmiServer(m);
      // URL.host brackets an IPv6 address already
      const server = this.redfishServerFor(m);
      const hostPort = server ? new URL(server.url).host : joinHostPort(listenIp, e.redfishPort ?? port);
      return {
        name: m.name,
        uuid: m.uuid,
        redfish: e.protocols.includes('redfish') ? `redfish+${scheme}://${hostPort}/redfish/v1/Systems/${m.uuid}` : null,
        redfishVirtualMedia: e.protocols.includes('redfish-virtualmedia')
          ? `redfish-virtualmedia+${scheme}://${hostPort}/redfish/v1/Systems/${m.uuid}`
          : null,
        ipmi: e.protocols.includes('ipmi') ? `ipmi://${joinHostPort(this.config.ipmi.listenIp, ipmi?.port ?? e.ipmiPort)}` : null,
        username: e.username,
        password: e.password,
        bootMac: m.spec.nics[0].mac,
      };
    });
  }

  async close(): Promise<void> {
    await this.redfish?.close();
    await Promise.all([...this.ownRedfish.values()].map((r) => r.close()));
    await Promise.all(this.ipmi.map((s) => s.close()));
    await Promise.all(this.machines.map((m) => m.close()));
    await this.libvirt?.close();
    await this.agents.close();
    await this.workloadClusters.close();
    this.store?.flush();
  }
}

/**
 * Removes the libvirt domains (and VM files) a fleet saved in `dataDir` created; adopted domains
 * stay. Null when the saved fleet is not a libvirt one (or there is none).
 */
export async function destroyFleetDomains(dataDir: string, uri?: string): Promise<{ removed: string[]; left: string[] } | null> {
  const saved = new FleetStore(dataDir).loadFleet();
  if (saved?.backend !== 'libvirt') return null;
  const backend = new LibvirtBackend({ uri: uri ?? saved.libvirt.uri, dir: join(dataDir, 'libvirt'), pxeUrl: () => null });
  try {
    return await backend.destroy(saved.machines.map((m) => m.spec));
  } finally {
    await backend.close();
  }
}

function joinHostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}
