// The harness against other BMC emulators from PyPI — sushy-tools' sushy-emulator (fake driver)
// and pyghmi's fakebmc — asserting the findings docs/conformance.md reports for them (each was
// confirmed by reading their code). Their HTML report is rendered by headless Chromium, which
// also keeps a screenshot in test/output/ as a CI artifact.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeReports } from '../conformance/report.js';
import { runConformance } from '../conformance/runner.js';
import type { Report } from '../conformance/types.js';
import { freeTcpPort } from '../devenv/stack.js';
import { cleanup, eventually, ROOT, run, tempDir } from './helpers/apiserver.js';
import { havePythonPeers, PYTHON } from './helpers/bmc.js';

const VENV = join(PYTHON, '..');
const OUTPUT = join(ROOT, 'test', 'output');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const verdicts = (r: Report) => Object.fromEntries(r.results.map((x) => [x.id, x.verdict]));

describe('conformance harness against sushy-tools and pyghmi', {
  skip: havePythonPeers ? false : 'run scripts/install-peers.sh first',
}, () => {
  const children: ChildProcess[] = [];
  let sushyUrl = '';
  let ipmiUrl = '';
  let dir: string;
  let sushy: Report;

  before(async () => {
    dir = tempDir('ferrite-conformance-peers-');
    const rfPort = await freeTcpPort();
    const ipmiPort = await freeTcpPort();
    children.push(
      spawn(join(VENV, 'sushy-emulator'), ['--fake', '--interface', '127.0.0.1', '--port', String(rfPort)], { stdio: 'ignore' }),
    );
    children.push(spawn(join(VENV, 'fakebmc'), ['--port', String(ipmiPort)], { stdio: 'ignore' }));
    const system = await eventually(
      async () => {
        const r = await fetch(`http://127.0.0.1:${rfPort}/redfish/v1/Systems`);
        return ((await r.json()) as { Members: Array<{ '@odata.id': string }> }).Members[0]['@odata.id'];
      },
      'sushy-emulator answers',
      30_000,
    );
    sushyUrl = `redfish-virtualmedia+http://127.0.0.1:${rfPort}${system}`;
    ipmiUrl = `ipmi://127.0.0.1:${ipmiPort}`;
  });
  after(() => {
    for (const c of children) c.kill('SIGKILL');
    cleanup(dir);
  });

  it('sushy-emulator (fake driver): reports what sushy-tools does differently from a real BMC', async () => {
    const http = await freeTcpPort();
    sushy = await runConformance({
      url: sushyUrl,
      username: 'admin',
      password: 'password',
      allowDisruptive: true,
      httpAddress: `127.0.0.1:${http}`,
      // the fake driver applies power changes 1–11 s later
      timeouts: { powerTimeoutMs: 30_000, bootTimeoutMs: 5000 },
      only: [...Array.from({ length: 35 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`)],
    });
    const out = writeReports(sushy, dir);
    assert.ok(statSync(out.html).size > 5000 && statSync(out.junit).size > 1000);
    const v = verdicts(sushy);
    const why = sushy.results.map((x) => `${x.id} ${x.verdict}: ${x.reason}`).join('\n');
    // no authentication unless SUSHY_EMULATOR_AUTH_FILE is set (emulator/main.py)
    assert.equal(v.C03, 'fail', why);
    // no SessionService at all
    assert.equal(v.C04, 'fail', why);
    // BootSourceOverrideEnabled is ignored: everything reads back Continuous (main.py NOTE(lucasagomes))
    assert.equal(v.C14, 'fail', why);
    // no ETag / If-Match support
    assert.equal(v.C19, 'fail', why);
    // the fake driver does not implement get_total_memory/get_total_cpus (systems/base.py), so the summaries are empty
    assert.equal(v.C26, 'fail', why);
    // a PATCH of anything but Boot/IndicatorLED answers 400 with a plain-text sentence
    assert.equal(v.C32, 'fail', why);
    // SimpleUpdate insists on Targets (and would answer 204 with a fixed task 42)
    assert.equal(v.C30, 'warn', why);
    // virtual media: it really fetches the image, over HTTP and HTTPS, and ejects
    for (const id of ['C01', 'C07', 'C09', 'C10', 'C20', 'C21', 'C22', 'C24']) assert.equal(v[id], 'pass', `${id}\n${why}`);
    // the fake driver boots nothing: no phone-home from the ISO
    assert.equal(v.C23, 'fail', why);
  });

  it('pyghmi fakebmc: cipher suite 3 only, no power cycle, boot flags never persistent', async () => {
    const r = await runConformance({
      url: ipmiUrl,
      username: 'admin',
      password: 'password',
      allowDisruptive: true,
      timeouts: { powerTimeoutMs: 10_000 },
    });
    const v = verdicts(r);
    const why = r.results.map((x) => `${x.id} ${x.verdict}: ${x.reason}`).join('\n');
    // serversession.py: "for now, forcibly do cipher suite 3"
    assert.equal(v.C36, 'warn', why);
    assert.match(r.results.find((x) => x.id === 'C36')?.reason ?? '', /not with -C 17/);
    // bmc.py: power_cycle raises NotImplementedError → 0xCC
    assert.equal(v.C37, 'warn', why);
    // bmc.py get_system_boot_options always answers 0b10000000: never "all future boots"
    assert.equal(v.C38, 'fail', why);
    assert.deepEqual(r.restored, ['power back off']);
  });

  it('the HTML report renders in headless Chromium (screenshot kept in test/output/)', {
    skip: chromium ? false : 'no chromium (apt-get install chromium)',
  }, async () => {
    assert.ok(sushy, 'the sushy-tools run produced a report');
    const page = join(dir, 'conformance.html');
    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, 'conformance-report.png');
    const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${join(dir, 'chromium')}`];
    const dom = await run(chromium as string, [...args, '--dump-dom', `file://${page}`], { timeoutMs: 120_000 });
    assert.equal(dom.code, 0, dom.stderr);
    // the rendered DOM has the summary, the failures section and a row per check
    assert.match(dom.stdout, /BMC conformance report/);
    assert.match(dom.stdout, /What will break/);
    assert.equal((dom.stdout.match(/<tr class="(pass|fail|warn|skipped)" id="C\d\d">/g) ?? []).length, sushy.results.length);
    const s = await run(
      chromium as string,
      [...args, '--hide-scrollbars', '--window-size=1280,2400', `--screenshot=${shot}`, `file://${page}`],
      { timeoutMs: 120_000 },
    );
    assert.equal(s.code, 0, s.stderr);
    const png = readFileSync(shot);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(png.length > 20_000, `screenshot is only ${png.length} bytes`);
  });
});
