// Scenario reports: JSON (the whole run, with each step's timeline) and JUnit XML (one test
// case per step and per expectation), written side by side.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TimelineEvent {
  /** ms since the scenario started */
  at: number;
  what: string;
}

export interface StepReport {
  index: number;
  name: string;
  kind: string;
  status: 'passed' | 'failed' | 'skipped' | 'running';
  startedAt?: number;
  durationMs?: number;
  error?: string;
  timeline: TimelineEvent[];
}

export interface ScenarioReport {
  scenario: string;
  file: string;
  /** `running` while the steps go on: the runner's live copy (`onChange`), read by the dashboard */
  status: 'passed' | 'failed' | 'running';
  startedAt: string;
  durationMs: number;
  setup: { durationMs: number; error?: string };
  steps: StepReport[];
  expectations: Array<{ description: string; status: 'passed' | 'failed' | 'skipped'; error?: string }>;
  /** every value change the runner observed for watched fields */
  observed: Array<{ at: number; object: string; field: string; value: unknown }>;
  /** controller kills the run made with --chaos-kills (when, and which step was running) */
  chaos?: Array<{ at: number; step: number; what: string }>;
}

const esc = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

export function junitXml(r: ScenarioReport): string {
  const cases: string[] = [];
  const kase = (name: string, secs: number, status: string, error?: string, out?: string) => {
    const body =
      status === 'failed'
        ? `<failure message="${esc((error ?? '').split('\n')[0])}">${esc(error ?? '')}</failure>`
        : status === 'skipped'
          ? '<skipped/>'
          : '';
    const sys = out ? `<system-out>${esc(out)}</system-out>` : '';
    cases.push(
      `    <testcase classname="scenario.${esc(r.scenario)}" name="${esc(name)}" time="${secs.toFixed(3)}">${body}${sys}</testcase>`,
    );
  };
  kase('setup', r.setup.durationMs / 1000, r.setup.error ? 'failed' : 'passed', r.setup.error);
  for (const s of r.steps) {
    const tl = s.timeline.map((e) => `+${(e.at / 1000).toFixed(2)}s ${e.what}`).join('\n');
    kase(`${String(s.index + 1).padStart(2, '0')} ${s.name}`, (s.durationMs ?? 0) / 1000, s.status, s.error, tl);
  }
  for (const e of r.expectations) kase(`expect: ${e.description}`, 0, e.status, e.error);
  const failures = [
    r.setup.error ? 1 : 0,
    ...r.steps.map((s) => (s.status === 'failed' ? 1 : 0)),
    ...r.expectations.map((e) => (e.status === 'failed' ? 1 : 0)),
  ].reduce((a, b) => a + b, 0);
  const skipped = r.steps.filter((s) => s.status === 'skipped').length + r.expectations.filter((e) => e.status === 'skipped').length;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="${esc(r.scenario)}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${(r.durationMs / 1000).toFixed(3)}" timestamp="${esc(r.startedAt)}">
${cases.join('\n')}
  </testsuite>
</testsuites>
`;
}

export function writeReports(dir: string, r: ScenarioReport): { json: string; junit: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${r.scenario}.json`);
  const junit = join(dir, `${r.scenario}.junit.xml`);
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileSync(junit, junitXml(r));
  return { json, junit };
}

/** The JSON report alone, written while a run goes on so `ferrite dashboard` can show its steps. */
export function writeLiveReport(dir: string, r: ScenarioReport): void {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${r.scenario}.json`);
  // written aside and renamed: a reader never sees half a file
  writeFileSync(`${json}.tmp`, `${JSON.stringify(r, null, 2)}\n`);
  renameSync(`${json}.tmp`, json);
}
