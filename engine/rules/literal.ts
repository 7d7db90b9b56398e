// The longest literal a regular expression requires: if the input does not contain it,
// the pattern cannot match, and a substring search is far cheaper than running RE2.
// Conservative by construction: only characters that every match must contain, in
// order, at the top level of the pattern; anything uncertain (alternation at the top,
// flags, classes, groups, quantified characters) ends a run or gives up.

const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W', 'b', 'B', 'A', 'z', 'p', 'P', 'Q', 'E', 'C', 'x', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
const ESCAPED: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07' };
const QUANTIFIER = /^\{[0-9]+(,[0-9]*)?\}/;

/** A literal every match contains (at least `min` characters), or undefined. */
export function requiredLiteral(pattern: string, min = 3): string | undefined {
  // Flags change what a literal matches (case folding); give up rather than guess.
  if (pattern.includes('(?i') || pattern.includes('(?s') || pattern.includes('(?U')) return undefined;
  const runs: string[] = [];
  let run = '';
  const end = (): void => {
    if (run) runs.push(run);
    run = '';
  };
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '|') return undefined; // top-level alternation: no literal is required
    if (c === '(') {
      end();
      let depth = 0;
      // Skip the group (it may be optional or an alternation), honouring escapes and classes.
      for (; i < pattern.length; i++) {
        const g = pattern[i];
        if (g === '\\') {
          i++;
          continue;
        }
        if (g === '[') {
          i = skipClass(pattern, i);
          continue;
        }
        if (g === '(') depth++;
        else if (g === ')' && --depth === 0) break;
      }
      i++;
      if (isQuantifierAt(pattern, i)) i = skipQuantifier(pattern, i);
      continue;
    }
    if (c === '[') {
      end();
      i = skipClass(pattern, i) + 1;
      if (isQuantifierAt(pattern, i)) i = skipQuantifier(pattern, i);
      continue;
    }
    if (c === '.' || c === '^' || c === '$') {
      end();
      i++;
      if (isQuantifierAt(pattern, i)) i = skipQuantifier(pattern, i);
      continue;
    }
    let lit: string | undefined;
    let width = 1;
    if (c === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) return undefined;
      width = 2;
      if (CLASS_ESCAPES.has(n)) lit = undefined;
      else lit = ESCAPED[n] ?? n;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && QUANTIFIER.test(pattern.slice(i)))) {
      // A quantifier right after something that already ended the run.
      end();
      i = skipQuantifier(pattern, i);
      continue;
    } else {
      lit = c;
    }
    i += width;
    if (lit === undefined) {
      end();
      if (isQuantifierAt(pattern, i)) i = skipQuantifier(pattern, i);
      continue;
    }
    if (isQuantifierAt(pattern, i)) {
      // `a*`, `a?`, `a{0,2}`: the character may be absent; `a+` is present but the run breaks after it.
      const q = pattern[i];
      if (q === '+') run += lit;
      end();
      i = skipQuantifier(pattern, i);
      continue;
    }
    run += lit;
  }
  end();
  let best: string | undefined;
  for (const r of runs) if (r.length >= min && (!best || r.length > best.length)) best = r;
  return best;
}

function isQuantifierAt(p: string, i: number): boolean {
  const c = p[i];
  return c === '*' || c === '+' || c === '?' || (c === '{' && QUANTIFIER.test(p.slice(i)));
}

function skipQuantifier(p: string, i: number): number {
  if (p[i] === '{') {
    const m = QUANTIFIER.exec(p.slice(i));
    i += m ? m[0].length : 1;
  } else {
    i++;
  }
  if (p[i] === '?') i++; // lazy
  return i;
}

/** Index of the `]` closing the class that opens at `i`. */
function skipClass(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '^') j++;
  if (p[j] === ']') j++;
  for (; j < p.length; j++) {
    if (p[j] === '\\') {
      j++;
      continue;
    }
    if (p[j] === '[' && p[j + 1] === ':') {
      const close = p.indexOf(':]', j + 2);
      if (close > 0) j = close + 1;
      continue;
    }
    if (p[j] === ']') return j;
  }
  return p.length;
}
