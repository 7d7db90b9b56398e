// Shared by every stage: evaluate compiled output values, turning failures into problems.
import type { CompiledValue } from '../expr/value.js';

export type Vars = Record<string, unknown>;
export type ReportProblem = (field: string, message: string) => void;

/** Evaluate one compiled value; `undefined` means it failed and a problem was reported. */
export function evalField(value: CompiledValue, vars: Vars, field: string, problem: ReportProblem): unknown {
  const r = value.evaluate(vars);
  if (r.ok) return r.value;
  problem(field, r.error.message);
  return undefined;
}

/** Bind `let` values in order (each sees the ones before it); `undefined` when one fails. */
export function bindLets(lets: readonly [string, CompiledValue][], vars: Vars, problem: ReportProblem): Vars | undefined {
  if (lets.length === 0) return vars;
  const out: Vars = { ...vars };
  for (const [name, value] of lets) {
    const v = evalField(value, out, `let.${name}`, problem);
    if (v === undefined) return undefined;
    out[name] = v;
  }
  return out;
}

/** A rule's `when`: true when absent or true; false (reporting a non-boolean) otherwise. */
export function whenHolds(when: CompiledValue | undefined, vars: Vars, problem: ReportProblem): boolean {
  if (!when) return true;
  const w = evalField(when, vars, 'when', problem);
  if (w === true) return true;
  if (w !== false && w !== undefined) problem('when', `must be true or false, got ${JSON.stringify(w)}`);
  return false;
}

/** A rule's `forEach` list (null is empty); `undefined` when it failed or is not a list (reported). */
export function evalForEach(forEach: CompiledValue, vars: Vars, problem: ReportProblem): unknown[] | undefined {
  const list = evalField(forEach, vars, 'forEach', problem);
  if (list === undefined) return undefined;
  if (list !== null && !Array.isArray(list)) {
    problem('forEach', `must evaluate to a list, got ${typeName(list)}`);
    return undefined;
  }
  return (list ?? []) as unknown[];
}

/** `null`, `list`, `map` or the typeof name, for problem messages. */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'map' : typeof v;
}
