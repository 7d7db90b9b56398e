import { afterEach, describe, expect, it, vi } from 'vitest';
import { intFlag, parseArgs, UsageError } from './args.js';
import { main } from './main.js';

// Never a real cluster: a flag that wrongly passes validation fails on this file instead.
const NO_KUBECONFIG = ['--kubeconfig', '/nonexistent/potoo-test-kubeconfig'];

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await main(argv), err };
  } finally {
    vi.restoreAllMocks();
  }
}

afterEach(() => vi.restoreAllMocks());

describe('intFlag', () => {
  const n = (v: string | undefined): number => intFlag(parseArgs(v === undefined ? [] : [`--n=${v}`], { n: { value: true } }), 'n', 7, { min: 0, max: 1000, what: 'a number up to 1000' });

  it('takes whole numbers in range, and the fallback when the flag is absent', () => {
    expect(n(undefined)).toBe(7);
    expect(n('0')).toBe(0);
    expect(n('1000')).toBe(1000);
    expect(n('0042')).toBe(42);
  });

  it('rejects what Number() would quietly turn into a number, naming the flag and the value', () => {
    for (const bad of ['', ' ', '0x10', '1e3', '+5', '5.0', '12abc', 'abc', '-1', '1001', 'NaN', 'Infinity']) {
      expect(() => n(bad), bad).toThrow(UsageError);
    }
    expect(() => n('abc')).toThrow('--n must be a number up to 1000 (got abc)');
    expect(() => n('')).toThrow('--n must be a number up to 1000 (got an empty value)');
  });
});

describe('numeric flags of potoo controller and potoo webhook', () => {
  it('--max-configmap-pack-bytes: not a number, negative, zero or beyond 2^53 is a usage error (exit 2) naming the flag and the value', async () => {
    for (const bad of ['abc', '-5', '0', '1e6', '', '99999999999999999999']) {
      const r = await run(['controller', `--max-configmap-pack-bytes=${bad}`, ...NO_KUBECONFIG]);
      expect(r.code, bad).toBe(2);
      expect(r.err, bad).toContain(`--max-configmap-pack-bytes must be a positive number of bytes (got ${bad === '' ? 'an empty value' : bad})`);
    }
  });

  it('a good --max-configmap-pack-bytes passes validation (and the run goes on to the kubeconfig)', async () => {
    await expect(run(['controller', '--max-configmap-pack-bytes', '2048', ...NO_KUBECONFIG])).rejects.toThrow(/nonexistent/);
  });

  it('the other numbers are checked before the kubeconfig is read, empty values included', async () => {
    const cases: [string[], string][] = [
      [['controller', '--http-port='], '--http-port must be a port number (got an empty value)'],
      [['controller', '--report-concurrency', '0x10'], '--report-concurrency must be a whole number from 1 to 256 (got 0x10)'],
      [['webhook', '--insecure-http', '--budget-ms', '1e3'], '--budget-ms must be a non-negative integer (got 1e3)'],
      [['webhook', '--insecure-http', '--port', '-1'], '--port must be a non-negative integer (got -1)'],
    ];
    for (const [argv, message] of cases) {
      const r = await run([...argv, ...NO_KUBECONFIG]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
  });
});
