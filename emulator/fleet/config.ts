// The fleet file: which machines exist, their hardware, and how their BMCs are reached. Keys are
// named after sushy-emulator's and vbmc's settings where those exist (see docs/bmc-emulator.md).
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { DEFAULT_BIOS, DEFAULT_TIMINGS, type DiskSpec, type MachineSpec, type NicSpec, type Timings } from '../machine/model.js';
import { hashString, Rng } from '../machine/rng.js';
import { PERSONALITIES, type Personality } from '../redfish/personalities/catalog.js';
import { type Quirks, quirksSchema } from '../redfish/personalities/quirks.js';

export const Protocols = ['redfish', 'redfish-virtualmedia', 'ipmi'] as const;
export type Protocol = (typeof Protocols)[number];

const timings = z
  .object({
    powerOn: z.number().min(0),
    powerOff: z.number().min(0),
    gracefulShutdown: z.number().min(0),
    post: z.number().min(0),
    mediaFetch: z.number().min(0),
    firmwareFlash: z.number().min(0),
    volumeCreate: z.number().min(0),
  })
  .partial()
  .strict()
  .describe('simulated durations in milliseconds');

const macRe = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

const machineSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS-1123 name (lower case, digits, -, .)'),
    uuid: z.uuid().optional(),
    profile: z.enum(['small', 'medium', 'large']).optional(),
    protocols: z.array(z.enum(Protocols)).min(1).optional(),
    username: z.string().min(1).max(16).optional(),
    password: z.string().min(1).max(20).optional(),
    ipmiPort: z.number().int().min(0).max(65535).optional(),
    redfishPort: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .optional()
      .describe('port of this machine’s own Redfish listener (machines with a personality other than generic get one; 0 = any free port)'),
    manufacturer: z.string().optional(),
    model: z.string().optional(),
    cpu: z
      .object({
        sockets: z.number().int().min(1).max(8),
        cores: z.number().int().min(1).max(256),
        threads: z.number().int().min(1).max(8),
        model: z.string(),
        speedMHz: z.number().int().min(100),
      })
      .partial()
      .strict()
      .optional(),
    memoryGiB: z.number().int().min(1).max(65536).optional(),
    nics: z
      .array(
        z
          .object({
            mac: z.string().regex(macRe, 'must be a MAC address like 52:54:00:12:34:56').optional(),
            speedMbps: z.number().int().min(1).optional(),
            linkUp: z.boolean().optional(),
          })
          .strict(),
      )
      .min(1)
      .optional(),
    disks: z
      .array(
        z
          .object({
            sizeGB: z.number().min(1),
            type: z.enum(['hdd', 'ssd', 'nvme']).optional(),
            writeMBps: z.number().min(1).optional(),
            serial: z.string().optional(),
            wwn: z.string().optional(),
          })
          .strict(),
      )
      .optional(),
    bios: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
    timings: timings.optional(),
    personality: z
      .string()
      .optional()
      .describe('the BMC personality: a name from the catalog (generic, idrac, ilo, supermicro …) or from this file’s personalities'),
    agentFaults: z
      .object({
        crash: z.enum(['before-lookup', 'after-lookup', 'during-write']).optional(),
        diskWriteError: z.boolean().optional(),
        downloadBytesPerSecond: z.number().positive().optional(),
      })
      .strict()
      .optional()
      .describe('faults of the simulated ironic-python-agent this machine runs'),
  })
  .strict();

