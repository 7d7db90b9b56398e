import { describe, it, expect } from 'vitest';
import { parseURL, isURL, escapedPath, queryParams, type ParsedURL } from './url.js';

function u(s: string): ParsedURL {
  const r = parseURL(s);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe('parseURL', () => {
  it('splits an absolute URI like Go net/url', () => {
    const x = u('HTTPS://alice:pw@Example.com:8443/a/b?x=1#top');
    expect(x.scheme).toBe('https');
    expect(x.userinfo).toBe('alice:pw');
    expect(x.host).toBe('Example.com:8443');
    expect(x.hostname).toBe('Example.com');
    expect(x.port).toBe('8443');
    expect(x.rawPath).toBe('/a/b');
    expect(x.rawQuery).toBe('x=1');
    expect(x.fragment).toBe('top');
  });

  it('keeps an empty path empty (WHATWG URL would say "/")', () => {
    expect(u('https://example.com').rawPath).toBe('');
    expect(escapedPath(u('https://example.com'))).toBe('');
  });

  it('handles bracketed IPv6 hosts', () => {
    const x = u('http://[fd00::1]:9090/metrics');
    expect(x.host).toBe('[fd00::1]:9090');
    expect(x.hostname).toBe('fd00::1');
    expect(x.port).toBe('9090');
    expect(u('http://[::1]/').port).toBe('');
  });

  it('accepts absolute paths and opaque URIs', () => {
    const p = u('/apis/apps/v1?watch=true');
    expect(p.scheme).toBe('');
    expect(p.host).toBe('');
    expect(p.rawPath).toBe('/apis/apps/v1');
    const m = u('mailto:ops@example.com');
    expect(m.opaque).toBe('ops@example.com');
    expect(m.rawPath).toBe('');
    expect(u('///x').rawPath).toBe('///x');
  });

  it.each([
    ['', /empty/],
    ['example.com/x', /absolute URI or an absolute path/],
    ['http://exa mple.com/', /invalid character in host/],
    ['http://example.com:80a/', /invalid port/],
    ['http://[::1/', /missing '\]'/],
    ['http://[::1]x/', /invalid port/],
    ['/a%zz', /invalid URL escape/],
    ['/a\nb', /control character/],
  ])('rejects %j', (s, why) => {
    const r = parseURL(s);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(why);
    expect(isURL(s)).toBe(false);
  });
});

describe('escapedPath / queryParams', () => {
  it('escapes what Go escapes and keeps existing escapes', () => {
    expect(escapedPath(u('/a b/é/%2F/:@!$&()*+,;='))).toBe('/a%20b/%C3%A9/%2F/:@!$&()*+,;=');
  });

  it('collects repeated keys, decodes + and %XX, drops malformed pairs', () => {
    expect(queryParams(u('/?a=1&a=2&b=x+y&c=%41&d&bad=%zz&semi=1;2&&'))).toEqual({
      a: ['1', '2'],
      b: ['x y'],
      c: ['A'],
      d: [''],
    });
    expect(queryParams(u('/'))).toEqual({});
  });
});
