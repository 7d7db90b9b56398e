// A small, strict argument parser: unknown flags are errors, not silently ignored.

export interface FlagSpec {
  /** Takes a value (`--out json`, `-o json`, `--out=json`). */
  value?: boolean;
  /** May repeat; values accumulate. */
  repeat?: boolean;
  alias?: string;
  /** Consumes this many following positional values (`--explain-traffic a b 80`). */
  arity?: number;
}

export interface ParsedArgs {
  positionals: string[];
  flags: Map<string, string[]>;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[], spec: Record<string, FlagSpec>): ParsedArgs {
  const byAlias = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.alias) byAlias.set(s.alias, name);
  const out: ParsedArgs = { positionals: [], flags: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-' || !a.startsWith('-')) {
      out.positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      inline = eq >= 0 ? a.slice(eq + 1) : undefined;
    } else {
      const alias = a.slice(1);
      const resolved = byAlias.get(alias);
      if (!resolved) throw new UsageError(`unknown flag ${a}`);
      name = resolved;
    }
    const s = spec[name];
    if (!s) throw new UsageError(`unknown flag --${name}`);
    const values = out.flags.get(name) ?? [];
    if (s.arity && s.arity > 1) {
      const got = argv.slice(i + 1, i + 1 + s.arity);
      if (got.length < s.arity) throw new UsageError(`--${name} takes ${s.arity} values`);
      values.push(...got);
      i += s.arity;
    } else if (s.value) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      values.push(v);
    } else {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      values.push('true');
    }
    if (!s.repeat && values.length > (s.arity ?? 1)) throw new UsageError(`--${name} given more than once`);
    out.flags.set(name, values);
  }
  return out;
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  return args.flags.get(name)?.[0];
}

export function flagList(args: ParsedArgs, name: string): string[] {
  return (args.flags.get(name) ?? []).flatMap((v) => v.split(',')).filter(Boolean);
}

export function bool(args: ParsedArgs, name: string): boolean {
  return args.flags.has(name);
}

/**
 * A whole-number flag from `min` to `max`; `what` finishes the usage error "--name must be ...".
 * Digits only: Number() alone would take '' and ' ' as 0, and '0x10' or '1e3' as numbers,
 * so `--http-port=` would quietly mean "any port" instead of being an error.
 */
export function intFlag(args: ParsedArgs, name: string, fallback: number, range: { min: number; max?: number; what: string }): number {
  const v = flag(args, name);
  if (v === undefined) return fallback;
  const n = /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < range.min || n > (range.max ?? Number.MAX_SAFE_INTEGER)) {
    throw new UsageError(`--${name} must be ${range.what} (got ${v === '' ? 'an empty value' : v})`);
  }
  return n;
}
