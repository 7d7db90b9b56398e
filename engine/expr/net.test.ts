import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  type IP,
  type CIDR,
  parseIP,
  formatIP,
  isIP,
  parseCIDR,
  formatCIDR,
  isCIDR,
  masked,
  hasHostBits,
  containsIP,
  containsCIDR,
  prefixLength,
  ipFamily,
  isIPv4Mapped,
  compareIP,
  equalIP,
  isLoopback,
  isUnspecified,
  isLinkLocalUnicast,
  isLinkLocalMulticast,
  isGlobalUnicast,
} from './net.js';

function ip(s: string): IP {
  const r = parseIP(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}
function cidr(s: string): CIDR {
  const r = parseCIDR(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parseIP / formatIP', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4', 4],
    ['0.0.0.0', '0.0.0.0', 4],
    ['255.255.255.255', '255.255.255.255', 4],
    ['::', '::', 6],
    ['::1', '::1', 6],
    ['1::', '1::', 6],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', 6],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', 6],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 6],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1', 6],
    ['1:0:0:0:1:0:0:0', '1::1:0:0:0', 6],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', 6],
    ['::ffff:1.2.3.4', '::ffff:1.2.3.4', 6],
    ['::FFFF:0102:0304', '::ffff:1.2.3.4', 6],
    ['::1.2.3.4', '::102:304', 6],
    ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304', 6],
    ['fe80::1', 'fe80::1', 6],
  ])('%s -> %s (IPv%d)', (src, text, family) => {
    const a = ip(src);
    expect(ipFamily(a)).toBe(family);
    expect(formatIP(a)).toBe(text);
  });

  it.each([
    ['', /empty/],
    ['1.2.3', /four/],
    ['1.2.3.4.5', /four/],
    ['256.1.1.1', /greater than 255/],
    ['01.2.3.4', /leading zero/],
    ['1.2.3.-1', /invalid IPv4 octet/],
    [' 1.2.3.4', /invalid IPv4 octet/],
    ['1..2.3', /invalid IPv4 octet/],
    [':::', /./],
    ['1:::2', /./],
    ['1::2::3', /only once/],
    ['12345::', /invalid IPv6 group/],
    ['g::', /invalid IPv6 group/],
    ['1:2:3:4:5:6:7:8:9', /8 groups/],
    ['1:2:3:4:5:6:7', /8 groups/],
    ['1:2:3:4:5:6:7:8::', /too many groups/],
    [':1:2:3:4:5:6:7', /empty group/],
    ['fe80::1%eth0', /zones/],
    ['::1.2.3', /four/],
    ['1:2:3:4:5:6:7:1.2.3.4', /8 groups/],
  ])('rejects %j', (src, why) => {
    const r = parseIP(src);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(why);
    expect(isIP(src)).toBe(false);
  });

  it('reads legacy leading zeros as decimal only when sloppy', () => {
    expect(parseIP('010.001.0.09').ok).toBe(false);
    const r = parseIP('010.001.0.09', { sloppy: true });
    expect(r.ok && formatIP(r.value)).toBe('10.1.0.9');
  });

  it('can refuse IPv4-mapped addresses (the Kubernetes CEL rule)', () => {
    const r = parseIP('::ffff:10.0.0.1', { allowIPv4Mapped: false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/IPv4-mapped/);
    expect(isIPv4Mapped(ip('::ffff:10.0.0.1'))).toBe(true);
    expect(isIPv4Mapped(ip('10.0.0.1'))).toBe(false);
  });

  it('classifies addresses like Go net.IP', () => {
    expect(isLoopback(ip('127.0.0.2'))).toBe(true);
    expect(isLoopback(ip('::1'))).toBe(true);
    expect(isUnspecified(ip('0.0.0.0'))).toBe(true);
    expect(isUnspecified(ip('::'))).toBe(true);
    expect(isLinkLocalUnicast(ip('169.254.1.1'))).toBe(true);
    expect(isLinkLocalUnicast(ip('fe80::1'))).toBe(true);
    expect(isLinkLocalMulticast(ip('224.0.0.251'))).toBe(true);
    expect(isLinkLocalMulticast(ip('ff02::fb'))).toBe(true);
    expect(isGlobalUnicast(ip('8.8.8.8'))).toBe(true);
    expect(isGlobalUnicast(ip('10.0.0.1'))).toBe(true);
    expect(isGlobalUnicast(ip('224.0.0.1'))).toBe(false);
    expect(isGlobalUnicast(ip('255.255.255.255'))).toBe(false);
    expect(isGlobalUnicast(ip('2001:db8::1'))).toBe(true);
    expect(isGlobalUnicast(ip('ff00::1'))).toBe(false);
  });

  it('orders IPv4 before IPv6', () => {
    expect(compareIP(ip('255.255.255.255'), ip('::'))).toBe(-1);
    expect(compareIP(ip('10.0.0.2'), ip('10.0.0.10'))).toBe(-1);
    expect(compareIP(ip('::2'), ip('::2'))).toBe(0);
  });
});

