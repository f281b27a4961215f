// Conditions as Kubernetes and Cluster API use them: one entry per type; lastTransitionTime
// changes only when the status flips, so watchers can tell a transition from a refresh.
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
  severity?: string;
}

export function getCondition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

export function isTrue(conds: Condition[] | undefined, type: string): boolean {
  return getCondition(conds, type)?.status === 'True';
}

/** Returns the new list with `c` set; the caller's list is not modified. */
export function setCondition(
  conds: Condition[] | undefined,
  c: Omit<Condition, 'lastTransitionTime'> & { lastTransitionTime?: string },
  now: Date = new Date(),
): Condition[] {
  const list = [...(conds ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const next: Condition = {
    ...c,
    lastTransitionTime:
      prev && prev.status === c.status ? prev.lastTransitionTime : (c.lastTransitionTime ?? now.toISOString().replace(/\.\d+Z$/, 'Z')),
  };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

export function removeCondition(conds: Condition[] | undefined, type: string): Condition[] {
  return (conds ?? []).filter((c) => c.type !== type);
}
