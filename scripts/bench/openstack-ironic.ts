// ironic.conf for an all-in-one OpenStack Ironic (one process, no RPC, SQLite, noauth) as the
// benchmark and the interop tests run it; `interfaces` lists what is enabled per interface kind.
import { join } from 'node:path';

export interface OpenStackIronicConf {
  dir: string;
  port: number;
  hardwareTypes: string[];
  interfaces: Record<string, string[]>;
  /** seconds; -1 turns the periodic power sync off */
  syncPowerStateInterval: number;
}

export function openstackIronicConf(c: OpenStackIronicConf): string {
  return [
    '[DEFAULT]',
    'auth_strategy = noauth',
    `enabled_hardware_types = ${c.hardwareTypes.join(',')}`,
    ...Object.entries(c.interfaces).map(([k, v]) => `enabled_${k}_interfaces = ${v.join(',')}`),
    'enabled_network_interfaces = noop',
    'enabled_storage_interfaces = noop',
    'rpc_transport = none',
    'host = ferrite-peer',
    'use_stderr = true',
    'debug = false',
    '[database]',
    `connection = sqlite:///${join(c.dir, 'ironic.sqlite')}`,
    '[api]',
    'host_ip = 127.0.0.1',
    `port = ${c.port}`,
    '[dhcp]',
    'dhcp_provider = none',
    '[conductor]',
    `sync_power_state_interval = ${c.syncPowerStateInterval}`,
    '',
  ].join('\n');
}
