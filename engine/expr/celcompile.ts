// CEL fast path: a checked cel-js AST compiled into JavaScript closures.
//
// Why. Adapting a NetworkPolicy evaluates about twenty CEL expressions; cel-js interprets
// each by walking the AST and, because rule-pack variables are `dyn`, resolves operator
// and function overloads from runtime types on every node. That was half the adapt
// stage's time. The closures here do the same work for the value shapes rule packs
// meet (JSON maps and lists, strings, ints, doubles, bools, null, optionals, type values).
//
// Soundness. The interpreter stays the definition. A closure either returns exactly what
// the interpreter would, or throws; on any throw the caller evaluates the expression with
// the interpreter from scratch. So a closure never decides an error, an error absorbed
// by `||`/`&&`/`exists`, an overflow, a heterogeneous comparison or any value it does not
// recognise: it gives up and the interpreter answers (value or error, with its message).
// An AST with a node or function this file does not know is not compiled at all.
// engine/expr/celcompile.test.ts and test/packs/cel-fastpath.test.ts check that both paths
// agree on a table of expressions, on generated values, on every built-in pack test and on
// the corpus. (`orValue`, `or`, `has` and `cel.bind` are cel-js macros, compiled here too.)
import { Optional } from '@marcbachmann/cel-js';

/** Thrown to hand the evaluation to the interpreter; never escapes `evaluate`. */
const GIVE_UP: unique symbol = Symbol('potoo.cel.giveUp');

const MAX_INT = 9223372036854775807n;
const MIN_INT = -9223372036854775808n;
const NONE: Optional = Optional.none();

export type CompiledFast = (vars: Record<string, unknown>) => unknown;

/** What the compiler needs to know about an environment. */
export interface FastEnv {
  /** `type(x)` results by kind (`map`, `list`, `string`, `int`, `double`, `bool`, `null_type`, `type`). */
  types: ReadonlyMap<string, object>;
  /** Handlers Potoo registered (they do not use `this` and take the values cel-js would pass). */
  ownHandlers: WeakSet<object>;
  /**
   * A variable's value as CEL sees it (closures receive the caller's JSON variables), or
   * undefined when the interpreter must read it.
   */
  variable: (json: unknown) => unknown;
  /**
   * False for a container the interpreter would fail on (a map with its own `constructor`
   * key inside): handler results are checked, since the closures pass them on unread.
   */
  passable: (v: object) => boolean;
  /** Classes registered as CEL types, by type name (a parameter of that type is an instance). */
  classes: ReadonlyMap<string, abstract new (...args: never[]) => object>;
}

// Minimal view of cel-js's checked AST (lib/parser.js ASTNode, lib/registry.js types).
interface CelType {
  kind: string;
  name?: string;
  keyType?: CelType;
  valueType?: CelType;
}
interface Decl {
  handler: (...a: unknown[]) => unknown;
  argTypes: CelType[];
  receiverType: CelType | null;
}
interface MacroInfo {
  /** has(): the field chain, innermost last. */
  macroHasProps?: Node[];
  /** optional.orValue / optional.or: the receiver and the (lazily evaluated) argument. */
  functionDesc?: string;
  receiver?: Node;
  arg?: Node;
  /** cel.bind(var, val, exp). */
  var?: string;
  val?: Node;
  exp?: Node;
}
interface Comprehension {
  iterable: Node;
  iterVarName: string;
  init: Node;
  step: Node;
  condition?: (accu: unknown) => boolean;
  result: (accu: unknown) => unknown;
  kind?: string;
}
interface Node {
  op: string;
  args: unknown;
  checkedType?: CelType;
  meta: { alternate?: Node; macro?: MacroInfo };
  candidates?: { declarations: Decl[] };
}

interface Cell {
  value: unknown;
}
interface Scope {
  readonly vars: ReadonlyMap<string, Cell>;
  readonly accu: Cell | undefined;
}

type Fn = (vars: Record<string, unknown>) => unknown;

class Unsupported {
  constructor(readonly what: string) {}
}

/** Compiles a checked AST, or says what it uses that the fast path does not cover. */
export function compileFast(ast: unknown, env: FastEnv): { fn: CompiledFast } | { unsupported: string } {
  try {
    return { fn: new Compiler(env).node(ast as Node, { vars: new Map(), accu: undefined }) };
  } catch (e) {
    if (e instanceof Unsupported) return { unsupported: e.what };
    throw e;
  }
}

