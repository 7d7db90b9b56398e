// URLs as Kubernetes' CEL `url()` library sees them: Go's net/url parsing of an absolute
// URI or an absolute path. WHATWG `URL` differs where policy authors notice (it adds a
// `/` path to `https://host`, lowercases and punycodes hosts, and cannot parse a bare
// `/path`), so this is a small parser with Go's rules instead.
import { type Result, ok, err } from './result.js';

export interface ParsedURL {
  readonly source: string;
  /** Lowercased, as Go stores it; '' for an absolute path. */
  readonly scheme: string;
  readonly userinfo: string;
  /** Host and port as written, IPv6 brackets kept (`[::1]:80`). */
  readonly host: string;
  /** Host without port and brackets. */
  readonly hostname: string;
  /** Port digits, '' when absent. */
  readonly port: string;
  /** Path as written (still escaped); '' for an opaque URI such as `mailto:a@b`. */
  readonly rawPath: string;
  readonly opaque: string;
  readonly rawQuery: string;
  readonly fragment: string;
}

export const MAX_URL_LENGTH = 8192;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Characters Go leaves unescaped in a path (unreserved, sub-delims, ':', '@', '/'). */
const PATH_SAFE = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;
const HEX = /^[0-9A-Fa-f]{2}$/;
const UTF8 = new TextEncoder();

function hasBadEscape(s: string): boolean {
  for (let i = s.indexOf('%'); i !== -1; i = s.indexOf('%', i + 1)) {
    if (!HEX.test(s.slice(i + 1, i + 3))) return true;
  }
  return false;
}

export function parseURL(s: string): Result<ParsedURL> {
  if (typeof s !== 'string') return err('URL must be a string');
  if (s.length === 0) return err('URL is empty');
  if (s.length > MAX_URL_LENGTH) return err(`URL is longer than ${MAX_URL_LENGTH} characters`);
  if (/[\x00-\x1f\x7f]/.test(s)) return err(`invalid URL '${s}': control character`);
  let rest = s;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) {
    fragment = rest.slice(hash + 1);
    rest = rest.slice(0, hash);
  }
  let scheme = '';
  const m = SCHEME.exec(rest);
  if (m) {
    scheme = (m[1] as string).toLowerCase();
    rest = rest.slice(m[0].length);
  } else if (!rest.startsWith('/')) {
    return err(`invalid URL '${s}': must be an absolute URI or an absolute path`);
  }
  let rawQuery = '';
  const q = rest.indexOf('?');
  if (q !== -1) {
    rawQuery = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  let userinfo = '';
  let host = '';
  let hostname = '';
  let port = '';
  let opaque = '';
  if (scheme !== '' && !rest.startsWith('/')) {
    opaque = rest;
    rest = '';
  } else if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    const authority = slash === -1 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash === -1 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at !== -1) {
      userinfo = authority.slice(0, at);
      host = authority.slice(at + 1);
    } else {
      host = authority;
    }
    if (host.startsWith('[')) {
      const close = host.indexOf(']');
      if (close === -1) return err(`invalid URL '${s}': missing ']' in host`);
      hostname = host.slice(1, close);
      const after = host.slice(close + 1);
      if (after !== '' && !/^:\d*$/.test(after)) return err(`invalid URL '${s}': invalid port '${after}' after host`);
      port = after.slice(1);
    } else {
      const colon = host.lastIndexOf(':');
      hostname = colon === -1 ? host : host.slice(0, colon);
      port = colon === -1 ? '' : host.slice(colon + 1);
      if (!/^\d*$/.test(port)) return err(`invalid URL '${s}': invalid port ':${port}' after host`);
      if (/[\s<>"{}|\\^`[\]]/.test(hostname)) return err(`invalid URL '${s}': invalid character in host name`);
    }
  }
  if (hasBadEscape(rest)) return err(`invalid URL '${s}': invalid URL escape in path`);
  return ok({ source: s, scheme, userinfo, host, hostname, port, rawPath: rest, opaque, rawQuery, fragment });
}

export function isURL(s: unknown): boolean {
  return typeof s === 'string' && parseURL(s).ok;
}

/** The path with everything Go would escape percent-encoded (existing escapes kept). */
export function escapedPath(u: ParsedURL): string {
  const p = u.rawPath;
  let out = '';
  for (const ch of p) {
    if (ch === '%' || PATH_SAFE.test(ch)) out += ch;
    else for (const b of UTF8.encode(ch)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function unescapeQuery(s: string): string | undefined {
  if (hasBadEscape(s)) return undefined;
  try {
    return decodeURIComponent(s.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** Query parameters as Go's `url.Query()`: repeated keys collect, bad pairs are dropped. */
export function queryParams(u: ParsedURL): Record<string, string[]> {
  const out: Record<string, string[]> = Object.create(null) as Record<string, string[]>;
  if (u.rawQuery === '') return out;
  for (const pair of u.rawQuery.split('&')) {
    if (pair === '' || pair.includes(';')) continue;
    const eq = pair.indexOf('=');
    const k = unescapeQuery(eq === -1 ? pair : pair.slice(0, eq));
    const v = unescapeQuery(eq === -1 ? '' : pair.slice(eq + 1));
    if (k === undefined || v === undefined) continue;
    (out[k] ??= []).push(v);
  }
  return out;
}

/** The URL as written. */
export function formatURL(u: ParsedURL): string {
  return u.source;
}
