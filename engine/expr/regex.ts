// Regular expressions from rule packs, which may come from ConfigMaps: RE2 semantics via
// re2js, so matching is linear in the input (no catastrophic backtracking), plus bounds
// on pattern length, compiled program size and input length so a hostile pack cannot
// make one match expensive. RE2 syntax is also what Kubernetes CEL's `matches` uses.
//
// Named groups: re2js accepts both `(?<name>...)` and `(?P<name>...)`. Unmatched groups
// read as '' (Go's FindStringSubmatch), so templates never see `undefined`.
import { RE2JS } from 're2js';
import { type Result, ok, err, errorMessage } from './result.js';

export const MAX_PATTERN_LENGTH = 2000;
/** re2js program instructions; a few hundred for ordinary patterns. */
export const MAX_PROGRAM_SIZE = 20_000;
/** Inputs are truncated here: policy messages and labels are far shorter. */
export const MAX_INPUT_LENGTH = 1 << 20;
/** Upper bound for findAll, whatever limit the caller asks for. */
export const MAX_FIND_ALL = 10_000;

export interface RegexMatch {
  /** The whole match. */
  match: string;
  /** UTF-16 offset of the match in the (possibly truncated) input. */
  index: number;
  /** Named groups; '' when a group did not take part in the match. */
  groups: Record<string, string>;
  /** Numbered groups 1..n ('' when unmatched); index 0 is the whole match. */
  captures: string[];
}

export interface SafeRegex {
  readonly source: string;
  /** Unanchored search, like Go's MatchString and CEL's `matches`. */
  test(s: string): boolean;
  /** First match, or null. */
  exec(s: string): RegexMatch | null;
  /** Successive non-overlapping matches, at most `limit` (negative or absent: up to MAX_FIND_ALL). */
  findAll(s: string, limit?: number): RegexMatch[];
  readonly groupNames: readonly string[];
}

export interface RegexOptions {
  caseInsensitive?: boolean;
}

function clip(s: string): string {
  return s.length > MAX_INPUT_LENGTH ? s.slice(0, MAX_INPUT_LENGTH) : s;
}

function toMatch(m: RegExpMatchArray | unknown[], names: readonly string[]): RegexMatch {
  const arr = m as RegExpMatchArray;
  const captures: string[] = [];
  for (let i = 0; i < arr.length; i++) captures.push(arr[i] ?? '');
  const groups: Record<string, string> = {};
  const g = arr.groups;
  for (const name of names) groups[name] = g?.[name] ?? '';
  return { match: captures[0] ?? '', index: arr.index ?? 0, groups, captures };
}

export function compileSafeRegex(pattern: string, opts: RegexOptions = {}): Result<SafeRegex> {
  if (typeof pattern !== 'string') return err('regular expression must be a string');
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return err(`regular expression is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern, opts.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (e) {
    return err(`invalid regular expression '${pattern}': ${errorMessage(e)}`);
  }
  let size: number;
  try {
    size = re.programSize();
  } catch (e) {
    return err(`invalid regular expression '${pattern}': ${errorMessage(e)}`);
  }
  if (size > MAX_PROGRAM_SIZE) {
    return err(
      `regular expression '${pattern.length > 80 ? pattern.slice(0, 80) + '...' : pattern}' is too complex (${size} instructions, limit ${MAX_PROGRAM_SIZE})`,
    );
  }
  const groupNames = Object.keys(re.namedGroups());
  const compiled: SafeRegex = {
    source: pattern,
    groupNames,
    test: (s) => re.test(clip(s)),
    exec: (s) => {
      const m = re.exec(clip(s));
      return m === null ? null : toMatch(m, groupNames);
    },
    findAll: (s, limit = -1) => {
      const max = limit < 0 ? MAX_FIND_ALL : Math.min(limit, MAX_FIND_ALL);
      const out: RegexMatch[] = [];
      if (max === 0) return out;
      for (const m of re.matchAll(clip(s))) {
        out.push(toMatch(m, groupNames));
        if (out.length >= max) break;
      }
      return out;
    },
  };
  return ok(compiled);
}

/**
 * Compiled regexes by pattern, for expression helpers whose pattern arrives at evaluation
 * time (usually a literal, so hits dominate). Bounded so distinct dynamic patterns cannot
 * grow it without limit.
 */
export class RegexCache {
  private readonly entries = new Map<string, Result<SafeRegex>>();
  constructor(private readonly capacity = 512) {}

  get(pattern: string): Result<SafeRegex> {
    const hit = this.entries.get(pattern);
    if (hit !== undefined) return hit;
    const r = compileSafeRegex(pattern);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(pattern, r);
    return r;
  }
}