function giveUp(): never {
  throw GIVE_UP;
}

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function isPlainMap(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const c = (v as { constructor?: unknown }).constructor;
  return c === Object || c === undefined;
}

/** A value the interpreter would hand on unchanged: JSON-shaped or an Optional. */
function plain(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'bigint':
    case 'number':
      return v;
    case 'object':
      if (v === null || Array.isArray(v) || isPlainMap(v)) return v;
  }
  return giveUp();
}

type ParamCheck = (v: unknown) => boolean;

const ANY: ParamCheck = () => true;
const KIND_CHECKS: Record<string, ParamCheck> = {
  string: (v) => typeof v === 'string',
  int: (v) => typeof v === 'bigint',
  double: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
  null: (v) => v === null,
  list: Array.isArray,
  map: isPlainMap,
};

/**
 * The runtime test cel-js applies to a value of static type `t` (its valueTypeMatchers:
 * the top-level kind only), or undefined for a type the fast path leaves to the interpreter.
 */
function kindCheck(t: CelType | undefined, classes: FastEnv['classes']): ParamCheck | undefined {
  if (!t) return undefined;
  if (t.kind === 'dyn' || t.kind === 'param') return ANY;
  if (t.kind === 'list' || t.kind === 'map') return KIND_CHECKS[t.kind];
  const byName = KIND_CHECKS[t.name ?? ''];
  if (byName) return byName;
  const ctor = classes.get(t.name ?? '');
  return ctor ? (v) => v instanceof ctor : undefined;
}

function stringSize(s: string): bigint {
  let n = 0;
  for (const _ of s) n++;
  return BigInt(n);
}

function sizeOf(v: unknown): bigint {
  if (typeof v === 'string') return stringSize(v);
  if (Array.isArray(v)) return BigInt(v.length);
  if (isPlainMap(v)) return BigInt(Object.keys(v).length);
  return giveUp();
}

function int(v: bigint): bigint {
  return v <= MAX_INT && v >= MIN_INT ? v : giveUp();
}

/** CEL `==` on runtime values, where the answer is certain; gives up otherwise. */
function equal(a: unknown, b: unknown, types: ReadonlySet<object>): boolean {
  if (a === b) return true;
  const ta = typeof a;
  const tb = typeof b;
  if (ta !== 'object' && tb !== 'object') {
    if ((ta === 'bigint' && tb === 'number') || (ta === 'number' && tb === 'bigint')) return (a as number) == (b as number);
    if (ta === tb || isScalar(ta)) return false;
    return giveUp();
  }
  // null against a scalar, map or list is false; two type values are equal only if identical.
  if (a === null || b === null) {
    const other = a === null ? b : a;
    if (isScalar(typeof other) || Array.isArray(other) || isPlainMap(other)) return false;
    return giveUp();
  }
  if (types.has(a as object) && types.has(b as object)) return false;
  return giveUp();
}

function isScalar(t: string): boolean {
  return t === 'string' || t === 'boolean' || t === 'bigint' || t === 'number';
}

/** `x in list` for a scalar or null `x` (cel-js isEqual: identity, or int against double). */
function listIncludes(x: unknown, list: unknown[]): boolean {
  if (typeof x === 'object' && x !== null) return giveUp();
  const numeric = typeof x === 'bigint' || typeof x === 'number';
  for (let i = 0; i < list.length; i++) {
    const e = list[i];
    if (e === x) return true;
    if (numeric && (typeof e === 'bigint' || typeof e === 'number') && typeof e !== typeof x && (e as number) == (x as number)) return true;
  }
  return false;
}

/** Ordering of two strings, or two numbers (int and double mix, as cel-js's overloads do). */
function compare(a: unknown, b: unknown): number {
  const ta = typeof a;
  const tb = typeof b;
  const numeric = (ta === 'bigint' || ta === 'number') && (tb === 'bigint' || tb === 'number');
  if (!numeric && !(ta === 'string' && tb === 'string')) return giveUp();
  const x = a as string | number;
  const y = b as string | number;
  if (x < y) return -1;
  if (x > y) return 1;
  if (x == y) return 0;
  return giveUp(); // NaN
}

class Compiler {
  private readonly typeSet: ReadonlySet<object>;
  constructor(private readonly env: FastEnv) {
    this.typeSet = new Set(env.types.values());
  }

