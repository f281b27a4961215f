// Address arithmetic for IP pools, IPv4 and IPv6 alike: ipaddr.js parses and prints, a BigInt holds
// the address so a range is an interval of integers. (ipaddr.js has no offset arithmetic; BigInt
// makes that a one-liner, so it is written here.)
import ipaddr from 'ipaddr.js';
import type { Pool } from '../api/ipam.metal3.io/v1alpha1/ipam.js';

export interface Addr {
  v: 4 | 6;
  n: bigint;
}

export function parseIp(s: string | undefined): Addr | undefined {
  if (!s || !ipaddr.isValid(s)) return undefined;
  const a = ipaddr.parse(s);
  let n = 0n;
  for (const b of a.toByteArray()) n = (n << 8n) | BigInt(b);
  return { v: a.kind() === 'ipv4' ? 4 : 6, n };
}

export function formatIp(a: Addr): string {
  const len = a.v === 4 ? 4 : 16;
  const bytes: number[] = [];
  let n = a.n;
  for (let i = 0; i < len; i++) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  const ip = ipaddr.fromByteArray(bytes);
  return ip.kind() === 'ipv6' ? (ip as ipaddr.IPv6).toRFC5952String() : ip.toString();
}

/** The one spelling of an address, so "10.0.0.1" and "::ffff:…" style variants compare equal. */
export function canonicalIp(s: string): string | undefined {
  const a = parseIp(s);
  return a ? formatIp(a) : undefined;
}

const maxOf = (v: 4 | 6) => (v === 4 ? (1n << 32n) - 1n : (1n << 128n) - 1n);

interface Subnet {
  v: 4 | 6;
  first: bigint;
  last: bigint;
}

function parseSubnet(s: string): Subnet | undefined {
  try {
    const [ip, bits] = ipaddr.parseCIDR(s);
    const a = parseIp(ip.toString());
    if (!a) return undefined;
    const width = a.v === 4 ? 32 : 128;
    const hostBits = BigInt(width - bits);
    const first = (a.n >> hostBits) << hostBits;
    return { v: a.v, first, last: first + (1n << hostBits) - 1n };
  } catch {
    return undefined;
  }
}

export interface PoolRange {
  v: 4 | 6;
  first: bigint;
  /** inclusive; undefined when the range only ends at the top of the address space */
  last: bigint;
}

/**
 * The addresses a pool entry hands out, as upstream's GetIPAddress walks them: from start to end
 * (bounded by subnet when both are given), or from the subnet's network address + 1 to its last
 * address; a start with neither end nor subnet runs to the top of the address space.
 */
export function poolRange(p: Pool): PoolRange | { error: string } {
  if (!p.start && !p.subnet) return { error: 'either Start or Subnet is required for ipAddress' };
  const subnet = p.subnet ? parseSubnet(p.subnet) : undefined;
  if (p.subnet && !subnet) return { error: `invalid Subnet "${p.subnet}"` };
  if (p.start) {
    const start = parseIp(p.start);
    if (!start) return { error: `invalid Start IP "${p.start}"` };
    const end = p.end ? parseIp(p.end) : undefined;
    if (p.end && !end) return { error: `invalid End IP "${p.end}"` };
    if (end && end.v !== start.v) return { error: `start ${p.start} and end ${p.end} are not the same IP family` };
    if (end && end.n < start.n) return { error: `end IP ${p.end} is before start IP ${p.start}` };
    let last = end?.n ?? maxOf(start.v);
    let first = start.n;
    if (subnet) {
      if (subnet.v !== start.v) return { error: `start ${p.start} is not in subnet ${p.subnet}` };
      if (start.n < subnet.first || start.n > subnet.last) return { first: 1n, last: 0n, v: start.v };
      if (last > subnet.last) last = subnet.last;
      first = start.n;
    }
    return { v: start.v, first, last };
  }
  const s = subnet as Subnet;
  return { v: s.v, first: s.first + 1n, last: s.last };
}

export function rangeSize(r: PoolRange): bigint {
  return r.last >= r.first ? r.last - r.first + 1n : 0n;
}

export function inRange(r: PoolRange, a: Addr): boolean {
  return a.v === r.v && a.n >= r.first && a.n <= r.last;
}
