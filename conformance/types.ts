// What a conformance check is and what it yields. A check names the upstream behaviour it
// protects, so a failure in a report says what will break and where to look.

export type Verdict = 'pass' | 'fail' | 'warn' | 'skipped';

/** One request and its answer, kept as evidence. */
export interface Exchange {
  at: string;
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: unknown;
  status: number | null;
  responseHeaders: Record<string, string>;
  responseBody?: unknown;
  ms: number;
  error?: string;
}

export interface Evidence {
  exchanges: Exchange[];
  /** other observations: ipmitool runs, HTTP hits on the harness's own server, timings */
  notes: string[];
}

export interface CheckOutcome {
  verdict: Verdict;
  /** one line: what was seen */
  reason: string;
}

export interface CheckResult extends CheckOutcome {
  id: string;
  name: string;
  why: string;
  protects: string;
  workaround?: string;
  disruptive: boolean;
  durationMs: number;
  evidence: Evidence;
}

export type Protocol = 'redfish' | 'ipmi';

export interface Check {
  id: string;
  /** short kebab-case name, e.g. root-unauth */
  name: string;
  /** why it matters, one line */
  why: string;
  /** the upstream code that relies on it */
  protects: string;
  /** what would cope with a BMC failing it (Ironic driver, setting) */
  workaround?: string;
  protocol: Protocol;
  /** changes power, boot, media or settings: only with --allow-disruptive */
  disruptive: boolean;
  run(ctx: import('./context.js').CheckContext): Promise<CheckOutcome>;
}

export interface Report {
  tool: string;
  version: string;
  target: string;
  profile: string;
  startedAt: string;
  finishedAt: string;
  disruptive: boolean;
  summary: Record<Verdict, number>;
  results: CheckResult[];
  /** DMTF validator results imported into C39, when they ran */
  validators?: Array<{ name: string; pass: number; fail: number; warn: number; notTested: number; report?: string }>;
  restored?: string[];
  interrupted?: boolean;
}

export const pass = (reason: string): CheckOutcome => ({ verdict: 'pass', reason });
export const fail = (reason: string): CheckOutcome => ({ verdict: 'fail', reason });
export const warn = (reason: string): CheckOutcome => ({ verdict: 'warn', reason });
export const skipped = (reason: string): CheckOutcome => ({ verdict: 'skipped', reason });
