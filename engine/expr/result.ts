// Errors are values across the expression API: callers (pack loader, stage runners)
// attach pack/rule/field context and keep going, so nothing here throws to them.

export type Result<T> = { ok: true; value: T } | { ok: false; error: ExprError };

export interface ExprError {
  message: string;
  /**
   * 1-based column inside the expression source, when known. For a multi-line source
   * this is the 1-based character offset into the whole source, so the caller can map
   * it onto the YAML scalar the source came from.
   */
  column?: number;
  /** Field path inside a compiled value (e.g. `details.ports[2]`), set by value.ts. */
  path?: string;
}

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function err<T = never>(message: string, column?: number): Result<T> {
  return { ok: false, error: column === undefined ? { message } : { message, column } };
}

/** Message of anything thrown by a dependency, for wrapping into an ExprError. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
