import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { CapiError } from '../capi/errors.js';
import { netmask, type RenderInput, referencedPools, renderMetaData, renderNetworkData } from './data-renderer.js';

const input: RenderInput = {
  index: 2,
  namespace: 'metal3',
  m3m: { name: 'test1-controlplane-abcde', labels: { tier: 'cp' } },
  machine: { name: 'test1-xyz12', annotations: { pool: 'externalv4-pool' } },
  bmh: {
    name: 'node-0',
    bootMACAddress: '00:5c:52:31:3a:9c',
    nics: [
      { name: 'enp1s0', mac: '00:5c:52:31:3a:9c' },
      { name: 'enp2s0', mac: '00:5c:52:31:3b:9c' },
    ],
  },
  pools: {
    'provisioning-pool': { address: '172.22.0.100', prefix: 24 },
    'externalv4-pool': { address: '192.168.111.100', prefix: 24, gateway: '192.168.111.1', dnsServers: ['8.8.4.4'] },
  },
};

// metal3-dev-env's control plane data template (v1beta2)
const devEnv = {
  clusterName: 'test1',
  metaData: {
    objectNames: [
      { key: 'name', object: 'machine' },
      { key: 'local-hostname', object: 'machine' },
      { key: 'local_hostname', object: 'machine' },
    ],
    ipAddressesFromPool: [{ key: 'provisioningIP', name: 'provisioning-pool' }],
    prefixesFromPool: [{ key: 'provisioningCIDR', name: 'provisioning-pool' }],
    indexes: [{ key: 'idx', offset: 10, step: 2, prefix: 'n-', suffix: '-x' }],
  },
  networkData: {
    links: {
      ethernets: [
        { type: 'phy', id: 'enp1s0', mtu: 1500, macAddress: { fromHostInterface: 'enp1s0' } },
        { type: 'phy', id: 'enp2s0', mtu: 1500, macAddress: { fromHostInterface: 'enp2s0' } },
      ],
    },
    networks: {
      ipv4: [
        {
          id: 'externalv4',
          link: 'enp2s0',
          ipAddressFromIPPool: 'externalv4-pool',
          routes: [{ network: '0.0.0.0', prefix: 0, gateway: { fromIPPool: 'externalv4-pool' } }],
        },
      ],
    },
    services: { dns: ['8.8.8.8'] },
  },
};

describe('Metal3Data rendering', () => {
  it('renders meta data with upstream keys and the providerid', () => {
    const md = YAML.parse(renderMetaData(devEnv, input) ?? '');
    assert.deepEqual(md, {
      name: 'test1-xyz12',
      'local-hostname': 'test1-xyz12',
      local_hostname: 'test1-xyz12',
      provisioningIP: '172.22.0.100',
      provisioningCIDR: '24',
      idx: 'n-14-x',
      providerid: 'metal3/node-0/test1-controlplane-abcde',
    });
  });

  it('renders network data in the network_data.json shape', () => {
    const nd = YAML.parse(renderNetworkData(devEnv, input) ?? '');
    assert.deepEqual(nd, {
      links: [
        { type: 'phy', id: 'enp1s0', mtu: 1500, ethernet_mac_address: '00:5c:52:31:3a:9c' },
        { type: 'phy', id: 'enp2s0', mtu: 1500, ethernet_mac_address: '00:5c:52:31:3b:9c' },
      ],
      networks: [
        {
          type: 'ipv4',
          id: 'externalv4',
          link: 'enp2s0',
          netmask: '255.255.255.0',
          ip_address: '192.168.111.100',
          routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '192.168.111.1', services: [] }],
        },
      ],
      services: [{ type: 'dns', address: '8.8.8.8' }],
    });
  });

  it('lists the pools a template needs', () => {
    assert.deepEqual(
      referencedPools(devEnv).map((p) => p.name),
      ['provisioning-pool', 'externalv4-pool'],
    );
  });

  it('renders bonds, VLANs, annotations and DHCP networks, and refuses bad input', () => {
    const spec = {
      networkData: {
        links: {
          bonds: [
            {
              id: 'bond0',
              bondMode: '802.3ad',
              bondLinks: ['enp1s0'],
              macAddress: { string: '00:11:22:33:44:55' },
              parameters: [{ name: 'miimon', value: 100 }],
            },
          ],
          vlans: [{ id: 'vlan5', vlanID: 5, vlanLink: 'bond0', macAddress: { fromHostInterface: 'enp1s0' } }],
        },
        networks: {
          ipv4: [{ id: 'n', link: 'vlan5', fromPoolAnnotation: { object: 'machine', annotation: 'pool' } }],
          ipv6DHCP: [{ id: 'd6', link: 'bond0' }],
        },
        services: { dnsFromIPPool: 'externalv4-pool' },
      },
    };
    const nd = YAML.parse(renderNetworkData(spec, input) ?? '');
    assert.equal(nd.links[0].bond_miimon, 100);
    assert.equal(nd.links[1].vlan_mac_address, '00:5c:52:31:3a:9c');
    assert.equal(nd.networks[0].ip_address, '192.168.111.100');
    assert.deepEqual(nd.networks[1], { type: 'ipv6_dhcp', id: 'd6', link: 'bond0', routes: [] });
    assert.deepEqual(nd.services, [{ type: 'dns', address: '8.8.4.4' }]);
    const bad = { networkData: { links: { ethernets: [{ type: 'phy', id: 'x', macAddress: { fromHostInterface: 'eth9' } }] } } };
    assert.throws(
      () => renderNetworkData(bad, input),
      (e: unknown) => e instanceof CapiError && /NIC name not found eth9/.test(e.message),
    );
    const clash = { networkData: { links: { bonds: [{ id: 'b', parameters: [{ name: 'mode', value: 1 }] }] } } };
    assert.throws(() => renderNetworkData(clash, input), /illegal params "mode"/);
  });

  it('prints masks as Go does', () => {
    assert.equal(netmask(24, true), '255.255.255.0');
    assert.equal(netmask(0, true), '0.0.0.0');
    assert.equal(netmask(64, false), 'ffff:ffff:ffff:ffff::');
    assert.equal(netmask(0, false), '::');
  });
});
