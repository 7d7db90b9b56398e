// Condition trees as authors write them -> json-rules-engine conditions, checked at load.
import type { PathSegment } from '../source/yaml.js';
import type { Condition, ConditionTree, Section } from '../pack/types.js';
import { compileJsonPath } from '../expr/jsonpath.js';
import { compileSafeRegex } from '../expr/regex.js';
import { compileCel } from '../expr/cel.js';
import type { ExprError } from '../expr/result.js';
import { OPERATOR_NAMES, celOperand, regexOperand } from './operators.js';

/** The facts each stage offers to conditions; a condition naming another fact is an error. */
export const STAGE_FACTS: Record<Section, readonly string[]> = {
  adapters: ['object', 'namespace', 'gvr'],
  requirements: ['workload', 'object', 'namespace', 'selecting', 'objects'],
  correlations: ['event', 'flow', 'admission', 'message', 'signal', 'namespace', 'workload'],
  notifications: ['attribution', 'finding', 'constraint', 'subject', 'namespace', 'channels'],
};

/** The fact used for `{cel: ...}` conditions; internal, not for authors. */
export const CEL_FACT = 'potoo:cel';
/** The runtime fact holding the stage's CEL variables. */
export const VARS_FACT = 'potoo:vars';

/** json-rules-engine's condition JSON. */
export type EngineCondition =
  | { all: EngineCondition[] }
  | { any: EngineCondition[] }
  | { not: EngineCondition }
  | { fact: string; path?: string; operator: string; value: unknown; params?: Record<string, unknown> };

export interface CompiledConditions {
  tree: EngineCondition;
}

export interface ConditionError {
  path: PathSegment[];
  message: string;
}

export type ConditionsResult = { ok: true; value: CompiledConditions } | { ok: false; errors: ConditionError[] };

/** Operators whose value may be omitted (they test the fact alone). */
const UNARY = new Set(['exists', 'absent', 'empty', 'notEmpty']);
const MAX_NESTING = 32;

function celMessage(e: ExprError): string {
  return `CEL: ${e.message}${e.column ? ` (column ${e.column})` : ''}`;
}

export function compileConditions(tree: ConditionTree, facts: readonly string[]): ConditionsResult {
  const errors: ConditionError[] = [];
  const out = compileNode(tree, [], facts, errors, 0);
  if (errors.length || !out) return { ok: false, errors: errors.length ? errors : [{ path: [], message: 'empty condition' }] };
  return { ok: true, value: { tree: out } };
}

function compileNode(
  node: Condition,
  path: PathSegment[],
  facts: readonly string[],
  errors: ConditionError[],
  depth: number,
): EngineCondition | undefined {
  if (depth > MAX_NESTING) {
    errors.push({ path, message: `conditions nest deeper than ${MAX_NESTING} levels` });
    return undefined;
  }
  if ('all' in node || 'any' in node) {
    const key = 'all' in node ? 'all' : 'any';
    const list = ((node as unknown as Record<string, Condition[]>)[key]) ?? [];
    const children = list.map((c, i) => compileNode(c, [...path, key, i], facts, errors, depth + 1));
    if (children.some((c) => !c)) return undefined;
    return key === 'all' ? { all: children as EngineCondition[] } : { any: children as EngineCondition[] };
  }
  if ('not' in node) {
    const child = compileNode(node.not, [...path, 'not'], facts, errors, depth + 1);
    return child ? { not: child } : undefined;
  }
  if ('cel' in node) {
    const c = compileCel(node.cel);
    if (!c.ok) {
      errors.push({ path: [...path, 'cel'], message: celMessage(c.error) });
      return undefined;
    }
    celOperand(node.cel, c.value);
    return { fact: CEL_FACT, params: { expr: node.cel }, operator: 'equal', value: true };
  }
  const leaf = node;
  let ok = true;
  if (!facts.includes(leaf.fact)) {
    errors.push({ path: [...path, 'fact'], message: `unknown fact ${leaf.fact}; this stage offers ${facts.join(', ')}` });
    ok = false;
  }
  if (!OPERATOR_NAMES.has(leaf.operator)) {
    errors.push({ path: [...path, 'operator'], message: `unknown operator ${leaf.operator}; known: ${[...OPERATOR_NAMES].join(', ')}` });
    ok = false;
  }
  if (leaf.path !== undefined) {
    const p = compileJsonPath(leaf.path);
    if (!p.ok) {
      errors.push({ path: [...path, 'path'], message: `JSONPath: ${p.error.message}` });
      ok = false;
    }
  }
  if (leaf.value === undefined && !UNARY.has(leaf.operator)) {
    errors.push({ path: [...path, 'value'], message: `operator ${leaf.operator} needs a value` });
    ok = false;
  }
  if (leaf.operator === 'matches' || leaf.operator === 'notMatches') {
    if (typeof leaf.value !== 'string') {
      errors.push({ path: [...path, 'value'], message: `operator ${leaf.operator} needs a regular expression string` });
      ok = false;
    } else {
      const r = compileSafeRegex(leaf.value);
      if (!r.ok) {
        errors.push({ path: [...path, 'value'], message: `regex: ${r.error.message}` });
        ok = false;
      } else {
        regexOperand(leaf.value, r.value);
      }
    }
  }
  if (leaf.operator === 'cel') {
    if (typeof leaf.value !== 'string') {
      errors.push({ path: [...path, 'value'], message: 'operator cel needs a CEL expression over `self` (the fact value)' });
      ok = false;
    } else {
      const c = compileCel(leaf.value);
      if (!c.ok) {
        errors.push({ path: [...path, 'value'], message: celMessage(c.error) });
        ok = false;
      } else {
        celOperand(leaf.value, c.value);
      }
    }
  }
  if (!ok) return undefined;
  const out: EngineCondition = { fact: leaf.fact, operator: leaf.operator, value: leaf.value === undefined ? true : leaf.value };
  if (leaf.path !== undefined) out.path = leaf.path;
  if (leaf.params !== undefined) out.params = leaf.params;
  return out;
}
