import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveFleet } from '../../fleet/config.js';
import { type DomainRuntime, domainXml, guestUrl, HOST_ALIAS } from './domain-xml.js';

const spec = resolveFleet({ machines: [{ name: 'vm-a', nics: [{ mac: '52:54:00:00:00:01' }, { mac: '52:54:00:00:00:02' }] }] }).machines[0]
  .spec;
const rt = (o: Partial<DomainRuntime> = {}): DomainRuntime => ({
  dir: '/v/vm-a',
  disks: ['/v/vm-a/disk-0.qcow2'],
  serialLog: '/v/vm-a/serial.log',
  bootOrder: ['Pxe', 'Hdd'],
  cdrom: null,
  uefi: null,
  bootFile: 'http://10.0.2.2:6180/boot.ipxe',
  agentHostPort: 20001,
  kvm: false,
  memoryMiB: 1024,
  vcpus: 1,
  ...o,
});

describe('libvirt domain XML', () => {
  it('boots devices in the order asked, the first NIC offering the iPXE script', () => {
    const x = domainXml(spec, rt());
    assert.match(x, /<domain type='qemu'/);
    assert.match(x, /bootfile=http:\/\/10\.0\.2\.2:6180\/boot\.ipxe/);
    assert.match(x, /mac=52:54:00:00:00:01,bus=pcie\.0,addr=0xa,bootindex=1/);
    assert.match(x, /mac=52:54:00:00:00:02,bus=pcie\.0,addr=0xb'/, 'the second NIC is no boot device');
    assert.match(x, /<target dev='vda' bus='virtio'\/>[\s\S]*<boot order='2'\/>/);
    assert.match(x, /hostfwd=tcp:127\.0\.0\.1:20001-:9999/);
    assert.match(x, /ferrite\.agent-url=http:\/\/127\.0\.0\.1:20001/);
    assert.match(x, /<memory unit='MiB'>1024<\/memory>/);
  });

  it('puts the inserted ISO first when the CD leads, and uses OVMF and KVM when given', () => {
    const x = domainXml(
      spec,
      rt({ bootOrder: ['Cd', 'Hdd'], cdrom: '/m/Cd.img', uefi: { loader: '/o/CODE.fd', nvram: '/v/nv.fd' }, kvm: true }),
    );
    assert.match(x, /<source file='\/m\/Cd\.img'\/>[\s\S]*<boot order='1'\/>/);
    assert.match(x, /<loader readonly='yes' type='pflash'>\/o\/CODE\.fd<\/loader>/);
    assert.match(x, /<domain type='kvm'/);
    assert.doesNotMatch(x, /bootindex=/, 'no network boot when Pxe is not in the order');
  });

  it('escapes what it embeds', () => {
    const x = domainXml({ ...spec, manufacturer: `A&B <"x">` }, rt());
    assert.match(x, /A&amp;B &lt;&quot;x&quot;&gt;/);
  });

  it('rewrites loopback URLs to the host alias and leaves others', () => {
    assert.equal(guestUrl('http://127.0.0.1:6180/boot.ipxe'), `http://${HOST_ALIAS}:6180/boot.ipxe`);
    assert.equal(guestUrl('http://localhost/x'), `http://${HOST_ALIAS}/x`);
    assert.equal(guestUrl('http://192.0.2.1/x'), 'http://192.0.2.1/x');
  });
});
