// Which address a claim gets from an IPPool, with upstream's rules (ip-address-manager's
// allocateAddress): a pre-allocation for the claim's name wins; an `ipAddress` annotation asks for one
// address; otherwise the lowest free address of the first pool entry with room (or a random one with
// allocationStrategy: random). Prefix, gateway and DNS servers of the entry override the pool's.
import { randomInt } from 'node:crypto';
import type { IPPoolSpec } from '../api/ipam.metal3.io/v1alpha1/ipam.js';
import { type Addr, canonicalIp, formatIp, inRange, parseIp, poolRange, rangeSize } from './addresses.js';

export interface Allocation {
  address: string;
  prefix: number;
  gateway?: string;
  dnsServers?: string[];
}

export type AllocationFailure =
  | 'InvalidRequest'
  | 'Conflicting'
  | 'RequestedNotAvailable'
  | 'PreAllocationOutOfBounds'
  | 'Exhausted'
  | 'InvalidPrefix';

export class AllocationError extends Error {
  constructor(
    readonly reason: AllocationFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface AllocationRequest {
  claimName: string;
  /** the claim's `ipAddress` annotation, if any */
  requested?: string;
  /** canonical address → claim name ('' for pre-allocations): what is taken */
  used: Map<string, string>;
  random?: (n: number) => number;
}

/** Addresses reserved before any claim: the pool's pre-allocations (unless it is being deleted). */
export function preAllocated(spec: IPPoolSpec): Map<string, string> {
  const m = new Map<string, string>();
  for (const ip of Object.values(spec.preAllocations ?? {})) {
    const c = canonicalIp(ip);
    if (c) m.set(c, '');
  }
  return m;
}

export function allocate(spec: IPPoolSpec, req: AllocationRequest): Allocation {
  const preRaw = spec.preAllocations?.[req.claimName];
  const pre = preRaw !== undefined ? parseIp(preRaw) : undefined;
  let requested: Addr | undefined;
  if (req.requested) {
    requested = parseIp(req.requested);
    if (!requested) throw new AllocationError('InvalidRequest', `Invalid ipAddress annotation "${req.requested}": not a valid IP address`);
    if (preRaw !== undefined && (!pre || pre.n !== requested.n || pre.v !== requested.v)) {
      throw new AllocationError('Conflicting', 'PreAllocation and requested ip address are conflicting');
    }
  }
  let requestedSeen = false;
  for (const entry of spec.pools ?? []) {
    const r = poolRange(entry);
    if ('error' in r) continue;
    let got: Addr | undefined;
    if (pre || preRaw !== undefined) {
      // a pre-allocated address is the claim's whether or not the range lists it as taken
      if (pre && inRange(r, pre)) got = pre;
    } else if (requested) {
      if (inRange(r, requested)) {
        requestedSeen = true;
        if (!req.used.has(formatIp(requested))) got = requested;
      }
    } else {
      got = pick(r, req.used, spec.allocationStrategy === 'random' ? (req.random ?? randomInt) : undefined);
    }
    if (got) {
      const prefix = entry.prefix || spec.prefix || 0;
      if (prefix < 0 || prefix > 128) throw new AllocationError('InvalidPrefix', 'Invalid prefix value, it must be between 0 and 128');
      const gateway = entry.gateway ?? spec.gateway;
      const dns = entry.dnsServers?.length ? entry.dnsServers : spec.dnsServers;
      return { address: formatIp(got), prefix, ...(gateway ? { gateway } : {}), ...(dns?.length ? { dnsServers: dns } : {}) };
    }
  }
  if (requested && requestedSeen) throw new AllocationError('RequestedNotAvailable', 'Requested IP not available');
  if (preRaw !== undefined) throw new AllocationError('PreAllocationOutOfBounds', 'Pre-allocated IP out of bounds');
  throw new AllocationError('Exhausted', 'Exhausted IP Pools');
}

// Scanning a range stops after this many taken addresses: a pool that full is reported exhausted
// rather than walked address by address across an IPv6 /64.
const SCAN_LIMIT = 1_000_000n;

function pick(r: { v: 4 | 6; first: bigint; last: bigint }, used: Map<string, string>, random?: (n: number) => number): Addr | undefined {
  const size = rangeSize(r);
  if (size === 0n) return undefined;
  const start = random ? BigInt(random(Number(size > 281474976710655n ? 281474976710655n : size))) : 0n;
  const steps = size < SCAN_LIMIT ? size : SCAN_LIMIT;
  for (let i = 0n; i < steps; i++) {
    const a = { v: r.v, n: r.first + ((start + i) % size) };
    if (!used.has(formatIp(a))) return a;
  }
  return undefined;
}

/** IPAddress objects are named after the address: `<namePrefix>-<address with . and : as ->`. */
export function addressName(namePrefix: string, address: string): string {
  return `${namePrefix}-${address.replaceAll(':', '-').replaceAll('.', '-')}`.replace(/-+$/, '');
}
