// BareMetalHost + Secret YAML for a fleet, shaped like upstream's make-bm-worker output, so the
// emulated machines can be handed to any Metal3 (Ferrite's or upstream's) unchanged.
import { stringify } from 'yaml';
import type { BmcAddresses } from './fleet.js';

export interface ManifestOptions {
  protocol: 'redfish' | 'redfish-virtualmedia' | 'ipmi';
  namespace?: string;
  bootMode?: 'UEFI' | 'UEFISecureBoot' | 'legacy';
  disableCertificateVerification?: boolean;
  hardwareProfile?: string;
  consumer?: string;
  consumerNamespace?: string;
  online?: boolean;
}

export function fleetManifests(machines: BmcAddresses[], o: ManifestOptions): string {
  const docs: unknown[] = [];
  for (const m of machines) {
    const address = o.protocol === 'ipmi' ? m.ipmi : o.protocol === 'redfish' ? m.redfish : m.redfishVirtualMedia;
    if (!address) throw new Error(`machine ${m.name} has no ${o.protocol} BMC (its protocols do not include it)`);
    const meta = (name: string) => ({ name, ...(o.namespace ? { namespace: o.namespace } : {}) });
    docs.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${m.name}-bmc-secret`),
      type: 'Opaque',
      data: { username: Buffer.from(m.username).toString('base64'), password: Buffer.from(m.password).toString('base64') },
    });
    const tls = /\+https:|^redfish(-virtualmedia)?:/.test(address);
    docs.push({
      apiVersion: 'metal3.io/v1alpha1',
      kind: 'BareMetalHost',
      metadata: meta(m.name),
      spec: {
        online: o.online ?? true,
        bootMACAddress: m.bootMac,
        ...(o.bootMode ? { bootMode: o.bootMode } : {}),
        ...(o.hardwareProfile ? { hardwareProfile: o.hardwareProfile } : {}),
        bmc: {
          address,
          credentialsName: `${m.name}-bmc-secret`,
          ...(o.protocol !== 'ipmi' && tls ? { disableCertificateVerification: o.disableCertificateVerification ?? true } : {}),
        },
        ...(o.consumer ? { consumerRef: { name: o.consumer, namespace: o.consumerNamespace ?? o.namespace ?? 'default' } } : {}),
      },
    });
  }
  return docs.map((d) => `---\n${stringify(d)}`).join('');
}
