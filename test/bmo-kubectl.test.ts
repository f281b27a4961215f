// The Bare Metal Operator end to end with real peers: kubectl applies upstream-style
// BareMetalHost + Secret manifests to Ferrite's API server; the operator drives Ferrite's Ironic
// over its REST API; Ironic drives emulated machines over Redfish and IPMI. Ground truth for
// provisioning is the machine's disk, not the operator's word.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { installCrds } from '../cli/crds.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { type Operator, startOperator, webhookConfiguration } from '../provider/bmo/operator.js';
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
  let certs: string;
  let pki: Awaited<ReturnType<typeof loadOrCreateCredentials>>;
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
    fleet = await startTestFleet(4, { tls: true });
    ironic = await startTestIronic();
    fleet.fleet.setPxeUrl(`${ironic.httpUrl}/boot.ipxe`);
    client = KubeClient.fromFile(api.kubeconfigPath);
    certs = join(api.dir, 'webhook');
    pki = await loadOrCreateCredentials(certs, ['127.0.0.1'], 'webhook');
    writeFileSync(join(certs, 'tls.crt'), pki.certPem);
    writeFileSync(join(certs, 'tls.key'), pki.keyPem);
    op = await startOperator({
      client,
      ironic: { endpoint: ironic.url },
      log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
      deployKernelUrl: `${files.url}/ipa.kernel`,
      deployRamdiskUrl: `${files.url}/ipa.initramfs`,
      pollMs: 300,
      errorBackoffBaseMs: 1000,
      webhook: { host: '127.0.0.1', port: 0, certDir: certs },
    });
    const r = await k(['apply', '-f', '-'], JSON.stringify(webhookConfiguration(String(op.webhook?.url), pki.caPem)));
    assert.equal(r.code, 0, r.stderr);
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
    for (const a of fleet.addrs.slice(0, 3)) {
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
    for (const a of fleet.addrs.slice(0, 3)) assert.equal((await k(['patch', 'bmh', a.name, '--type', 'merge', '-p', patch])).code, 0);
    for (const [i, a] of fleet.addrs.slice(0, 3).entries()) {
      const h = await waitFor(a.name, (h) => h.status?.provisioning?.state === 'provisioned', 'provisioned');
      assert.equal(h.status?.poweredOn, true);
      const m = fleet.fleet.machines[i];
      assert.equal(m.state.installedImage?.url, `${files.url}/disk.img`, `${a.name}: the image is on the disk`);
      const drive = m.configDrive();
      assert.ok(drive, 'a config drive was written');
    }
    const unset = JSON.stringify({ spec: { image: null } });
    for (const a of fleet.addrs.slice(0, 3)) assert.equal((await k(['patch', 'bmh', a.name, '--type', 'merge', '-p', unset])).code, 0);
    for (const a of fleet.addrs.slice(0, 3)) await waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available again');
  });

  it('a wrong BMC password is a registration error; fixing the Secret recovers the host', async () => {
    // a machine no other host uses: the agent's lookup must find this host's node
    const a = fleet.addrs[3];
    const bad = `apiVersion: v1
kind: Secret
metadata: {name: creds-later}
stringData: {username: ${a.username}, password: not-the-password}
---
apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: wrong-password}
spec:
  online: true
  bootMACAddress: ${a.bootMac}
  bmc: {address: "${a.redfishVirtualMedia}", credentialsName: creds-later, disableCertificateVerification: true}
`;
    const applied = await k(['apply', '-f', '-'], bad);
    assert.equal(applied.code, 0, applied.stderr);
    const h = await waitFor('wrong-password', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.equal(h.status?.operationalStatus, 'error');
    assert.match(h.status?.errorMessage ?? '', /401|credential|auth/i, 'the message carries what the BMC answered');
    assert.equal(h.status?.provisioning?.state, 'registering');
    const gen = ((await host('wrong-password')) as { metadata: { generation?: number } }).metadata.generation;
    const fixed = JSON.stringify({ stringData: { password: a.password } });
    assert.equal((await k(['patch', 'secret', 'creds-later', '--type', 'merge', '-p', fixed])).code, 0);
    const ok = await waitFor(
      'wrong-password',
      (h) => h.status?.provisioning?.state === 'available',
      'available after the Secret was fixed',
    );
    assert.equal(ok.status?.errorType ?? '', '');
    assert.equal(ok.status?.operationalStatus, 'OK');
    assert.equal(
      ((await host('wrong-password')) as { metadata: { generation?: number } }).metadata.generation,
      gen,
      'the host spec was not touched',
    );
    assert.equal((await k(['delete', 'bmh', 'wrong-password'])).code, 0);
  });

  it('a missing Secret is a registration error naming it; a host without BMC details is unmanaged', async () => {
    const m = `apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: no-secret}
spec:
  online: false
  bmc: {address: "ipmi://127.0.0.1:1", credentialsName: does-not-exist}
---
apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: discovered}
spec: {online: false}
`;
    assert.equal((await k(['apply', '-f', '-'], m)).code, 0);
    const h = await waitFor('no-secret', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.equal(h.status?.errorMessage, 'The BMC secret default/does-not-exist does not exist');
    const d = await waitFor('discovered', (h) => h.status?.provisioning?.state === 'unmanaged', 'unmanaged');
    assert.equal(d.status?.operationalStatus, 'discovered');
    const ev = await k(['get', 'events', '--field-selector', 'involvedObject.name=no-secret', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(ev.stdout, /BMCCredentialError/);
    assert.equal((await k(['delete', 'bmh', 'no-secret', 'discovered'])).code, 0);
  });

  it('an unreachable BMC is a registration error carrying what Ironic saw', async () => {
    const m = `apiVersion: v1
kind: Secret
metadata: {name: unreachable-creds}
stringData: {username: admin, password: password}
---
apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: unreachable}
spec:
  online: true
  bootMACAddress: "52:54:00:00:00:99"
  bmc: {address: "redfish+http://127.0.0.1:1/redfish/v1/Systems/x", credentialsName: unreachable-creds}
`;
    assert.equal((await k(['apply', '-f', '-'], m)).code, 0);
    const h = await waitFor('unreachable', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.match(h.status?.errorMessage ?? '', /127\.0\.0\.1:1|ECONNREFUSED|connect/i);
    assert.equal((await k(['delete', 'bmh', 'unreachable'])).code, 0);
  });

  it('the validating webhook refuses bad hosts with upstream messages', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['bad-scheme', 'bmc: {address: "foo://10.0.0.1", credentialsName: s}', /Unknown BMC type 'foo' for address foo:\/\/10.0.0.1/],
      [
        'no-checksum',
        'bmc: {address: "redfish://10.0.0.1", credentialsName: s}\n  image: {url: "http://x/img.qcow2"}',
        /checksum is required for normal images/,
      ],
      ['bad-hint', 'rootDeviceHints: {deviceName: sda}', /device name of root device hint must be a \/dev\/ path, not "sda"/],
      [
        'secure-ipmi',
        'bmc: {address: "ipmi://10.0.0.1", credentialsName: s}\n  bootMode: UEFISecureBoot',
        /BMC driver ipmi does not support secure boot/,
      ],
      ['libvirt-no-mac', 'bmc: {address: "libvirt://10.0.0.1", credentialsName: s}', /BMC driver libvirt requires a BootMACAddress value/],
    ];
    for (const [name, spec, want] of cases) {
      const r = await k(
        ['apply', '-f', '-'],
        `apiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\nmetadata: {name: ${name}}\nspec:\n  online: true\n  ${spec}\n`,
      );
      assert.notEqual(r.code, 0, `${name} was accepted`);
      assert.match(r.stderr, want, name);
    }
    // immutable fields on update
    const mac = fleet.addrs[2].bootMac;
    const r = await k([
      'patch',
      'bmh',
      fleet.addrs[2].name,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { bootMACAddress: mac.replace(/^..:/, 'aa:') } }),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bootMACAddress can not be changed once it is set/);
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
