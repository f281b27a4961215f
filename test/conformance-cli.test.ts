// `ferrite conformance` as a user runs it: bad addresses and credentials are refused in one line
// (exit 2), and SIGINT during a disruptive run puts the machine back — power state, boot
// override, virtual media — before the process exits 130.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freeTcpPort } from '../devenv/stack.js';
import { cleanup, eventually, ROOT, run, tempDir } from './helpers/apiserver.js';
import { startTestFleet, type TestFleet } from './helpers/bmc.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'conformance'];

describe('ferrite conformance (CLI)', () => {
  let t: TestFleet;
  let url: string;
  let dir: string;

  before(async () => {
    // the virtual CD never boots here, so C23 waits for a phone-home that does not come
    t = await startTestFleet(
      {
        timeScale: 20,
        machines: [{ name: 'm0', personality: 'stubborn' }],
        personalities: { stubborn: { quirks: { mediaNotBootable: true } } },
      },
      { tls: true },
    );
    url = (t.addrs[0].redfishVirtualMedia as string).replace('+https', '');
    dir = tempDir('ferrite-conformance-cli-');
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
    cleanup(dir);
  });

  it('refuses bad input in one line with exit 2', async () => {
    const dead = await freeTcpPort();
    const cases: Array<[string[], RegExp]> = [
      [['ftp://x/redfish/v1/Systems/1', '-u', 'a', '-p', 'b'], /unsupported scheme "ftp"/],
      [['redfish://127.0.0.1/redfish/v1', '-u', 'a', '-p', 'b'], /must name the system/],
      [[`redfish+http://127.0.0.1:${dead}/redfish/v1/Systems/1`, '-u', 'a', '-p', 'b'], /does not answer/],
      [[url, '-u', 'admin', '-p', 'wrong', '--insecure'], /refused the credentials for admin \(401\)/],
      [[url.replace(/Systems\/.*/, 'Systems/nope'), '-u', 'admin', '-p', 'password', '--insecure'], /has no \/redfish\/v1\/Systems\/nope/],
      [[url, '-u', 'admin'], /--username and --password/],
      [[url, '-u', 'admin', '-p', 'password', '--only', 'C99'], /unknown check C99/],
      [[url, '-u', 'admin', '-p', 'password', '--profile', 'nosuch', '--insecure'], /unknown profile "nosuch"/],
    ];
    for (const [args, msg] of cases) {
      const r = await run(process.execPath, [...CLI, ...args, '--report-dir', join(dir, 'bad')], { cwd: ROOT, timeoutMs: 60_000 });
      assert.equal(r.code, 2, `${args.join(' ')}\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, msg);
    }
  });

  it('SIGINT during a disruptive run restores power, boot override and media, then exits 130', async () => {
    const m = t.fleet.machines[0];
    const before = { power: m.state.power, target: m.state.boot.overrideTarget, enabled: m.state.boot.overrideEnabled };
    assert.equal(before.power, 'Off');
    const port = await freeTcpPort();
    const reports = join(dir, 'interrupted');
    const child = spawn(
      process.execPath,
      [
        ...CLI,
        url,
        '-u',
        'admin',
        '-p',
        'password',
        '--insecure',
        '--allow-disruptive',
        '--http-address',
        `127.0.0.1:${port}`,
        '--only',
        'C14,C23,C24',
        '--report-dir',
        reports,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // C23 has the ISO inserted, the override on Cd and the machine powered on: interrupt it there
    await eventually(
      () => (m.state.power === 'On' && m.state.media.some((x) => x.inserted) && m.state.boot.overrideTarget === 'Cd' ? true : undefined),
      `C23 under way\n${out}`,
      60_000,
    );
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, out);
    assert.match(out, /interrupted: restoring power, boot override and media/);
    assert.equal(m.state.power, 'Off', 'power back as it was');
    assert.equal(m.state.boot.overrideTarget, before.target, 'boot override target back');
    assert.equal(m.state.boot.overrideEnabled, before.enabled, 'boot override back');
    assert.ok(
      m.state.media.every((x) => !x.inserted),
      'media ejected',
    );
    assert.ok(existsSync(join(reports, 'conformance.json')), 'the report of the interrupted run is written');
    const rep = JSON.parse(readFileSync(join(reports, 'conformance.json'), 'utf8')) as {
      interrupted?: boolean;
      results: Array<{ id: string; verdict: string }>;
    };
    assert.equal(rep.interrupted, true);
    assert.equal(rep.results.find((x) => x.id === 'C14')?.verdict, 'pass');
    assert.equal(rep.results.find((x) => x.id === 'C24')?.verdict, 'skipped');
  });
});
