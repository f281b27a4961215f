// BareMetalHost admission rules, as upstream's validating webhook applies them, with its messages.
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { ErrorTypes, OperationalStatuses } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import type { HostNetworkAttachment } from '../api/metal3.io/v1alpha1/host-network.js';
import { labelValueProblems, qualifiedNameProblems } from '../kube/names.js';
import { type BmcAccess, bmcAccess } from './bmc-access.js';
import { BmoError } from './errors.js';
import type { HostClaim } from './hostclaim-controller.js';

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export function validateHost(h: BareMetalHost): string[] {
  const errs: string[] = [];
  const spec = h.spec ?? ({} as BareMetalHost['spec']);
  let access: BmcAccess | undefined;
  if (spec.bmc?.address) {
    try {
      access = bmcAccess(spec.bmc.address);
    } catch (e) {
      if (!(e instanceof BmoError)) throw e;
      errs.push(e.message);
    }
  }
  if (spec.firmware) errs.push('the Firmware field is no longer supported, use HostFirmwareSettings resource instead');
  for (const f of ['userData', 'networkData', 'metaData'] as const) {
    const ns = spec[f]?.namespace;
    if (ns && ns !== h.metadata.namespace) {
      errs.push(`baremetalhosts.metal3.io "${h.metadata.name}" is forbidden: ${f}: cross-namespace Secret references are not allowed`);
    }
  }
  const raid = spec.raid;
  if (raid) {
    if (raid.hardwareRAIDVolumes?.length && raid.softwareRAIDVolumes?.length) {
      errs.push('hardwareRAIDVolumes and softwareRAIDVolumes can not be set at the same time');
    }
    raid.hardwareRAIDVolumes?.forEach((v, i) => {
      if (v.physicalDisks?.length && !v.controller)
        errs.push(`'physicalDisks' specified without 'controller' in hardware RAID volume ${i}`);
      if (v.numberOfPhysicalDisks !== undefined && v.physicalDisks?.length && v.numberOfPhysicalDisks !== v.physicalDisks.length) {
        errs.push(
          `the 'numberOfPhysicalDisks'[${v.numberOfPhysicalDisks}] and number of 'physicalDisks'[${v.physicalDisks.length}] is not same for volume ${i}`,
        );
      }
    });
    const roots = (raid.softwareRAIDVolumes ?? []).filter((v) => v.rootVolume).length;
    if (roots > 1) errs.push('softwareRAIDVolumes[*].rootVolume can only be set once');
    if (roots === 1 && spec.rootDeviceHints)
      errs.push('softwareRAIDVolumes[*].rootVolume and rootDeviceHints can not be set at the same time');
    raid.softwareRAIDVolumes?.forEach((v, i) => {
      if (v.rootVolume && v.level !== '1') errs.push(`softwareRAIDVolumes[${i}] with rootVolume set must use RAID level 1`);
    });
  }
  errs.push(...validateNetworkInterfaces(spec.networkInterfaces ?? []));
  if (access) {
    if (raid?.hardwareRAIDVolumes?.length && access.raid === 'no-raid')
      errs.push(`BMC driver ${access.type} does not support configuring RAID`);
    const disabled = spec.inspectionMode === 'disabled' || h.metadata.annotations?.['inspect.metal3.io'] === 'disabled';
    if ((access.needsMAC || disabled) && !spec.bootMACAddress) errs.push(`BMC driver ${access.type} requires a BootMACAddress value`);
    if (spec.bootMode === 'UEFISecureBoot' && !access.secureBoot) errs.push(`BMC driver ${access.type} does not support secure boot`);
    if (spec.inspectionMode === 'fast' && !access.inspect)
      errs.push(`BMC driver ${access.type} does not support fast (out-of-band) inspection`);
  }
  if (/[^A-Za-z0-9._-]/.test(h.metadata.name)) errs.push('BareMetalHost resource name cannot contain characters other than [A-Za-z0-9._-]');
  if (UUID.test(h.metadata.name)) errs.push('BareMetalHost resource name cannot be a UUID');
  const dn = spec.rootDeviceHints?.deviceName;
  if (dn) {
    const sub = dn.startsWith('/dev/') ? dn.slice(5) : null;
    if (sub === null) errs.push(`device name of root device hint must be a /dev/ path, not "${dn}"`);
    else if (sub.replace(/^disk\/by-path\//, '').includes('/')) {
      errs.push(`device name of root device hint must be path in /dev/ or /dev/disk/by-path/, not "${dn}"`);
    }
  }
  if (spec.image) errs.push(...validateImage(spec.image));
  errs.push(...validateAnnotations(h));
  return errs;
}

function validateNetworkInterfaces(ifaces: NonNullable<BareMetalHost['spec']['networkInterfaces']>): string[] {
  const errs: string[] = [];
  const seen = new Set<string>();
  ifaces.forEach((f, i) => {
    if (!f.name && !f.macAddress) errs.push(`networkInterfaces[${i}]: must specify either name or macAddress`);
    else if (f.name && f.macAddress) errs.push(`networkInterfaces[${i}]: name and macAddress are mutually exclusive`);
    else {
      const key = String(f.name || f.macAddress);
      if (seen.has(key.toLowerCase())) errs.push(`networkInterfaces[${i}]: duplicate interface selector for "${key}"`);
      seen.add(key.toLowerCase());
    }
  });
  return errs;
}

function validateImage(img: NonNullable<BareMetalHost['spec']['image']>): string[] {
  const errs: string[] = [];
  try {
    const u = new URL(img.url);
    if (!u.protocol || !u.host) throw new Error('missing scheme or host');
  } catch (e) {
    errs.push(`image URL ${img.url} is invalid: ${(e as Error).message}`);
  }
  if (img.url.startsWith('oci://')) {
    if (img.checksum) errs.push('spec.image.checksum must be empty for OCI images (oci:// images have embedded checksums)');
  } else if (img.format !== 'live-iso' && !img.checksum) errs.push('checksum is required for normal images');
  return errs;
}

const isRebootAnnotation = (k: string) => k === 'reboot.metal3.io' || k.startsWith('reboot.metal3.io/');

function rebootAnnotationProblems(v: string): string[] {
  if (!v) return [];
  try {
    const a = JSON.parse(v) as { mode?: string };
    return ['hard', 'soft', '', undefined].includes(a.mode)
      ? []
      : ['invalid mode in the reboot.metal3.io annotation, allowed are "hard", "soft" or ""'];
  } catch (e) {
    return [`failed to unmarshal the data from the reboot.metal3.io annotation: ${(e as Error).message}`];
  }
}

function validateAnnotations(h: BareMetalHost): string[] {
  const errs: string[] = [];
  const disabled = h.spec?.inspectionMode === 'disabled' || h.metadata.annotations?.['inspect.metal3.io'] === 'disabled';
  for (const [k, v] of Object.entries(h.metadata.annotations ?? {})) {
    if (k === 'baremetalhost.metal3.io/status' && v) {
      try {
        const s = JSON.parse(v) as { operationalStatus?: string; errorType?: string };
        if (!(OperationalStatuses as readonly string[]).includes(s.operationalStatus ?? '')) {
          errs.push(`invalid operationalStatus '${s.operationalStatus}' in the baremetalhost.metal3.io/status annotation`);
        }
        if (!(ErrorTypes as readonly string[]).includes(s.errorType ?? '')) {
          errs.push(`invalid errorType '${s.errorType}' in the baremetalhost.metal3.io/status annotation`);
        }
      } catch (e) {
        errs.push(`error decoding status annotation: ${(e as Error).message}`);
      }
    } else if (isRebootAnnotation(k)) {
      errs.push(...rebootAnnotationProblems(v));
    } else if (k === 'inspect.metal3.io' && v !== '' && v !== 'disabled') {
      errs.push('invalid value for the inspect.metal3.io annotation, allowed are "disabled" or ""');
    } else if (k === 'inspect.metal3.io/hardwaredetails' && v) {
      if (!disabled) {
        errs.push(
          'when hardware details are provided, inspection must be disabled (either via inspect.metal3.io annotation or inspectionMode field)',
        );
      } else {
        try {
          JSON.parse(v);
        } catch (e) {
          errs.push(`error decoding the inspect.metal3.io/hardwaredetails annotation: ${(e as Error).message}`);
        }
      }
    }
  }
  return errs;
}

export function validateHostUpdate(old: BareMetalHost, h: BareMetalHost): string[] {
  const errs = validateHost(h);
  const oldState = old.status?.provisioning?.state;
  const newState = h.status?.provisioning?.state;
  if (
    old.spec?.bmc?.address &&
    h.spec?.bmc?.address !== old.spec.bmc.address &&
    old.status?.operationalStatus !== 'detached' &&
    h.status?.operationalStatus !== 'detached' &&
    oldState !== 'registering' &&
    newState !== 'registering'
  ) {
    errs.push('BMC address can not be changed if the BMH is not in the Registering state, or if the BMH is not detached');
  }
  if (old.spec?.bootMACAddress && h.spec?.bootMACAddress?.toLowerCase() !== old.spec.bootMACAddress.toLowerCase()) {
    errs.push('bootMACAddress can not be changed once it is set');
  }
  if (!old.spec?.externallyProvisioned && h.spec?.externallyProvisioned && oldState !== 'available' && newState !== 'available') {
    errs.push(`externallyProvisioned can only be enabled when in Available state, currently in ${oldState ?? ''}`);
  }
  return errs;
}

/** HostNetworkAttachment admission, as upstream's webhook: VLAN entries, access ports without tagged VLANs. */
export function validateNetworkAttachment(a: HostNetworkAttachment): string[] {
  const errs: string[] = [];
  const spec = a.spec ?? ({} as HostNetworkAttachment['spec']);
  if ((spec.mode ?? 'access') === 'access' && spec.allowedVLANs?.length) errs.push('allowedVLANs cannot be specified for access mode');
  spec.allowedVLANs?.forEach((entry, i) => {
    const why = vlanEntryProblem(entry);
    if (why) errs.push(`allowedVLANs[${i}] "${entry}": ${why}`);
  });
  return errs;
}

function vlanEntryProblem(entry: string): string | null {
  const [from, to] = entry.split(/-(.*)/s, 2);
  const id = (s: string) => (/^\d+$/.test(s) ? Number(s) : Number.NaN);
  const start = id(from);
  if (Number.isNaN(start)) return `invalid VLAN ID: ${from}`;
  if (start < 1 || start > 4094) return `VLAN ID ${start} out of range 1-4094`;
  if (to === undefined) return null;
  const end = id(to);
  if (Number.isNaN(end)) return `invalid range end: ${to}`;
  if (end < 1 || end > 4094) return `VLAN ID ${end} out of range 1-4094`;
  if (start >= end) return `range start (${start}) must be less than end (${end})`;
  return null;
}

/** The host interfaces that use an attachment, as `namespace/host[interface]` (upstream's wording). */
export function attachmentUsers(a: { metadata: { name: string; namespace?: string } }, hosts: BareMetalHost[]): string[] {
  const out: string[] = [];
  for (const h of hosts)
    for (const f of h.spec?.networkInterfaces ?? []) {
      const ref = f.hostNetworkAttachment;
      if (ref?.name === a.metadata.name && (ref.namespace || h.metadata.namespace) === a.metadata.namespace)
        out.push(`${h.metadata.namespace}/${h.metadata.name}[${f.name || f.macAddress}]`);
    }
  return out;
}

/** HostClaim admission, as upstream's webhook: selector keys, values and operators; reboot annotations; the image. */
export function validateHostClaim(c: HostClaim): string[] {
  const errs: string[] = [];
  const sel = c.spec?.hostSelector ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    for (const m of qualifiedNameProblems(k)) errs.push(`${k}=${v}: ${m}`);
    for (const m of labelValueProblems(v)) errs.push(`${k}=${v}: ${m}`);
  }
  (sel.matchExpressions ?? []).forEach((r, i) => {
    const n = i + 1;
    for (const m of qualifiedNameProblems(r.key)) errs.push(`matchExpr ${n}: ${m}`);
    const values = r.values ?? [];
    const valueErrs = (v: string) => labelValueProblems(v).map((m) => `matchExpr ${n} (value "${v}"): ${m}`);
    switch (r.operator) {
      case '=':
      case '==':
      case '!=':
        if (values.length !== 1)
          errs.push(`matchExpr ${n}: exactly one value for operator ${r.operator} in match expression on label key ${r.key}`);
        else errs.push(...valueErrs(values[0]));
        break;
      case 'in':
      case 'notin':
        if (!values.length)
          errs.push(`matchExpr ${n}: At least one value in list for operator ${r.operator} in match expression on label key ${r.key}`);
        for (const v of values) errs.push(...valueErrs(v));
        break;
      case 'exists':
      case '!':
        if (values.length)
          errs.push(`matchExpr ${n}: values not authorized for operator ${r.operator} in match expression on label key ${r.key}`);
        break;
      default:
        errs.push(`matchExpr ${n}: invalid operation ${r.operator} in match expression on label key ${r.key}`);
    }
  });
  for (const [k, v] of Object.entries(c.metadata.annotations ?? {})) if (isRebootAnnotation(k)) errs.push(...rebootAnnotationProblems(v));
  const image = (c.spec as { image?: BareMetalHost['spec']['image'] } | undefined)?.image;
  if (image) errs.push(...validateImage(image));
  return errs;
}