export const fleetSchema = z
  .object({
    seed: z.union([z.number().int(), z.string()]).optional().describe('seed for generated MACs, UUIDs and serials'),
    timeScale: z.number().positive().optional().describe('simulated seconds per real second'),
    redfish: z
      .object({
        listenIp: z.string().optional(),
        port: z.number().int().min(0).max(65535).optional(),
        tls: z.boolean().optional(),
        sslCertificate: z.string().optional(),
        sslKey: z.string().optional(),
        sessionTimeout: z.number().int().min(30).max(86400).optional(),
        maxSessions: z.number().int().min(1).max(10000).optional(),
        allowEventDestinations: z
          .array(z.string().min(1))
          .optional()
          .describe('hosts besides loopback that event subscriptions may be delivered to'),
      })
      .strict()
      .optional(),
    ipmi: z
      .object({ listenIp: z.string().optional(), basePort: z.number().int().min(1).max(65535).optional() })
      .strict()
      .optional(),
    backend: z
      .enum(['sim', 'libvirt'])
      .optional()
      .describe('what runs the machines: the in-process simulator (default) or libvirt/QEMU virtual machines'),
    libvirt: z
      .object({
        uri: z.string().min(1).optional().describe('libvirt connection URI (default qemu:///system)'),
        maxMemoryMiB: z
          .number()
          .int()
          .min(128)
          .optional()
          .describe('a VM gets the fleet’s memory up to this (default 2048): server-sized fleets still fit a dev machine'),
        maxVcpus: z.number().int().min(1).optional().describe('a VM gets the fleet’s CPUs up to this many vCPUs (default 2)'),
      })
      .strict()
      .optional(),
    provisioning: z
      .object({
        pxeUrl: z.url().optional().describe("the iPXE script DHCP offers on the provisioning network (e.g. Ironic's http://…/boot.ipxe)"),
      })
      .strict()
      .optional(),
    personalities: z
      .record(
        z.string().regex(/^[a-z0-9][-a-z0-9]*$/, 'must be lower case letters, digits and -'),
        z
          .object({
            extends: z.string().optional().describe('a catalog personality this one starts from'),
            description: z.string().optional(),
            quirks: quirksSchema,
          })
          .strict(),
      )
      .optional()
      .describe('personalities defined here: quirks over the correct core, optionally on top of a catalog one'),
    defaults: machineSchema.omit({ name: true, uuid: true, ipmiPort: true, redfishPort: true }).partial().optional(),
    machines: z.array(machineSchema).min(1),
  })
  .strict();

export type FleetFile = z.infer<typeof fleetSchema>;

export interface ResolvedMachine {
  spec: MachineSpec;
  protocols: Protocol[];
  username: string;
  password: string;
  ipmiPort: number;
  personality: Personality;
  redfishPort?: number;
  agentFaults?: { crash?: 'before-lookup' | 'after-lookup' | 'during-write'; diskWriteError?: boolean; downloadBytesPerSecond?: number };
}

export interface ResolvedFleet {
  seed: number | string;
  timeScale: number;
  redfish: {
    listenIp: string;
    port: number;
    tls: boolean;
    sslCertificate?: string;
    sslKey?: string;
    sessionTimeout: number;
    maxSessions: number;
    allowEventDestinations?: string[];
  };
  ipmi: { listenIp: string };
  provisioning: { pxeUrl: string | null };
  backend: 'sim' | 'libvirt';
  libvirt: { uri: string; maxMemoryMiB: number; maxVcpus: number };
  machines: ResolvedMachine[];
}

export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

const PROFILES = {
  small: { sockets: 1, cores: 2, threads: 1, memoryGiB: 4, nics: 1, disks: [{ sizeGB: 50, type: 'ssd' as const }] },
  medium: {
    sockets: 1,
    cores: 8,
    threads: 2,
    memoryGiB: 32,
    nics: 2,
    disks: [
      { sizeGB: 480, type: 'ssd' as const },
      { sizeGB: 2000, type: 'hdd' as const },
    ],
  },
  large: {
    sockets: 2,
    cores: 16,
    threads: 2,
    memoryGiB: 256,
    nics: 4,
    disks: [
      { sizeGB: 960, type: 'nvme' as const },
      { sizeGB: 960, type: 'nvme' as const },
      { sizeGB: 4000, type: 'hdd' as const },
      { sizeGB: 4000, type: 'hdd' as const },
    ],
  },
};

/** Reads and validates a fleet file; errors name the file, line and field. */
export function loadFleetFile(path: string): FleetFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new FleetError(`cannot read fleet file ${path}: ${(e as Error).message}`);
  }
  return parseFleet(text, path);
}

