// The Ironic data model: nodes, ports and node history records as stored and as the API shows
// them (field names exactly Ironic's).
import { randomUUID } from 'node:crypto';
import type { ProvisionState } from './states.js';

export type PowerStateName = 'power on' | 'power off' | 'rebooting' | 'soft power off' | 'soft rebooting' | 'error' | null;

export interface Step {
  interface: string;
  step: string;
  args?: Record<string, unknown>;
  priority?: number;
  abortable?: boolean;
  reboot_requested?: boolean;
  [k: string]: unknown;
}

export interface Node {
  uuid: string;
  name: string | null;
  driver: string;
  driver_info: Record<string, unknown>;
  driver_internal_info: Record<string, unknown>;
  instance_info: Record<string, unknown>;
  instance_uuid: string | null;
  instance_name: string | null;
  properties: Record<string, unknown>;
  extra: Record<string, unknown>;
  provision_state: ProvisionState;
  target_provision_state: ProvisionState | null;
  provision_updated_at: string | null;
  power_state: PowerStateName;
  target_power_state: PowerStateName;
  last_error: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  reservation: string | null;
  console_enabled: boolean;
  clean_step: Step | Record<string, never>;
  deploy_step: Step | Record<string, never>;
  service_step: Step | Record<string, never>;
  raid_config: Record<string, unknown>;
  target_raid_config: Record<string, unknown>;
  inspection_started_at: string | null;
  inspection_finished_at: string | null;
  automated_clean: boolean | null;
  protected: boolean;
  protected_reason: string | null;
  retired: boolean;
  retired_reason: string | null;
  conductor_group: string;
  owner: string | null;
  lessee: string | null;
  description: string | null;
  resource_class: string | null;
  chassis_uuid: string | null;
  allocation_uuid: string | null;
  network_data: Record<string, unknown>;
  boot_mode: string | null;
  secure_boot: boolean | null;
  shard: string | null;
  parent_node: string | null;
  disable_power_off: boolean;
  health: string | null;
  traits: string[];
  bios_interface: string;
  boot_interface: string;
  console_interface: string;
  deploy_interface: string;
  firmware_interface: string;
  inspect_interface: string;
  management_interface: string;
  network_interface: string;
  power_interface: string;
  raid_interface: string;
  rescue_interface: string;
  storage_interface: string;
  vendor_interface: string;
  created_at: string;
  updated_at: string | null;
  /** Ferrite-private (never shown): collected hardware inventory and plugin data from inspection */
  inventory?: { inventory: Record<string, unknown>; plugin_data: Record<string, unknown> } | null;
  /** Ferrite-private: BIOS settings and firmware components last read from the BMC */
  bios?: BiosSetting[];
  firmware?: FirmwareComponent[];
}

export interface BiosSetting {
  name: string;
  value: string | null;
  attribute_type?: string | null;
  allowable_values?: string[] | null;
  lower_bound?: number | null;
  upper_bound?: number | null;
  min_length?: number | null;
  max_length?: number | null;
  read_only?: boolean | null;
  reset_required?: boolean | null;
  unique?: boolean | null;
  created_at: string;
  updated_at: string | null;
}

export interface FirmwareComponent {
  component: string;
  initial_version: string;
  current_version: string;
  last_version_flashed: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface Port {
  uuid: string;
  address: string;
  node_uuid: string;
  name: string | null;
  description: string | null;
  extra: Record<string, unknown>;
  internal_info: Record<string, unknown>;
  local_link_connection: Record<string, unknown>;
  pxe_enabled: boolean;
  physical_network: string | null;
  portgroup_uuid: string | null;
  is_smartnic: boolean;
  vendor: string | null;
  category: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface HistoryEvent {
  uuid: string;
  node_uuid: string;
  created_at: string;
  severity: 'ERROR' | 'INFO' | 'WARNING';
  event_type: string;
  event: string;
  conductor: string;
  user: string | null;
}

/** Ironic's timestamp format (ISO 8601 with an explicit UTC offset) */
export const now = () => new Date().toISOString().replace('Z', '+00:00');

export function newNode(fields: Partial<Node> & { driver: string }): Node {
  return {
    uuid: randomUUID(),
    name: null,
    driver_info: {},
    driver_internal_info: {},
    instance_info: {},
    instance_uuid: null,
    instance_name: null,
    properties: {},
    extra: {},
    provision_state: 'enroll',
    target_provision_state: null,
    provision_updated_at: null,
    power_state: null,
    target_power_state: null,
    last_error: null,
    maintenance: false,
    maintenance_reason: null,
    fault: null,
    reservation: null,
    console_enabled: false,
    clean_step: {},
    deploy_step: {},
    service_step: {},
    raid_config: {},
    target_raid_config: {},
    inspection_started_at: null,
    inspection_finished_at: null,
    automated_clean: null,
    protected: false,
    protected_reason: null,
    retired: false,
    retired_reason: null,
    conductor_group: '',
    owner: null,
    lessee: null,
    description: null,
    resource_class: null,
    chassis_uuid: null,
    allocation_uuid: null,
    network_data: {},
    boot_mode: null,
    secure_boot: null,
    shard: null,
    parent_node: null,
    disable_power_off: false,
    health: null,
    traits: [],
    bios_interface: 'no-bios',
    boot_interface: 'fake',
    console_interface: 'no-console',
    deploy_interface: 'fake',
    firmware_interface: 'no-firmware',
    inspect_interface: 'no-inspect',
    management_interface: 'fake',
    network_interface: 'noop',
    power_interface: 'fake',
    raid_interface: 'no-raid',
    rescue_interface: 'no-rescue',
    storage_interface: 'noop',
    vendor_interface: 'no-vendor',
    created_at: now(),
    updated_at: null,
    inventory: null,
    ...fields,
  };
}

export function newPort(fields: Partial<Port> & { address: string; node_uuid: string }): Port {
  return {
    uuid: randomUUID(),
    name: null,
    description: null,
    extra: {},
    internal_info: {},
    local_link_connection: {},
    pxe_enabled: true,
    physical_network: null,
    portgroup_uuid: null,
    is_smartnic: false,
    vendor: null,
    category: null,
    created_at: now(),
    updated_at: null,
    ...fields,
  };
}

const SECRET_KEY = /password|secret|token|_key$|passphrase/i;

/** Ironic masks credentials in driver_info/instance_info and never shows a stored config drive. */
export function maskSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (SECRET_KEY.test(k) && v !== null && v !== undefined) out[k] = '******';
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[k] = maskSecrets(v as Record<string, unknown>);
    else out[k] = v;
  }
  return out;
}

export function normalizeMac(mac: string): string | null {
  const m = mac.trim().toLowerCase();
  return /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/.test(m) ? m.replace(/-/g, ':') : null;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ironic ≥1.10 accepts RFC 3986 unreserved characters in names. */
export const NAME_RE = /^[A-Za-z0-9\-._~]+$/;
