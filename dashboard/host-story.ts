// One host, opened: the BareMetalHost, its hardware, the objects linked to it, and one timeline
// merged from what the dashboard recorded, operationHistory, Ironic's node history and the BMC's
// event log, with the serial console's tail.
import { isNotFound, type KubeClient } from '../provider/kube/client.js';
import { ACTION_NAMES, planAction } from './actions.js';
import type { BmcReader, BmcView } from './bmc-reader.js';
import type { FleetModel } from './fleet-model.js';
import type { IronicFeed } from './ironic-feed.js';
import type { Obj } from './projections.js';
import { mergeTimeline, operationEntries, type TimelineEntry } from './timeline.js';

export interface StoryDeps {
  client: KubeClient;
  model: FleetModel;
  ironic?: IronicFeed;
  bmc?: BmcReader;
  actions: boolean;
}

export class HostNotFound extends Error {
  readonly reason = 'NotFound';
}

/** Managed fields and kubectl's last-applied copy are noise on a page. */
function trimmed(o: Obj): Obj {
  const { managedFields: _m, ...metadata } = o.metadata ?? {};
  const annotations = { ...(metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return { ...o, metadata: { ...metadata, annotations } };
}

export async function hostStory(d: StoryDeps, ns: string, name: string) {
  const h = d.model.host(ns, name);
  if (!h) throw new HostNotFound(`no BareMetalHost ${ns}/${name}`);
  const key = `${ns}/${name}`;
  const node = d.model.ironicNode(key);
  const spec = (h.spec ?? {}) as {
    bmc?: { address?: string; credentialsName?: string; disableCertificateVerification?: boolean };
  };
  const [hardware, history, bmc] = await Promise.all([
    hardwareData(d.client, ns, name),
    node && d.ironic
      ? d.ironic.history(node.uuid).catch((e: Error) => ({ error: e.message }))
      : Promise.resolve({ error: d.ironic ? 'no Ironic node for this host' : 'no Ironic URL given' }),
    d.bmc && spec.bmc?.address && spec.bmc.credentialsName
      ? readBmc(d, ns, name, spec.bmc as { address: string; credentialsName: string; disableCertificateVerification?: boolean })
      : Promise.resolve({ error: d.bmc ? 'the host names no BMC address or credentials' : 'BMC reading is off (--no-bmc)' }),
  ]);
  const fromHistory: TimelineEntry[] = Array.isArray(history)
    ? history.map((e) => ({
        at: e.created_at,
        source: 'history',
        what: `${e.event_type ? `${e.event_type}: ` : ''}${e.event}`,
        ...(e.severity === 'ERROR' ? { severity: 'error' as const } : {}),
      }))
    : [];
  const fromBmc: TimelineEntry[] =
    'events' in bmc
      ? bmc.events.map((e) => ({
          at: e.at,
          source: 'bmc',
          what: e.message,
          ...(e.severity === 'Critical'
            ? { severity: 'error' as const }
            : e.severity === 'Warning'
              ? { severity: 'warning' as const }
              : {}),
        }))
      : [];
  return {
    summary: d.model.summary(key),
    host: trimmed(h),
    hardware,
    links: d.model.links(key),
    ironic: node ?? null,
    ironicHistoryError: Array.isArray(history) ? null : history.error,
    bmc: 'events' in bmc ? { ...bmc, events: undefined } : null,
    bmcError: 'error' in bmc ? bmc.error : null,
    timeline: mergeTimeline(operationEntries(h.status), d.model.timelines.get(key), fromHistory, fromBmc),
    actions: d.actions
      ? ACTION_NAMES.map((a) => ({
          name: a,
          kubectl: planAction(a, ns, name, a === 'provision' ? { image: { url: 'http://IMAGE-URL' } } : {}).kubectl,
        }))
      : null,
  };
}

async function hardwareData(client: KubeClient, ns: string, name: string): Promise<Record<string, unknown> | null> {
  try {
    const hd = await client.get<Obj>('metal3.io/v1alpha1', 'HardwareData', ns, name);
    return ((hd.spec as { hardware?: Record<string, unknown> } | undefined)?.hardware ?? null) as Record<string, unknown> | null;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}

async function readBmc(
  d: StoryDeps,
  ns: string,
  name: string,
  bmc: { address: string; credentialsName: string; disableCertificateVerification?: boolean },
): Promise<BmcView | { error: string }> {
  try {
    const secret = await d.client.get<Obj & { data?: Record<string, string> }>('v1', 'Secret', ns, bmc.credentialsName);
    const dec = (k: string) => Buffer.from(secret.data?.[k] ?? '', 'base64').toString('utf8');
    return await (d.bmc as BmcReader).read(
      bmc.address,
      dec('username'),
      dec('password'),
      bmc.disableCertificateVerification === true,
      name,
    );
  } catch (e) {
    return { error: (e as Error).message };
  }
}
