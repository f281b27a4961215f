// Conditions as Kubernetes and Cluster API use them: one entry per type; lastTransitionTime
// changes only when the status flips, so watchers can tell a transition from a refresh.
import type { KubeObject } from './client.js';

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

/**
 * A summary of `types` as Cluster API's default merge strategy computes it (util/conditions'
 * NewSummaryCondition): False when any is False, else Unknown when any is Unknown or missing, else
 * True; IssuesReported / UnknownReported / InfoReported; the message lists `* Type: message` for
 * the conditions behind the status (info ones only when all is well, and only with a message).
 */
export function summarize(conds: Condition[] | undefined, types: string[]): Pick<Condition, 'status' | 'reason' | 'message'> {
  const inScope = types.map(
    (t) =>
      getCondition(conds, t) ?? { type: t, status: 'Unknown' as const, reason: 'NotYetReported', message: 'Condition not yet reported' },
  );
  const status = inScope.some((c) => c.status === 'False') ? 'False' : inScope.some((c) => c.status === 'Unknown') ? 'Unknown' : 'True';
  const reason = status === 'False' ? 'IssuesReported' : status === 'Unknown' ? 'UnknownReported' : 'InfoReported';
  const lines: string[] = [];
  for (const c of inScope) {
    if (c.status === 'True' && (status !== 'True' || !c.message)) continue;
    lines.push(`* ${c.type}:${c.message ? indentIfMultiline(c.message) : ` ${c.reason}`}`);
  }
  return { status, reason, message: lines.join('\n') };
}

function indentIfMultiline(m: string): string {
  if (!m.includes('\n') && !/^\s*\* /.test(m)) return ` ${m}`;
  const lines = m.split('\n');
  const bullets = lines.every((l) => /^\s*\* /.test(l));
  return `\n${lines.map((l) => (bullets ? `  ${l}` : /^\s*\* /.test(l) ? `    ${l}` : `  * ${l}`)).join('\n')}`;
}

/** Sets a condition on o.status.conditions, stamped with the object's generation. */
export function condition(
  o: KubeObject & { status?: { conditions?: Condition[] } },
  type: string,
  ok: boolean | 'Unknown',
  reason: string,
  message = '',
): void {
  const status = ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False';
  o.status = {
    ...(o.status ?? {}),
    conditions: setCondition(o.status?.conditions, {
      type,
      status,
      reason,
      message,
      ...(o.metadata?.generation !== undefined ? { observedGeneration: Number(o.metadata.generation) } : {}),
    }),
  };
}
