// Upstream's newer BareMetalHost API through kubectl and Ferrite's webhook: spec.networkInterfaces
// with HostNetworkAttachments and BareMetalSwitches apply as upstream's samples do; the operator's
// admission rules refuse what upstream's refuses (an interface named twice or both ways, a second
// or non-RAID-1 root volume, an access port with tagged VLANs, a reversed VLAN range); an
// attachment a host uses can neither change nor go away; and the root volume reaches Ironic.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { eventually } from './helpers/apiserver.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const host = (name: string, spec: Record<string, unknown>) =>
  YAML.stringify({
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'BareMetalHost',
    metadata: { name, namespace: 'default' },
    spec: { online: false, bmc: { address: 'redfish://127.0.0.1:1/redfish/v1/Systems/x', credentialsName: 'nope' }, ...spec },
  });

const attachment = (name: string, spec: Record<string, unknown>) =>
  YAML.stringify({ apiVersion: 'metal3.io/v1alpha1', kind: 'HostNetworkAttachment', metadata: { name, namespace: 'default' }, spec });

describe('BareMetalHost networking and software RAID root volumes', { concurrency: 1, timeout: 300_000 }, () => {
  let s: BmoStack;
  before(async () => {
    s = await startBmoStack({
      machines: 1,
      webhook: true,
      switchNetworking: {
        configsSecret: 'ironic-switch-configs',
        credentialsSecret: 'ironic-switch-keys',
        credentialsPath: '/etc/ironic/switches',
      },
    });
  });
  after(() => s?.close());

  it("applies upstream's networking kinds and a host that uses them; kubectl explain describes them", async () => {
    const docs = [
      YAML.stringify({
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalSwitch',
        metadata: { name: 'tor-1', namespace: 'default' },
        spec: { address: '192.0.2.10', macAddress: '52:54:00:00:00:aa', deviceType: 'netmiko_arista_eos', credentials: { name: 'tor-1' } },
      }),
      attachment('prov', { mode: 'trunk', nativeVLAN: 10, allowedVLANs: ['100', '200-210'], mtu: 9000 }),
      host('networked', {
        networkInterfaces: [
          { name: 'enp1s0', hostNetworkAttachment: { name: 'prov' }, switchPort: { switchID: '52:54:00:00:00:aa', portID: 'Ethernet1/5' } },
          { macAddress: '52:54:00:12:34:56', hostNetworkAttachment: { name: 'prov' } },
        ],
      }),
    ];
    const r = await s.k(['apply', '-f', '-'], docs.join('---\n'));
    assert.equal(r.code, 0, r.stderr);
    const sw = await s.k(['get', 'bms', 'tor-1', '-o', 'jsonpath={.spec.driver}']);
    assert.equal(sw.stdout, 'generic-switch', "the driver is defaulted as upstream's CRD does");
    const plain = await s.k(['apply', '-f', '-'], attachment('plain', { nativeVLAN: 20 }));
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal((await s.k(['get', 'hostnetworkattachment', 'plain', '-o', 'jsonpath={.spec.mode}'])).stdout, 'access');
    const ex = await s.k(['explain', 'baremetalhost.spec.networkInterfaces.switchPort']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /switchID.*\n.*management MAC/s);
    const refused = await s.k(['apply', '-f', '-'], attachment('bad-vlan', { mode: 'trunk', nativeVLAN: 5000 }));
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /nativeVLAN.*should be less than or equal to 4094/);
  });

  it("refuses interfaces and root volumes upstream's webhook refuses, with its messages", async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      [
        'both',
        { networkInterfaces: [{ name: 'eth0', macAddress: '52:54:00:12:34:56' }] },
        /networkInterfaces\[0\]: name and macAddress are mutually exclusive/,
      ],
      [
        'neither',
        { networkInterfaces: [{ hostNetworkAttachment: { name: 'prov' } }] },
        /networkInterfaces\[0\]: must specify either name or macAddress/,
      ],
      [
        'twice',
        { networkInterfaces: [{ name: 'eth0' }, { name: 'ETH0' }] },
        /networkInterfaces\[1\]: duplicate interface selector for "ETH0"/,
      ],
      [
        'two-roots',
        {
          raid: {
            softwareRAIDVolumes: [
              { level: '1', rootVolume: true },
              { level: '1', rootVolume: true },
            ],
          },
        },
        /softwareRAIDVolumes\[\*\]\.rootVolume can only be set once/,
      ],
      [
        'root-and-hints',
        { rootDeviceHints: { deviceName: '/dev/sda' }, raid: { softwareRAIDVolumes: [{ level: '1', rootVolume: true }] } },
        /rootVolume and rootDeviceHints can not be set at the same time/,
      ],
      [
        'root-raid0',
        { raid: { softwareRAIDVolumes: [{ level: '1' }, { level: '0', rootVolume: true }] } },
        /softwareRAIDVolumes\[1\] with rootVolume set must use RAID level 1/,
      ],
    ];
    for (const [name, spec, why] of cases) {
      const r = await s.k(['apply', '-f', '-'], host(name, spec));
      assert.notEqual(r.code, 0, `${name} was accepted`);
      assert.match(r.stderr, why, name);
    }
    for (const [name, spec, why] of [
      ['access-tagged', { mode: 'access', nativeVLAN: 10, allowedVLANs: ['100'] }, /allowedVLANs cannot be specified for access mode/],
      [
        'reversed',
        { mode: 'trunk', nativeVLAN: 10, allowedVLANs: ['300-200'] },
        /allowedVLANs\[0\] "300-200": range start \(300\) must be less than end \(200\)/,
      ],
      ['too-high', { mode: 'hybrid', nativeVLAN: 10, allowedVLANs: ['4095'] }, /VLAN ID 4095 out of range 1-4094/],
    ] as const) {
      const r = await s.k(['apply', '-f', '-'], attachment(name, spec));
      assert.notEqual(r.code, 0, `${name} was accepted`);
      assert.match(r.stderr, why, name);
    }
  });

  it('keeps an attachment a host uses: no spec change, no deletion, until the host lets go', async () => {
    const change = await s.k(['patch', 'hostnetworkattachment', 'prov', '--type', 'merge', '-p', '{"spec":{"mtu":1500}}']);
    assert.notEqual(change.code, 0);
    assert.match(
      change.stderr,
      /spec is immutable while referenced by BMH interfaces: default\/networked\[enp1s0\], default\/networked\[52:54:00:12:34:56\]/,
    );
    const labelled = await s.k(['label', 'hostnetworkattachment', 'prov', 'tier=edge']);
    assert.equal(labelled.code, 0, 'metadata may still change');
    const del = await s.k(['delete', 'hostnetworkattachment', 'prov', '--wait=false']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /cannot delete attachment while referenced by BMH interfaces: default\/networked\[enp1s0\]/);
    assert.equal(
      (await s.k(['patch', 'bmh', 'networked', '--type', 'json', '-p', '[{"op":"remove","path":"/spec/networkInterfaces"}]'])).code,
      0,
    );
    const after = await s.k(['delete', 'hostnetworkattachment', 'prov', '--wait=false']);
    assert.equal(after.code, 0, after.stderr);
  });

  it('builds the software RAID through the agent and installs onto the volume marked rootVolume', async () => {
    const docs = YAML.parseAllDocuments(fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' })).map((d) => d.toJS());
    const bmh = docs.find((d) => d.kind === 'BareMetalHost');
    bmh.spec.raid = {
      softwareRAIDVolumes: [
        { level: '1', sizeGibibytes: 10 },
        { level: '1', rootVolume: true },
      ],
    };
    const r = await s.k(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'));
    assert.equal(r.code, 0, r.stderr);
    const name = String(bmh.metadata.name);
    const h = await s.waitFor(name, (x) => x.status?.provisioning?.state === 'available', 'available', 180_000);
    const node = s.ironic.conductor.store.node(String(h.status?.provisioning?.ID));
    assert.equal(node?.raid_interface, 'agent', 'software RAID is the agent’s to build');
    const disks = (
      node?.target_raid_config as { logical_disks?: Array<{ is_root_volume?: boolean; size_gb?: unknown; controller?: string }> }
    )?.logical_disks;
    assert.deepEqual(
      disks?.map((d) => [d.size_gb, d.controller, d.is_root_volume]),
      [
        [10, 'software', false],
        ['MAX', 'software', true],
      ],
    );
    assert.deepEqual(node?.raid_config, node?.target_raid_config, 'Ironic recorded what the agent built');
    const m = s.fleet.fleet.machines[0];
    const md = m.state.softwareRaid ?? [];
    assert.deepEqual(
      md.map((v) => [v.name, v.level, v.members.length, v.rootVolume]),
      [
        ['/dev/md0', '1', 2, false],
        ['/dev/md1', '1', 2, true],
      ],
    );
    assert.equal(md[0].sizeBytes, 10 * 2 ** 30);
    const image = Buffer.alloc(1024 * 1024, 5);
    s.files.put('/raid.img', image);
    const sha = createHash('sha256').update(image).digest('hex');
    const p = JSON.stringify({ spec: { image: { url: `${s.files.url}/raid.img`, checksum: sha, checksumType: 'sha256' } } });
    assert.equal((await s.k(['patch', 'bmh', name, '--type', 'merge', '-p', p])).code, 0);
    await s.waitFor(name, (x) => x.status?.provisioning?.state === 'provisioned', 'provisioned', 180_000);
    assert.equal(m.state.installedImage?.disk, '/dev/md1', 'the image went to the root volume, not md0 or a raw disk');
    assert.equal(m.state.softwareRaid?.length, 2, 'the RAID survived the deploy');
  });

  it("renders the switches into Ironic's networking-generic-switch configuration, and says which cannot be", async () => {
    const secretData = async (name: string) =>
      JSON.parse((await s.k(['get', 'secret', name, '-o', 'jsonpath={.data}'])).stdout || '{}') as Record<string, string>;
    const valid = async (name: string) =>
      JSON.parse((await s.k(['get', 'bms', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Valid")]}'])).stdout || '{}') as {
        status?: string;
        reason?: string;
        message?: string;
      };
    // tor-1 (from the first test) names a Secret that does not exist yet
    const missing = await eventually(
      async () => ((await valid('tor-1')).reason === 'CredentialError' ? valid('tor-1') : null),
      'tor-1 invalid',
      30_000,
    );
    assert.equal(missing.message, 'credentials secret default/tor-1 not found');
    const docs = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tor-1', namespace: 'default' },
        stringData: { username: 'admin', password: 's3cret' },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'tor-2', namespace: 'default' },
        stringData: { username: 'netops', 'ssh-privatekey': 'KEY DATA' },
      },
      {
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalSwitch',
        metadata: { name: 'tor-2', namespace: 'default' },
        spec: {
          address: 'tor-2.example',
          port: 2222,
          macAddress: '52:54:00:00:00:bb',
          deviceType: 'netmiko_cisco_ios',
          credentials: { name: 'tor-2' },
        },
      },
    ];
    assert.equal((await s.k(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'))).code, 0);
    for (const n of ['tor-1', 'tor-2']) await eventually(async () => (await valid(n)).status === 'True', `${n} valid`, 30_000);
    const conf = Buffer.from((await secretData('ironic-switch-configs'))['switch-configs.conf'] ?? '', 'base64').toString();
    assert.match(
      conf,
      /\[switch:tor-1\]\naddress=192\.0\.2\.10\nmac_address=52:54:00:00:00:aa\ndriver_type=generic-switch\ndevice_type=netmiko_arista_eos\nusername=admin\npassword=s3cret\n/,
    );
    assert.match(
      conf,
      /\[switch:tor-2\]\naddress=tor-2\.example\nmac_address=52:54:00:00:00:bb\nport=2222\n.*key_file=\/etc\/ironic\/switches\/52-54-00-00-00-bb\.key\n/s,
    );
    assert.ok(conf.indexOf('[switch:tor-1]') < conf.indexOf('[switch:tor-2]'), 'sorted by name');
    const keys = await secretData('ironic-switch-keys');
    assert.equal(Buffer.from(keys['52-54-00-00-00-bb.key'] ?? '', 'base64').toString(), 'KEY DATA');
    assert.equal((await s.k(['delete', 'bms', 'tor-2'])).code, 0);
    await eventually(
      async () => {
        const c = Buffer.from((await secretData('ironic-switch-configs'))['switch-configs.conf'] ?? '', 'base64').toString();
        return !c.includes('tor-2') && c.includes('[switch:tor-1]');
      },
      'tor-2 gone from the configuration',
      30_000,
    );
  });
});