  node(n: Node, scope: Scope): Fn {
    const meta = n.meta;
    if (meta.alternate) return this.node(meta.alternate, scope);
    if (meta.macro) return this.macro(n, meta.macro, scope);
    switch (n.op) {
      case 'value': {
        const v = n.args;
        if (typeof v === 'object' && v !== null && !this.typeSet.has(v)) throw new Unsupported('literal object');
        return () => v;
      }
      case 'id':
        return this.id(n.args as string, n, scope);
      case '.':
      case '.?':
      case '[]':
      case '[?]': {
        const f = this.access(n, scope);
        if (n.checkedType?.kind !== 'optional') return f;
        return (v) => {
          const x = f(v);
          return x === undefined ? NONE : Optional.of(x);
        };
      }
      case '?:': {
        const [c, a, b] = (n.args as Node[]).map((x) => this.node(x, scope)) as [Fn, Fn, Fn];
        return (v) => {
          const t = c(v);
          return t === true ? a(v) : t === false ? b(v) : giveUp();
        };
      }
      case '||':
      case '&&': {
        const [a, b] = (n.args as Node[]).map((x) => this.node(x, scope)) as [Fn, Fn];
        const decisive = n.op === '||';
        return (v) => {
          const l = a(v);
          if (l === decisive) return decisive;
          if (l !== !decisive) return giveUp();
          const r = b(v);
          return typeof r === 'boolean' ? r : giveUp();
        };
      }
      case '!_': {
        const a = this.node(n.args as Node, scope);
        return (v) => {
          const x = a(v);
          return typeof x === 'boolean' ? !x : giveUp();
        };
      }
      case '-_': {
        const a = this.node(n.args as Node, scope);
        return (v) => {
          const x = a(v);
          if (typeof x === 'bigint') return int(-x);
          return typeof x === 'number' ? -x : giveUp();
        };
      }
      case 'list': {
        const items = (n.args as Node[]).map((x) => this.node(x, scope));
        return (v) => {
          const out = new Array<unknown>(items.length);
          for (let i = 0; i < items.length; i++) out[i] = (items[i] as Fn)(v);
          return out;
        };
      }
      case 'map':
        return this.mapLiteral(n.args as [Node, Node][], scope);
      case 'call':
      case 'rcall':
        return this.call(n, scope);
      case 'comprehension':
        return this.comprehension(n.args as Comprehension, scope);
      case 'accuValue':
      case 'accuInc':
      case 'accuPush':
        return this.accu(n, scope);
      case '==':
      case '!=':
      case 'in':
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.binary(n, scope);
      default:
        throw new Unsupported(n.op);
    }
  }

  private id(name: string, n: Node, scope: Scope): Fn {
    const cell = scope.vars.get(name);
    if (cell) return () => cell.value;
    if (n.checkedType?.kind !== 'dyn') throw new Unsupported(`typed variable ${name}`);
    const read = this.env.variable;
    return (v) => {
      const x = v[name];
      const c = x === undefined ? undefined : read(x);
      return c === undefined ? giveUp() : c;
    };
  }

  /**
   * An optional-typed node as its value, or `undefined` when empty: `.?` chains and
   * `orValue` then allocate no Optional per step.
   */
  private maybe(n: Node, scope: Scope): Fn {
    const m = n.meta.alternate ?? n;
    if (m.checkedType?.kind === 'optional' && !m.meta.macro && (m.op === '.' || m.op === '.?' || m.op === '[]' || m.op === '[?]')) return this.access(m, scope);
    const f = this.node(n, scope);
    return (v) => {
      const o = f(v);
      if (!(o instanceof Optional)) return giveUp();
      return o.hasValue() ? o.value() : undefined;
    };
  }

  /**
   * `.f`, `.?f`, `[k]`, `[?k]` on JSON maps (and lists, by int index). Returns the value;
   * when the node is optional-typed, `undefined` stands for an empty optional. On a
   * statically typed map or list, the value must also pass cel-js's element-type check.
   */
  private access(n: Node, scope: Scope): Fn {
    const [leftNode, keyNode] = n.args as [Node, unknown];
    const isOptional = n.checkedType?.kind === 'optional';
    const leftType = leftNode.checkedType;
    const onOptional = leftType?.kind === 'optional';
    const staticType = onOptional ? leftType?.valueType : leftType;
    const check = staticType?.kind === 'dyn' ? ANY : staticType?.kind === 'map' || staticType?.kind === 'list' ? kindCheck(staticType.valueType, this.env.classes) : undefined;
    if (!check) throw new Unsupported(`access on ${leftType?.kind}`);
    const left = onOptional ? this.maybe(leftNode, scope) : this.node(leftNode, scope);
    const literalKey = n.op === '.' || n.op === '.?';
    const key = literalKey ? undefined : this.node(keyNode as Node, scope);
    const k0 = keyNode;
    return (v) => {
      const obj = left(v);
      // An empty optional on the left: empty.
      if (obj === undefined) return undefined;
      const k = key ? key(v) : k0;
      if (isPlainMap(obj)) {
        if (typeof k !== 'string') return giveUp();
        const x = hasOwn(obj, k) ? obj[k] : undefined;
        if (x === undefined) return isOptional ? undefined : giveUp();
        return check(x) ? plain(x) : giveUp();
      }
      if (Array.isArray(obj) && !isOptional && typeof k === 'bigint') {
        const x = k >= 0n && k < BigInt(obj.length) ? obj[Number(k)] : undefined;
        return x !== undefined && check(x) ? plain(x) : giveUp();
      }
      return giveUp();
    };
  }

