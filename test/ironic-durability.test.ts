// kill -9 of `ferrite ironic` while a node deploys, then a restart on the same data dir: the
// node ends in a defined state (the agent's heartbeats resume the deploy to active), every node
// and port acknowledged before the kill is still there, and work the dead conductor was doing
// in a transient state fails with the reason on takeover.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Conductor, DEFAULT_CONDUCTOR_OPTIONS } from '../provider/ironic/conductor/conductor.js';
import { newNode } from '../provider/ironic/model.js';
import { IronicStore } from '../provider/ironic/store.js';
import { cleanup, eventually, ROOT, tempDir } from './helpers/apiserver.js';
import { startFileServer, startTestFleet } from './helpers/bmc.js';
import { ironicRequest } from './helpers/ironic.js';

const api = (base: string, method: string, path: string, body?: unknown) =>
  ironicRequest(base, method, path, body, { 'X-OpenStack-Ironic-API-Version': '1.110' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function launch(dir: string, port: number, httpPort: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'cli', 'main.ts'),
        'ironic',
        '--data-dir',
        dir,
        '--port',
        String(port),
        '--http-port',
        String(httpPort),
        '--heartbeat-timeout',
        '2',
        '--power-sync-interval',
        '0',
        '--log-level',
        'warn',
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('Ironic API:')) resolve(child);
    });
    child.stderr?.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => reject(new Error(`ferrite ironic exited early (${code}): ${out}`)));
  });
}

