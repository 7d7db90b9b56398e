// Structured logs: pino JSON lines on stdout (what log collectors in a cluster expect),
// one child logger per component so every line says where it came from.
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  /** Fields on every line (e.g. the replica's identity). */
  base?: Record<string, unknown>;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? (process.env['POTOO_LOG_LEVEL'] as LevelWithSilent | undefined) ?? 'info';
  return pino(
    {
      level,
      base: { app: 'potoo', ...(opts.base ?? {}) },
      // ISO time reads better than epoch millis in `kubectl logs`, at no cost to parsers.
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that drops everything (library use and unit tests that do not read logs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** The message of anything thrown, for log fields (errors from the network are not always Errors). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : JSON.stringify(err);
}
