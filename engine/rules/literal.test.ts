import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileSafeRegex } from '../expr/regex.js';
import { requiredLiteral } from './literal.js';

describe('requiredLiteral', () => {
  it.each([
    ['exceeded quota: (?P<quota>[a-z0-9][-a-z0-9.]*)', 'exceeded quota: '],
    ['admission webhook "(?P<w>[^"]+)" denied the request', '" denied the request'],
    ['(?P<bound>maximum|minimum) (?P<r>[a-z]+) usage per (?P<t>Container|Pod)', ' usage per '],
    ['abc*def', 'def'],
    ['abcd+xy', 'abcd'],
    ['x{2,3}yyyy', 'yyyy'],
    ['\\[(?P<c>[a-z]+)\\] now', '] now'],
    ['tab\\there', 'tab\there'],
  ])('%s -> %j', (pattern, lit) => {
    expect(requiredLiteral(pattern)).toBe(lit);
  });

  it.each(['a|bcdef', '(?i)failed quota: x', '(?:denied: |^)\\[', '.*', '[abc]+', 'ab'])('%s has no required literal', (pattern) => {
    expect(requiredLiteral(pattern)).toBeUndefined();
  });

  // The screen is only sound if no input lacking the literal can match.
  const PATTERNS = [
    'exceeded quota: (?P<quota>[a-z0-9][-a-z0-9.]*)(?:, requested: (?P<r>[^\\s,]+))?',
    '[Ff]ailed quota: (?P<q>[a-z0-9][-a-z0-9.]*): must specify (?P<m>[^\\n]+)',
    '(?P<would>would )?violates? PodSecurity "(?P<level>[a-z]+):(?P<v>[^"]+)"',
    'ab+c?d*e{1,2}fgh',
    'x(yz)?xyz\\.q',
    'a\\d+bcd\\s*efg',
  ];
  const alphabet = fc.constantFrom(...'abcdefghxyzq .:"-PodSecurityexceededquotaFailedviolatesmustspecify0123\n'.split(''));
  it('never screens out an input the regex matches', () => {
    for (const pattern of PATTERNS) {
      const re = compileSafeRegex(pattern);
      if (!re.ok) throw new Error(re.error.message);
      const lit = requiredLiteral(pattern);
      // Without a literal nothing is screened and the property below holds vacuously.
      expect(lit, pattern).toBeDefined();
      const piece = fc.oneof(fc.string({ unit: alphabet, maxLength: 12 }), fc.constantFrom(...pattern.replace(/[()[\]?*+{}\\|^$]/g, ' ').split(' ').filter(Boolean)));
      fc.assert(
        fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
          const s = parts.join('');
          if (lit !== undefined && !s.includes(lit)) expect(re.value.test(s)).toBe(false);
        }),
        { numRuns: 400 },
      );
    }
  });
});
