// The scenario runner through the `ferrite` CLI, as a user runs it: the shipped scenarios pass
// on the embedded defaults (every component a real process), reports are written, and malformed
// scenarios are refused with the file, line and column of the problem.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 600_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });

describe('ferrite scenario run', { concurrency: 1 }, () => {
  const dir = tempDir('ferrite-scenario-test-');
  after(() => cleanup(dir));

  for (const name of ['host-lifecycle', 'host-restarts']) {
    it(`scenarios/${name}.yaml passes and writes JSON and JUnit reports`, async () => {
      const reports = join(dir, 'reports');
      const r = await ferrite([
        'scenario',
        'run',
        join(ROOT, 'scenarios', `${name}.yaml`),
        '--report-dir',
        reports,
        '--data-dir',
        join(dir, name),
      ]);
      assert.equal(
        r.code,
        0,
        `scenario failed:\n${r.stdout}\n${r.stderr}\n--- controllers log:\n${tail(join(dir, name, 'logs', 'controllers.log'))}\n--- cluster-api log:\n${tail(join(dir, name, 'logs', 'cluster-api.log'))}`,
      );
      assert.match(r.stdout, new RegExp(`scenario ${name}: passed`));
      const json = JSON.parse(readFileSync(join(reports, `${name}.json`), 'utf8')) as {
        status: string;
        steps: Array<{ status: string; timeline: unknown[] }>;
      };
      assert.equal(json.status, 'passed');
      assert.ok(json.steps.every((s) => s.status === 'passed'));
      assert.ok(
        json.steps.some((s) => s.timeline.length > 0),
        'steps carry a timeline',
      );
      const xml = readFileSync(join(reports, `${name}.junit.xml`), 'utf8');
      assert.match(xml, /<testsuite name="[^"]+" tests="\d+" failures="0"/);
      // the stack is stopped afterwards: no component of it is left running
      const state = join(dir, name, 'dev.json');
      if (existsSync(state)) {
        const s = JSON.parse(readFileSync(state, 'utf8')) as { components: Record<string, { pid: number }> };
        for (const [c, { pid }] of Object.entries(s.components)) assert.throws(() => process.kill(pid, 0), `${c} (pid ${pid}) still runs`);
      }
    });
  }

  it('a failing step fails the run with exit 1 and a report saying which step and why', async () => {
    const f = join(dir, 'failing.yaml');
    writeFileSync(
      f,
      `name: failing
fleet: {machines: [{name: n0, protocols: [redfish-virtualmedia]}]}
steps:
  - name: nothing here is called ghost
    wait: {kind: BareMetalHost, name: ghost, field: .status.provisioning.state, equals: available, timeout: 2s}
  - sleep: 1s
`,
    );
    const reports = join(dir, 'failing-reports');
    const r = await ferrite(['scenario', 'run', f, '--report-dir', reports]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const json = JSON.parse(readFileSync(join(reports, 'failing.json'), 'utf8')) as {
      status: string;
      steps: Array<{ status: string; error?: string }>;
    };
    assert.equal(json.status, 'failed');
    assert.equal(json.steps[0].status, 'failed');
    assert.match(json.steps[0].error ?? '', /timed out after 2s.*ghost/);
    assert.equal(json.steps[1].status, 'skipped', 'steps after a failure do not run');
    assert.match(readFileSync(join(reports, 'failing.junit.xml'), 'utf8'), /<failure message="timed out/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['malformed YAML', 'name: x\nfleet: {machines: [{name: a}]\nsteps: [', /bad\.yaml:\d+:\d+: malformed YAML/],
    ['an unknown step kind', 'name: x\nfleet: {machines: [{name: a}]}\nsteps:\n  - reboot: {machine: a}\n', /bad\.yaml:4:5: .*reboot/],
    [
      'a step doing two things',
      'name: x\nfleet: {machines: [{name: a}]}\nsteps:\n  - sleep: 1s\n    restart: {component: ironic}\n',
      /bad\.yaml:4:5: a step does exactly one of/,
    ],
    ['a bad duration', 'name: x\nfleet: {machines: [{name: a}]}\nsteps:\n  - sleep: soon\n', /bad\.yaml:4:12: must be a duration/],
    [
      'a wait without a condition',
      'name: x\nfleet: {machines: [{name: a}]}\nsteps:\n  - wait: {kind: BareMetalHost, all: true}\n',
      /bad\.yaml:4:\d+: wait needs a field/,
    ],
    ['no steps', 'name: x\nfleet: {machines: [{name: a}]}\nsteps: []\n', /bad\.yaml:3:8: .*>=1 items/],
  ];
  for (const [what, text, want] of bad) {
    it(`refuses ${what} with its line and column (exit 2)`, async () => {
      const f = join(dir, 'bad.yaml');
      writeFileSync(f, text);
      const r = await ferrite(['scenario', 'check', f], 60_000);
      assert.equal(r.code, 2, r.stdout + r.stderr);
      assert.match(r.stderr, want);
    });
  }

  it('an unknown ${VAR} fails the step that uses it, naming the variable', async () => {
    const f = join(dir, 'unknown-var.yaml');
    writeFileSync(
      f,
      `name: unknown-var
fleet: {machines: [{name: n0, protocols: [ipmi]}]}
steps:
  - patch: {kind: BareMetalHost, all: true, patch: {spec: {image: {url: "\${NO_SUCH_VAR}"}}}}
`,
    );
    const r = await ferrite(['scenario', 'run', f, '--report-dir', join(dir, 'uv')]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /unknown variable \$\{NO_SUCH_VAR\}/);
  });
});

function tail(f: string): string {
  try {
    return readFileSync(f, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}
