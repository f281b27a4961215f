// `ferrite dev up|status|down` as the README tells a user to run them: the environment comes up
// on the embedded defaults, the hosts reach available, kubectl sees them, and down stops every
// process. Bad input: a second `up` on a running environment, `down`/`status` where none runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { stopPid } from '../devenv/stack.js';
import { cleanup, httpsGet, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';
import { baremetal, haveBaremetal } from './helpers/ironic.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 300_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });

describe('ferrite dev', { concurrency: 1 }, () => {
  const dir = tempDir('ferrite-dev-test-');
  let before: string[] = [];
  const data = join(dir, 'dev');
  after(async () => {
    await ferrite(['dev', 'down', '--data-dir', data]);
    cleanup(dir);
  });

  it('up brings 3 hosts to available, provisions a cluster on them and prints how to reach both', async () => {
    const r = await ferrite(['dev', 'up', '--hosts', '3', '--port', '0', '--data-dir', data], 600_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /hosts: 3\/3 available/);
    assert.match(r.stdout, /cluster test1 with 3 Ready Nodes/);
    const kc = /kubeconfig: +(\S+)/.exec(r.stdout)?.[1] ?? '';
    assert.ok(existsSync(kc), `kubeconfig ${kc} exists`);
    assert.match(r.stdout, /kubectl get bmh -n metal3/);
    const g = await kubectl(kc, ['get', 'bmh', '-n', 'metal3', '--no-headers']);
    assert.equal(g.code, 0, g.stderr);
    const lines = g.stdout.trim().split('\n');
    assert.equal(lines.length, 3);
    for (const l of lines) assert.match(l, /^node-\d\s+provisioned\s+test1-\S+\s+true/);
    before = await bmcAddresses(kc);
    const wkc = /kubectl --kubeconfig (\S+) get nodes/.exec(r.stdout)?.[1] ?? '';
    const nodes = await kubectl(wkc, ['get', 'nodes', '--no-headers']);
    assert.equal(nodes.code, 0, nodes.stderr);
    const ready = nodes.stdout.trim().split('\n');
    assert.equal(ready.length, 3);
    for (const l of ready) assert.match(l, /^test1-\S+\s+Ready\s/);
    for (const c of ['apiserver', 'ironic', 'bmc', 'controllers', 'cluster-api']) {
      assert.ok(readFileSync(join(data, 'logs', `${c}.log`), 'utf8').length > 0, `${c} logs to its file`);
    }
  });

  it("Ironic wants Basic auth: no credentials is 401; the baremetal CLI with dev up's credentials lists the nodes", async () => {
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { ironicUrl: string };
    const anon = await fetch(`${state.ironicUrl}/v1/nodes`);
    assert.equal(anon.status, 401, 'a local process without credentials cannot touch the nodes');
    const power = await fetch(`${state.ironicUrl}/v1/nodes/metal3~node-0/states/power`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ target: 'power off' }),
    });
    assert.equal(power.status, 401, 'nor power a provisioned workload node off');
    const password = readFileSync(join(data, 'ironic-auth', 'ironic', 'password'), 'utf8').trim();
    assert.ok(password.length >= 24, 'a generated password');
    const authed = await fetch(`${state.ironicUrl}/v1/nodes`, {
      headers: { authorization: `Basic ${Buffer.from(`ironic:${password}`).toString('base64')}` },
    });
    assert.equal(authed.status, 200);
    if (haveBaremetal) {
      const r = await baremetal(state.ironicUrl, ['node', 'list', '-f', 'value', '-c', 'Name'], { auth: ['ironic', password] });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n').sort(), ['metal3~node-0', 'metal3~node-1', 'metal3~node-2']);
    }
  });

  it('status shows every component running and the hosts', async () => {
    const r = await ferrite(['dev', 'status', '--data-dir', data], 60_000);
    assert.equal(r.code, 0, r.stderr);
    for (const c of ['apiserver', 'ironic', 'bmc', 'controllers', 'cluster-api'])
      assert.match(r.stdout, new RegExp(`${c}\\s+\\d+\\s+running`));
    assert.match(r.stdout, /hosts in metal3: 3 · provisioned 3/);
  });

  it('the controllers serve metrics and health probes on their bind addresses', async () => {
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { components: Record<string, { args: string[] }> };
    const args = state.components.controllers.args;
    const metrics = args[args.indexOf('--metrics-bind-address') + 1];
    const probes = args[args.indexOf('--health-probe-bind-address') + 1];
    const m = await (await fetch(`http://${metrics}/metrics`)).text();
    assert.match(m, /controller_runtime_reconcile_total\{controller="baremetalhost",result="\w+"\} \d+/);
    assert.doesNotMatch(m, /controller="machine"/, 'the Bare Metal Operator process runs no Cluster API controller');
    assert.equal((await fetch(`http://${probes}/readyz`)).status, 200);
    assert.equal((await fetch(`http://${probes}/healthz`)).status, 200);
    // Cluster API, its kubeadm providers, CAPM3 and IPAM run in a process of their own
    const capi = state.components['cluster-api'].args;
    const capiMetrics = await (await fetch(`http://${capi[capi.indexOf('--metrics-bind-address') + 1]}/metrics`)).text();
    assert.match(capiMetrics, /controller_runtime_reconcile_total\{controller="machine",result="\w+"\} \d+/);
    assert.match(capiMetrics, /controller_runtime_reconcile_total\{controller="metal3machine",result="\w+"\} \d+/);
    assert.doesNotMatch(capiMetrics, /controller="baremetalhost"/);
    assert.equal((await fetch(`http://${capi[capi.indexOf('--health-probe-bind-address') + 1]}/readyz`)).status, 200);
  });

  it('idle, the controllers write fewer than 10 times a minute (the API server counts requests by verb)', {
    timeout: 300_000,
  }, async (t) => {
    const server = /server: (\S+)/.exec(readFileSync(join(data, 'apiserver', 'kubeconfig'), 'utf8'))?.[1] ?? '';
    const token = /token: (\S+)/.exec(readFileSync(join(data, 'apiserver', 'kubeconfig'), 'utf8'))?.[1] ?? '';
    const writes = async () => {
      const m = await kubectl(join(data, 'apiserver', 'kubeconfig'), ['get', '--raw', '/metrics']);
      assert.equal(m.code, 0, `${server} ${token ? 'with token' : ''}: ${m.stderr}`);
      let n = 0;
      for (const line of m.stdout.split('\n')) {
        const v = /^apiserver_request_total\{verb="(POST|PUT|PATCH|APPLY|DELETE|DELETECOLLECTION)",[^}]*\} (\d+)/.exec(line);
        if (v) n += Number(v[2]);
      }
      return n;
    };
    await new Promise((r) => setTimeout(r, 10_000));
    const before = await writes();
    const minutes = 1;
    await new Promise((r) => setTimeout(r, minutes * 60_000));
    const n = (await writes()) - before;
    t.diagnostic(`${n} writes in ${minutes} min`);
    assert.ok(n / minutes < 10, `${n} writes in ${minutes} minutes`);
  });

  it('a second up on a running environment is refused', async () => {
    const r = await ferrite(['dev', 'up', '--port', '0', '--data-dir', data], 60_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already runs from .*ferrite dev status/);
  });

  it('controllers refuse to start without what they need, saying what is missing', async () => {
    let r = await ferrite(['controllers', '--kubeconfig', join(data, 'apiserver', 'kubeconfig')], 60_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--ironic-url \(or IRONIC_ENDPOINT\) is required/);
    r = await ferrite(['controllers', '--kubeconfig', join(dir, 'nope'), '--ironic-url', 'http://127.0.0.1:1'], 60_000);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /kubeconfig .*nope does not exist/);
    r = await ferrite(
      [
        'controllers',
        '--kubeconfig',
        join(data, 'apiserver', 'kubeconfig'),
        '--ironic-url',
        'http://127.0.0.1:1',
        '--webhook-cert-dir',
        dir,
      ],
      60_000,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /has no tls\.crt/);
    const noKube: NodeJS.ProcessEnv = { ...process.env };
    delete noKube.KUBECONFIG;
    delete noKube.KUBERNETES_SERVICE_HOST;
    r = await run(process.execPath, [...CLI, 'controllers', '--controllers', 'capm3'], { cwd: ROOT, env: noKube, timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no kubeconfig was given and this is not a pod/);
    r = await ferrite(['controllers', '--controllers', 'bmo,nope'], 60_000);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown controller set "nope"/);
    r = await ferrite(
      ['controllers', '--controllers', 'capm3', '--kubeconfig', join(data, 'apiserver', 'kubeconfig'), '--webhook-cert-secret', 'ns/x'],
      60_000,
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--webhook-cert-secret needs --webhook-service/);
  });

  it('--kubeconfig runs the controllers against an existing cluster (CRDs installed there)', async () => {
    const other = join(dir, 'cluster');
    const { spawn } = await import('node:child_process');
    const apiserver = spawn(process.execPath, [...CLI, 'apiserver', '--data-dir', other, '--port', '0', '--no-crds'], {
      cwd: ROOT,
      stdio: 'ignore',
    });
    try {
      const kc = join(other, 'kubeconfig');
      for (let i = 0; i < 200 && !existsSync(kc); i++) await new Promise((r) => setTimeout(r, 100));
      const data2 = join(dir, 'dev2');
      const r = await ferrite(['dev', 'up', '--hosts', '2', '--no-cluster', '--kubeconfig', kc, '--data-dir', data2]);
      try {
        assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
        assert.match(r.stdout, /hosts: 2\/2 available/);
        const crds = await kubectl(kc, ['get', 'crd', 'baremetalhosts.metal3.io', '-o', 'name']);
        assert.equal(crds.stdout.trim(), 'customresourcedefinition.apiextensions.k8s.io/baremetalhosts.metal3.io');
        const state = JSON.parse(readFileSync(join(data2, 'dev.json'), 'utf8')) as {
          embedded: boolean;
          components: Record<string, unknown>;
        };
        assert.equal(state.embedded, false);
        assert.equal(state.components.apiserver, undefined, 'no embedded API server was started');
      } finally {
        await ferrite(['dev', 'down', '--data-dir', data2], 60_000);
      }
    } finally {
      apiserver.kill('SIGTERM');
    }
  });

  it('--ironic-tls runs Ironic over HTTPS with Basic auth and generated certificates; hosts still reach available', async () => {
    const data3 = join(dir, 'tls');
    try {
      const r = await ferrite(['dev', 'up', '--ironic-tls', '--hosts', '1', '--no-cluster', '--port', '0', '--data-dir', data3], 600_000);
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const url = /Ironic:\s+(https:\/\/\S+)/.exec(r.stdout)?.[1];
      assert.ok(url, r.stdout);
      const ca = readFileSync(join(data3, 'ironic-tls', 'pki', 'ca.crt'), 'utf8');
      const status = async (basic?: string) => (await httpsGet(`${url}/v1/nodes`, { ca, basic })).status;
      assert.equal(await status(), 401);
      const password = readFileSync(join(data3, 'ironic-auth', 'ironic', 'password'), 'utf8').trim();
      assert.equal(await status(`ironic:${password}`), 200);
      const hosts = await kubectl(join(data3, 'apiserver', 'kubeconfig'), [
        'get',
        'bmh',
        '-n',
        'metal3',
        '-o',
        'jsonpath={.items[*].status.provisioning.state}',
      ]);
      assert.equal(hosts.stdout, 'available');
    } finally {
      await ferrite(['dev', 'down', '--data-dir', data3], 60_000);
    }
  });

  it('down stops every process; status and down then say nothing runs', async () => {
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { components: Record<string, { pid: number }> };
    const r = await ferrite(['dev', 'down', '--data-dir', data], 60_000);
    assert.equal(r.code, 0, r.stderr);
    for (const [c, { pid }] of Object.entries(state.components)) assert.throws(() => process.kill(pid, 0), `${c} (pid ${pid}) stopped`);
    const s = await ferrite(['dev', 'status', '--data-dir', data], 60_000);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /no dev environment in/);
    const d = await ferrite(['dev', 'down', '--data-dir', data], 60_000);
    assert.equal(d.code, 1);
  });

  const bmcAddresses = async (kc: string) => {
    const g = await kubectl(kc, [
      'get',
      'bmh',
      '-n',
      'metal3',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.spec.bmc.address}{"\\n"}{end}',
    ]);
    assert.equal(g.code, 0, g.stderr);
    return g.stdout.trim().split('\n').sort();
  };

  it('up again on the kept state resumes it: the same hosts and BMC addresses, the cluster back with its Nodes Ready', async () => {
    const kc = join(data, 'apiserver', 'kubeconfig');
    const r = await ferrite(['dev', 'up', '--hosts', '3', '--port', '0', '--data-dir', data], 600_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /hosts: 3\/3 available or provisioned · provisioned 3/);
    assert.match(r.stdout, /cluster test1 with 3 Ready Nodes/);
    const addrs = await bmcAddresses(kc);
    assert.equal(addrs.length, 3);
    assert.deepEqual(addrs, before, 'the BareMetalHosts still name the same BMCs');
    const wkc = /kubectl --kubeconfig (\S+) get nodes/.exec(r.stdout)?.[1] ?? '';
    // the kubelets post again: Ready with a heartbeat from after the restart
    const since = Date.now() - 120_000;
    const nodes = await kubectl(wkc, [
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}{"\\n"}{end}',
    ]);
    assert.equal(nodes.code, 0, nodes.stderr);
    const rows = nodes.stdout.trim().split('\n');
    assert.equal(rows.length, 3);
    for (const row of rows) {
      const [st, hb] = row.split(' ');
      assert.equal(st, 'True');
      assert.ok(Date.parse(hb) > since, `heartbeat ${hb} is recent`);
    }
  });

  it('up after kill -9 of every component (and no dev down) recovers the same environment', async () => {
    const state = JSON.parse(readFileSync(join(data, 'dev.json'), 'utf8')) as { components: Record<string, { pid: number }> };
    for (const { pid } of Object.values(state.components)) await stopPid(pid, 'SIGKILL');
    const r = await ferrite(['dev', 'up', '--hosts', '3', '--port', '0', '--data-dir', data], 600_000);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /cluster test1 with 3 Ready Nodes/);
    assert.deepEqual(await bmcAddresses(join(data, 'apiserver', 'kubeconfig')), before);
  });
});
