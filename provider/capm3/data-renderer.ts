// Rendering a Metal3DataTemplate for one machine, as CAPM3's Metal3Data controller does: meta data
// is a flat map of strings (plus `providerid`), network data is OpenStack's network_data.json shape
// (links, networks, services), both written as YAML with sorted keys into the machine's Secrets.
import YAML from 'yaml';
import { CapiError } from '../capi/errors.js';
import { formatIp, parseIp } from '../ipam/addresses.js';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const list = (v: unknown): Obj[] => (Array.isArray(v) ? (v as Obj[]) : []);

/** What a pool handed this machine. */
export interface PoolAddress {
  address: string;
  prefix?: number;
  gateway?: string;
  dnsServers?: string[];
}

export interface RenderInput {
  /** the Metal3Data's index */
  index: number;
  namespace: string;
  m3m: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  machine: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  bmh: {
    name: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    bootMACAddress?: string;
    nics: Array<{ name: string; mac: string }>;
  };
  /** pool name → address */
  pools: Record<string, PoolAddress>;
}

const MAC = /^([0-9A-Fa-f]{2}[:-]){5}([0-9A-Fa-f]{2})$/;

function pick(kind: string, o: RenderInput) {
  switch (kind.toLowerCase()) {
    case 'metal3machine':
      return o.m3m;
    case 'machine':
      return o.machine;
    case 'baremetalhost':
      return o.bmh;
    default:
      throw new CapiError('RenderFailed', `unknown object type ${kind}`);
  }
}

function fromAnnotation(kind: unknown, annotation: unknown, o: RenderInput): string {
  const target = pick(String(kind ?? ''), o);
  const v = target.annotations?.[String(annotation)];
  if (v === undefined) throw new CapiError('RenderFailed', `annotation ${String(annotation)} not found on ${String(kind)} ${target.name}`);
  return v;
}

function nicMac(name: string, o: RenderInput): string {
  if (o.bmh.nics.length === 0) throw new CapiError('RenderFailed', 'NICs list not populated');
  const nic = o.bmh.nics.find((n) => n.name === name);
  if (!nic) throw new CapiError('RenderFailed', `NIC name not found ${name}`);
  return nic.mac;
}

function pool(name: string, o: RenderInput): PoolAddress {
  const p = o.pools[name];
  if (!p) throw new CapiError('RenderFailed', `pool ${name} not found in cache`);
  return p;
}

/** The pools a template reads, by name: each needs an address claimed before rendering. */
export function referencedPools(spec: Obj): Array<{ name: string; apiGroup: string; kind: string }> {
  const out = new Map<string, { name: string; apiGroup: string; kind: string }>();
  const add = (name: unknown, apiGroup?: unknown, kind?: unknown) => {
    if (!name) return;
    out.set(String(name), { name: String(name), apiGroup: String(apiGroup || 'ipam.metal3.io'), kind: String(kind || 'IPPool') });
  };
  const md = obj(spec.metaData);
  for (const k of ['ipAddressesFromPool', 'prefixesFromPool', 'gatewaysFromPool', 'dnsServersFromPool']) {
    for (const e of list(md[k])) add(e.name, e.apiGroup, e.kind);
  }
  const nd = obj(spec.networkData);
  const nets = obj(nd.networks);
  const routes = (rs: unknown) => {
    for (const r of list(rs)) {
      const g = obj(r.gateway);
      add(g.fromIPPool);
      add(obj(g.fromPoolRef).name, obj(g.fromPoolRef).apiGroup, obj(g.fromPoolRef).kind);
      add(obj(r.services).dnsFromIPPool);
    }
  };
  for (const fam of ['ipv4', 'ipv6']) {
    for (const n of list(nets[fam])) {
      add(n.ipAddressFromIPPool);
      add(obj(n.fromPoolRef).name, obj(n.fromPoolRef).apiGroup, obj(n.fromPoolRef).kind);
      routes(n.routes);
    }
  }
  for (const fam of ['ipv4DHCP', 'ipv6DHCP', 'ipv6SLAAC']) for (const n of list(nets[fam])) routes(n.routes);
  add(obj(nd.services).dnsFromIPPool);
  return [...out.values()];
}

function sortedYaml(v: unknown): string {
  return YAML.stringify(v, { sortMapEntries: true, lineWidth: 0 });
}

