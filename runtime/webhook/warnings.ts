// Turning "these constraints apply to the object you are admitting" into the warning
// lines kubectl prints. Two concerns live here: privacy (what the requester may learn
// about policies it does not own) and the API server's limits on warnings.
//
// Privacy is a hook (`ConstraintRenderer`). The default, `viewRenderer`, renders through
// engine/privacy's constraint views, the same rules the notify stage applies, with the
// NotificationPolicy audience settings the caller resolves (built-in defaults otherwise):
// at developer audience nothing names, or reveals the details of, a policy owned by
// another namespace or by the cluster. `redactForeign` is the self-contained fallback
// used when a hook throws.
import type { Audience, Constraint, DetailLevel, ScopeVerdict, Severity } from '../../engine/model.js';
import { constraintView, DEFAULT_AUDIENCES, type ResolvedAudience } from '../../engine/privacy.js';
import type { AdmissionUser } from './admission.js';

export interface ApplicableConstraint {
  constraint: Constraint;
  verdict: ScopeVerdict;
}

export interface WarningContext {
  /** Namespace of the admitted object ('' when cluster-scoped). */
  namespace: string;
  audience: Audience;
  detail: DetailLevel;
  user: AdmissionUser;
  /** Kind and name of the admitted object, for the text. */
  kind: string;
  name: string;
}

/**
 * One rendered line for a constraint, or a `group` key to fold several constraints the
 * requester may not see individually into one line ("3 cluster policies ..."), or
 * undefined to say nothing about it.
 */
export type RenderedConstraint = { text: string } | { group: string; noun: string } | undefined;

/** The privacy hook: decide what the requester sees of one applicable constraint. */
export type ConstraintRenderer = (a: ApplicableConstraint, ctx: WarningContext) => RenderedConstraint;

/** Decide the audience from who is asking (e.g. a platform group sees everything). */
export type AudienceResolver = (user: AdmissionUser, namespace: string) => Audience;

export interface WarningOptions {
  render?: ConstraintRenderer;
  /** Severities worth a warning line; default Critical and Warning (Info is noise at deploy time). */
  severities?: readonly Severity[];
  /** At most this many lines; the rest are summarized in a final line. */
  maxLines?: number;
}

const SEVERITY_ORDER: Record<string, number> = { Critical: 0, Warning: 1, Info: 2 };

/** Is the constraint owned by the object's own namespace (so its details are the team's own)? */
export function ownedBy(c: Constraint, namespace: string): boolean {
  return c.source.namespace !== undefined && c.source.namespace !== '' && c.source.namespace === namespace;
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/**
 * Render through engine/privacy's views. `policyFor` gives the audience settings in force
 * for a namespace (from NotificationPolicies); default: the built-in audiences.
 */
export function viewRenderer(policyFor: (namespace: string, audience: Audience) => ResolvedAudience = (_ns, a) => DEFAULT_AUDIENCES[a]): ConstraintRenderer {
  return (a, ctx) => {
    const c = a.constraint;
    const v = constraintView(c, { audience: ctx.audience, namespace: ctx.namespace, detail: ctx.detail, policy: policyFor(ctx.namespace, ctx.audience) });
    const mark = c.severity === 'Critical' ? 'CRITICAL: ' : '';
    if (v.visible) {
      // Name the namespace even when it is the admitted object's: the line is read out of context.
      const ref = `${c.source.kind} ${c.source.namespace ? `${c.source.namespace}/` : ''}${c.source.name}`;
      return { text: `${mark}${ref}: ${v.summary}` };
    }
    return { group: `${c.severity}|${v.type}|${v.effect}|${v.owner}`, noun: `${mark}${v.label} (${v.effect})` };
  };
}

/** A minimal form of the privacy rule (DESIGN §6) with no dependencies: the fallback. */
export const redactForeign: ConstraintRenderer = (a, ctx) => {
  const c = a.constraint;
  const own = ownedBy(c, ctx.namespace);
  const src = c.source;
  const ref = `${src.kind} ${src.namespace ? `${src.namespace}/` : ''}${src.name}`;
  // kubectl already prints "Warning: " before each line; only Critical gets a marker.
  const mark = c.severity === 'Critical' ? 'CRITICAL: ' : '';
  if (own || ctx.audience === 'platform-admin') {
    return { text: `${mark}${ref}: ${c.summary}` };
  }
  if (ctx.audience === 'namespace-admin' && src.namespace === undefined) {
    // A namespace admin may learn that a cluster policy exists and what kind of rule it
    // is, not its selectors or ports: the summary could carry them, so it stays out.
    return { text: `${mark}${src.kind} ${src.name} (cluster policy) applies: ${c.type} ${c.effect}` };
  }
  const owner = src.namespace ? 'another namespace' : 'the cluster';
  return { group: `${c.severity}|${c.type}|${c.effect}|${owner}`, noun: `${mark}${owner === 'the cluster' ? 'a cluster policy' : 'a policy owned by another namespace'} (${c.type}, ${c.effect})` };
};

const defaultRenderer = viewRenderer();

// The API server passes warnings through as HTTP Warning headers: kubectl prints each
// after "Warning: ". It drops or truncates long ones (256 characters each, 4 KiB in
// total) and refuses non-printable text, so lines are cleaned and bounded here.
export const MAX_WARNING_CHARS = 256;
export const MAX_TOTAL_CHARS = 4096;
const PREFIX = 'potoo: ';

export function sanitizeWarning(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...clean];
  return chars.length <= MAX_WARNING_CHARS ? clean : chars.slice(0, MAX_WARNING_CHARS - 1).join('') + '…';
}

