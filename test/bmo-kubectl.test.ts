// The Bare Metal Operator end to end with real peers: kubectl applies upstream-style
// BareMetalHost + Secret manifests to Ferrite's API server; the operator drives Ferrite's Ironic
// over its REST API; Ironic drives emulated machines over Redfish and IPMI. Ground truth for
// provisioning is the machine's disk, not the operator's word.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const image = Buffer.alloc(2 * 1024 * 1024, 9);
const imageSha = createHash('sha256').update(image).digest('hex');

describe('BareMetalHost with kubectl, the operator and Ironic', { concurrency: 1 }, () => {
  let s: BmoStack;
  before(async () => {
    s = await startBmoStack({ machines: 4, files: { '/disk.img': image }, webhook: true, pollMs: 300 });
  });
  after(async () => s?.close());

  it('three hosts (redfish, redfish-virtualmedia, ipmi) go registering → available with hardware details', async () => {
    const docs = [
      fleetManifests([s.fleet.addrs[0]], { protocol: 'redfish' }),
      fleetManifests([s.fleet.addrs[1]], { protocol: 'redfish-virtualmedia' }),
      fleetManifests([s.fleet.addrs[2]], { protocol: 'ipmi' }),
    ].join('');
    const r = await s.k(['apply', '-f', '-'], docs);
    assert.equal(r.code, 0, r.stderr);
    for (const a of s.fleet.addrs.slice(0, 3)) {
      const h = await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available');
      assert.equal(h.status?.operationalStatus, 'OK');
      assert.ok((h.status?.hardware?.cpu?.count ?? 0) > 0, 'inspection filled hardware details');
    }
    const hd = await s.k(['get', 'hardwaredata', s.fleet.addrs[0].name, '-o', 'jsonpath={.spec.hardware.cpu.arch}']);
    assert.equal(hd.stdout, 'x86_64', 'a HardwareData object holds the inspection result');
  });

  it('kubectl get bmh shows upstream columns', async () => {
    const r = await s.k(['get', 'bmh']);
    assert.equal(r.code, 0, r.stderr);
    const head = r.stdout
      .split('\n')[0]
      .split(/\s{2,}/)
      .map((s) => s.trim());
    assert.deepEqual(head, ['NAME', 'STATE', 'CONSUMER', 'ONLINE', 'ERROR', 'AGE']);
    assert.match(r.stdout, new RegExp(`${s.fleet.addrs[0].name}\\s+available\\s+true`));
    const wide = await s.k(['get', 'bmh', '-o', 'wide']);
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
      spec: { image: { url: `${s.files.url}/disk.img`, checksum: imageSha, checksumType: 'sha256', format: 'raw' } },
    });
    for (const a of s.fleet.addrs.slice(0, 3)) assert.equal((await s.k(['patch', 'bmh', a.name, '--type', 'merge', '-p', patch])).code, 0);
    for (const [i, a] of s.fleet.addrs.slice(0, 3).entries()) {
      // poweredOn is synced from Ironic on the first look after provisioning, so wait for both
      await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'provisioned' && h.status.poweredOn === true, 'provisioned and on');
      const m = s.fleet.fleet.machines[i];
      assert.equal(m.state.installedImage?.url, `${s.files.url}/disk.img`, `${a.name}: the image is on the disk`);
      const drive = m.configDrive();
      assert.ok(drive, 'a config drive was written');
      const ready = await s.k(['get', 'bmh', a.name, '-o', `jsonpath={.status.conditions[?(@.type=="Ready")].status}`]);
      assert.equal(ready.stdout, 'True', 'the Ready condition is True on a provisioned host');
    }
    const unset = JSON.stringify({ spec: { image: null } });
    for (const a of s.fleet.addrs.slice(0, 3)) assert.equal((await s.k(['patch', 'bmh', a.name, '--type', 'merge', '-p', unset])).code, 0);
    for (const a of s.fleet.addrs.slice(0, 3))
      await s.waitFor(a.name, (h) => h.status?.provisioning?.state === 'available', 'available again');
  });

  it('a wrong BMC password is a registration error; fixing the Secret recovers the host', async () => {
    // a machine no other host uses: the agent's lookup must find this host's node
    const a = s.fleet.addrs[3];
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
    const applied = await s.k(['apply', '-f', '-'], bad);
    assert.equal(applied.code, 0, applied.stderr);
    const h = await s.waitFor('wrong-password', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.equal(h.status?.operationalStatus, 'error');
    assert.match(h.status?.errorMessage ?? '', /401|credential|auth/i, 'the message carries what the BMC answered');
    assert.equal(h.status?.provisioning?.state, 'registering');
    const gen = ((await s.host('wrong-password')) as { metadata: { generation?: number } }).metadata.generation;
    const fixed = JSON.stringify({ stringData: { password: a.password } });
    assert.equal((await s.k(['patch', 'secret', 'creds-later', '--type', 'merge', '-p', fixed])).code, 0);
    const ok = await s.waitFor(
      'wrong-password',
      (h) => h.status?.provisioning?.state === 'available',
      'available after the Secret was fixed',
    );
    assert.equal(ok.status?.errorType ?? '', '');
    assert.equal(ok.status?.operationalStatus, 'OK');
    assert.equal(
      ((await s.host('wrong-password')) as { metadata: { generation?: number } }).metadata.generation,
      gen,
      'the host spec was not touched',
    );
    assert.equal((await s.k(['delete', 'bmh', 'wrong-password'])).code, 0);
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
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const h = await s.waitFor('no-secret', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.equal(h.status?.errorMessage, 'The BMC secret default/does-not-exist does not exist');
    const d = await s.waitFor('discovered', (h) => h.status?.provisioning?.state === 'unmanaged', 'unmanaged');
    assert.equal(d.status?.operationalStatus, 'discovered');
    const ev = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=no-secret', '-o', 'jsonpath={.items[*].reason}']);
    assert.match(ev.stdout, /BMCCredentialError/);
    assert.equal((await s.k(['delete', 'bmh', 'no-secret', 'discovered'])).code, 0);
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
    assert.equal((await s.k(['apply', '-f', '-'], m)).code, 0);
    const h = await s.waitFor('unreachable', (h) => h.status?.errorType === 'registration error', 'registration error');
    assert.match(h.status?.errorMessage ?? '', /127\.0\.0\.1:1|ECONNREFUSED|connect/i);
    assert.equal((await s.k(['delete', 'bmh', 'unreachable'])).code, 0);
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
      const r = await s.k(
        ['apply', '-f', '-'],
        `apiVersion: metal3.io/v1alpha1\nkind: BareMetalHost\nmetadata: {name: ${name}}\nspec:\n  online: true\n  ${spec}\n`,
      );
      assert.notEqual(r.code, 0, `${name} was accepted`);
      assert.match(r.stderr, want, name);
    }
    // immutable fields on update
    const mac = s.fleet.addrs[2].bootMac;
    const r = await s.k([
      'patch',
      'bmh',
      s.fleet.addrs[2].name,
      '--type',
      'merge',
      '-p',
      JSON.stringify({ spec: { bootMACAddress: mac.replace(/^..:/, 'aa:') } }),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /bootMACAddress can not be changed once it is set/);
  });

  it('delete removes the Ironic node and the host', async () => {
    assert.equal((await s.k(['delete', 'bmh', s.fleet.addrs[0].name, '--wait=false'])).code, 0);
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await s.k(['get', 'bmh', s.fleet.addrs[0].name]);
      if (r.code !== 0 && /NotFound/.test(r.stderr)) break;
      assert.ok(Date.now() < end, `host not deleted: ${r.stdout}`);
      await sleep(300);
    }
    assert.equal(s.ironic.store.nodeByName(`default~${s.fleet.addrs[0].name}`), undefined, 'the Ironic node is gone');
  });
});