describe('Ironic durability', () => {
  const dir = tempDir('ferrite-ironic-kill-');
  let child: ChildProcess | undefined;
  after(() => {
    child?.kill('SIGKILL');
    cleanup(dir);
  });

  it('kill -9 during deploy: restart resumes to active; no node or port is lost', async () => {
    const image = Buffer.alloc(2 * 1024 * 1024, 9);
    const files = await startFileServer({ '/k': Buffer.from('k'), '/r': Buffer.from('r'), '/disk.img': image });
    const fleet = await startTestFleet(1, { tls: false });
    try {
      const [port, httpPort] = [await freePort(), await freePort()];
      const base = `http://127.0.0.1:${port}`;
      fleet.fleet.setPxeUrl(`http://127.0.0.1:${httpPort}/boot.ipxe`);
      child = await launch(dir, port, httpPort);
      const m = fleet.fleet.machines[0];
      // 40 bystanders with ports, every one acknowledged before the kill
      const acked: string[] = [];
      for (let i = 0; i < 40; i++) {
        const n = await api(base, 'POST', '/v1/nodes', { driver: 'fake-hardware', name: `bystander-${i}` });
        assert.equal(n.status, 201);
        const p = await api(base, 'POST', '/v1/ports', {
          node_uuid: n.json.uuid,
          address: `52:54:00:00:01:${i.toString(16).padStart(2, '0')}`,
        });
        assert.equal(p.status, 201);
        acked.push(String(n.json.uuid));
      }
      await api(base, 'POST', '/v1/nodes', {
        name: 'victim',
        driver: 'redfish',
        automated_clean: false,
        driver_info: {
          redfish_address: fleet.url,
          redfish_username: fleet.addrs[0].username,
          redfish_password: fleet.addrs[0].password,
          deploy_kernel: `${files.url}/k`,
          deploy_ramdisk: `${files.url}/r`,
        },
        instance_info: {
          image_source: `${files.url}/disk.img`,
          image_os_hash_algo: 'sha256',
          image_os_hash_value: createHash('sha256').update(image).digest('hex'),
        },
      });
      await api(base, 'POST', '/v1/ports', { node: 'victim', address: fleet.addrs[0].bootMac });
      const stateOf = async () => (await api(base, 'GET', '/v1/nodes/victim')).json as Record<string, unknown>;
      const waitFor = (want: string) =>
        eventually(async () => (await stateOf()).provision_state === want && !(await stateOf()).reservation, want, 60_000);
      await api(base, 'PUT', '/v1/nodes/victim/states/provision', { target: 'manage' });
      await waitFor('manageable');
      await api(base, 'PUT', '/v1/nodes/victim/states/provision', { target: 'provide' });
      await waitFor('available');
      // a slow download keeps the agent writing long enough to kill the conductor mid-deploy
      fleet.fleet.agents.faults.set(m.name, { downloadBytesPerSecond: 1000 }); // ~2 s real at the test fleet's time scale
      assert.equal((await api(base, 'PUT', '/v1/nodes/victim/states/provision', { target: 'active' })).status, 202);
      await eventually(
        async () => {
          const n = await stateOf();
          return n.provision_state === 'wait call-back' && (n.deploy_step as { step?: string }).step === 'write_image';
        },
        'the agent to be writing the image',
        60_000,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
      fleet.fleet.agents.faults.delete(m.name);

      child = await launch(dir, port, httpPort);
      const final = await eventually(
        async () => {
          const n = await stateOf();
          return ['active', 'deploy failed'].includes(String(n.provision_state)) && !n.reservation ? n : null;
        },
        'the deploy to finish after the restart',
        60_000,
      );
      assert.equal(final.provision_state, 'active', `resumed by the agent's heartbeats (last_error: ${String(final.last_error)})`);
      assert.equal(m.state.installedImage?.url, `${files.url}/disk.img`);
      const nodes = (await api(base, 'GET', '/v1/nodes?limit=1000')).json.nodes as Array<{ uuid: string }>;
      const have = new Set(nodes.map((n) => n.uuid));
      for (const u of acked) assert.ok(have.has(u), `node ${u} survived`);
      const ports = (await api(base, 'GET', '/v1/ports?limit=1000')).json.ports as unknown[];
      assert.equal(ports.length, 41, 'every port survived');
    } finally {
      child?.kill('SIGKILL');
      await fleet.close();
      await files.close();
    }
  });

  it('takeover: work interrupted in a transient state fails with the reason, locks are cleared', async () => {
    const d = tempDir('ferrite-ironic-takeover-');
    try {
      const store = new IronicStore({ path: join(d, 'ironic.sqlite') });
      const put = (name: string, state: string, extra: Record<string, unknown> = {}) =>
        store.putNode(newNode({ driver: 'fake-hardware', name, provision_state: state as never, reservation: 'dead-conductor', ...extra }));
      put('was-deploying', 'deploying', { target_provision_state: 'active' });
      put('was-cleaning', 'cleaning', { target_provision_state: 'available' });
      put('was-verifying', 'verifying', { target_provision_state: 'manageable' });
      put('was-inspecting', 'inspecting', { target_provision_state: 'manageable' });
      put('was-deleting', 'deleting', { target_provision_state: 'available' });
      put('was-waiting', 'wait call-back', { target_provision_state: 'active' });
      put('was-active', 'active', { target_power_state: 'power off' });
      store.close();

      const reopened = new IronicStore({ path: join(d, 'ironic.sqlite') });
      const c = new Conductor(reopened, {
        ...DEFAULT_CONDUCTOR_OPTIONS,
        powerSyncInterval: 0,
        hostname: 'new-conductor',
        apiUrl: 'http://127.0.0.1:1',
        httpUrl: 'http://127.0.0.1:1',
        httpRoot: join(d, 'http'),
        cacheDir: join(d, 'cache'),
        log: pino({ level: 'silent' }),
      });
      c.start();
      const n = (name: string) => reopened.nodeByName(name);
      assert.equal(n('was-deploying')?.provision_state, 'deploy failed');
      assert.match(n('was-deploying')?.last_error ?? '', /was restarted while node .* was in state "deploying"/);
      assert.equal(n('was-cleaning')?.provision_state, 'clean failed');
      assert.equal(n('was-verifying')?.provision_state, 'enroll');
      assert.equal(n('was-inspecting')?.provision_state, 'inspect failed');
      assert.equal(n('was-deleting')?.provision_state, 'error');
      assert.equal(n('was-waiting')?.provision_state, 'wait call-back', 'a wait state resumes with the agent');
      assert.equal(n('was-active')?.provision_state, 'active');
      assert.equal(n('was-active')?.target_power_state, null);
      for (const x of reopened.allNodes()) assert.equal(x.reservation, null, `${x.name} unlocked`);
      await c.stop();
      reopened.close();
    } finally {
      cleanup(d);
    }
  });
});

describe('ferrite ironic: bad flags and files', () => {
  const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
  it('refuses them with one line and exit 2, leaving nothing running', async () => {
    const { run } = await import('./helpers/apiserver.js');
    const dir = tempDir('ferrite-ironic-flags-');
    try {
      const cases: Array<[string[], RegExp]> = [
        [['ironic', '--sync', 'bogus'], /--sync must be full or normal/],
        [['ironic', '--htpasswd', join(dir, 'missing')], /cannot read htpasswd file .*missing/],
        [['ironic', '--tls-cert', join(dir, 'c.pem')], /--tls-cert and --tls-key go together/],
        [['ironic', '--port', '99999'], /must be a port number/],
        [['bmc', 'serve', '--machines', '1', '--pxe-url', 'tftp://x/boot'], /--pxe-url must be an http\(s\) URL/],
      ];
      for (const [args, msg] of cases) {
        const r = await run(
          process.execPath,
          [...CLI, ...args, '--data-dir', join(dir, 'd'), ...(args[0] === 'ironic' ? ['--http-port', '0'] : [])],
          { cwd: ROOT, timeoutMs: 30_000 },
        );
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, msg);
      }
      const bad = join(dir, 'htpasswd');
      (await import('node:fs')).writeFileSync(bad, 'ironic:plaintext\n');
      const r = await run(
        process.execPath,
        [...CLI, 'ironic', '--htpasswd', bad, '--port', '0', '--http-port', '0', '--data-dir', join(dir, 'd')],
        { cwd: ROOT, timeoutMs: 30_000 },
      );
      assert.equal(r.code, 2);
      assert.match(r.stderr, /only bcrypt entries are supported/);
    } finally {
      cleanup(dir);
    }
  });
});