/** The warning lines for one admitted object. Pure; the caller bounds how long it may take. */
export function renderWarnings(applicable: readonly ApplicableConstraint[], ctx: WarningContext, opts: WarningOptions = {}): string[] {
  const render = opts.render ?? defaultRenderer;
  const severities = opts.severities ?? ['Critical', 'Warning'];
  const maxLines = Math.max(1, opts.maxLines ?? 8);
  const chosen = applicable
    .filter((a) => a.verdict.applies && severities.includes(a.constraint.severity))
    .sort((x, y) => (SEVERITY_ORDER[x.constraint.severity] ?? 9) - (SEVERITY_ORDER[y.constraint.severity] ?? 9) || (x.constraint.id < y.constraint.id ? -1 : 1));

  const lines: string[] = [];
  const seen = new Set<string>();
  const groups = new Map<string, { noun: string; count: number; at: number }>();
  for (const a of chosen) {
    let r: RenderedConstraint;
    try {
      r = render(a, ctx);
    } catch {
      // A broken privacy hook must not leak: fall back to the default rule.
      r = redactForeign(a, ctx);
    }
    if (!r) continue;
    if ('text' in r) {
      const line = sanitizeWarning(PREFIX + r.text);
      if (!seen.has(line)) {
        seen.add(line);
        lines.push(line);
      }
    } else {
      const g = groups.get(r.group);
      if (g) g.count++;
      else {
        groups.set(r.group, { noun: r.noun, count: 1, at: lines.length });
        lines.push(''); // placeholder keeps severity order
      }
    }
  }
  for (const g of groups.values()) {
    const text = g.count === 1 ? `${g.noun} applies to this ${ctx.kind}; ask your platform team for details` : `${g.count} × ${g.noun} apply to this ${ctx.kind}; ask your platform team for details`;
    lines[g.at] = sanitizeWarning(PREFIX + text);
  }

  const out: string[] = [];
  let total = 0;
  const hidden = (from: number): string => `${PREFIX}${lines.length - from} more constraint(s) apply; run: kubectl potoo explain ${lowerFirst(ctx.kind)}/${ctx.name || '<name>'}${ctx.namespace ? ` -n ${ctx.namespace}` : ''}`;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const reserve = i < lines.length - 1 ? MAX_WARNING_CHARS : 0;
    if (out.length === maxLines - 1 && lines.length > maxLines) {
      out.push(sanitizeWarning(hidden(i)));
      break;
    }
    if (total + line.length + reserve > MAX_TOTAL_CHARS) {
      out.push(sanitizeWarning(hidden(i)));
      break;
    }
    out.push(line);
    total += line.length;
  }
  return out;
}
