// The ports a dev environment listens on, kept in DIR/ports.json across `dev down` / `dev up` (and
// crashes): the BareMetalHosts name their BMCs by port, Ironic's nodes name its HTTP server by
// port, and kubeconfigs name the API server by port, so a resumed environment reuses every one.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FleetStore, writeFileAtomic } from '../emulator/fleet/store.js';
import { freeTcpPort, freeUdpRange, StackError, tcpFree, udpFree } from './stack.js';

export type PortName =
  | 'apiserver'
  | 'ironic'
  | 'ironicHttp'
  | 'redfish'
  | 'ipmiBase'
  | 'metrics'
  | 'probes'
  | 'webhook'
  | 'clusterApiMetrics'
  | 'clusterApiProbes'
  | 'clusterApiWebhook';

const WHAT: Record<PortName, string> = {
  apiserver: "the embedded API server's port",
  ironic: "Ironic's API port",
  ironicHttp: "Ironic's HTTP boot server port",
  redfish: "the BMC emulator's Redfish port (the BareMetalHosts' BMC addresses name it)",
  ipmiBase: "the BMC emulator's IPMI ports (the BareMetalHosts' BMC addresses name them)",
  metrics: "the controllers' metrics port",
  probes: "the controllers' health probe port",
  webhook: "the controllers' webhook port",
  clusterApiMetrics: "the cluster controllers' metrics port",
  clusterApiProbes: "the cluster controllers' health probe port",
  clusterApiWebhook: "the cluster controllers' webhook port",
};

export interface PortRecord {
  ports: Partial<Record<PortName, number>>;
  /** the number of IPMI ports reserved from ipmiBase */
  ipmiCount?: number;
}

export class DevPorts {
  private readonly file: string;
  readonly record: PortRecord;

  constructor(private readonly dataDir: string) {
    this.file = join(dataDir, 'ports.json');
    let rec: PortRecord = { ports: {} };
    if (existsSync(this.file)) {
      try {
        rec = JSON.parse(readFileSync(this.file, 'utf8')) as PortRecord;
      } catch (e) {
        throw new StackError(
          'ComponentFailed',
          `${this.file} is unreadable (${(e as Error).message}): run \`ferrite dev down --purge --data-dir ${dataDir}\` to start over`,
        );
      }
    } else {
      // an environment from before ports.json (or one that crashed before writing it): the saved
      // fleet still knows the BMC ports the BareMetalHosts were registered with
      const fleet = new FleetStore(join(dataDir, 'bmc')).loadFleet();
      if (fleet) {
        rec.ports.redfish = fleet.redfish.port || undefined;
        const ipmi = fleet.machines.map((m) => m.ipmiPort).filter((p) => p > 0);
        if (ipmi.length) {
          rec.ports.ipmiBase = Math.min(...ipmi);
          rec.ipmiCount = fleet.machines.length;
        }
      }
    }
    this.record = rec;
  }

  /** Fails before anything starts when a kept port is now held by another process. */
  async checkKept(): Promise<void> {
    for (const [name, port] of Object.entries(this.record.ports) as Array<[PortName, number]>) {
      // the API server's port is checked as it starts: --port may choose another one
      if (name === 'apiserver') continue;
      if (name === 'ipmiBase') {
        for (let i = 0; i < (this.record.ipmiCount ?? 1); i++)
          if (!(await udpFree(port + i, '127.0.0.1'))) throw portTaken(name, port + i, true, this.dataDir, 'UDP');
      } else if (!(await tcpFree(port, '127.0.0.1'))) throw portTaken(name, port, true, this.dataDir);
    }
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify(this.record, null, 2)}\n`);
  }

  /**
   * The port kept for `name` when it is still free, else (first start) `wanted` or a free one. A
   * kept port another process now holds is an error: changing it would orphan the objects naming it.
   */
  async tcp(name: PortName, wanted = 0): Promise<number> {
    const kept = this.record.ports[name];
    const port = wanted || kept;
    if (port) {
      if (!(await tcpFree(port, '127.0.0.1'))) throw portTaken(name, port, kept === port, this.dataDir);
      this.record.ports[name] = port;
    } else this.record.ports[name] = await freeTcpPort();
    this.save();
    return this.record.ports[name] as number;
  }

  /** A run of `count` UDP ports for the IPMI BMCs, kept like the TCP ones. */
  async udpRange(count: number): Promise<number> {
    const kept = this.record.ports.ipmiBase;
    if (kept && (this.record.ipmiCount ?? count) === count) {
      for (let i = 0; i < count; i++)
        if (!(await udpFree(kept + i, '127.0.0.1'))) throw portTaken('ipmiBase', kept + i, true, this.dataDir, 'UDP');
      return kept;
    }
    const base = await freeUdpRange(count);
    this.record.ports.ipmiBase = base;
    this.record.ipmiCount = count;
    this.save();
    return base;
  }
}

function portTaken(name: PortName, port: number, kept: boolean, dataDir: string, proto = 'TCP'): StackError {
  return new StackError(
    'PortInUse',
    kept
      ? `${proto} port ${port} on 127.0.0.1, ${WHAT[name]} in ${dataDir}, is now in use by another process: stop that process, or start over with \`ferrite dev down --purge --data-dir ${dataDir}\``
      : `${proto} port ${port} on 127.0.0.1 (${WHAT[name]}) is in use by another process: stop it, or choose another with --port (0 picks a free one)`,
  );
}
