// `ferrite scenario run` as a child process for the scenario tests (embedded API server or the real
// kube-apiserver): fails with the run's output and the tails of the logs that explain it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, run } from './apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

export interface ScenarioRun {
  /** where reports and data directories go */
  dir: string;
  name: string;
  label: string;
  real?: boolean;
  extra?: string[];
  env?: Record<string, string>;
  timeoutMs: number;
}

export interface ScenarioResult {
  status: string;
  chaos?: Array<{ at: number; step: number }>;
}

export async function runScenario(o: ScenarioRun): Promise<ScenarioResult> {
  const reports = join(o.dir, `${o.label}-reports`);
  const data = join(o.dir, o.label);
  const args = [...CLI, 'scenario', 'run', join(ROOT, 'scenarios', `${o.name}.yaml`), ...(o.real ? ['--kube', 'real'] : [])];
  const r = await run(process.execPath, [...args, '--report-dir', reports, '--data-dir', data, ...(o.extra ?? [])], {
    cwd: ROOT,
    timeoutMs: o.timeoutMs,
    env: { ...process.env, ...(o.env ?? {}) },
  });
  const tail = (f: string, n: number) => {
    try {
      return readFileSync(join(data, ...f.split('/')), 'utf8')
        .split('\n')
        .slice(-n)
        .join('\n');
    } catch {
      return '';
    }
  };
  const logs = `--- controllers log:\n${tail('logs/controllers.log', o.real ? 30 : 40)}\n--- cluster-api log:\n${tail('logs/cluster-api.log', o.real ? 30 : 40)}${o.real ? `\n--- kube-apiserver log:\n${tail('kube/logs/kube-apiserver.log', 30)}` : ''}`;
  assert.equal(r.code, 0, `scenario ${o.label} failed:\n${r.stdout}\n${r.stderr}\n${logs}`);
  assert.match(r.stdout, new RegExp(`scenario ${o.name}: passed`));
  if (o.real) assert.match(r.stdout, /starting etcd, kube-apiserver and kube-controller-manager/);
  return JSON.parse(readFileSync(join(reports, `${o.name}.json`), 'utf8')) as ScenarioResult;
}
