// Inspection: out of band through the BMC (redfish), or in band by booting the agent, whose
// inventory comes back through /v1/continue_inspection and is matched to its node by MAC, or by
// BMC address when the machine has no port yet (as Ironic's lookup does).

import { describe, IronicError } from '../errors.js';
import { type Node, newPort, now } from '../model.js';
import type { Conductor } from './conductor.js';
import type { DriverSet } from './drivers.js';

export async function startInspection(c: Conductor, node: Node, set: DriverSet): Promise<void> {
  try {
    if (node.inspect_interface === 'fake') {
      node.inspection_finished_at = now();
      c.applyEvent(node, 'done');
      c.save(node);
      return;
    }
    if (node.inspect_interface === 'redfish') {
      const hw = await set.inspect.inspect(node);
      applyInventoryProperties(node, hw.properties);
      for (const mac of hw.macs) ensurePort(c, node, mac);
      node.power_state = await set.power.getPowerState(node).catch(() => node.power_state);
      node.inspection_finished_at = now();
      c.applyEvent(node, 'done');
      c.save(node);
      return;
    }
    // agent: boot the ramdisk; the agent posts its inventory to /v1/continue_inspection
    await c.bootAgent(node, set, 'inspect');
    c.applyEvent(node, 'wait');
    c.save(node);
  } catch (e) {
    await c.tearDownAgent(node, set).catch(() => {});
    c.fail(node, 'inspection', `Failed to inspect hardware. Reason: ${describe(e)}`);
  }
}

export function applyInventoryProperties(node: Node, p: { cpus?: number; memory_mb?: number; local_gb?: number; cpu_arch?: string }): void {
  for (const [k, v] of Object.entries(p)) if (v !== undefined) node.properties[k] = v;
}

export function ensurePort(c: Conductor, node: Node, mac: string, pxe = true): void {
  const m = mac.toLowerCase();
  const existing = c.store.portByAddress(m);
  if (existing) return;
  c.store.putPort(newPort({ address: m, node_uuid: node.uuid, pxe_enabled: pxe }));
}

/** POST /v1/continue_inspection from the agent: finds the node by MAC or BMC address and completes inspection. */
export function continueInspection(c: Conductor, body: Record<string, unknown>, nodeUuid: string | null): { uuid: string; node: Node } {
  const inv = body.inventory as Record<string, unknown> | undefined;
  if (!inv || typeof inv !== 'object') throw new IronicError('Invalid', 'Inventory is required for inspection data');
  const ifaces = (inv.interfaces ?? []) as Array<Record<string, unknown>>;
  if (!Array.isArray(ifaces) || ifaces.length === 0)
    throw new IronicError('Invalid', 'At least one interface is required in the inventory');
  const macs = ifaces.map((i) => String(i.mac_address ?? '').toLowerCase()).filter(Boolean);
  const bmcs = [inv.bmc_address, inv.bmc_v6address]
    .filter((a): a is string => typeof a === 'string' && !['', '0.0.0.0', '::/0', '::'].includes(a))
    .map((a) => a.toLowerCase());
  const n = lookupInspectedNode(c, nodeUuid, macs, bmcs);
  // finishing needs a worker (the machine is powered off): refused before the data is taken, and
  // the agent posts it again
  c.requireWorker();
  const node = c.acquire(n.uuid);
  const set = c.drivers.forNode(node);
  const pluginData: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (k !== 'inventory') pluginData[k] = v;
  pluginData.all_interfaces = Object.fromEntries(
    ifaces.map((i) => [
      String(i.name),
      { ...i, pxe_enabled: i.mac_address === (inv.boot as { pxe_interface?: string } | undefined)?.pxe_interface },
    ]),
  );
  node.inventory = { inventory: inv, plugin_data: pluginData };
  const cpu = inv.cpu as { count?: number; architecture?: string } | undefined;
  const mem = inv.memory as { physical_mb?: number } | undefined;
  const disks = ((inv.disks ?? []) as Array<{ size?: number }>).map((d) => Number(d.size ?? 0)).filter((s) => s > 4 * 2 ** 30);
  applyInventoryProperties(node, {
    cpus: cpu?.count,
    cpu_arch: cpu?.architecture,
    memory_mb: mem?.physical_mb,
    local_gb: disks.length ? Math.floor(Math.min(...disks) / 2 ** 30) - 1 : undefined,
  });
  // Ironic's default ports hook: a port for the interface the machine PXE-booted from
  const pxeMac = String((inv.boot as { pxe_interface?: string } | undefined)?.pxe_interface ?? macs[0]).toLowerCase();
  for (const mac of macs) if (mac === pxeMac) ensurePort(c, node, mac);
  c.save(node);
  c.spawn(node, 'inspection', async (x) => {
    try {
      await c.tearDownAgent(x, set);
      x.inspection_finished_at = now();
      c.applyEvent(x, 'done');
      c.save(x);
    } catch (e) {
      c.fail(x, 'inspection', `Failed to finish inspection: ${describe(e)}`);
    }
  });
  return { uuid: node.uuid, node };
}