export function parseFleet(text: string, source = 'fleet'): FleetFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) throw new FleetError(`${source}: invalid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`);
  const r = fleetSchema.safeParse(doc.toJS());
  if (!r.success) {
    const i = r.error.issues[0];
    throw new FleetError(`${source}: ${i.path.join('.') || '(top level)'}: ${i.message}`);
  }
  return r.data;
}

/** The fleet `--machines N` describes. */
export function defaultFleet(n: number): FleetFile {
  if (!Number.isInteger(n) || n < 1 || n > 10000) throw new FleetError('--machines must be between 1 and 10000');
  return { machines: Array.from({ length: n }, (_, i) => ({ name: `node-${i}` })) };
}

export function resolveFleet(f: FleetFile): ResolvedFleet {
  const seed = f.seed ?? 'ferrite';
  const basePort = f.ipmi?.basePort ?? 6230;
  const names = new Set<string>();
  const ports = new Set<number>();
  const personalities = resolvePersonalities(f);
  const machines = f.machines.map((m, i): ResolvedMachine => {
    if (names.has(m.name)) throw new FleetError(`machines[${i}].name: duplicate machine name ${m.name}`);
    names.add(m.name);
    const d = { ...f.defaults, ...m };
    const ipmiPort = m.ipmiPort ?? basePort + i;
    const protocols = d.protocols ?? ['redfish', 'redfish-virtualmedia', 'ipmi'];
    if (protocols.includes('ipmi') && ipmiPort !== 0) {
      if (ports.has(ipmiPort)) throw new FleetError(`machines[${i}].ipmiPort: port ${ipmiPort} is used twice`);
      ports.add(ipmiPort);
    }
    const personality = personalities.get(d.personality ?? 'generic');
    if (!personality)
      throw new FleetError(
        `machines[${i}].personality: unknown personality ${d.personality}; known: ${[...personalities.keys()].join(', ')}`,
      );
    return {
      spec: machineSpec({ ...d, manufacturer: d.manufacturer ?? personality.quirks.manufacturer }, seed),
      protocols,
      personality,
      ...(m.redfishPort !== undefined ? { redfishPort: m.redfishPort } : {}),
      username: d.username ?? 'admin',
      password: d.password ?? 'password',
      ipmiPort,
      ...(d.agentFaults ? { agentFaults: d.agentFaults } : {}),
    };
  });
  const uuids = new Set<string>();
  for (const m of machines) {
    if (uuids.has(m.spec.uuid)) throw new FleetError(`machine ${m.spec.name}: duplicate uuid ${m.spec.uuid}`);
    uuids.add(m.spec.uuid);
  }
  return {
    seed,
    timeScale: f.timeScale ?? 1,
    redfish: {
      listenIp: f.redfish?.listenIp ?? '127.0.0.1',
      port: f.redfish?.port ?? 8000,
      tls: f.redfish?.tls ?? true,
      sslCertificate: f.redfish?.sslCertificate,
      sslKey: f.redfish?.sslKey,
      sessionTimeout: f.redfish?.sessionTimeout ?? 1800,
      maxSessions: f.redfish?.maxSessions ?? 256,
      allowEventDestinations: f.redfish?.allowEventDestinations ?? [],
    },
    ipmi: { listenIp: f.ipmi?.listenIp ?? '127.0.0.1' },
    provisioning: { pxeUrl: f.provisioning?.pxeUrl ?? null },
    backend: f.backend ?? 'sim',
    libvirt: { uri: f.libvirt?.uri ?? 'qemu:///system', maxMemoryMiB: f.libvirt?.maxMemoryMiB ?? 2048, maxVcpus: f.libvirt?.maxVcpus ?? 2 },
    machines,
  };
}

