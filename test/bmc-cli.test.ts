// `ferrite bmc serve` and `ferrite bmc manifests` as a user runs them: the address table, state
// that survives restarts and kill -9, manifests that are valid BareMetalHosts, and clear errors.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { BareMetalHostSpec } from '../provider/api/metal3.io/v1alpha1/baremetalhost.js';
import { cleanup, eventually, ROOT, tempDir } from './helpers/apiserver.js';
import { ipmitool, rf, run } from './helpers/bmc.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];

interface Served {
  child: ChildProcess;
  rows: Record<string, { redfish: string; ipmi: string; user: string; password: string; mac: string }>;
}

function serve(args: string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI, 'bmc', 'serve', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr?.on('data', (d) => {
      err += d;
    });
    child.stdout?.on('data', (d) => {
      out += d;
      if (!out.includes('Press Ctrl-C')) return;
      const rows: Served['rows'] = {};
      for (const line of out.split('\n').slice(1)) {
        const c = line.split(/\s+/);
        if (c.length >= 6 && c[0] !== 'State:') rows[c[0]] = { redfish: c[1], ipmi: c[2], user: c[3], password: c[4], mac: c[5] };
      }
      resolve({ child, rows });
    });
    child.on('exit', (code) => reject(new Error(`bmc serve exited (${code}): ${out}${err}`)));
  });
}

function stop(c: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill(signal);
  });
}

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: { bmc: { address: string; disableCertificateVerification?: boolean }; bootMACAddress: string };
  data: Record<string, string>;
}

const base = (u: string) => u.replace(/^redfish(-virtualmedia)?\+/, '').replace(/\/redfish\/v1\/Systems\/.*$/, '');

