// The config drive a provisioned host boots with: user data, network data and meta data read
// from the Secrets the host names (keys as upstream: userData/networkData/metaData, else
// `value`), meta data starting from upstream's defaults (the host's UID, name and namespace).
import { parse } from 'yaml';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { isNotFound, type KubeClient } from '../kube/client.js';
import { BmoError } from './errors.js';

type SecretRef = { name?: string; namespace?: string } | undefined;

async function secretValue(client: KubeClient, h: BareMetalHost, ref: SecretRef, key: string): Promise<string | undefined> {
  if (!ref?.name) return undefined;
  const ns = ref.namespace || h.metadata.namespace;
  if (ns !== h.metadata.namespace) {
    throw new BmoError('ConfigData', `${key} secret must be in same namespace as host ${h.metadata.namespace}/${h.metadata.name}`);
  }
  let secret: { data?: Record<string, string> };
  try {
    secret = await client.get('v1', 'Secret', ns, ref.name);
  } catch (e) {
    if (isNotFound(e)) throw new BmoError('ConfigData', `${key} secret ${ns}/${ref.name} not found`);
    throw e;
  }
  const raw = secret.data?.[key] ?? secret.data?.value;
  if (raw === undefined) throw new BmoError('ConfigData', `secret ${ref.name} does not contain key ${key} or value`);
  return Buffer.from(raw, 'base64').toString('utf8');
}

export async function buildConfigDrive(client: KubeClient, h: BareMetalHost): Promise<Record<string, unknown>> {
  const drive: Record<string, unknown> = {};
  const userData = await secretValue(client, h, h.spec.userData, 'userData');
  if (userData) drive.user_data = userData;
  const networkRef =
    h.spec.networkData ?? (h.spec.preprovisioningNetworkDataName ? { name: h.spec.preprovisioningNetworkDataName } : undefined);
  const networkData = await secretValue(client, h, networkRef, 'networkData');
  if (networkData) {
    try {
      drive.network_data = parse(networkData);
    } catch (e) {
      throw new BmoError('ConfigData', `failed to unmarshal network_data.json from secret: ${(e as Error).message}`);
    }
  }
  const meta: Record<string, unknown> = {
    uuid: h.metadata.uid,
    'metal3-namespace': h.metadata.namespace,
    'metal3-name': h.metadata.name,
    'local-hostname': h.metadata.name,
    local_hostname: h.metadata.name,
    name: h.metadata.name,
  };
  const metaData = await secretValue(client, h, h.spec.metaData, 'metaData');
  if (metaData) {
    try {
      Object.assign(meta, parse(metaData));
    } catch (e) {
      throw new BmoError('ConfigData', `failed to unmarshal metadata from secret: ${(e as Error).message}`);
    }
  }
  drive.meta_data = meta;
  return drive;
}