const WAITING = ['inspect wait', 'inspecting'];

/**
 * Which node posted this inventory, as Ironic's inspection lookup decides: the UUID if the agent
 * knows it, then the MACs (ports), then the BMC address among nodes waiting for inspection — a
 * node found by MAC must also match its BMC, and several nodes behind one BMC address (Redfish
 * hosts sharing a manager) can only be told apart by ports. Unlike Ironic, loopback BMC addresses
 * count: the emulator's BMCs live there.
 */
export function lookupInspectedNode(c: Conductor, nodeUuid: string | null, macs: string[], bmcs: string[]): Node {
  let n: Node | undefined;
  if (nodeUuid) {
    n = c.store.node(nodeUuid);
    if (!n) throw new IronicError('NotFound', `Node ${nodeUuid} could not be found`);
  }
  const byMac = new Set<string>();
  for (const mac of macs) {
    const p = c.store.portByAddress(mac);
    if (p) byMac.add(p.node_uuid);
  }
  if (byMac.size > 1)
    throw new IronicError('NotFound', `The MAC addresses ${macs.join(', ')} belong to ${byMac.size} nodes (${[...byMac].join(', ')})`);
  if (byMac.size === 1) {
    const found = c.store.node([...byMac][0]);
    if (n && found && found.uuid !== n.uuid)
      throw new IronicError('NotFound', `Node ${n.uuid} does not own the MAC addresses ${macs.join(', ')}: node ${found.uuid} does`);
    n = found ?? n;
  }
  if (n && !WAITING.includes(n.provision_state))
    throw new IronicError('NotFound', `Node ${n.uuid} is in state "${n.provision_state}", not waiting for inspection data`);
  if (bmcs.length) {
    const reported = bmcs.map(parseReported);
    const byBmc = [...c.store.allNodes()].filter((x) => WAITING.includes(x.provision_state) && bmcMatches(x, reported));
    if (n && byBmc.length && !byBmc.some((x) => x.uuid === n?.uuid))
      throw new IronicError(
        'NotFound',
        `Node ${n.uuid} matches the MAC addresses but not the BMC address ${bmcs.join(', ')}, which belongs to ${byBmc.map((x) => x.uuid).join(', ')}: are its ports on the wrong node?`,
      );
    if (!n && byBmc.length > 1)
      throw new IronicError(
        'NotFound',
        `${byBmc.length} nodes waiting for inspection (${byBmc.map((x) => x.uuid).join(', ')}) share the BMC address ${bmcs.join(', ')} and none has a port for the MAC addresses ${macs.join(', ')}: ports must be created to tell them apart`,
      );
    if (!n) n = byBmc[0];
  }
  if (!n)
    throw new IronicError(
      'NotFound',
      `No node waiting for inspection matches the MAC addresses ${macs.join(', ')}${bmcs.length ? ` or the BMC address ${bmcs.join(', ')}` : ''}`,
    );
  return n;
}

interface BmcEndpoint {
  host: string;
  port?: number;
}

/** A reported BMC address: an IP (as IPA reports it), or host:port / [v6]:port (Ferrite's emulated BMCs). */
function parseReported(a: string): BmcEndpoint {
  const v6 = /^\[(.+)\]:(\d+)$/.exec(a);
  if (v6) return { host: v6[1].toLowerCase(), port: Number(v6[2]) };
  const v4 = /^([^:]+):(\d+)$/.exec(a);
  if (v4) return { host: v4[1].toLowerCase(), port: Number(v4[2]) };
  return { host: a.replace(/^\[|\]$/g, '').toLowerCase() };
}

const DEFAULT_PORTS: Record<string, number> = { 'https:': 443, 'http:': 80 };

/** Every BMC address in a node's driver_info (ipmi_address with ipmi_port, redfish_address, …), with its port. */
function bmcEndpoints(n: Node): BmcEndpoint[] {
  const out: BmcEndpoint[] = [];
  for (const [k, v] of Object.entries(n.driver_info)) {
    if (!k.endsWith('_address') || typeof v !== 'string' || !v) continue;
    if (v.includes('://')) {
      try {
        const u = new URL(v.replace(/^[a-z-]+\+(https?):/, '$1:'));
        out.push({ host: u.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol] });
        continue;
      } catch {
        // not a URL after all: the value is the host
      }
    }
    const port = k === 'ipmi_address' ? Number(n.driver_info.ipmi_port ?? 623) : undefined;
    out.push({ host: v.replace(/^\[|\]$/g, '').toLowerCase(), ...(Number.isFinite(port) ? { port } : {}) });
  }
  return out;
}

const bmcMatches = (n: Node, reported: BmcEndpoint[]) =>
  bmcEndpoints(n).some((e) => reported.some((r) => r.host === e.host && (r.port === undefined || r.port === e.port)));