export function renderMetaData(spec: Obj, o: RenderInput): string | null {
  const md = spec.metaData;
  if (!md) return null;
  const m = obj(md);
  const out: Record<string, string> = {};
  for (const e of list(m.fromHostInterfaces)) {
    if (e.fromBootMAC === true) {
      if (!o.bmh.bootMACAddress) {
        throw new CapiError(
          'RenderFailed',
          `metadata key "${String(e.key)}": BareMetalHost ${o.namespace}/${o.bmh.name} spec.bootMACAddress is empty`,
        );
      }
      out[String(e.key)] = o.bmh.bootMACAddress;
    } else out[String(e.key)] = nicMac(String(e.interface), o);
  }
  for (const e of list(m.ipAddressesFromPool)) out[String(e.key)] = pool(String(e.name), o).address;
  for (const e of list(m.prefixesFromPool)) out[String(e.key)] = String(pool(String(e.name), o).prefix ?? 0);
  for (const e of list(m.gatewaysFromPool)) out[String(e.key)] = pool(String(e.name), o).gateway ?? '';
  // upstream declares dnsServersFromPool without rendering it; a comma-separated list is what cloud-init templates can use
  for (const e of list(m.dnsServersFromPool)) out[String(e.key)] = (pool(String(e.name), o).dnsServers ?? []).join(',');
  for (const e of list(m.indexes)) {
    const step = Number(e.step ?? 1) || 1;
    out[String(e.key)] = `${String(e.prefix ?? '')}${Number(e.offset ?? 0) + o.index * step}${String(e.suffix ?? '')}`;
  }
  for (const e of list(m.namespaces)) out[String(e.key)] = o.namespace;
  for (const e of list(m.objectNames)) out[String(e.key)] = pick(String(e.object ?? ''), o).name;
  for (const e of list(m.fromLabels)) out[String(e.key)] = pick(String(e.object ?? ''), o).labels?.[String(e.label)] ?? '';
  for (const e of list(m.fromAnnotations)) out[String(e.key)] = fromAnnotation(e.object, e.annotation, o);
  for (const e of list(m.strings)) out[String(e.key)] = String(e.value ?? '');
  out.providerid = `${o.namespace}/${o.bmh.name}/${o.m3m.name}`;
  return sortedYaml(out);
}

/** A prefix length as a dotted (IPv4) or colon (IPv6) mask, as Go's net.IP prints it. */
export function netmask(prefix: number | undefined, v4: boolean): string {
  if (prefix === undefined) return '';
  const bits = v4 ? 32 : 128;
  const p = Math.max(0, Math.min(prefix, bits));
  const n = ((1n << BigInt(p)) - 1n) << BigInt(bits - p);
  return formatIp({ v: v4 ? 4 : 6, n });
}

function macOf(mac: Obj, o: RenderInput): string {
  let v: string;
  if (mac.string) v = String(mac.string);
  else if (mac.fromHostInterface) v = nicMac(String(mac.fromHostInterface), o);
  else if (obj(mac.fromAnnotation).object) v = fromAnnotation(obj(mac.fromAnnotation).object, obj(mac.fromAnnotation).annotation, o);
  else throw new CapiError('RenderFailed', 'no MAC address given');
  if (!MAC.test(v)) throw new CapiError('RenderFailed', `bad MAC address: ${v}`);
  return v;
}

function routes(rs: unknown, v4: boolean, o: RenderInput): Obj[] {
  return list(rs).map((r) => {
    const g = obj(r.gateway);
    let gateway = '';
    if (g.string) gateway = String(g.string);
    else if (obj(g.fromPoolAnnotation).object)
      gateway = pool(fromAnnotation(obj(g.fromPoolAnnotation).object, obj(g.fromPoolAnnotation).annotation, o), o).gateway ?? '';
    else if (obj(g.fromPoolRef).name) gateway = pool(String(obj(g.fromPoolRef).name), o).gateway ?? '';
    else if (g.fromIPPool) gateway = pool(String(g.fromIPPool), o).gateway ?? '';
    const services: Obj[] = [];
    const s = obj(r.services);
    for (const d of Array.isArray(s.dns) ? s.dns : []) services.push({ type: 'dns', address: d });
    if (s.dnsFromIPPool) for (const d of pool(String(s.dnsFromIPPool), o).dnsServers ?? []) services.push({ type: 'dns', address: d });
    return { network: r.network ?? '', netmask: netmask(Number(r.prefix ?? 0), v4), gateway, services };
  });
}

