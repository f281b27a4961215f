// BMC address → Ironic driver, interfaces and driver_info, as upstream's
// pkg/hardwareutils/bmc maps them. One row per BMC type; `X+http`/`X+https` variants choose
// the Redfish transport.
import { isIP } from 'node:net';
import { BmoError } from './errors.js';

export interface BmcCredentials {
  username: string;
  password: string;
}

interface BmcType {
  driver: 'ipmi' | 'redfish' | 'idrac';
  family: 'ipmi' | 'redfish';
  boot: string;
  management?: string;
  power?: string;
  raid: string;
  bios?: string;
  firmware?: string;
  vendor?: string;
  /** out-of-band inspect interface for inspectionMode=fast; '' = agent only */
  inspect: string;
  needsMAC: boolean;
  secureBoot: boolean;
  isoPreprovisioning: boolean;
  provisioningNetwork: boolean;
}

const ipmi: BmcType = {
  driver: 'ipmi',
  family: 'ipmi',
  boot: 'ipxe',
  raid: 'no-raid',
  inspect: '',
  needsMAC: false,
  secureBoot: false,
  isoPreprovisioning: false,
  provisioningNetwork: true,
};
const redfish: BmcType = {
  driver: 'redfish',
  family: 'redfish',
  boot: 'ipxe',
  raid: 'redfish',
  firmware: 'redfish',
  inspect: 'redfish',
  needsMAC: false,
  secureBoot: true,
  isoPreprovisioning: false,
  provisioningNetwork: true,
};
const redfishVM: BmcType = { ...redfish, boot: 'redfish-virtual-media', isoPreprovisioning: true, provisioningNetwork: false };
const idrac: BmcType = {
  ...redfish,
  driver: 'idrac',
  management: 'idrac-redfish',
  power: 'idrac-redfish',
  raid: 'idrac-redfish',
  bios: 'idrac-redfish',
  vendor: 'idrac-redfish',
};

/** Schemes that accept +http/+https (redfish family) or take none (ipmi family). */
const TYPES: Record<string, BmcType> = {
  ipmi,
  libvirt: { ...ipmi, needsMAC: true },
  redfish,
  'ilo5-redfish': redfish,
  'redfish-virtualmedia': redfishVM,
  'ilo5-virtualmedia': redfishVM,
  'redfish-uefihttp': { ...redfishVM, boot: 'redfish-https' },
  'idrac-redfish': idrac,
  'idrac-virtualmedia': { ...idrac, boot: 'idrac-redfish-virtual-media', isoPreprovisioning: true, provisioningNetwork: false },
};

export const BMC_TYPES = Object.keys(TYPES);

export interface BmcAccess extends BmcType {
  type: string;
  url: URL;
  /** driver_info for the node, credentials included */
  driverInfo(creds: BmcCredentials, disableCertificateVerification?: boolean): Record<string, string | boolean>;
}

const DNS_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** Parses a BMC address as upstream does: bare `host[:port]` means IPMI; `scheme:host` is re-read as `scheme://host`. */
export function parseBmcUrl(address: string): URL {
  if (!address) throw new BmoError('EmptyBMCAddress', 'missing BMC address');
  let text = address;
  if (!text.includes('://')) {
    // host, host:port, [v6]:port or scheme:host (opaque)
    const m = /^([a-z][a-z0-9+.-]*):(?!\d+$)(.+)$/i.exec(text);
    text = m && !isIP(text) ? `${m[1]}://${m[2]}` : `ipmi://${text}`;
  }
  let u: URL;
  try {
    u = new URL(text);
  } catch (e) {
    throw new BmoError('InvalidBMCAddress', `failed to parse BMC address information: ${(e as Error).message}`);
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host || (!isIP(host) && !host.split('.').every((l) => DNS_LABEL.test(l)))) {
    throw new BmoError('InvalidBMCAddress', `BMC address hostname/IP : [${host}] is invalid`);
  }
  return u;
}

export function bmcAccess(address: string): BmcAccess {
  const url = parseBmcUrl(address);
  const scheme = url.protocol.slice(0, -1);
  const [base, transport] = scheme.split('+');
  const t = TYPES[base];
  if (!t || (transport && (t.family !== 'redfish' || !['http', 'https'].includes(transport)))) {
    throw new BmoError('UnknownBMCType', `Unknown BMC type '${scheme}' for address ${address}`);
  }
  return {
    ...t,
    type: base,
    url,
    driverInfo(creds, insecure) {
      if (t.family === 'ipmi') {
        const q = url.searchParams.get('privilegelevel');
        return {
          ipmi_address: url.hostname.replace(/^\[|\]$/g, ''),
          ipmi_port: url.port || '623',
          ipmi_username: creds.username,
          ipmi_password: creds.password,
          ipmi_priv_level: q ?? 'ADMINISTRATOR',
        };
      }
      const info: Record<string, string | boolean> = {
        redfish_address: `${transport ?? 'https'}://${url.host}`,
        redfish_username: creds.username,
        redfish_password: creds.password,
      };
      const path = url.pathname.replace(/\/+$/, '');
      if ((path && path !== '/redfish/v1') || base === 'redfish-uefihttp') info.redfish_system_id = path;
      if (insecure) info.redfish_verify_ca = false;
      return info;
    },
  };
}
