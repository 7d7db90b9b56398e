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
