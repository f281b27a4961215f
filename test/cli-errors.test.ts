// A newcomer's common mistakes, each answered by the `ferrite` CLI in one line that names the file,
// port or object and what to do, with the README's exit codes (1 for errors, 2 for usage); and the
// README's usage blocks held to what `--help` offers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Command } from 'commander';
import { buildCli } from '../cli/main.js';
import { defaultFleet, resolveFleet } from '../emulator/fleet/config.js';
import { FleetStore } from '../emulator/fleet/store.js';
import { cleanup, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 120_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });

/** stderr is exactly one `ferrite: error: …` line */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  assert.match(lines[0], /^ferrite: error: /);
  return lines[0];
}

/** A kubeconfig naming a server on a loopback port nothing listens on. */
function refusedKubeconfig(file: string, port: number): string {
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
  );
  return file;
}

/** A port that was free a moment ago (a listener opened and closed on it). */
async function closedPort(): Promise<number> {
  const s = await listen();
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function listen(port = 0): Promise<Server> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(port, '127.0.0.1', () => res(s));
  });
}

describe('CLI errors a newcomer meets', () => {
  const dir = tempDir('ferrite-cli-errors-');
  after(() => cleanup(dir));

  it('a kubeconfig that is not YAML is named with the parse error (exit 1)', async () => {
    const kc = join(dir, 'broken-kubeconfig');
    writeFileSync(kc, 'apiVersion: v1\nclusters:\n- cluster:\n   server: x\n  name: y\n bad: [');
    const r = await ferrite(['dev', 'up', '--kubeconfig', kc, '--data-dir', join(dir, 'dev-badkc')]);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.ok(line.includes(`kubeconfig ${kc} is not a valid kubeconfig`), line);
  });

  it('a kubeconfig whose server does not answer is named with the server (exit 1)', async () => {
    const port = await closedPort();
    const kc = refusedKubeconfig(join(dir, 'refused-kubeconfig'), port);
    const r = await ferrite(['dev', 'up', '--kubeconfig', kc, '--data-dir', join(dir, 'dev-refused')]);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.match(line, /ECONNREFUSED/);
    assert.ok(line.includes(`API server https://127.0.0.1:${port}, kubeconfig ${kc}`), line);
  });

  it('a kubeconfig that does not exist is named (exit 1)', async () => {
    const r = await ferrite(['controllers', '--kubeconfig', join(dir, 'nope'), '--ironic-url', 'http://127.0.0.1:1']);
    assert.equal(r.code, 1);
    assert.match(oneLine(r.stderr), /kubeconfig .*nope does not exist/);
  });

  it('the API server port held by another process is named before anything starts (exit 1)', async () => {
    const s = await listen();
    const port = (s.address() as { port: number }).port;
    try {
      const r = await ferrite(['dev', 'up', '--port', String(port), '--data-dir', join(dir, 'dev-port')]);
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(`TCP port ${port} on 127.0.0.1`), line);
      assert.match(line, /embedded API server's port\) is in use by another process.*--port/);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it('a kept port another process now holds names the port and dev down --purge (exit 1)', async () => {
    const data = join(dir, 'dev-kept');
    const s = await listen();
    const port = (s.address() as { port: number }).port;
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'ports.json'), JSON.stringify({ ports: { redfish: port } }));
    try {
      const r = await ferrite(['dev', 'up', '--port', '0', '--data-dir', data]);
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(`TCP port ${port}`), line);
      assert.match(line, /Redfish port .* is now in use by another process.*ferrite dev down --purge --data-dir/);
      assert.doesNotMatch(r.stdout, /starting/, 'refused before starting anything');
    } finally {
      await new Promise((r) => s.close(r));
    }
  });

  it('a malformed fleet file under dev up is a usage error naming the file, line and column (exit 2)', async () => {
    const fleet = join(dir, 'fleet.yaml');
    writeFileSync(fleet, 'machines: [\n  - name: a\n   bad');
    const r = await ferrite(['dev', 'up', '--fleet', fleet, '--data-dir', join(dir, 'dev-fleet')]);
    assert.equal(r.code, 2);
    const line = oneLine(r.stderr);
    assert.ok(line.includes(`${fleet}: invalid YAML`), line);
    assert.match(line, /line 2, column 3/);
    const bad = join(dir, 'fleet-schema.yaml');
    writeFileSync(bad, 'machines:\n  - name: a\n    cpuz: 3\n');
    const r2 = await ferrite(['dev', 'up', '--fleet', bad, '--data-dir', join(dir, 'dev-fleet2')]);
    assert.equal(r2.code, 2);
    assert.ok(oneLine(r2.stderr).includes(bad));
  });

  it('kept state with another fleet is refused, naming dev down --purge (exit 1)', async () => {
    const data = join(dir, 'dev-otherfleet');
    new FleetStore(join(data, 'bmc')).saveFleet(resolveFleet(defaultFleet(2)));
    const r = await ferrite(['dev', 'up', '--hosts', '3', '--port', '0', '--data-dir', data]);
    assert.equal(r.code, 1);
    const line = oneLine(r.stderr);
    assert.match(line, /holds an environment of 2 machines \(node-0, node-1\), not the 3 asked for/);
    assert.match(line, /ferrite dev down --purge --data-dir/);
  });

  it('two bmc serve processes cannot share one data dir', async () => {
    const data = join(dir, 'bmc-shared');
    const first = spawn(
      process.execPath,
      [...CLI, 'bmc', 'serve', '--machines', '1', '--data-dir', data, '--port', '0', '--ipmi-base-port', '0'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      await new Promise<void>((res, rej) => {
        let out = '';
        first.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('Press Ctrl-C to stop.')) res();
        });
        first.once('exit', (code) => rej(new Error(`first bmc serve exited ${code}`)));
      });
      const r = await ferrite(['bmc', 'serve', '--machines', '1', '--data-dir', data, '--port', '0', '--ipmi-base-port', '0']);
      assert.equal(r.code, 1);
      const line = oneLine(r.stderr);
      assert.ok(line.includes(`${data} is in use by another \`ferrite bmc serve\` (pid ${first.pid})`), line);
    } finally {
      first.kill('SIGTERM');
      await new Promise((r) => first.once('exit', r));
    }
    // the lock goes with its process: the data dir is usable again
    const again = await ferrite(['bmc', 'manifests', '--data-dir', data]);
    assert.equal(again.code, 0, again.stderr);
  });

  it('a kept IPMI port range held by another process is named', async () => {
    const data = join(dir, 'dev-udp');
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const port = sock.address().port;
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'ports.json'), JSON.stringify({ ports: { ipmiBase: port }, ipmiCount: 1 }));
    try {
      const r = await ferrite(['dev', 'up', '--hosts', '1', '--port', '0', '--data-dir', data]);
      assert.equal(r.code, 1);
      assert.ok(oneLine(r.stderr).includes(`UDP port ${port}`));
    } finally {
      sock.close();
    }
  });

  it('usage errors exit 2 from every command, with the reason', async () => {
    for (const args of [
      ['dev', 'up', '--bogus'],
      ['dev', 'up', '--hosts', 'abc'],
      ['dev', 'up', '--hosts', '1', '--control-planes', '2'],
      ['bmc', 'serve', '--time-scale', '-1'],
      ['bmc', 'serve', '--sync', 'sometimes'],
      ['scenario', 'run'],
      ['nosuchcommand'],
    ]) {
      const r = await ferrite(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /error: .+/, args.join(' '));
      if (args.includes('--sync')) assert.match(r.stderr, /--sync must be full or normal, not "sometimes"/);
    }
  });

  it('controllers say why they cannot reach their API server and stop within 5 s of SIGTERM', async () => {
    const port = await closedPort();
    const kc = refusedKubeconfig(join(dir, 'controllers-kubeconfig'), port);
    const child = spawn(
      process.execPath,
      [
        ...CLI,
        '--log-format',
        'json',
        'controllers',
        '--kubeconfig',
        kc,
        '--ironic-url',
        'http://127.0.0.1:1',
        '--metrics-bind-address',
        '0',
        '--health-probe-bind-address',
        '0',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const deadline = Date.now() + 60_000;
    while (!/cannot list\/watch/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    const line = out.split('\n').find((l) => l.includes('cannot list/watch')) ?? '';
    assert.ok(line, `a line says why the API server cannot be reached:\n${out}`);
    const ev = JSON.parse(line) as { level: number; server: string; msg: string };
    assert.equal(ev.level, 30, 'logged at info');
    assert.equal(ev.server, `https://127.0.0.1:${port}`);
    assert.match(ev.msg, /ECONNREFUSED/);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    assert.ok(Date.now() - t0 < 5_000, `exited ${Date.now() - t0} ms after SIGTERM`);
    assert.equal(code, 0);
  });
});

describe('README usage blocks match --help', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const cli = buildCli();
  const find = (path: string): Command | undefined => {
    let c: Command | undefined = cli;
    for (const p of path.split(' ')) c = c?.commands.find((x) => x.name() === p);
    return c;
  };
  // `ferrite <command> [<subcommand>] …` lines in code blocks, with their indented continuation lines
  const usage = new Map<string, string[]>();
  for (const block of readme.matchAll(/```(?:sh)?\n([\s\S]*?)```/g)) {
    let cur: string | null = null;
    for (const line of block[1].split('\n')) {
      const m = /^ferrite ([a-z]+(?: [a-z]+(?= |$))?)/.exec(line);
      if (m) cur = find(m[1]) ? m[1] : m[1].split(' ')[0];
      else if (!/^\s+\S/.test(line)) cur = null;
      if (cur) usage.set(cur, [...(usage.get(cur) ?? []), line]);
    }
  }

  it('covers every command that has options', () => {
    const leaves = (c: Command, prefix: string[]): string[] =>
      c.commands.length
        ? c.commands.filter((x) => x.name() !== 'help').flatMap((x) => leaves(x, [...prefix, x.name()]))
        : [prefix.join(' ')];
    const withOptions = leaves(cli, []).filter((p) => (find(p)?.options.length ?? 0) > 0);
    const missing = withOptions.filter((p) => !usage.has(p));
    assert.deepEqual(missing, [], 'every command with options has a README usage block');
  });

  it('lists exactly the options each command takes, with the same defaults', () => {
    const problems: string[] = [];
    const global = new Set(cli.options.map((o) => o.long));
    for (const [path, lines] of usage) {
      const c = find(path);
      if (!c) {
        problems.push(`README shows \`ferrite ${path}\`, which is no command`);
        continue;
      }
      const text = lines.join('\n');
      const shown = new Set([...text.matchAll(/--[a-zA-Z][a-zA-Z0-9-]*/g)].map((m) => m[0]));
      const takes = new Set(c.options.map((o) => o.long).filter((l): l is string => Boolean(l)));
      for (const f of shown) if (!takes.has(f) && !global.has(f)) problems.push(`${path}: README shows ${f}, --help has no such option`);
      for (const f of takes) if (f !== '--help' && !shown.has(f)) problems.push(`${path}: --help has ${f}, README does not show it`);
      // `[--flag value]` where value is a literal (not a PLACEHOLDER) is the default the README claims
      for (const m of text.matchAll(/(--[a-zA-Z][a-zA-Z0-9-]*) ([^\s\]|]+)(?=\])/g)) {
        const o = c.options.find((x) => x.long === m[1]);
        if (!o || /^[A-Z]/.test(m[2]) || o.defaultValue === undefined) continue;
        const d = String(o.defaultValue);
        if (d !== m[2] && !d.endsWith(`/${m[2]}`)) problems.push(`${path}: README says ${m[1]} ${m[2]}, the default is ${d}`);
      }
    }
    assert.deepEqual(problems, []);
  });
});
