// `ferrite scenario run|check FILE`: the scenario runner (see docs/scenarios.md).
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadScenario } from '../scenarios/format.js';
import { writeLiveReport, writeReports } from '../scenarios/report.js';
import { runScenario } from '../scenarios/runner.js';

export function scenarioCommand(fail: (msg: string, code: number) => Error): Command {
  const sc = new Command('scenario').description('Provision whole environments from a scenario file (YAML)');
  sc.command('run')
    .description('Run a scenario; exits 1 when a step or an expectation fails')
    .argument('<file>', 'scenario file')
    .option('--kubeconfig <file>', 'drive this cluster instead of the embedded API server')
    .option('--kube <which>', 'API server to start when no --kubeconfig: embedded or real (scripts/install-kube.sh)', 'embedded')
    .option('--data-dir <dir>', 'keep the stack state and logs here (default: a temp dir, removed after a pass)')
    .option('--report-dir <dir>', 'where the JSON report and JUnit XML go', 'scenario-reports')
    .option('--keep', 'leave the stack running afterwards (stop it with ferrite dev down --data-dir DIR)')
    .option('--chaos-kills <n>', 'SIGKILL the controllers N times at random moments during the steps (they are restarted)', '0')
    .option('--chaos-seed <n>', 'seed for the chaos moments (same seed, same moments)', '1')
    .option('--backend <kind>', "run the fleet's machines as sim (simulated) or libvirt (QEMU VMs), whatever the file says")
    .action(
      async (
        file: string,
        o: {
          kubeconfig?: string;
          kube: string;
          dataDir?: string;
          reportDir: string;
          keep?: boolean;
          chaosKills: string;
          chaosSeed: string;
          backend?: string;
        },
      ) => {
        if (o.kube !== 'embedded' && o.kube !== 'real') throw fail(`--kube must be embedded or real, not "${o.kube}"`, 2);
        if (o.kube === 'real' && o.kubeconfig) throw fail('--kube real starts its own API server: leave out --kubeconfig', 2);
        if (o.backend !== undefined && o.backend !== 'sim' && o.backend !== 'libvirt')
          throw fail(`--backend must be sim or libvirt, not "${o.backend}"`, 2);
        const kills = Number(o.chaosKills);
        const seed = Number(o.chaosSeed);
        if (!Number.isInteger(kills) || kills < 0) throw fail(`--chaos-kills must be a whole number, not "${o.chaosKills}"`, 2);
        if (!Number.isInteger(seed)) throw fail(`--chaos-seed must be a whole number, not "${o.chaosSeed}"`, 2);
        if (kills > 0 && o.kubeconfig) throw fail('--chaos-kills needs the embedded stack (it restarts the controllers it runs)', 2);
        const loaded = (() => {
          try {
            return loadScenario(file);
          } catch (e) {
            throw fail((e as Error).message, 2);
          }
        })();
        const started = Date.now();
        const r = await runScenario(loaded, {
          kubeconfig: o.kubeconfig,
          kube: o.kube,
          dataDir: o.dataDir,
          keep: o.keep,
          ...(o.backend ? { backend: o.backend as 'sim' | 'libvirt' } : {}),
          ...(kills > 0 ? { chaos: { kills, seed } } : {}),
          progress: (l) => process.stdout.write(`${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s  ${l}\n`),
          // the report as it grows, for `ferrite dashboard --reports`
          onChange: (live) => writeLiveReport(resolve(o.reportDir), live),
        });
        const out = writeReports(resolve(o.reportDir), r);
        const passed = r.steps.filter((s) => s.status === 'passed').length + r.expectations.filter((e) => e.status === 'passed').length;
        const failed =
          r.steps.filter((s) => s.status === 'failed').length +
          r.expectations.filter((e) => e.status === 'failed').length +
          (r.setup.error ? 1 : 0);
        if (r.setup.error) process.stdout.write(`setup failed: ${r.setup.error}\n`);
        for (const e of r.expectations)
          process.stdout.write(
            `  ${e.status === 'passed' ? 'ok  ' : e.status === 'failed' ? 'FAIL' : 'skip'}  expect ${e.description}${e.error ? `: ${e.error}` : ''}\n`,
          );
        process.stdout.write(
          `scenario ${r.scenario}: ${r.status} in ${(r.durationMs / 1000).toFixed(1)}s — ${passed} passed, ${failed} failed\nreports: ${out.json}  ${out.junit}\n`,
        );
        if (r.status !== 'passed') throw fail(`scenario ${r.scenario} failed`, 1);
      },
    );
  sc.command('check')
    .description('Parse and validate a scenario file without running it')
    .argument('<file>', 'scenario file')
    .action((file: string) => {
      try {
        const l = loadScenario(file);
        process.stdout.write(`${l.file}: ok (${l.scenario.steps.length} steps, ${l.scenario.expect.length} expectations)\n`);
      } catch (e) {
        throw fail((e as Error).message, 2);
      }
    });
  return sc;
}
