// Ironic API microversions: what a request asked for, what this service can answer, and which
// node fields exist at which version (Ironic hides fields newer than the requested version).
import { IronicError } from '../errors.js';

export const MIN_MINOR = 1;
/** BMO (v0.13+) chooses 1.110 when offered; every behaviour up to it is implemented. */
export const MAX_MINOR = 110;
export const MIN_VERSION = `1.${MIN_MINOR}`;
export const MAX_VERSION = `1.${MAX_MINOR}`;

export const HEADER = 'x-openstack-ironic-api-version';

/** Resolves the requested minor version from the legacy or the OpenStack-API-Version header. */
export function requestedMinor(headers: Record<string, string | string[] | undefined>): number {
  let raw = one(headers[HEADER]);
  const generic = one(headers['openstack-api-version']);
  if (!raw && generic) {
    const m = /^\s*baremetal\s+(\S+)\s*$/i.exec(generic);
    if (m) raw = m[1];
  }
  if (!raw) return MIN_MINOR;
  if (raw.trim().toLowerCase() === 'latest') return MAX_MINOR;
  const m = /^\s*(\d+)\.(\d+)\s*$/.exec(raw);
  if (!m) throw new IronicError('NotAcceptable', 'Invalid value for X-OpenStack-Ironic-API-Version header');
  const [major, minor] = [Number(m[1]), Number(m[2])];
  const range = `The supported version range is: [${MIN_VERSION}, ${MAX_VERSION}].`;
  if (major !== 1)
    throw new IronicError(
      'NotAcceptable',
      `Mutually exclusive versions requested. Version ${raw.trim()} requested but not supported by this service. ${range}`,
    );
  if (minor < MIN_MINOR || minor > MAX_MINOR)
    throw new IronicError(
      'NotAcceptable',
      `Version ${major}.${minor} was requested but the minor version is not supported by this service. ${range}`,
    );
  return minor;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

const DYNAMIC_INTERFACES = 31;

/** node field → first minor version that shows it (fields absent here exist since 1.1). */
export const NODE_FIELD_VERSIONS: Record<string, number> = {
  driver_internal_info: 3,
  name: 5,
  inspection_finished_at: 6,
  inspection_started_at: 6,
  clean_step: 7,
  raid_config: 12,
  target_raid_config: 12,
  network_interface: 20,
  resource_class: 21,
  boot_interface: DYNAMIC_INTERFACES,
  console_interface: DYNAMIC_INTERFACES,
  deploy_interface: DYNAMIC_INTERFACES,
  inspect_interface: DYNAMIC_INTERFACES,
  management_interface: DYNAMIC_INTERFACES,
  power_interface: DYNAMIC_INTERFACES,
  raid_interface: DYNAMIC_INTERFACES,
  vendor_interface: DYNAMIC_INTERFACES,
  storage_interface: 33,
  volume: 32,
  traits: 37,
  rescue_interface: 38,
  bios_interface: 40,
  fault: 42,
  deploy_step: 44,
  conductor_group: 46,
  automated_clean: 47,
  protected: 48,
  protected_reason: 48,
  conductor: 49,
  owner: 50,
  description: 51,
  allocation_uuid: 52,
  retired: 61,
  retired_reason: 61,
  lessee: 65,
  network_data: 66,
  boot_mode: 75,
  secure_boot: 75,
  shard: 82,
  parent_node: 83,
  firmware_interface: 86,
  service_step: 87,
  disable_power_off: 95,
  instance_name: 104,
  health: 109,
};

export const PORT_FIELD_VERSIONS: Record<string, number> = {
  internal_info: 18,
  local_link_connection: 19,
  pxe_enabled: 19,
  portgroup_uuid: 24,
  physical_network: 34,
  is_smartnic: 53,
  name: 88,
  description: 97,
  vendor: 100,
  category: 101,
};

/** Feature gates used by handlers, named for what they unlock. */
export const V = {
  nodeName: 5,
  inspectStates: 6,
  fieldsParam: 8,
  provisionStateFilter: 9,
  enrollByDefault: 11,
  raid: 12,
  abortCleanWait: 13,
  manualClean: 15,
  driverFilter: 16,
  adopt: 17,
  ramdisk: 22,
  softPower: 27,
  detailParam: 43,
  configdriveDict: 56,
  agentToken: 62,
  deploySteps: 69,
  deployVerbs: 73,
  history: 78,
  inventory: 81,
  continueInspection: 84,
  unhold: 85,
  firmware: 86,
  service: 87,
  vmediaAttach: 89,
  vmediaGet: 93,
  portNodeName: 94,
  abortDeployWait: 110,
} as const;

export function visibleFields(versions: Record<string, number>, minor: number, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if ((versions[k] ?? 1) <= minor) out[k] = v;
  return out;
}