  private mapLiteral(entries: [Node, Node][], scope: Scope): Fn {
    const compiled = entries.map(([k, e]) => [this.node(k, scope), this.node(e, scope)] as const);
    return (v) => {
      const out: Record<string, unknown> = {};
      for (const [k, e] of compiled) {
        const key = k(v);
        const val = e(v);
        if (typeof key !== 'string') return giveUp();
        // cel-js drops these keys from map literals.
        if (key === '__proto__' || key === 'constructor' || key === 'prototype') continue;
        out[key] = val;
      }
      return out;
    };
  }

  private binary(n: Node, scope: Scope): Fn {
    const [a, b] = (n.args as Node[]).map((x) => this.node(x, scope)) as [Fn, Fn];
    const types = this.typeSet;
    switch (n.op) {
      case '==':
        return (v) => equal(a(v), b(v), types);
      case '!=':
        return (v) => !equal(a(v), b(v), types);
      case 'in':
        return (v) => {
          const x = a(v);
          const c = b(v);
          if (Array.isArray(c)) return listIncludes(x, c);
          if (isPlainMap(c) && typeof x === 'string') return hasOwn(c, x) && c[x] !== undefined;
          return giveUp();
        };
      case '+':
        return (v) => {
          const x = a(v);
          const y = b(v);
          const t = typeof x;
          if (t === typeof y) {
            if (t === 'string') return (x as string) + (y as string);
            if (t === 'bigint') return int((x as bigint) + (y as bigint));
            if (t === 'number') return (x as number) + (y as number);
          }
          if (Array.isArray(x) && Array.isArray(y)) return [...x, ...y];
          return giveUp();
        };
      case '-':
      case '*':
      case '/':
      case '%': {
        const op = n.op;
        return (v) => arithmetic(op, a(v), b(v));
      }
      default: {
        const op = n.op;
        return (v) => {
          const c = compare(a(v), b(v));
          return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
        };
      }
    }
  }

  private call(n: Node, scope: Scope): Fn {
    const receiverCall = n.op === 'rcall';
    const name = (n.args as unknown[])[0] as string;
    const argNodes = (receiverCall ? (n.args as unknown[])[2] : (n.args as unknown[])[1]) as Node[];
    const args = argNodes.map((x) => this.node(x, scope));
    const recv = receiverCall ? this.node((n.args as unknown[])[1] as Node, scope) : undefined;
    const builtin = receiverCall ? this.method(name, recv as Fn, args) : this.func(name, args);
    if (builtin) return builtin;
    return this.ownHandler(n, recv, args);
  }

  /**
   * Functions whose overloads are all Potoo's own handlers are called directly, with the
   * first overload whose parameters the runtime values match (cel-js's order).
   */
  private ownHandler(n: Node, recv: Fn | undefined, args: Fn[]): Fn {
    const decls = n.candidates?.declarations ?? [];
    if (decls.length === 0 || !decls.every((d) => this.env.ownHandlers.has(d.handler))) throw new Unsupported(`function ${String((n.args as unknown[])[0])}`);
    const overloads = decls.map((d) => ({ handler: d.handler, params: (recv ? [d.receiverType, ...d.argTypes] : d.argTypes).map((t) => this.paramCheck(t)) }));
    if (overloads.some((o) => o.params.some((p) => p === undefined))) throw new Unsupported(`parameter types of ${String((n.args as unknown[])[0])}`);
    const all = recv ? [recv, ...args] : args;
    return (v) => {
      const vals = new Array<unknown>(all.length);
      for (let i = 0; i < all.length; i++) vals[i] = (all[i] as Fn)(v);
      for (const o of overloads) {
        if (!o.params.every((p, i) => (p as ParamCheck)(vals[i]))) continue;
        const out = o.handler(...vals);
        if (out instanceof Promise || out === undefined || typeof out === 'function') return giveUp();
        return typeof out === 'object' && out !== null && !this.env.passable(out) ? giveUp() : out;
      }
      return giveUp();
    };
  }

