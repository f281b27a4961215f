// DMTF's Redfish-Protocol-Validator and Redfish-Service-Validator against the emulator over HTTPS.
// The Service-Validator checks payloads against Ferrite's CSDL restatement of DSP8010 (the bundle
// itself is not downloadable here; see docs/bmc-emulator.md).
// Assertions they cannot test here (account creation, SSDP, SSE, which the tool has switched off)
// are listed with reasons in docs/bmc-emulator.md; anything that FAILs fails this test.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schemaFileNames } from '../emulator/redfish/csdl.js';
import { cleanup, tempDir } from './helpers/apiserver.js';
import { havePythonPeers, PYTHON, rf, run, startTestFleet, type TestFleet } from './helpers/bmc.js';

function findFiles(dir: string, suffix: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findFiles(p, suffix, out);
    else if (e.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

describe('DMTF Redfish validators', { skip: havePythonPeers ? false : 'run scripts/install-peers.sh first' }, () => {
  let t: TestFleet;
  let work: string;
  let env: NodeJS.ProcessEnv;
  const bin = (name: string) => join(PYTHON, '..', name);

  before(async () => {
    t = await startTestFleet(2, { tls: true });
    work = tempDir('ferrite-validators-');
    const ca = join(work, 'ca.crt');
    writeFileSync(ca, t.ca ?? '');
    // the validators build some TLS contexts of their own that only honour REQUESTS_CA_BUNDLE
    env = { ...process.env, REQUESTS_CA_BUNDLE: ca, CURL_CA_BUNDLE: '', PYTHONWARNINGS: 'ignore' };
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
    cleanup(work);
  });

  it('Redfish-Protocol-Validator: no assertion fails', async () => {
    const reports = join(work, 'protocol');
    const r = await run(
      bin('rf_protocol_validator'),
      [
        '-r',
        t.url,
        '-u',
        'admin',
        '-p',
        'password',
        '--ca-bundle',
        join(work, 'ca.crt'),
        '--avoid-http-redirect',
        '--report-dir',
        reports,
        '--report-type',
        'tsv',
      ],
      { timeoutMs: 600_000, env, cwd: work },
    );
    const summary = /Summary - PASS: (\d+), WARN: (\d+), FAIL: (\d+), NOT_TESTED: (\d+)/.exec(r.stdout + r.stderr);
    assert.ok(summary, `no summary in validator output:\n${r.stdout}\n${r.stderr}`);
    const [pass, , fail] = summary.slice(1).map(Number);
    const tsv = readFileSync(findFiles(reports, '.tsv')[0], 'utf8');
    const failed = tsv.split('\n').filter((l) => l.split('\t')[4] === 'FAIL');
    assert.equal(fail, 0, `failed assertions:\n${failed.join('\n')}`);
    assert.ok(pass >= 250, `only ${pass} assertions passed`);
  });

  it('Redfish-Service-Validator: every resource in the tree validates against the schemas', async () => {
    const logs = join(work, 'service');
    const schemas = join(work, 'schemas');
    // DSP8010 cannot be downloaded here: validate against Ferrite's CSDL for the types it serves
    mkdirSync(schemas, { recursive: true });
    for (const f of schemaFileNames()) {
      const x = await rf(t.url, 'GET', `/redfish/v1/Schemas/${f}`, { ca: t.ca });
      assert.equal(x.status, 200, f);
      writeFileSync(join(schemas, f), x.text);
    }
    // --skipschema: the validator would otherwise download DSP8010 from the internet
    const r = await run(
      bin('rf_service_validator'),
      [
        '-r',
        t.url,
        '-u',
        'admin',
        '-p',
        'password',
        '--authtype',
        'Session',
        '--skipschema',
        '--schema_directory',
        schemas,
        '--logdir',
        logs,
      ],
      { timeoutMs: 600_000, env, cwd: work },
    );
    const out = r.stdout + r.stderr;
    const row =
      /\|\s+PASS\s+\|\s+WARN\s+\|\s+FAIL\s+\|\s+NOT TESTED\s+\|\s*\n\+[-+]+\+\s*\n\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|/.exec(
        out,
      );
    assert.ok(row, `no summary table in validator output:\n${out.slice(-3000)}`);
    const [pass, warn, fail] = row.slice(1).map(Number);
    const visited = (out.match(/^Validating /gm) ?? []).length;
    assert.equal(fail, 0, out.slice(-5000));
    // a WARN here is a payload type with no schema: every type served must be described
    assert.equal(warn, 0, out.slice(-5000));
    assert.ok(visited >= 100, `only ${visited} resources were reachable from the service root`);
    assert.ok(pass >= 2000, `only ${pass} properties passed`);
  });
});
