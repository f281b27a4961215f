// `ferrite conformance URL`: the BMC conformance harness (see docs/conformance.md).
import { resolve } from 'node:path';
import { Command } from 'commander';
import { ConformanceError } from '../conformance/errors.js';
import { ALL_CHECKS, PROFILES } from '../conformance/profiles.js';
import { terminalLine, terminalSummary, writeReports } from '../conformance/report.js';
import { runConformance } from '../conformance/runner.js';

interface Flags {
  username?: string;
  password?: string;
  profile?: string;
  allowDisruptive?: boolean;
  httpAddress?: string;
  reportDir: string;
  insecure?: boolean;
  ipmi?: string;
  pxe?: boolean;
  only?: string;
  powerTimeout: string;
  bootTimeout: string;
  ipmitool: string;
  validatorsDir?: string;
  list?: boolean;
}

const seconds = (v: string, flag: string, fail: (m: string, c: number) => Error) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw fail(`${flag} must be a positive number of seconds, not "${v}"`, 2);
  return n * 1000;
};

export function conformanceCommand(fail: (msg: string, code: number) => Error): Command {
  return new Command('conformance')
    .description('Check whether a BMC does what Metal3/Ironic provisioning relies on (read-only unless --allow-disruptive)')
    .argument(
      '[url]',
      'redfish://host[:port]/redfish/v1/Systems/<id> (also redfish+http://, redfish-virtualmedia://, idrac-virtualmedia://, ilo5-virtualmedia://) or ipmi://host[:port]',
    )
    .option('-u, --username <user>', 'BMC user')
    .option('-p, --password <password>', 'BMC password (or FERRITE_BMC_PASSWORD)')
    .option('--profile <name>', `which checks apply: ${Object.keys(PROFILES).join(', ')} (default: from the URL scheme)`)
    .option('--allow-disruptive', 'also run checks that change power, boot, virtual media and settings (restored afterwards)')
    .option(
      '--http-address <host[:port]>',
      'serve the harness ISO and image here, where the BMC can fetch them (virtual media and boot checks)',
    )
    .option('--report-dir <dir>', 'where conformance.json, conformance.junit.xml and conformance.html go', 'conformance-report')
    .option('--insecure', "don't verify the BMC's TLS certificate")
    .option('--ipmi <url>', 'the same machine’s IPMI address (ipmi://host[:port]) for the IPMI and parity checks')
    .option('--pxe', "the provisioning network's DHCP offers http://<http-address>/boot.ipxe (enables C18)")
    .option('--only <ids>', 'run only these checks (comma-separated ids, e.g. C01,C14)')
    .option('--power-timeout <s>', 'how long a power transition may take', '60')
    .option('--boot-timeout <s>', 'how long a boot may take to reach the harness', '300')
    .option('--ipmitool <path>', 'the ipmitool binary', 'ipmitool')
    .option('--validators-dir <dir>', 'where rf_service_validator / rf_protocol_validator are installed')
    .option('--list', 'list the checks and profiles, then exit')
    .action(async (url: string | undefined, o: Flags) => {
      if (o.list) {
        for (const c of ALL_CHECKS)
          process.stdout.write(`${c.id}  ${c.name.padEnd(20)} ${c.disruptive ? 'disruptive ' : 'read-only  '} ${c.why}\n`);
        process.stdout.write('\nprofiles:\n');
        for (const p of Object.values(PROFILES)) process.stdout.write(`  ${p.name.padEnd(28)} ${p.description}\n`);
        return;
      }
      if (!url) throw fail('a BMC address is required (or --list)', 2);
      const password = o.password ?? process.env.FERRITE_BMC_PASSWORD;
      if (!o.username || password === undefined) throw fail('--username and --password (or FERRITE_BMC_PASSWORD) are required', 2);
      const only = o.only?.split(',').map((x) => x.trim().toUpperCase());
      const unknown = only?.filter((id) => !ALL_CHECKS.some((c) => c.id === id));
      if (unknown?.length) throw fail(`--only: unknown check ${unknown.join(', ')}`, 2);
      const ac = new AbortController();
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts > 1) process.exit(130);
        process.stderr.write('\ninterrupted: restoring power, boot override and media (Ctrl-C again to quit at once)\n');
        ac.abort(new Error('interrupted'));
      };
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      const color = process.stdout.isTTY === true;
      try {
        const rep = await runConformance({
          url,
          username: o.username,
          password,
          ipmi: o.ipmi,
          profile: o.profile,
          only,
          allowDisruptive: o.allowDisruptive,
          httpAddress: o.httpAddress,
          insecure: o.insecure,
          pxe: o.pxe,
          timeouts: {
            powerTimeoutMs: seconds(o.powerTimeout, '--power-timeout', fail),
            bootTimeoutMs: seconds(o.bootTimeout, '--boot-timeout', fail),
          },
          ipmitool: o.ipmitool,
          validatorsDir: o.validatorsDir,
          signal: ac.signal,
          onStart: (id, name) => {
            if (color) process.stdout.write(`${id}  ${name.padEnd(20)} …\r`);
          },
          onResult: (r) => process.stdout.write(`${color ? '\x1b[2K' : ''}${terminalLine(r, color)}\n`),
        });
        const out = writeReports(rep, resolve(o.reportDir));
        process.stdout.write(`${terminalSummary(rep)}\nreports: ${out.html}  ${out.json}  ${out.junit}\n`);
        if (rep.interrupted) throw fail('interrupted', 130);
        if (rep.summary.fail > 0) throw fail(`${rep.summary.fail} check(s) failed`, 1);
      } catch (e) {
        if (e instanceof ConformanceError) throw fail(`${e.message} (${e.reason})`, 2);
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}