  /**
   * A function parameter's runtime test. Overloads are matched on deep runtime types, so a
   * list or map parameter is only taken with dyn elements; no receiver (null) accepts anything.
   */
  private paramCheck(t: CelType | null): ParamCheck | undefined {
    if (t === null) return ANY;
    if ((t.kind === 'list' || t.kind === 'map') && t.valueType?.kind !== 'dyn' && t.valueType?.kind !== 'param') return undefined;
    return kindCheck(t, this.env.classes);
  }

  private func(name: string, args: Fn[]): Fn | undefined {
    const [a] = args;
    if (args.length !== 1 || !a) return undefined;
    switch (name) {
      case 'size':
        return (v) => sizeOf(a(v));
      case 'dyn':
        return (v) => plain(a(v));
      case 'int':
        // cel-js: int(double) truncates (no range check); int(string) takes decimal digits.
        return (v) => {
          const x = a(v);
          if (typeof x === 'bigint') return x;
          if (typeof x === 'number') return Number.isFinite(x) ? BigInt(Math.trunc(x)) : giveUp();
          if (typeof x === 'string' && /^-?[0-9]{1,19}$/.test(x)) return int(BigInt(x));
          return giveUp();
        };
      case 'type': {
        const t = this.env.types;
        return (v) => {
          const x = a(v);
          const kind = x === null ? 'null_type' : typeof x === 'string' ? 'string' : typeof x === 'bigint' ? 'int' : typeof x === 'number' ? 'double' : typeof x === 'boolean' ? 'bool' : Array.isArray(x) ? 'list' : isPlainMap(x) ? 'map' : '';
          return t.get(kind) ?? giveUp();
        };
      }
      case 'string':
        return (v) => {
          const x = a(v);
          return typeof x === 'string' ? x : typeof x === 'bigint' || typeof x === 'boolean' ? `${x}` : giveUp();
        };
      default:
        return undefined;
    }
  }

  private method(name: string, recv: Fn, args: Fn[]): Fn | undefined {
    const [a] = args;
    switch (`${name}/${args.length}`) {
      case 'hasValue/0':
        return (v) => {
          const o = recv(v);
          return o instanceof Optional ? o.hasValue() : giveUp();
        };
      case 'value/0':
        return (v) => {
          const o = recv(v);
          return o instanceof Optional && o.hasValue() ? o.value() : giveUp();
        };
      case 'size/0':
        return (v) => sizeOf(recv(v));
      case 'lowerAscii/0':
      case 'upperAscii/0':
      case 'trim/0': {
        // cel-js's own implementations (toLowerCase, not ASCII-only).
        const f = name === 'lowerAscii' ? (s: string) => s.toLowerCase() : name === 'upperAscii' ? (s: string) => s.toUpperCase() : (s: string) => s.trim();
        return (v) => {
          const s = recv(v);
          return typeof s === 'string' ? f(s) : giveUp();
        };
      }
      case 'join/0':
      case 'join/1':
        return (v) => {
          const l = recv(v);
          const sep = a ? a(v) : '';
          if (!Array.isArray(l) || typeof sep !== 'string' || !l.every((x) => typeof x === 'string')) return giveUp();
          return l.join(sep);
        };
      case 'startsWith/1':
      case 'endsWith/1':
      case 'contains/1': {
        const op = name;
        return (v) => {
          const s = recv(v);
          const x = (a as Fn)(v);
          if (typeof s !== 'string' || typeof x !== 'string') return giveUp();
          return op === 'startsWith' ? s.startsWith(x) : op === 'endsWith' ? s.endsWith(x) : s.includes(x);
        };
      }
      default:
        return undefined;
    }
  }

