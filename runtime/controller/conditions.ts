// Status conditions as the Kubernetes API conventions have them, shared by the
// ConstraintProfile and NotificationPolicy status the leader writes.

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  observedGeneration?: number;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionInput = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

/**
 * Stamp conditions with the generation and a transition time. The time carries over from
 * `previous` while a condition's status stays the same, so rewriting an unchanged status
 * is a no-op (and compares equal, so it is not written at all).
 */
export function stampConditions(conds: readonly ConditionInput[], generation: number, previous: readonly Condition[] | undefined, now: Date): Condition[] {
  const ts = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return conds.map((c) => {
    const prev = previous?.find((x) => x.type === c.type);
    return { ...c, observedGeneration: generation, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : ts };
  });
}
