// The one "is this a JSON-style map" check. Deliberately loose: class instances and
// null-prototype objects pass too, since callers read parsed JSON/YAML or normalized
// facts, where the only things to tell apart from a map are null and arrays.

/** A non-null, non-array object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value as a JSON-style map (a non-null, non-array object), else undefined. */
export function rec(v: unknown): Record<string, unknown> | undefined {
  return isRecord(v) ? v : undefined;
}
