// The Bare Metal Operator end to end with real peers: kubectl applies upstream-style
// BareMetalHost + Secret manifests to Ferrite's API server; the operator drives Ferrite's Ironic
// over its REST API; Ironic drives emulated machines over Redfish and IPMI. Ground truth for
// provisioning is the machine's disk, not the operator's word.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { installCrds } from '../cli/crds.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type Operator, startOperator } from '../provider/bmo/operator.js';
import { KubeClient } from '../provider/kube/client.js';
import { cleanup, kubectl, startTestServer } from './helpers/apiserver.js';
import { startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { startTestIronic } from './helpers/ironic.js';

const image = Buffer.alloc(2 * 1024 * 1024, 9);
const imageSha = createHash('sha256').update(image).digest('hex');

type Bmh = {
  status?: {
    provisioning?: { state?: string };
    errorType?: string;
    errorMessage?: string;
    operationalStatus?: string;
    poweredOn?: boolean;
    hardware?: { cpu?: { count?: number } };
  };
};

describe('BareMetalHost with kubectl, the operator and Ironic', { concurrency: 1 }, () => {
  let api: Awaited<ReturnType<typeof startTestServer>>;
  let fleet: TestFleet;
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  let op: Operator;
  let client: KubeClient;
  const k = (args: string[], input?: string) => kubectl(api.kubeconfigPath, args, { input });
  const host = (name: string) => client.get<Bmh & { metadata: { name: string } }>('metal3.io/v1alpha1', 'BareMetalHost', 'default', name);
  async function waitFor(name: string, pred: (h: Bmh) => boolean, what: string, timeoutMs = 90_000): Promise<Bmh> {
    const end = Date.now() + timeoutMs;
    let last: Bmh | undefined;
    while (Date.now() < end) {
      try {
        last = await host(name);
        if (pred(last)) return last;
      } catch {
        // not created yet
      }
      await sleep(200);
    }
    throw new Error(`${name}: timed out waiting for ${what}; last status ${JSON.stringify(last?.status)}`);
  }

  before(async () => {
    api = await startTestServer({ inMemory: true });
    await installCrds(api.core);
    files = await startFileServer({
      '/ipa.kernel': Buffer.from('agent kernel'),
      '/ipa.initramfs': Buffer.from('agent initramfs'),
      '/disk.img': image,
    });
    fleet = await startTestFleet(3, { tls: true });
    ironic = await startTestIronic();
    fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
    client = KubeClient.fromFile(api.kubeconfigPath);
    op = await startOperator({
      client,
      ironic: { endpoint: ironic.url },
      log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
      deployKernelUrl: `${files.url}/ipa.kernel`,
      deployRamdiskUrl: `${files.url}/ipa.initramfs`,
      pollMs: 300,
      errorBackoffBaseMs: 1000,
    });
  });
  after(async () => {
    await op?.stop();
    await ironic?.close();
    await fleet?.close();
    await files?.close();
    await api?.close();
    if (api) cleanup(api.dir);
  });

  it('three hosts (redfish, redfish-virtualmedia, ipmi) go registering → available with hardware details', async () => {
    const docs = [
      fleetManifests([fleet.addrs[0]], { protocol: 'redfish' }),
      fleetManifests([fleet.addrs[1]], { protocol: 'redfish-virtualmedia' }),
      fleetManifests([fleet.addrs[2]], { protocol: 'ipmi' }),
    ].join('');
    const r = await k(['apply', '-f', '-'], docs);
    assert.equal(r.code, 0, r.stderr);
    for (const a of fleet.addrs) {
      const h = await waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available');
      assert.equal(h.status?.operationalStatus, 'OK');
      assert.ok((h.status?.hardware?.cpu?.count ?? 0) > 0, 'inspection filled hardware details');
    }
    const hd = await k(['get', 'hardwaredata', fleet.addrs[0].name, '-o', 'jsonpath={.spec.hardware.cpu.arch}']);
    assert.equal(hd.stdout, 'x86_64', 'a HardwareData object holds the inspection result');
  });

  it('kubectl get bmh shows upstream columns', async () => {
    const r = await k(['get', 'bmh']);
    assert.equal(r.code, 0, r.stderr);
    const head = r.stdout
      .split('\n')[0]
      .split(/\s{2,}/)
      .map((s) => s.trim());
    assert.deepEqual(head, ['NAME', 'STATE', 'CONSUMER', 'ONLINE', 'ERROR', 'AGE']);
    assert.match(r.stdout, new RegExp(`${fleet.addrs[0].name}\\s+available\\s+true`));
    const wide = await k(['get', 'bmh', '-o', 'wide']);
    assert.deepEqual(
      wide.stdout
        .split('\n')[0]
        .split(/\s{2,}/)
        .map((s) => s.trim()),
      ['NAME', 'STATUS', 'STATE', 'CONSUMER', 'BMC', 'ONLINE', 'ERROR', 'AGE'],
    );
  });

  it('an image provisions each host (the disk holds it), then removing it deprovisions', async () => {
    const patch = JSON.stringify({
      spec: { image: { url: `${files.url}/disk.img`, checksum: imageSha, checksumType: 'sha256', format: 'raw' } },
    });
    for (const a of fleet.addrs) assert.equal((await k(['patch', 'bmh', a.name, '--type', 'merge', '-p', patch])).code, 0);
    for (const [i, a] of fleet.addrs.entries()) {
      const h = await waitFor(a.name, (h) => h.status?.provisioning?.state === 'provisioned', 'provisioned');
      assert.equal(h.status?.poweredOn, true);
      const m = fleet.fleet.machines[i];
      assert.equal(m.state.installedImage?.url, `${files.url}/disk.img`, `${a.name}: the image is on the disk`);
      const drive = m.configDrive();
      assert.ok(drive, 'a config drive was written');
    }
    const unset = JSON.stringify({ spec: { image: null } });
    for (const a of fleet.addrs) assert.equal((await k(['patch', 'bmh', a.name, '--type', 'merge', '-p', unset])).code, 0);
    for (const a of fleet.addrs) await waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available again');
  });

  it('delete removes the Ironic node and the host', async () => {
    assert.equal((await k(['delete', 'bmh', fleet.addrs[0].name, '--wait=false'])).code, 0);
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await k(['get', 'bmh', fleet.addrs[0].name]);
      if (r.code !== 0 && /NotFound/.test(r.stderr)) break;
      assert.ok(Date.now() < end, `host not deleted: ${r.stdout}`);
      await sleep(300);
    }
    assert.equal(ironic.store.nodeByName(`default~${fleet.addrs[0].name}`), undefined, 'the Ironic node is gone');
  });
});
