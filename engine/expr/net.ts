// IP addresses and CIDR prefixes, with Go netip semantics (what Kubernetes' CEL `ip`/`cidr`
// libraries and NetworkPolicy validation build on).
//
// An address is a family plus a BigInt of 32 or 128 bits. IPv4-mapped IPv6 addresses
// (`::ffff:10.0.0.1`) are IPv6 addresses: like netip, an IPv4 prefix never contains them
// and an IPv6 prefix never contains a plain IPv4 address. Zones (`fe80::1%eth0`) are
// rejected, as Kubernetes rejects them.
//
// A CIDR keeps the address it was written with (host bits included): Kubernetes' `cidr()`
// and NetworkPolicy ipBlock both accept `10.0.0.1/8`, and `masked()` gives `10.0.0.0/8`.
import { type Result, ok, err } from './result.js';

export type IPFamily = 4 | 6;

export interface IP {
  readonly family: IPFamily;
  /** The address as an unsigned integer of 32 (IPv4) or 128 (IPv6) bits. */
  readonly value: bigint;
}

export interface CIDR {
  /** The address as written, host bits included. */
  readonly ip: IP;
  readonly prefix: number;
}

export interface ParseIPOptions {
  /** Accept `::ffff:a.b.c.d` (default true; Kubernetes' CEL library says false). */
  allowIPv4Mapped?: boolean;
  /**
   * Accept IPv4 octets with leading zeros and read them as decimal, like
   * k8s.io/utils/net ParseIPSloppy, which legacy objects in etcd may still hold.
   */
  sloppy?: boolean;
}

const MAX_IP_STRING = 64;
const BITS: Record<IPFamily, number> = { 4: 32, 6: 128 };

function parseIPv4(s: string, sloppy: boolean): bigint | string {
  const parts = s.split('.');
  if (parts.length !== 4) return 'an IPv4 address has four dot-separated octets';
  let v = 0n;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || !/^\d+$/.test(p)) return `invalid IPv4 octet '${p}'`;
    if (!sloppy && p.length > 1 && p[0] === '0') return `IPv4 octet '${p}' has a leading zero`;
    const n = Number(p);
    if (n > 255) return `IPv4 octet '${p}' is greater than 255`;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string, opts: ParseIPOptions): bigint | string {
  if (s.includes('%')) return 'IPv6 zones are not allowed';
  let head = s;
  let tailV4: bigint | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    const v4 = parseIPv4(s.slice(lastColon + 1), opts.sloppy === true);
    if (typeof v4 === 'string') return v4;
    tailV4 = v4;
    // Drop the colon before the dotted tail unless it is part of a `::` (`::1.2.3.4`).
    head = s.slice(0, lastColon + 1);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const groupsNeeded = tailV4 === undefined ? 8 : 6;
  const dbl = head.indexOf('::');
  if (dbl !== -1 && head.indexOf('::', dbl + 1) !== -1) return "'::' may appear only once";
  const parseGroups = (part: string): number[] | string => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return g === '' ? 'empty group' : `invalid IPv6 group '${g}'`;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = parseGroups(head);
    if (typeof g === 'string') return g;
    if (g.length !== groupsNeeded) return `an IPv6 address has 8 groups, got ${g.length + (tailV4 === undefined ? 0 : 2)}`;
    groups = g;
  } else {
    const left = parseGroups(head.slice(0, dbl));
    const right = parseGroups(head.slice(dbl + 2));
    if (typeof left === 'string') return left;
    if (typeof right === 'string') return right;
    const missing = groupsNeeded - left.length - right.length;
    if (missing < 1) return "too many groups around '::'";
    groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(g);
  if (tailV4 !== undefined) v = (v << 32n) | tailV4;
  if (opts.allowIPv4Mapped === false && v >> 32n === 0xffffn) {
    return 'IPv4-mapped IPv6 addresses are not allowed';
  }
  return v;
}

export function parseIP(s: string, opts: ParseIPOptions = {}): Result<IP> {
  if (typeof s !== 'string') return err('IP address must be a string');
  if (s.length === 0) return err('IP address is empty');
  if (s.length > MAX_IP_STRING) return err(`invalid IP address '${s.slice(0, MAX_IP_STRING)}...': too long`);
  if (s.includes(':')) {
    const v = parseIPv6(s, opts);
    if (typeof v === 'string') return err(`invalid IP address '${s}': ${v}`);
    return ok({ family: 6, value: v });
  }
  const v = parseIPv4(s, opts.sloppy === true);
  if (typeof v === 'string') return err(`invalid IP address '${s}': ${v}`);
  return ok({ family: 4, value: v });
}