export function renderNetworkData(spec: Obj, o: RenderInput): string | null {
  const nd = spec.networkData;
  if (!nd) return null;
  const n = obj(nd);
  const links: Obj[] = [];
  const l = obj(n.links);
  for (const b of list(l.bonds)) {
    const entry: Obj = {
      type: 'bond',
      id: b.id ?? '',
      mtu: b.mtu ?? 1500,
      bond_mode: b.bondMode ?? '',
      bond_xmit_hash_policy: b.bondXmitHashPolicy ?? '',
      bond_links: b.bondLinks ?? [],
    };
    if (b.name) entry.name = b.name;
    if (b.macAddress) entry.ethernet_mac_address = macOf(obj(b.macAddress), o);
    const illegal: string[] = [];
    for (const p of list(b.parameters)) {
      const target = `bond_${String(p.name)}`;
      if (target in entry) illegal.push(String(p.name));
      else entry[target] = p.value;
    }
    if (illegal.length)
      throw new CapiError('RenderFailed', `illegal params "${illegal.join('", "')}" into bond params blob into link id=${String(b.id)}`);
    links.push(entry);
  }
  for (const e of list(l.ethernets)) {
    const entry: Obj = { type: e.type ?? '', id: e.id ?? '', mtu: e.mtu ?? 1500 };
    if (e.name) entry.name = e.name;
    if (e.macAddress) entry.ethernet_mac_address = macOf(obj(e.macAddress), o);
    links.push(entry);
  }
  for (const v of list(l.vlans)) {
    if (v.vlanID === undefined)
      throw new CapiError('RenderFailed', `renderNetworkLinks: VLAN link "${String(v.id)}" is missing required VlanID`);
    const entry: Obj = { type: 'vlan', id: v.id ?? '', mtu: v.mtu ?? 1500, vlan_link: v.vlanLink ?? '', vlan_id: v.vlanID };
    if (v.name) entry.name = v.name;
    if (v.macAddress) entry.vlan_mac_address = macOf(obj(v.macAddress), o);
    links.push(entry);
  }
  const networks: Obj[] = [];
  const nets = obj(n.networks);
  for (const [fam, v4] of [
    ['ipv4', true],
    ['ipv6', false],
  ] as const) {
    for (const net of list(nets[fam])) {
      let p: PoolAddress;
      if (obj(net.fromPoolAnnotation).object)
        p = pool(fromAnnotation(obj(net.fromPoolAnnotation).object, obj(net.fromPoolAnnotation).annotation, o), o);
      else if (obj(net.fromPoolRef).name) p = pool(String(obj(net.fromPoolRef).name), o);
      else p = pool(String(net.ipAddressFromIPPool ?? ''), o);
      const ipv = parseIp(p.address);
      if (ipv && (ipv.v === 4) !== v4)
        throw new CapiError('RenderFailed', `network ${String(net.id)}: ${p.address} is not an ${fam} address`);
      networks.push({
        type: fam,
        id: net.id ?? '',
        link: net.link ?? '',
        netmask: netmask(p.prefix, v4),
        ip_address: p.address,
        routes: routes(net.routes, v4, o),
      });
    }
  }
  for (const [fam, type, v4] of [
    ['ipv4DHCP', 'ipv4_dhcp', true],
    ['ipv6DHCP', 'ipv6_dhcp', false],
    ['ipv6SLAAC', 'ipv6_slaac', false],
  ] as const) {
    for (const net of list(nets[fam])) networks.push({ type, id: net.id ?? '', link: net.link ?? '', routes: routes(net.routes, v4, o) });
  }
  const services: Obj[] = [];
  const s = obj(n.services);
  for (const d of Array.isArray(s.dns) ? s.dns : []) services.push({ type: 'dns', address: d });
  if (s.dnsFromIPPool) for (const d of pool(String(s.dnsFromIPPool), o).dnsServers ?? []) services.push({ type: 'dns', address: d });
  return sortedYaml({ links, networks, services });
}
