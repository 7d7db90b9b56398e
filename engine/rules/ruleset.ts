// A set of compiled rules evaluated by json-rules-engine over a stage's facts.
import { Engine, type Almanac, type RuleProperties, type TopLevelCondition } from 'json-rules-engine';
import { compileJsonPath, type JsonPathQuery } from '../expr/jsonpath.js';
import { CEL_FACT, VARS_FACT, type CompiledConditions } from './conditions.js';
import { OPERATORS, OVERRIDES, celFor } from './operators.js';

export interface RuleEntry<R> {
  /** Unique within the set. */
  id: string;
  conditions: CompiledConditions | undefined;
  payload: R;
}

/** A fact computed on demand from the condition's params and the stage's variables. */
export type DynamicFact = (params: Record<string, unknown>, vars: Record<string, unknown>) => unknown;

export interface RuleSetResult<R> {
  fired: R[];
  /** Conditions that threw (a bad fact shape, an operator error): reported, never fatal. */
  errors: { id: string; message: string }[];
}

/** Compiled paths, with whether each can select several nodes; null when it does not compile. */
const paths = new Map<string, { query: JsonPathQuery; multi: boolean } | null>();

/**
 * json-rules-engine's default resolver returns one value for one match and a list for
 * several, so `$.ports[*].name` changes type with the data. Ours is stable: a path that
 * can select several nodes always yields a list; a plain path yields its value.
 */
export function resolvePath(value: object, path: string): unknown {
  let p = paths.get(path);
  if (p === undefined) {
    const c = compileJsonPath(path);
    p = c.ok ? { query: c.value, multi: /[*?]|\.\.|\[[^\]]*[:,]/.test(path) } : null;
    paths.set(path, p);
  }
  if (!p) return undefined;
  return p.multi ? p.query.all(value) : p.query.first(value);
}

/**
 * Rules without conditions always fire and skip the engine. Runs are sequential: one
 * json-rules-engine instance shares status across concurrent runs (RESEARCH.md), so
 * `evaluate` queues calls instead of overlapping them.
 */
export class RuleSet<R> {
  private readonly engine: Engine | undefined;
  private readonly unconditional: R[] = [];
  private readonly byId = new Map<string, R>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(entries: RuleEntry<R>[], facts: Record<string, DynamicFact> = {}) {
    const conditional = entries.filter((e) => e.conditions);
    for (const e of entries) {
      this.byId.set(e.id, e.payload);
      if (!e.conditions) this.unconditional.push(e.payload);
    }
    if (conditional.length === 0) return;
    const engine = new Engine([], { allowUndefinedFacts: true, pathResolver: resolvePath });
    for (const [name, fn] of Object.entries(OPERATORS)) engine.addOperator(name, fn);
    for (const [name, fn] of Object.entries(OVERRIDES)) {
      engine.removeOperator(name);
      engine.addOperator(name, fn);
    }
    engine.addFact(CEL_FACT, async (params: Record<string, unknown>, almanac: Almanac) => {
      // Compiled once, at load (compiling costs ~100x an evaluation).
      const c = celFor(String(params.expr));
      if (!c) return false;
      const vars = (await almanac.factValue(VARS_FACT)) as Record<string, unknown>;
      const r = c.evaluate(vars);
      return r.ok && r.value === true;
    });
    for (const [name, fn] of Object.entries(facts)) {
      engine.addFact(name, async (params: Record<string, unknown>, almanac: Almanac) => {
        const vars = (await almanac.factValue(VARS_FACT)) as Record<string, unknown>;
        return fn(params, vars);
      }, { cache: false });
    }
    for (const e of conditional) {
      const rule: RuleProperties = {
        name: e.id,
        conditions: (e.conditions as CompiledConditions).tree as unknown as TopLevelCondition,
        event: { type: e.id },
      };
      engine.addRule(rule);
    }
    this.engine = engine;
  }

  get size(): number {
    return this.byId.size;
  }

  /** Evaluate every rule over `vars` (each var is also a fact); fired rules keep their declared order. */
  evaluate(vars: Record<string, unknown>): Promise<RuleSetResult<R>> {
    const run = this.queue.then(() => this.run(vars));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(vars: Record<string, unknown>): Promise<RuleSetResult<R>> {
    const result: RuleSetResult<R> = { fired: [...this.unconditional], errors: [] };
    if (!this.engine) return result;
    const facts: Record<string, unknown> = { ...vars, [VARS_FACT]: vars };
    try {
      const { events } = await this.engine.run(facts);
      result.fired = [];
      const firedSet = new Set(events.map((e) => e.type));
      for (const [id, payload] of this.byId) {
        if (firedSet.has(id) || this.unconditional.includes(payload)) result.fired.push(payload);
      }
    } catch (err) {
      result.errors.push({ id: '*', message: err instanceof Error ? err.message : String(err) });
    }
    return result;
  }
}