function resolvePersonalities(f: FleetFile): Map<string, Personality> {
  const out = new Map(Object.entries(PERSONALITIES));
  for (const [name, p] of Object.entries(f.personalities ?? {})) {
    let base: Quirks = {};
    if (p.extends) {
      const b = PERSONALITIES[p.extends];
      if (!b)
        throw new FleetError(
          `personalities.${name}.extends: unknown personality ${p.extends}; known: ${Object.keys(PERSONALITIES).join(', ')}`,
        );
      base = b.quirks;
    }
    out.set(name, {
      name,
      description: p.description ?? `defined in the fleet file${p.extends ? ` over ${p.extends}` : ''}`,
      quirks: { ...base, ...p.quirks },
    });
  }
  return out;
}

type MachineInput = z.infer<typeof machineSchema>;

function machineSpec(m: MachineInput, seed: number | string): MachineSpec {
  // everything generated depends only on seed and name, so reordering the fleet changes nothing
  const rng = new Rng(hashString(`${seed}/${m.name}`));
  const p = PROFILES[m.profile ?? 'medium'];
  const uuid = m.uuid ?? rng.uuid();
  type NicIn = NonNullable<MachineInput['nics']>[number];
  type DiskIn = NonNullable<MachineInput['disks']>[number];
  const nics: NicSpec[] = (m.nics ?? Array.from({ length: p.nics }, (): NicIn => ({}))).map((n, i) => ({
    id: `NIC.${i + 1}`,
    mac: (n.mac ?? rng.mac()).toLowerCase(),
    speedMbps: n.speedMbps ?? 10000,
    linkUp: n.linkUp ?? true,
  }));
  const disks: DiskSpec[] = (m.disks ?? (p.disks as DiskIn[])).map((d, i) => {
    const type = d.type ?? 'ssd';
    return {
      id: `Disk.${i}`,
      name: type === 'nvme' ? `/dev/nvme${i}n1` : `/dev/sd${String.fromCharCode(97 + i)}`,
      sizeBytes: Math.round(d.sizeGB * 1e9),
      mediaType: type === 'hdd' ? 'HDD' : 'SSD',
      protocol: type === 'nvme' ? 'NVMe' : 'SATA',
      rotational: type === 'hdd',
      serial: d.serial ?? rng.serial('S'),
      wwn: d.wwn ?? `0x5000${rng.bytes(6).toString('hex')}`,
      model: type === 'nvme' ? 'Ferrite NVMe SSD' : type === 'hdd' ? 'Ferrite HDD 7200' : 'Ferrite SATA SSD',
      // a given speed is kept (an operator-precedence slip once turned every given value into 180)
      writeMBps: d.writeMBps ?? (type === 'hdd' ? 180 : type === 'nvme' ? 2000 : 500),
    };
  });
  const t: Timings = { ...DEFAULT_TIMINGS, ...m.timings };
  return {
    uuid,
    name: m.name,
    manufacturer: m.manufacturer ?? 'Ferrite',
    model: m.model ?? `Simulated ${m.profile ?? 'medium'} server`,
    serial: rng.serial('FRT'),
    cpu: {
      sockets: m.cpu?.sockets ?? p.sockets,
      coresPerSocket: m.cpu?.cores ?? p.cores,
      threadsPerCore: m.cpu?.threads ?? p.threads,
      model: m.cpu?.model ?? 'Ferrite Virtual CPU @ 2.40GHz',
      arch: 'x86',
      speedMHz: m.cpu?.speedMHz ?? 2400,
    },
    memory: memoryLayout(m.memoryGiB ?? p.memoryGiB),
    nics,
    disks,
    biosDefaults: { ...DEFAULT_BIOS, ...m.bios },
    firmware: [
      { id: 'BMC', name: 'BMC Firmware', version: '1.0.0', updateable: true },
      { id: 'BIOS', name: 'System BIOS', version: '2.1.0', updateable: true },
      { id: 'NIC.1', name: 'NIC Firmware', version: '20.5.13', updateable: false },
    ],
    timings: t,
  };
}

/** Splits total memory into equal DIMMs (at most 16), as a server board would be populated. */
function memoryLayout(totalGiB: number): MachineSpec['memory'] {
  let dimms = 1;
  while (dimms < 16 && totalGiB / dimms > 32 && totalGiB % (dimms * 2) === 0) dimms *= 2;
  return { dimms, dimmGiB: totalGiB / dimms };
}
