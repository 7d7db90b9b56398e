// Shared by require, correlate and notify: decide which of a stage's rules fire on one
// set of variables. Conditions run as compiled closures (engine/rules/direct.ts) when
// they can, otherwise through json-rules-engine (one RuleSet per such rule, so a slow
// rule never shares engine state with another).
import type { CompiledConditions } from '../rules/conditions.js';
import { RuleSet, type DynamicFact } from '../rules/ruleset.js';
import { collectCaptures, compileDirect, type Captures, type DirectCheck, type RunMemo } from '../rules/direct.js';

export interface RunnableRule {
  pack: string;
  name: string;
  conditions: CompiledConditions | undefined;
}

export interface Fired<R> {
  rule: R;
  /** Named regex groups from `matches` conditions, exposed as `match`. */
  captures: Captures;
}

export interface RunResult<R> {
  fired: Fired<R>[];
  errors: { rule: R; message: string }[];
}

export interface RunnerStats {
  direct: number;
  engine: number;
}

/**
 * How conditions run. `compiled` (the default): trees whose facts and operators are all
 * synchronous become closures with json-rules-engine's semantics (engine/rules/direct.ts,
 * checked against json-rules-engine by a property test), anything else goes through
 * json-rules-engine. `engine`: every rule through json-rules-engine, the reference.
 */
export type ConditionMode = 'compiled' | 'engine';

let defaultMode: ConditionMode = 'compiled';

/** Chosen once by the runtime (flag or POTOO_CONDITIONS); runners built afterwards use it. */
export function setConditionMode(mode: ConditionMode): void {
  defaultMode = mode;
}

export function conditionMode(): ConditionMode {
  return defaultMode;
}

export class RuleRunner<R extends RunnableRule> {
  private readonly direct = new Map<R, DirectCheck>();
  private readonly engines = new Map<R, RuleSet<R>>();
  readonly stats: RunnerStats = { direct: 0, engine: 0 };

  constructor(
    rules: readonly R[],
    private readonly dynamic: Readonly<Record<string, DynamicFact>> = {},
  ) {
    for (const r of rules) {
      if (!r.conditions) {
        this.direct.set(r, () => true);
        continue;
      }
      const d = defaultMode === 'compiled' ? compileDirect(r.conditions.tree, dynamic) : undefined;
      if (d) this.direct.set(r, d);
      else this.engines.set(r, new RuleSet([{ id: `${r.pack}/${r.name}`, conditions: r.conditions, payload: r }], { ...dynamic }));
    }
  }

  /** True when every rule runs without json-rules-engine (so `runSync` never returns undefined). */
  get allDirect(): boolean {
    return this.engines.size === 0;
  }

  /** Evaluate `rules` (a subset of the runner's, in order) synchronously; undefined if one needs the engine. */
  runSync(vars: Record<string, unknown>, rules: readonly R[]): RunResult<R> | undefined {
    const out: RunResult<R> = { fired: [], errors: [] };
    const memo: RunMemo = new Map();
    for (const r of rules) {
      const d = this.direct.get(r);
      if (!d) return undefined;
      this.stats.direct++;
      const captures: Captures = {};
      try {
        if (d(vars, captures, memo)) out.fired.push({ rule: r, captures });
      } catch (err) {
        out.errors.push({ rule: r, message: err instanceof Error ? err.message : String(err) });
      }
    }
    return out;
  }

  async run(vars: Record<string, unknown>, rules: readonly R[]): Promise<RunResult<R>> {
    const sync = this.runSync(vars, rules);
    if (sync) return sync;
    const out: RunResult<R> = { fired: [], errors: [] };
    for (const r of rules) {
      const d = this.direct.get(r);
      if (d) {
        this.stats.direct++;
        const captures: Captures = {};
        try {
          if (d(vars, captures)) out.fired.push({ rule: r, captures });
        } catch (err) {
          out.errors.push({ rule: r, message: err instanceof Error ? err.message : String(err) });
        }
        continue;
      }
      const rs = this.engines.get(r);
      if (!rs) continue;
      this.stats.engine++;
      const res = await rs.evaluate(vars);
      for (const e of res.errors) out.errors.push({ rule: r, message: e.message });
      if (res.fired.length > 0 && r.conditions) {
        out.fired.push({ rule: r, captures: collectCaptures(r.conditions.tree, vars, this.dynamic) });
      }
    }
    return out;
  }
}