describe('CIDR', () => {
  it('keeps host bits as written and masks on request', () => {
    const c = cidr('10.1.2.3/8');
    expect(formatCIDR(c)).toBe('10.1.2.3/8');
    expect(hasHostBits(c)).toBe(true);
    expect(formatCIDR(masked(c))).toBe('10.0.0.0/8');
    expect(hasHostBits(masked(c))).toBe(false);
    expect(prefixLength(c)).toBe(8);
    expect(formatCIDR(masked(cidr('2001:db8::1/32')))).toBe('2001:db8::/32');
    expect(formatCIDR(masked(cidr('1.2.3.4/0')))).toBe('0.0.0.0/0');
  });

  it('contains addresses and prefixes of its own family only', () => {
    const c = cidr('10.0.0.0/8');
    expect(containsIP(c, ip('10.255.0.1'))).toBe(true);
    expect(containsIP(c, ip('11.0.0.0'))).toBe(false);
    expect(containsIP(c, ip('::ffff:10.0.0.1'))).toBe(false);
    expect(containsIP(cidr('::/0'), ip('10.0.0.1'))).toBe(false);
    expect(containsIP(cidr('0.0.0.0/0'), ip('10.0.0.1'))).toBe(true);
    expect(containsIP(cidr('10.0.0.7/32'), ip('10.0.0.7'))).toBe(true);
    expect(containsCIDR(c, cidr('10.1.0.0/16'))).toBe(true);
    expect(containsCIDR(c, c)).toBe(true);
    expect(containsCIDR(cidr('10.1.0.0/16'), c)).toBe(false);
    expect(containsCIDR(c, cidr('11.0.0.0/16'))).toBe(false);
    expect(containsCIDR(cidr('fd00::/8'), cidr('fd12:3456::/32'))).toBe(true);
  });

  it.each([
    ['10.0.0.0', /missing '\/<prefix length>'/],
    ['10.0.0.0/', /bad prefix length/],
    ['10.0.0.0/08', /bad prefix length/],
    ['10.0.0.0/+8', /bad prefix length/],
    ['10.0.0.0/33', /greater than 32/],
    ['::/129', /greater than 128/],
    ['10.0.0/8', /four/],
    ['/8', /empty/],
  ])('rejects %j', (src, why) => {
    const r = parseCIDR(src);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(why);
    expect(isCIDR(src)).toBe(false);
  });
});

// ---- properties

const arbIPv4: fc.Arbitrary<IP> = fc.bigInt({ min: 0n, max: 2n ** 32n - 1n }).map((value) => ({ family: 4, value }));
/** IPv6 values with many zero groups, so `::` compression is exercised. */
const arbIPv6: fc.Arbitrary<IP> = fc
  .array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((groups) => ({ family: 6, value: groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n) }));
const arbIP = fc.oneof(arbIPv4, arbIPv6);
const arbCIDR: fc.Arbitrary<CIDR> = arbIP.chain((a) =>
  fc.integer({ min: 0, max: a.family === 4 ? 32 : 128 }).map((prefix) => ({ ip: a, prefix })),
);

function bits(a: IP): string {
  return a.value.toString(2).padStart(a.family === 4 ? 32 : 128, '0');
}

describe('properties', () => {
  it('parse(format(ip)) == ip, and formatting is canonical', () => {
    fc.assert(
      fc.property(arbIP, (a) => {
        const s = formatIP(a);
        const back = parseIP(s);
        expect(back.ok).toBe(true);
        if (!back.ok) return;
        expect(equalIP(back.value, a)).toBe(true);
        expect(formatIP(back.value)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('non-canonical IPv6 spellings (case, leading zeros, no ::) parse to the same address', () => {
    fc.assert(
      fc.property(arbIPv6, fc.boolean(), fc.boolean(), (a, upper, pad) => {
        const groups: string[] = [];
        for (let i = 7; i >= 0; i--) {
          let g = Number((a.value >> BigInt(i * 16)) & 0xffffn).toString(16);
          if (pad) g = g.padStart(4, '0');
          groups.push(upper ? g.toUpperCase() : g);
        }
        const back = parseIP(groups.join(':'));
        expect(back.ok && equalIP(back.value, a)).toBe(true);
      }),
    );
  });

  it('containsIP is "the first prefix bits agree" and masking never changes membership', () => {
    fc.assert(
      fc.property(arbCIDR, arbIP, (c, a) => {
        const expected = c.ip.family === a.family && bits(c.ip).slice(0, c.prefix) === bits(a).slice(0, c.prefix);
        expect(containsIP(c, a)).toBe(expected);
        expect(containsIP(masked(c), a)).toBe(expected);
        expect(containsIP(c, c.ip)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('containsCIDR: reflexive, widening contains, and agrees with containsIP on the inner address', () => {
    fc.assert(
      fc.property(arbCIDR, fc.nat(), (c, k) => {
        expect(containsCIDR(c, c)).toBe(true);
        const wider = masked({ ip: c.ip, prefix: k % (c.prefix + 1) });
        expect(containsCIDR(wider, c)).toBe(true);
        if (containsCIDR(c, wider)) expect(wider.prefix).toBe(c.prefix);
        expect(containsIP(wider, masked(c).ip)).toBe(true);
      }),
    );
  });

  it('parse(formatCIDR(c)) == c', () => {
    fc.assert(
      fc.property(arbCIDR, (c) => {
        const back = parseCIDR(formatCIDR(c));
        expect(back.ok).toBe(true);
        if (back.ok) {
          expect(back.value.prefix).toBe(c.prefix);
          expect(equalIP(back.value.ip, c.ip)).toBe(true);
        }
      }),
    );
  });
});