export function isIP(s: unknown, opts?: ParseIPOptions): boolean {
  return typeof s === 'string' && parseIP(s, opts).ok;
}

function formatIPv4(v: bigint): string {
  const n = Number(v);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** RFC 5952 text: lowercase, longest run of two or more zero groups as `::` (leftmost on ties). */
export function formatIP(ip: IP): string {
  if (ip.family === 4) return formatIPv4(ip.value);
  if (ip.value >> 32n === 0xffffn) return `::ffff:${formatIPv4(ip.value & 0xffffffffn)}`;
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

export function ipFamily(ip: IP): IPFamily {
  return ip.family;
}

export function isIPv4Mapped(ip: IP): boolean {
  return ip.family === 6 && ip.value >> 32n === 0xffffn;
}

export function equalIP(a: IP, b: IP): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Total order: IPv4 before IPv6, then numeric. */
export function compareIP(a: IP, b: IP): -1 | 0 | 1 {
  if (a.family !== b.family) return a.family < b.family ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function isLoopback(ip: IP): boolean {
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

export function isUnspecified(ip: IP): boolean {
  return ip.value === 0n;
}

export function isLinkLocalUnicast(ip: IP): boolean {
  return ip.family === 4 ? ip.value >> 16n === 0xa9fen : ip.value >> 118n === 0x3fan;
}

export function isLinkLocalMulticast(ip: IP): boolean {
  return ip.family === 4 ? ip.value >> 8n === 0xe00000n : ip.value >> 112n === 0xff02n;
}

/** Go's IsGlobalUnicast: not unspecified, loopback, multicast, link-local or broadcast. */
export function isGlobalUnicast(ip: IP): boolean {
  if (ip.family === 4) {
    if (ip.value === 0xffffffffn) return false;
    return !isUnspecified(ip) && !isLoopback(ip) && ip.value >> 28n !== 0xen && !isLinkLocalUnicast(ip);
  }
  return !isUnspecified(ip) && !isLoopback(ip) && ip.value >> 120n !== 0xffn && !isLinkLocalUnicast(ip);
}

function hostMask(family: IPFamily, prefix: number): bigint {
  return (1n << BigInt(BITS[family] - prefix)) - 1n;
}

export function parseCIDR(s: string, opts: ParseIPOptions = {}): Result<CIDR> {
  if (typeof s !== 'string') return err('CIDR must be a string');
  const slash = s.indexOf('/');
  if (slash === -1) return err(`invalid CIDR '${s}': missing '/<prefix length>'`);
  const addr = parseIP(s.slice(0, slash), opts);
  if (!addr.ok) return err(`invalid CIDR '${s}': ${addr.error.message}`);
  const bits = s.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(bits)) return err(`invalid CIDR '${s}': bad prefix length '${bits}'`);
  const prefix = Number(bits);
  const max = BITS[addr.value.family];
  if (prefix > max) return err(`invalid CIDR '${s}': prefix length ${prefix} is greater than ${max}`);
  return ok({ ip: addr.value, prefix });
}

export function isCIDR(s: unknown, opts?: ParseIPOptions): boolean {
  return typeof s === 'string' && parseCIDR(s, opts).ok;
}

/** `addr/prefix` with the address as written (host bits kept). */
export function formatCIDR(c: CIDR): string {
  return `${formatIP(c.ip)}/${c.prefix}`;
}

/** The same prefix with host bits cleared: `10.1.2.3/8` -> `10.0.0.0/8`. */
export function masked(c: CIDR): CIDR {
  const value = c.ip.value & ~hostMask(c.ip.family, c.prefix);
  return value === c.ip.value ? c : { ip: { family: c.ip.family, value }, prefix: c.prefix };
}

export function hasHostBits(c: CIDR): boolean {
  return (c.ip.value & hostMask(c.ip.family, c.prefix)) !== 0n;
}

export function prefixLength(c: CIDR): number {
  return c.prefix;
}

export function containsIP(c: CIDR, ip: IP): boolean {
  if (c.ip.family !== ip.family) return false;
  const keep = ~hostMask(c.ip.family, c.prefix);
  return (c.ip.value & keep) === (ip.value & keep);
}

/** Every address of `inner` is in `outer` (a prefix contains itself). */
export function containsCIDR(outer: CIDR, inner: CIDR): boolean {
  return outer.ip.family === inner.ip.family && inner.prefix >= outer.prefix && containsIP(outer, inner.ip);
}

export function equalCIDR(a: CIDR, b: CIDR): boolean {
  return a.prefix === b.prefix && equalIP(a.ip, b.ip);
}
