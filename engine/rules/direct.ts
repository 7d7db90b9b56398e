// Condition trees compiled to plain closures with json-rules-engine's semantics.
//
// json-rules-engine costs 100s of microseconds per run (promises, almanac, priority
// sorting); correlation must handle >= 10,000 signals per second. Every condition
// Potoo's loader produces uses a fixed operator set over facts that are either plain
// variables or synchronous dynamic facts, so the same tree can be evaluated directly:
// same path resolver, same operator functions, same empty-list and non-object-path
// rules. Trees using anything else (a `{fact: ...}` reference as a value, an operator
// registered elsewhere) are not compiled and run through json-rules-engine instead.
// direct.test.ts checks the two agree on generated facts.
//
// The direct path also records regex captures: a `matches` leaf that holds contributes
// its named groups, which stages expose to later expressions as `match.<name>`.
import { MAX_INPUT_LENGTH } from '../expr/regex.js';
import { isRecord } from '../json.js';
import { requiredLiteral } from './literal.js';
import { CEL_FACT, VARS_FACT, type EngineCondition } from './conditions.js';
import { ENGINE_DEFAULTS, OPERATORS, OVERRIDES, celFor, regexFor } from './operators.js';
import { resolvePath, type DynamicFact } from './ruleset.js';

type Vars = Record<string, unknown>;
/** Named groups captured by `matches` leaves that held; the first capture of a name wins. */
export type Captures = Record<string, string>;
/**
 * Results of CEL conditions within one run over one set of variables, by expression: the
 * same condition (a YAML anchor) often guards several rules, and CEL is pure.
 */
export type RunMemo = Map<object, boolean>;
export type DirectCheck = (vars: Vars, captures?: Captures, memo?: RunMemo) => boolean;

type Op = (fact: unknown, value: unknown) => boolean;

/** The operator table json-rules-engine ends up with in RuleSet (defaults, then Potoo's, then overrides). */
const OPS: Record<string, Op> = { ...ENGINE_DEFAULTS, ...OPERATORS, ...OVERRIDES };

type Leaf = Extract<EngineCondition, { fact: string }>;

type FactReader = (vars: Vars, memo?: RunMemo) => unknown;

function factReader(leaf: Leaf, dynamic: Readonly<Record<string, DynamicFact>>): FactReader | undefined {
  const params = leaf.params ?? {};
  let base: FactReader;
  if (leaf.fact === CEL_FACT) {
    const cel = celFor(String(params.expr));
    if (!cel) return undefined;
    base = (vars, memo) => {
      const hit = memo?.get(cel);
      if (hit !== undefined) return hit;
      const r = cel.evaluate(vars);
      const held = r.ok && r.value === true;
      memo?.set(cel, held);
      return held;
    };
  } else if (leaf.fact === VARS_FACT) {
    base = (vars) => vars;
  } else if (Object.prototype.hasOwnProperty.call(dynamic, leaf.fact)) {
    const fn = dynamic[leaf.fact] as DynamicFact;
    base = (vars) => fn(params, vars);
  } else {
    const name = leaf.fact;
    base = (vars) => vars[name];
  }
  const path = leaf.path;
  if (!path) return base;
  return (vars, memo) => {
    const v = base(vars, memo);
    return v !== null && typeof v === 'object' ? resolvePath(v, path) : v;
  };
}