describe('ferrite bmc', () => {
  const dir = tempDir('ferrite-bmc-cli-');
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) await stop(c, 'SIGKILL');
    cleanup(dir);
  });

  const fleetFile = join(dir, 'fleet.yaml');
  writeFileSync(
    fleetFile,
    `seed: 42
timeScale: 1000
redfish: { port: 0, tls: true }
machines:
  - name: web-0
    profile: small
    ipmiPort: 0
  - name: db-0
    profile: large
    protocols: [ipmi]
    username: root
    password: calvin
    ipmiPort: 0
    nics: [{ mac: "52:54:00:aa:bb:cc" }]
`,
  );
  const data = join(dir, 'data');

  it('serve prints every BMC address and credential; state persists across a restart', async () => {
    let s = await serve(['--fleet', fleetFile, '--data-dir', data]);
    children.push(s.child);
    assert.deepEqual(Object.keys(s.rows), ['web-0', 'db-0']);
    assert.match(s.rows['web-0'].redfish, /^redfish-virtualmedia\+https:\/\/127\.0\.0\.1:\d+\/redfish\/v1\/Systems\/[0-9a-f-]{36}$/);
    assert.equal(s.rows['db-0'].redfish, '-');
    assert.deepEqual([s.rows['db-0'].user, s.rows['db-0'].password, s.rows['db-0'].mac], ['root', 'calvin', '52:54:00:aa:bb:cc']);
    const ipmiPort = Number(s.rows['db-0'].ipmi.split(':').pop());
    assert.equal((await ipmitool(ipmiPort, ['power', 'on'], { user: 'root', password: 'calvin' })).code, 0);
    assert.equal(
      (await ipmitool(ipmiPort, ['chassis', 'bootdev', 'pxe', 'options=persistent'], { user: 'root', password: 'calvin' })).code,
      0,
    );
    const url = s.rows['web-0'].redfish.replace(/^redfish-virtualmedia\+/, '');
    const ca = readFileSync(join(data, 'pki', 'ca.crt'), 'utf8');
    const r = await rf(base(s.rows['web-0'].redfish), 'PATCH', new URL(url).pathname, {
      auth: ['admin', 'password'],
      ca,
      body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Continuous' } },
    });
    assert.equal(r.status, 200);
    await stop(s.child);

    // flags still apply to the saved fleet (and are remembered with it)
    s = await serve(['--data-dir', data, '--no-tls']);
    children.push(s.child);
    assert.match(s.rows['web-0'].redfish, /^redfish-virtualmedia\+http:\/\//);
    const port2 = Number(s.rows['db-0'].ipmi.split(':').pop());
    const out = await ipmitool(port2, ['chassis', 'bootparam', 'get', '5'], { user: 'root', password: 'calvin' });
    assert.match(out.stdout, /Force PXE/);
    assert.match((await ipmitool(port2, ['power', 'status'], { user: 'root', password: 'calvin' })).stdout, /is on/);
    const url2 = s.rows['web-0'].redfish.replace(/^redfish-virtualmedia\+/, '');
    const g = await rf(base(s.rows['web-0'].redfish), 'GET', new URL(url2).pathname, {
      auth: ['admin', 'password'],
      ca: readFileSync(join(data, 'pki', 'ca.crt'), 'utf8'),
    });
    assert.equal((g.json.Boot as Record<string, unknown>).BootSourceOverrideTarget, 'Cd');
    assert.equal(new URL(url).pathname, new URL(url2).pathname, 'machine identities are stable');
    await stop(s.child);
  });

  it('kill -9 in the middle of a stream of changes loses no acknowledged change and leaves no torn file', async () => {
    const s = await serve(['--data-dir', data]);
    children.push(s.child);
    const port = Number(s.rows['db-0'].ipmi.split(':').pop());
    const acked: string[] = [];
    const devices = ['pxe', 'disk', 'cdrom', 'bios'];
    let inFlight = '';
    let killed = false;
    const loop = (async () => {
      for (let i = 0; !killed; i++) {
        inFlight = devices[i % devices.length];
        const r = await ipmitool(port, ['chassis', 'bootdev', inFlight, 'options=persistent'], { user: 'root', password: 'calvin' });
        if (r.code === 0 && !killed) acked.push(inFlight);
      }
    })();
    await eventually(() => acked.length >= 6, 'some acknowledged changes', 30_000);
    // kill while the next command is in flight
    killed = true;
    await stop(s.child, 'SIGKILL');
    await loop;
    for (const f of readdirSync(join(data, 'machines')))
      if (f.endsWith('.json')) JSON.parse(readFileSync(join(data, 'machines', f), 'utf8'));
    const s2 = await serve(['--data-dir', data]);
    children.push(s2.child);
    const port2 = Number(s2.rows['db-0'].ipmi.split(':').pop());
    const out = await ipmitool(port2, ['chassis', 'bootparam', 'get', '5'], { user: 'root', password: 'calvin' });
    const shown = { pxe: /Force PXE/, disk: /Hard-Drive/, cdrom: /CD\/DVD/, bios: /BIOS Setup/ };
    // the last acknowledged change is there, or the one in flight when the process died
    const ok = [acked.at(-1) as 'pxe', inFlight as 'pxe'].some((d) => shown[d].test(out.stdout));
    assert.ok(ok, `after kill -9: acked ${acked.join(',')}, in flight ${inFlight}, BMC says:\n${out.stdout}`);
    await stop(s2.child);
  });

  it('manifests: a Secret and a valid BareMetalHost per machine, from the data dir or from --machines', async () => {
    let r = await run(
      process.execPath,
      [...CLI, 'bmc', 'manifests', '--data-dir', data, '--protocol', 'ipmi', '--namespace', 'metal3', '--boot-mode', 'UEFI'],
      { cwd: ROOT },
    );
    assert.equal(r.code, 0, r.stderr);
    const docs = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    assert.deepEqual(
      docs.map((d) => `${d.kind}/${d.metadata.name}`),
      ['Secret/web-0-bmc-secret', 'BareMetalHost/web-0', 'Secret/db-0-bmc-secret', 'BareMetalHost/db-0'],
    );
    const db = docs[3];
    BareMetalHostSpec.parse(db.spec);
    assert.equal(db.metadata.namespace, 'metal3');
    assert.match(db.spec.bmc.address, /^ipmi:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(db.spec.bootMACAddress, '52:54:00:aa:bb:cc');
    assert.equal(Buffer.from(docs[2].data.password, 'base64').toString(), 'calvin');
    r = await run(process.execPath, [...CLI, 'bmc', 'manifests', '--data-dir', data], { cwd: ROOT });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /db-0 has no redfish-virtualmedia BMC/);
    r = await run(process.execPath, [...CLI, 'bmc', 'manifests', '--machines', '2'], { cwd: ROOT });
    assert.equal(r.code, 0, r.stderr);
    const two = parseAllDocuments(r.stdout).map((d) => d.toJS() as Doc);
    assert.equal(two.length, 4);
    BareMetalHostSpec.parse(two[1].spec);
    assert.match(two[1].spec.bmc.address, /^redfish-virtualmedia\+https:\/\/127\.0\.0\.1:8000\/redfish\/v1\/Systems\//);
    assert.equal(two[1].spec.bmc.disableCertificateVerification, true);
  });

  it('bad input: malformed YAML, invalid fields, a corrupt state file and a busy port get one clear line and exit non-zero', async () => {
    const cases: [string, RegExp][] = [
      ['machines: [name: x\n  - :', /invalid YAML/],
      ['machines:\n  - name: Bad_Name\n', /machines\.0\.name: must be a DNS-1123 name/],
      ['machines:\n  - name: a\n    nics: [{ mac: "zz" }]\n', /machines\.0\.nics\.0\.mac: must be a MAC address/],
      ['machines:\n  - name: a\n  - name: a\n', /duplicate machine name a/],
      ['machines:\n  - name: a\n    password: "123456789012345678901"\n', /machines\.0\.password/],
      ['bogus: 1\nmachines: [{ name: a }]\n', /Unrecognized key/i],
    ];
    for (const [text, re] of cases) {
      const f = join(dir, 'bad.yaml');
      writeFileSync(f, text);
      const r = await run(process.execPath, [...CLI, 'bmc', 'serve', '--fleet', f, '--data-dir', join(dir, 'bad-data')], { cwd: ROOT });
      assert.equal(r.code, 2, `${text}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
    let r = await run(process.execPath, [...CLI, 'bmc', 'serve', '--fleet', join(dir, 'missing.yaml')], { cwd: ROOT });
    assert.match(r.stderr, /cannot read fleet file/);
    const corrupt = join(data, 'machines', readdirSync(join(data, 'machines')).find((f) => f.endsWith('.json')) as string);
    const saved = readFileSync(corrupt);
    writeFileSync(corrupt, '{"version":1,"state":');
    r = await run(process.execPath, [...CLI, 'bmc', 'serve', '--data-dir', data], { cwd: ROOT });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is unreadable .* move it away/);
    writeFileSync(corrupt, saved);
    // a port already taken
    const s = await serve(['--machines', '1', '--data-dir', join(dir, 'busy'), '--port', '0', '--ipmi-base-port', '16230']);
    children.push(s.child);
    r = await run(
      process.execPath,
      [...CLI, 'bmc', 'serve', '--machines', '1', '--data-dir', join(dir, 'busy2'), '--port', '0', '--ipmi-base-port', '16230'],
      { cwd: ROOT },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /already in use/);
    await stop(s.child);
    await eventually(() => s.child.exitCode !== null, 'serve to stop');
  });
});
