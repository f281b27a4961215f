// Upstream's Bare Metal Operator (metal3-io/baremetal-operator v0.13.2, built from the Go module
// proxy by scripts/install-peers.sh) runs INSTEAD of Ferrite's controllers on Ferrite's stack:
// the embedded API server with Ferrite's own CRD set, Ferrite's Ironic and the BMC emulator
// (`dev up --no-controllers`). Three hosts — one per BMC protocol — register, inspect and become
// available with their HardwareData; one is provisioned and deprovisioned; a deploy from a missing
// image shows `provisioning error` and recovers once the image is fixed; all are deleted. Every
// Event it posts is accepted, the API server answers it no 4xx but 404 and 409, and its secure
// metrics endpoint (TokenReview + SubjectAccessReview against Ferrite's API server) is scrapeable.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { freeTcpPort } from '../devenv/stack.js';
import { KubeClient, type KubeObject } from '../provider/kube/client.js';
import { cleanup, eventually, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';

const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')];
const ferrite = (args: string[], timeoutMs = 300_000) => run(process.execPath, [...CLI, ...args], { cwd: ROOT, timeoutMs });
const BMO = join(ROOT, '.peers', 'baremetal-operator');
const NS = 'metal3';

type Bmh = KubeObject & {
  spec: Record<string, unknown>;
  status?: { provisioning?: { state?: string }; errorType?: string; errorMessage?: string; operationalStatus?: string };
};

function get(url: string, token?: string): Promise<number> {
  return new Promise((res) => {
    const req = request(url, { rejectUnauthorized: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (r) => {
      r.resume();
      res(r.statusCode ?? 0);
    });
    req.on('error', () => res(0));
    req.end();
  });
}

describe("upstream's Bare Metal Operator on Ferrite's stack", { concurrency: 1, timeout: 1_500_000 }, () => {
  const dir = tempDir('ferrite-upstream-bmo-');
  const data = join(dir, 'dev');
  const kc = join(data, 'apiserver', 'kubeconfig');
  let bmo: ChildProcess | undefined;
  let client: KubeClient;
  let metricsUrl = '';
  let imageUrl = '';
  let imageSum = '';
  const bmoLog = join(dir, 'baremetal-operator.log');

  const host = (name: string) => client.get<Bmh>('metal3.io/v1alpha1', 'BareMetalHost', NS, name);
  const state = async (name: string) => {
    const h = await host(name);
    return h.status?.errorType ? `error:${h.status.errorType}` : (h.status?.provisioning?.state ?? '');
  };
  const waitState = (name: string, want: string, ms = 240_000) =>
    eventually(async () => (await state(name)) === want, `${name} ${want} (log: ${bmoLog})`, ms);

  before(async () => {
    assert.ok(existsSync(BMO), `${BMO} is missing: run scripts/install-peers.sh`);
    const up = await ferrite(['dev', 'up', '--no-controllers', '--no-register', '--hosts', '3', '--port', '0', '--data-dir', data]);
    assert.equal(up.code, 0, `${up.stdout}\n${up.stderr}`);
    const env = (k: string) => new RegExp(`${k}=(\\S+)`).exec(up.stdout)?.[1] ?? '';
    client = KubeClient.fromFile(kc);
    // a node image served by Ferrite's Ironic HTTP root
    const img = Buffer.alloc(4 * 1024 * 1024, 7);
    mkdirSync(join(data, 'ironic', 'httpboot', 'images'), { recursive: true });
    writeFileSync(join(data, 'ironic', 'httpboot', 'images', 'node.img'), img);
    imageUrl = env('DEPLOY_KERNEL_URL').replace(/\/images\/[^/]+$/, '/images/node.img');
    imageSum = createHash('sha256').update(img).digest('hex');
    const [metrics, health] = [await freeTcpPort(), await freeTcpPort()];
    metricsUrl = `https://127.0.0.1:${metrics}/metrics`;
    const fd = openSync(bmoLog, 'a');
    bmo = spawn(BMO, ['--webhook-port', '0', '--metrics-addr', `127.0.0.1:${metrics}`, '--health-addr', `127.0.0.1:${health}`], {
      cwd: dir,
      stdio: ['ignore', fd, fd],
      env: {
        ...process.env,
        KUBECONFIG: kc,
        IRONIC_ENDPOINT: env('IRONIC_ENDPOINT'),
        DEPLOY_KERNEL_URL: env('DEPLOY_KERNEL_URL'),
        DEPLOY_RAMDISK_URL: env('DEPLOY_RAMDISK_URL'),
        // dev up's Ironic wants Basic auth: the operator reads the credentials dev up made
        METAL3_AUTH_ROOT_DIR: env('METAL3_AUTH_ROOT_DIR'),
      },
    });
    const ns = await kubectl(kc, ['create', 'namespace', NS]);
    assert.equal(ns.code, 0, ns.stderr);
    // one host per BMC protocol, registered as make-bm-worker writes them
    for (const [i, protocol] of ['redfish-virtualmedia', 'redfish', 'ipmi'].entries()) {
      const m = await ferrite(['bmc', 'manifests', '--data-dir', join(data, 'bmc'), '--protocol', protocol, '--namespace', NS]);
      assert.equal(m.code, 0, m.stderr);
      const docs = parseAllDocuments(m.stdout)
        .map((d) => d.toJS() as KubeObject)
        .filter((o) => o.metadata?.name === `node-${i}` || o.metadata?.name === `node-${i}-bmc-secret`);
      assert.equal(docs.length, 2, `node-${i} and its Secret`);
      const apply = await kubectl(kc, ['apply', '-f', '-'], { input: docs.map((d) => stringify(d)).join('---\n') });
      assert.equal(apply.code, 0, apply.stderr);
    }
  });

  after(async () => {
    bmo?.kill('SIGTERM');
    await ferrite(['dev', 'down', '--data-dir', data], 120_000);
    cleanup(dir);
  });

  it('registers, inspects and makes available a host per protocol, with HardwareData', { timeout: 300_000 }, async () => {
    for (const n of ['node-0', 'node-1', 'node-2']) await waitState(n, 'available');
    const address = async (n: string) => String((await host(n)).spec.bmc && ((await host(n)).spec.bmc as { address: string }).address);
    assert.match(await address('node-0'), /^redfish-virtualmedia(\+https)?:\/\//);
    assert.match(await address('node-1'), /^redfish(\+https)?:\/\//);
    assert.match(await address('node-2'), /^ipmi:\/\//);
    for (const n of ['node-0', 'node-1', 'node-2']) {
      const hd = await client.get<KubeObject & { spec?: { hardware?: { cpu?: { count?: number }; nics?: unknown[] } } }>(
        'metal3.io/v1alpha1',
        'HardwareData',
        NS,
        n,
      );
      assert.ok((hd.spec?.hardware?.cpu?.count ?? 0) > 0, `${n}'s HardwareData has CPUs`);
      assert.ok((hd.spec?.hardware?.nics ?? []).length > 0, `${n}'s HardwareData has NICs`);
    }
  });

  it('provisions a host with an image and deprovisions it', { timeout: 600_000 }, async () => {
    const image = { url: imageUrl, checksum: imageSum, checksumType: 'sha256', format: 'raw' };
    await client.patch({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', namespace: NS, name: 'node-0' }, 'merge', {
      spec: { image },
    });
    await waitState('node-0', 'provisioned', 300_000);
    await client.patch({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', namespace: NS, name: 'node-0' }, 'merge', {
      spec: { image: null },
    });
    await waitState('node-0', 'available', 300_000);
  });

  it('a deploy from a missing image shows provisioning error, and recovers once the image is fixed', { timeout: 600_000 }, async () => {
    const ref = { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', namespace: NS, name: 'node-1' };
    await client.patch(ref, 'merge', {
      spec: { image: { url: imageUrl.replace('node.img', 'missing.img'), checksum: imageSum, checksumType: 'sha256', format: 'raw' } },
    });
    await waitState('node-1', 'error:provisioning error', 300_000);
    const h = await host('node-1');
    assert.match(String(h.status?.errorMessage), /missing\.img|404|Not Found/i, 'the message says what failed');
    await client.patch(ref, 'merge', { spec: { image: { url: imageUrl, checksum: imageSum, checksumType: 'sha256', format: 'raw' } } });
    await waitState('node-1', 'provisioned', 420_000);
  });

  it('deletes every host (its finalizer released by the operator)', { timeout: 600_000 }, async () => {
    const del = await kubectl(kc, ['delete', 'bmh', '--all', '-n', NS, '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    await eventually(
      async () => (await client.list('metal3.io/v1alpha1', 'BareMetalHost', NS)).items.length === 0,
      `every BareMetalHost gone (log: ${bmoLog})`,
      480_000,
    );
  });

  it("its Events were all accepted and Ferrite's API server answered it no 4xx but 404 and 409", async () => {
    const m = await kubectl(kc, ['get', '--raw', '/metrics']);
    assert.equal(m.code, 0, m.stderr);
    const bad: string[] = [];
    let events = 0;
    for (const line of m.stdout.split('\n')) {
      const r = /^apiserver_request_total\{verb="(\w+)",group="([^"]*)",resource="(\w+)",code="(\d+)"\} (\d+)/.exec(line);
      if (!r) continue;
      const [, verb, , resource, code] = r;
      if (resource === 'events' && verb === 'POST' && code === '201') events += Number(r[5]);
      if (code.startsWith('4') && code !== '404' && code !== '409') bad.push(line);
    }
    assert.ok(events > 0, 'the operator posted Events');
    assert.deepEqual(bad, [], 'no other 4xx');
    const log = readFileSync(bmoLog, 'utf8');
    assert.doesNotMatch(log, /Server rejected event/, 'no Event was rejected');
  });

  it('its secure metrics endpoint answers a bearer token the API server vouches for, and refuses none', async () => {
    const token = /token: (\S+)/.exec(readFileSync(kc, 'utf8'))?.[1] ?? '';
    assert.equal(await get(metricsUrl, token), 200);
    assert.equal(await get(metricsUrl), 401);
  });
});