  private macro(n: Node, macro: MacroInfo, scope: Scope): Fn {
    if (macro.functionDesc === 'optional.orValue(value)' || macro.functionDesc === 'optional.or(optional)') {
      return this.optionalOr(macro.functionDesc === 'optional.or(optional)', macro, scope);
    }
    if (typeof macro.var === 'string' && macro.val && macro.exp) return this.bind(macro.var, macro.val, macro.exp, scope);
    const props = macro.macroHasProps;
    if (n.op !== 'call' || (n.args as unknown[])[0] !== 'has' || !props || props.length < 2) throw new Unsupported('macro');
    // has(a.b.c): a.b must exist (a plain '.' chain fails on a missing middle field);
    // the answer is whether the last field is present.
    const base = this.node(props[props.length - 1] as Node, scope);
    const steps = props.slice(0, -1).reverse();
    if (steps.some((s) => s.op !== '.')) throw new Unsupported('has() over optional access');
    const names = steps.map((s) => (s.args as unknown[])[1] as string);
    return (v) => {
      let obj = base(v);
      for (let i = 0; i < names.length; i++) {
        if (!isPlainMap(obj)) return giveUp();
        const k = names[i] as string;
        const x = hasOwn(obj, k) ? obj[k] : undefined;
        if (i === names.length - 1) return x !== undefined;
        if (x === undefined) return giveUp();
        obj = x;
      }
      return giveUp();
    };
  }

  /** `cel.bind(name, value, expr)`: expr sees name bound to value. */
  private bind(name: string, valNode: Node, expNode: Node, scope: Scope): Fn {
    const cell: Cell = { value: undefined };
    const val = this.node(valNode, scope);
    const exp = this.node(expNode, { vars: new Map([...scope.vars, [name, cell]]), accu: scope.accu });
    return (v) => {
      const saved = cell.value;
      cell.value = val(v);
      try {
        return exp(v);
      } finally {
        cell.value = saved;
      }
    };
  }

  /** `o.orValue(x)` and `o.or(p)`: the argument is evaluated only when `o` is empty. */
  private optionalOr(isOr: boolean, macro: MacroInfo, scope: Scope): Fn {
    if (!macro.receiver || !macro.arg) throw new Unsupported('optional macro');
    const recv = this.maybe(macro.receiver, scope);
    const arg = this.node(macro.arg, scope);
    return (v) => {
      const x = recv(v);
      if (x !== undefined) return isOr ? Optional.of(x) : x;
      const d = arg(v);
      return !isOr || d instanceof Optional ? d : giveUp();
    };
  }

  private comprehension(c: Comprehension, scope: Scope): Fn {
    const t = c.iterable.checkedType;
    const elem = !t || t.kind === 'dyn' ? null : t.kind === 'list' ? t.valueType : t.kind === 'map' ? t.keyType : undefined;
    const want = elem === undefined ? undefined : elem === null ? ANY : kindCheck(elem, this.env.classes);
    if (want === undefined) throw new Unsupported(`range of ${t?.kind}<${elem?.kind}>`);
    const item: Cell = { value: undefined };
    const accu: Cell = { value: undefined };
    const inner: Scope = { vars: new Map([...scope.vars, [c.iterVarName, item]]), accu };
    const iterable = this.node(c.iterable, scope);
    const init = this.node(c.init, scope);
    const step = this.node(c.step, inner);
    const { condition, result } = c;
    return (v) => {
      const coll = iterable(v);
      const items = Array.isArray(coll) ? coll : isPlainMap(coll) ? Object.keys(coll) : giveUp();
      // Re-entrant: a nested use of this same comprehension restores the outer cells.
      const savedItem = item.value;
      const savedAccu = accu.value;
      try {
        accu.value = init(v);
        for (let i = 0; i < items.length; i++) {
          if (condition && !condition(accu.value)) break;
          const x = items[i];
          if (!want(x)) return giveUp();
          item.value = plain(x);
          accu.value = step(v);
        }
        return result(accu.value);
      } finally {
        item.value = savedItem;
        accu.value = savedAccu;
      }
    };
  }

  private accu(n: Node, scope: Scope): Fn {
    const cell = scope.accu;
    if (!cell) throw new Unsupported('accumulator outside a comprehension');
    if (n.op === 'accuValue') return () => cell.value;
    if (n.op === 'accuInc') return () => (cell.value = (cell.value as number) + 1);
    const el = this.node(n.args as Node, scope);
    return (v) => {
      const x = el(v);
      (cell.value as unknown[]).push(x);
      return cell.value;
    };
  }
}

function arithmetic(op: string, x: unknown, y: unknown): unknown {
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    if (op === '-') return int(x - y);
    if (op === '*') return int(x * y);
    if (y === 0n) return giveUp();
    return int(op === '/' ? x / y : x % y);
  }
  if (typeof x === 'number' && typeof y === 'number' && op !== '%') {
    return op === '-' ? x - y : op === '*' ? x * y : x / y;
  }
  return giveUp();
}
