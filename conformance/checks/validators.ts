// C39: DMTF's Redfish-Service-Validator (read-only, the whole tree) and, with
// --allow-disruptive, the Redfish-Protocol-Validator (it creates accounts and sessions), when they
// are installed. Their PASS/WARN/FAIL counts are imported into the report.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { CheckContext } from '../context.js';
import { type Check, fail, pass, skipped, warn } from '../types.js';

export interface ValidatorRun {
  name: string;
  pass: number;
  warn: number;
  fail: number;
  notTested: number;
  report?: string;
}

/** Where a validator's console script lives: --validators-dir, the repo's peers venv, or PATH. */
export function findValidator(name: string, dirs: string[]): string | null {
  const path = (process.env.PATH ?? '').split(delimiter);
  for (const d of [...dirs, ...path]) {
    const p = join(d, name);
    if (d && existsSync(p)) return p;
  }
  return null;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    execFile(bin, args, { env, cwd, timeout: 900_000, maxBuffer: 64 * 1024 * 1024 }, (_e, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

/**
 * Schemas the service serves itself for what its $metadata references (the validator cannot
 * download DSP8010 offline): a local Uri as is, a DMTF one by its file name under /redfish/v1/Schemas.
 */
async function localSchemas(ctx: CheckContext, dir: string): Promise<number> {
  const md = await ctx.redfish.get('/redfish/v1/$metadata', { headers: { Accept: 'application/xml' } });
  if (md.status !== 200) return 0;
  const seen = new Set<string>();
  const queue = [md.text];
  let n = 0;
  // schema files reference the files they build on (Resource, Protocol, Privileges …): follow them all
  while (queue.length) {
    const xml = queue.shift() as string;
    const uris = [...xml.matchAll(/Reference Uri="([^"]+)"/g)].map((m) => m[1]);
    // types used without a Reference (Protocol.Protocol, PhysicalContext …) live in <Namespace>_v1.xml
    for (const m of xml.matchAll(/(?:Type|BaseType)="(?:Collection\()?([A-Z][A-Za-z0-9]*)\./g)) uris.push(`${m[1]}_v1.xml`);
    for (const uri of uris) {
      const file = uri.split('/').at(-1) as string;
      if (seen.has(file)) continue;
      seen.add(file);
      const local = uri.startsWith('/redfish/v1/') ? uri : `/redfish/v1/Schemas/${file}`;
      const r = await ctx.redfish.get(local, { headers: { Accept: 'application/xml' } });
      if (r.status === 200 && r.text.includes('edmx:Edmx')) {
        writeFileSync(join(dir, file), r.text);
        queue.push(r.text);
        n++;
      }
    }
  }
  return n;
}

export const validatorChecks: Check[] = [
  {
    id: 'C39',
    name: 'validators',
    why: "DMTF's validators check the protocol and every payload against the schemas; failures there break strict clients",
    protects: 'Redfish-Service-Validator, Redfish-Protocol-Validator (DSP0266), OpenStackIronicProfile',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const dirs = ctx.opts.validatorsDir ? [ctx.opts.validatorsDir] : [];
      const service = findValidator('rf_service_validator', dirs);
      const protocol = findValidator('rf_protocol_validator', dirs);
      if (!service && !protocol)
        return skipped('the DMTF validators are not installed (pip install redfish_service_validator redfish_protocol_validator)');
      const work = mkdtempSync(join(tmpdir(), 'ferrite-conformance-validators-'));
      const t = ctx.redfish.target;
      const env = { ...process.env, PYTHONWARNINGS: 'ignore', ...(t.insecure ? { CURL_CA_BUNDLE: '', REQUESTS_CA_BUNDLE: '' } : {}) };
      const runs: ValidatorRun[] = [];
      if (service) {
        const schemas = join(work, 'schemas');
        mkdirSync(schemas, { recursive: true });
        const local = await localSchemas(ctx, schemas);
        const out = await run(
          service,
          [
            '-r',
            t.base,
            '-u',
            t.username,
            '-p',
            t.password,
            '--authtype',
            'Basic',
            '--logdir',
            join(work, 'service'),
            ...(local ? ['--skipschema', '--schema_directory', schemas] : []),
          ],
          env,
          work,
        );
        const row =
          /\|\s+PASS\s+\|\s+WARN\s+\|\s+FAIL\s+\|\s+NOT TESTED\s+\|\s*\n\+[-+]+\+\s*\n\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(
            out,
          );
        if (!row) {
          ctx.note(`Redfish-Service-Validator gave no summary:\n${out.slice(-2000)}`);
          return warn('Redfish-Service-Validator ran but printed no summary (see evidence)');
        }
        const [p, w, f, n] = row.slice(1).map(Number);
        runs.push({ name: 'Redfish-Service-Validator', pass: p, warn: w, fail: f, notTested: n, report: join(work, 'service') });
        if (f)
          ctx.note(
            `Redfish-Service-Validator failures:\n${out
              .split('\n')
              .filter((l) => /FAIL|ERROR/.test(l))
              .slice(0, 40)
              .join('\n')}`,
          );
      }
      if (protocol && ctx.opts.allowDisruptive) {
        const out = await run(
          protocol,
          [
            '-r',
            t.base,
            '-u',
            t.username,
            '-p',
            t.password,
            '--report-dir',
            join(work, 'protocol'),
            '--report-type',
            'tsv',
            ...(t.insecure ? ['--no-cert-check'] : []),
          ],
          env,
          work,
        );
        const s = /Summary - PASS: (\d+), WARN: (\d+), FAIL: (\d+), NOT_TESTED: (\d+)/.exec(out);
        if (s) {
          const [p, w, f, n] = s.slice(1).map(Number);
          runs.push({ name: 'Redfish-Protocol-Validator', pass: p, warn: w, fail: f, notTested: n, report: join(work, 'protocol') });
        } else ctx.note(`Redfish-Protocol-Validator gave no summary:\n${out.slice(-2000)}`);
      } else if (protocol) ctx.note('Redfish-Protocol-Validator not run: it creates accounts and sessions (--allow-disruptive)');
      ctx.validators = runs;
      const line = runs.map((r) => `${r.name}: ${r.pass} pass, ${r.warn} warn, ${r.fail} fail`).join('; ');
      if (runs.some((r) => r.fail > 0)) return fail(line);
      if (runs.some((r) => r.warn > 0)) return warn(line);
      return pass(line);
    },
  },
];
