// BareMetalSwitch (metal3.io/v1alpha1), behind upstream's IRONIC_NETWORKING_ENABLED: every switch
// of a namespace rendered into the networking-generic-switch configuration Ironic's networking
// reads (`[switch:<name>]` sections in the `switch-configs.conf` key of one Secret; SSH private
// keys as files in another, referenced by path), and each switch's Valid condition — True once
// it is in the configuration, False with CredentialError when its credentials cannot be used.
// Ferrite's own Ironic has no networking service: this feeds an OpenStack Ironic that does.
import { isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import { type Condition, setCondition } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { getOrNull } from './companion.js';

export const BMS = { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalSwitch' };
export const SWITCH_CONFIG_KEY = 'switch-configs.conf';

export interface SwitchNetworkingOptions {
  /** IRONIC_SWITCH_CONFIGS_SECRET: the Secret (in each switch's namespace) holding switch-configs.conf */
  configsSecret: string;
  /** IRONIC_SWITCH_CREDENTIALS_SECRET: the Secret holding SSH private keys, one file per switch */
  credentialsSecret: string;
  /** IRONIC_SWITCH_CREDENTIALS_PATH: where Ironic's networking finds that Secret's files */
  credentialsPath: string;
}

interface BareMetalSwitch extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: {
    address?: string;
    port?: number;
    macAddress?: string;
    deviceType?: string;
    driver?: string;
    credentials?: { name?: string; namespace?: string };
    disableCertificateVerification?: boolean;
  };
  status?: { conditions?: Condition[] };
}

class CredentialError extends Error {
  constructor(
    message: string,
    readonly missing = false,
  ) {
    super(message);
  }
}

const decode = (s: KubeObject & { data?: Record<string, string> }, k: string) =>
  s.data?.[k] !== undefined ? Buffer.from(s.data[k], 'base64') : undefined;

/** One switch's section of the configuration (and its key file, when it logs in by key). */
async function section(
  client: KubeClient,
  sw: BareMetalSwitch,
  credentialsPath: string,
): Promise<{ text: string; keyFile?: [string, Buffer] }> {
  const ref = sw.spec?.credentials;
  if (!ref?.name) throw new CredentialError('credentials secret reference is not set');
  const ns = ref.namespace || sw.metadata.namespace;
  const secret = await getOrNull<KubeObject & { data?: Record<string, string> }>(
    client,
    { apiVersion: 'v1', kind: 'Secret' },
    ns,
    ref.name,
  );
  if (!secret) throw new CredentialError(`credentials secret ${ns}/${ref.name} not found`, true);
  const username = decode(secret, 'username');
  if (!username) throw new CredentialError(`credentials secret ${ref.name} missing 'username' key`);
  const key = decode(secret, 'ssh-privatekey');
  const password = decode(secret, 'password');
  if (!key && !password) throw new CredentialError(`credentials secret ${ref.name} missing 'password' or 'ssh-privatekey' key`);
  const s = sw.spec ?? {};
  const keyName = key ? `${String(s.macAddress).replace(/:/g, '-')}.key` : undefined;
  const admin = decode(secret, 'admin-password');
  const lines = [
    `[switch:${sw.metadata.name}]`,
    `address=${s.address ?? ''}`,
    `mac_address=${s.macAddress ?? ''}`,
    ...(s.port ? [`port=${s.port}`] : []),
    `driver_type=${s.driver || 'generic-switch'}`,
    `device_type=${s.deviceType ?? ''}`,
    ...(s.disableCertificateVerification ? ['insecure=true'] : []),
    `username=${username.toString()}`,
    keyName ? `key_file=${credentialsPath.replace(/\/+$/, '')}/${keyName}` : `password=${password?.toString()}`,
    ...(admin ? [`enable_secret=${admin.toString()}`] : []),
  ];
  return { text: `${lines.join('\n')}\n`, ...(key && keyName ? { keyFile: [keyName, key] as [string, Buffer] } : {}) };
}

/** Writes a Secret's data when it differs (creating the Secret when it does not exist yet). */
async function putSecret(client: KubeClient, namespace: string, name: string, data: Record<string, Buffer>): Promise<void> {
  const want = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, v.toString('base64')]));
  const have = await getOrNull<KubeObject & { data?: Record<string, string> }>(
    client,
    { apiVersion: 'v1', kind: 'Secret' },
    namespace,
    name,
  );
  if (!have) {
    await client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'Opaque', data: want } as KubeObject);
    return;
  }
  if (semanticEqual(have.data ?? {}, want)) return;
  await client.update({ ...have, data: want } as KubeObject);
}

export function bareMetalSwitchController(o: SwitchNetworkingOptions): ControllerSpec {
  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    // the configuration is the namespace's switches together, whichever of them changed
    const switches = (await ctx.client.list<BareMetalSwitch>(BMS.apiVersion, BMS.kind, req.namespace)).items.sort((a, b) =>
      a.metadata.name < b.metadata.name ? -1 : 1,
    );
    const sections: string[] = [];
    const keys: Record<string, Buffer> = {};
    const errors = new Map<string, CredentialError>();
    for (const sw of switches) {
      try {
        const r = await section(ctx.client, sw, o.credentialsPath);
        sections.push(r.text);
        if (r.keyFile) keys[r.keyFile[0]] = r.keyFile[1];
      } catch (e) {
        if (!(e instanceof CredentialError)) throw e;
        errors.set(sw.metadata.name, e);
      }
    }
    const conf = `# This file is managed by the Bare Metal Operator (Ferrite)\n\n${sections.join('')}`;
    await putSecret(ctx.client, req.namespace, o.configsSecret, { [SWITCH_CONFIG_KEY]: Buffer.from(conf) });
    await putSecret(ctx.client, req.namespace, o.credentialsSecret, keys);
    const sw = switches.find((x) => x.metadata.name === req.name);
    if (!sw) return undefined;
    const err = errors.get(sw.metadata.name);
    const conditions = setCondition(sw.status?.conditions, {
      type: 'Valid',
      status: err ? 'False' : 'True',
      reason: err ? 'CredentialError' : 'Reconciled',
      message: err ? err.message : 'Switch configuration has been successfully reconciled into the config secret',
      observedGeneration: Number(sw.metadata.generation ?? 0),
    });
    if (!semanticEqual(conditions, sw.status?.conditions ?? [])) {
      try {
        await patchObject(ctx.client, sw, { ...sw, status: { ...(sw.status ?? {}), conditions } });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    // a missing Secret may appear: look again (upstream: every 10 s)
    return err?.missing ? { requeueAfterMs: 10_000 } : undefined;
  }

  return {
    name: 'baremetalswitch',
    eventSource: {
      component: 'metal3-baremetalswitch-controller',
      reportingController: 'metal3.io/baremetalswitch-controller',
      nameByReason: true,
    },
    for: BMS,
    reconcile,
  };
}
