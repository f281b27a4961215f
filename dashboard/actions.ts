// The few things the page may do to a host (only with `ferrite dashboard --allow-actions`), each
// the same merge patch `kubectl` would send, so the page can show the command beside the button.
import type { KubeClient, KubeObject } from '../provider/kube/client.js';

export type ActionName = 'power-on' | 'power-off' | 'reboot' | 'inspect' | 'pause' | 'unpause' | 'provision' | 'deprovision';

export interface ActionInput {
  image?: { url?: unknown; checksum?: unknown; checksumType?: unknown; format?: unknown };
}

export class ActionError extends Error {
  constructor(
    readonly reason: 'UnknownAction' | 'Invalid' | 'Disabled',
    message: string,
  ) {
    super(message);
    this.name = 'ActionError';
  }
}

interface Plan {
  patch: Record<string, unknown>;
  kubectl: string;
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Action → (merge patch, the kubectl command that sends it), as a table. */
const ACTIONS: Record<ActionName, (ns: string, name: string, i: ActionInput) => Plan> = {
  'power-on': (ns, n) => specPatch(ns, n, { online: true }),
  'power-off': (ns, n) => specPatch(ns, n, { online: false }),
  reboot: (ns, n) => annotate(ns, n, 'reboot.metal3.io', ''),
  inspect: (ns, n) => annotate(ns, n, 'inspect.metal3.io', ''),
  pause: (ns, n) => annotate(ns, n, 'baremetalhost.metal3.io/paused', ''),
  unpause: (ns, n) => annotate(ns, n, 'baremetalhost.metal3.io/paused', null),
  provision: (ns, n, i) => specPatch(ns, n, { image: imageOf(i) }),
  deprovision: (ns, n) => specPatch(ns, n, { image: null }),
};

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

function specPatch(ns: string, name: string, spec: Record<string, unknown>): Plan {
  const patch = { spec };
  return { patch, kubectl: `kubectl patch bmh -n ${ns} ${name} --type merge -p ${shellQuote(JSON.stringify(patch))}` };
}

function annotate(ns: string, name: string, key: string, value: string | null): Plan {
  return {
    patch: { metadata: { annotations: { [key]: value } } },
    kubectl: `kubectl annotate bmh -n ${ns} ${name} ${value === null ? `${key}-` : `${key}=${value} --overwrite`}`,
  };
}

function imageOf(i: ActionInput): Record<string, string> {
  const img = i.image ?? {};
  const url = typeof img.url === 'string' ? img.url.trim() : '';
  if (!/^(https?|file):\/\/\S+$/.test(url)) throw new ActionError('Invalid', 'provision needs image.url, an http(s) or file URL');
  const out: Record<string, string> = { url };
  for (const k of ['checksum', 'checksumType', 'format'] as const) {
    const v = img[k];
    if (v === undefined || v === '') continue;
    if (typeof v !== 'string') throw new ActionError('Invalid', `image.${k} must be a string`);
    out[k] = v;
  }
  return out;
}

/** What an action would send, without sending it (the page shows it before the user clicks). */
export function planAction(action: string, ns: string, name: string, input: ActionInput = {}): Plan {
  const f = ACTIONS[action as ActionName];
  if (!Object.hasOwn(ACTIONS, action) || !f)
    throw new ActionError('UnknownAction', `unknown action "${action}": one of ${ACTION_NAMES.join(', ')}`);
  return f(ns, name, input);
}

export async function runAction(
  client: KubeClient,
  action: string,
  ns: string,
  name: string,
  input: ActionInput = {},
): Promise<{ kubectl: string; object: KubeObject }> {
  const plan = planAction(action, ns, name, input);
  const object = await client.patch({ apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost', namespace: ns, name }, 'merge', plan.patch, {
    fieldManager: 'ferrite-dashboard',
  });
  return { kubectl: plan.kubectl, object };
}