function compileNode(node: EngineCondition, dynamic: Readonly<Record<string, DynamicFact>>): DirectCheck | undefined {
  if ('all' in node || 'any' in node) {
    const list = 'all' in node ? node.all : node.any;
    const kids: DirectCheck[] = [];
    for (const c of list) {
      const k = compileNode(c, dynamic);
      if (!k) return undefined;
      kids.push(k);
    }
    if (kids.length === 0) return () => true;
    if ('all' in node) return (vars, cap, memo) => kids.every((k) => k(vars, cap, memo));
    return (vars, cap, memo) => kids.some((k) => k(vars, cap, memo));
  }
  if ('not' in node) {
    const k = compileNode(node.not, dynamic);
    // Captures under `not` would come from a match that made the rule fail; drop them.
    return k ? (vars, _cap, memo) => !k(vars, undefined, memo) : undefined;
  }
  const leaf = node;
  if (isRecord(leaf.value) && Object.prototype.hasOwnProperty.call(leaf.value, 'fact')) return undefined;
  const op = OPS[leaf.operator];
  if (!op) return undefined;
  const read = factReader(leaf, dynamic);
  if (!read) return undefined;
  const value = leaf.value;
  if (leaf.operator === 'matches' && typeof value === 'string') {
    const re = regexFor(value);
    if (!re) return () => false;
    const named = re.groupNames.length > 0;
    // A literal every match contains: most messages fail this substring test, and RE2
    // (captures especially) costs microseconds. Inputs are cut as the regex cuts them.
    const lit = requiredLiteral(value);
    return (vars, cap, memo) => {
      const f = read(vars, memo);
      if (typeof f !== 'string') return false;
      if (lit !== undefined && !(f.length > MAX_INPUT_LENGTH ? f.slice(0, MAX_INPUT_LENGTH) : f).includes(lit)) return false;
      if (!cap || !named) return re.test(f);
      // Without a literal, the cheap test screens out misses before the capturing exec.
      if (lit === undefined && !re.test(f)) return false;
      const m = re.exec(f);
      if (!m) return false;
      for (const [k, v] of Object.entries(m.groups)) if (!(k in cap)) cap[k] = v;
      return true;
    };
  }
  return (vars, _cap, memo) => op(read(vars, memo), value);
}

/**
 * A closure equivalent to running json-rules-engine on this tree, or undefined when the
 * tree needs the engine (fact references as values, unknown operators, broken CEL).
 * `dynamic` are the stage's parameterized facts, called synchronously.
 */
export function compileDirect(tree: EngineCondition, dynamic: Readonly<Record<string, DynamicFact>> = {}): DirectCheck | undefined {
  return compileNode(tree, dynamic);
}

/**
 * Captures for a rule that fired through json-rules-engine: every `matches` leaf whose
 * fact is a plain variable is re-run, and the ones that hold contribute their groups.
 */
export function collectCaptures(tree: EngineCondition, vars: Vars, dynamic: Readonly<Record<string, DynamicFact>> = {}): Captures {
  const out: Captures = {};
  // Same short-circuit order as the direct path when the tree compiles; otherwise every
  // plain-variable `matches` leaf that holds (a superset: `any` branches after a true one too).
  const d = compileDirect(tree, dynamic);
  if (d) {
    try {
      d(vars, out);
    } catch {
      // The engine reported the failure already; captures are best effort.
    }
    return out;
  }
  const walk = (n: EngineCondition): void => {
    if ('all' in n) n.all.forEach(walk);
    else if ('any' in n) n.any.forEach(walk);
    else if ('not' in n) return;
    else if (n.operator === 'matches' && typeof n.value === 'string') {
      const read = factReader(n, dynamic);
      const re = regexFor(n.value);
      const f = read?.(vars);
      if (!re || typeof f !== 'string') return;
      const m = re.exec(f);
      if (m) for (const [k, v] of Object.entries(m.groups)) if (!(k in out)) out[k] = v;
    }
  };
  walk(tree);
  return out;
}

/**
 * Values a tree requires of one field: when the root (or a top-level `all`) has a leaf
 * `{fact in facts, path, operator: equal|in}`, only those values can fire the rule. Used
 * to index rules (e.g. correlation rules by event reason); undefined = no requirement.
 */
export function requiredValues(tree: EngineCondition, facts: readonly string[], path: string): Set<string> | undefined {
  const leaves: EngineCondition[] = 'all' in tree ? tree.all : 'fact' in tree ? [tree] : [];
  let out: Set<string> | undefined;
  for (const l of leaves) {
    if (!('fact' in l) || !facts.includes(l.fact) || l.path !== path) continue;
    let vals: string[] | undefined;
    if (l.operator === 'equal' && typeof l.value === 'string') vals = [l.value];
    else if (l.operator === 'in' && Array.isArray(l.value) && l.value.every((v) => typeof v === 'string')) vals = l.value as string[];
    if (!vals) continue;
    const next: Set<string> = new Set(vals);
    out = out ? new Set([...out].filter((v) => next.has(v))) : next;
  }
  return out;
}
