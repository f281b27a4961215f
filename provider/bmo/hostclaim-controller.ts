// HostClaim (metal3.io/v1alpha1): a workload's request for a bare-metal host, answered as
// upstream's operator answers it today — bind the claim to an available BareMetalHost that its
// hostSelector matches, in a namespace whose HostDeployPolicy admits the claim's namespace
// (preferring the claim's failure domain), by setting the host's consumerRef; release the host
// when the claim goes. Upstream does not yet carry image, power or user data from the claim to
// the host, and neither does this. Conditions: Associated, and Ready summarizing Associated,
// Synchronized and Provisioned in Cluster API's style.
import { randomInt } from 'node:crypto';
import { cloneJson } from '../../lib/clone.js';
import type { BareMetalHost } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { re2Test } from '../apiserver/re2.js';
import { KubeApiError, type KubeObject } from '../kube/client.js';
import { type Condition, condition, isTrue, summarize } from '../kube/conditions.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { A, BMH } from './baremetalhost-controller.js';
import { getOrNull } from './companion.js';

export const HOST_CLAIM = { apiVersion: 'metal3.io/v1alpha1', kind: 'HostClaim' };
export const HOST_CLAIM_FINALIZER = 'metal3.io/hostclaim';
const FAILURE_DOMAIN = 'infrastructure.cluster.x-k8s.io/failure-domain';
const FIELD_MANAGER = 'metal3-baremetal-controller';

interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface HostClaim extends KubeObject {
  metadata: NonNullable<KubeObject['metadata']> & { name: string; namespace: string };
  spec?: {
    hostSelector?: { matchLabels?: Record<string, string>; matchExpressions?: Requirement[]; inNamespace?: string };
    failureDomain?: string;
  };
  status?: { bareMetalHost?: { namespace: string; name: string }; conditions?: Condition[] };
}

interface HostDeployPolicy extends KubeObject {
  spec?: { hostClaimNamespaces?: { names?: string[]; nameMatches?: string; hasLabels?: Array<{ name: string; value?: string }> } };
}

class NoHost extends Error {}

/** One selector requirement with apimachinery's operators (lower-cased, as upstream's manager does). */
function matches(labels: Record<string, string>, r: Requirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  const vals = r.values ?? [];
  switch (r.operator.toLowerCase()) {
    case 'in':
    case '=':
    case '==':
      return has && vals.includes(v);
    case 'notin':
    case '!=':
      return !has || !vals.includes(v);
    case 'exists':
      return has;
    case '!':
    case 'doesnotexist':
      return !has;
    case 'gt':
    case 'lt': {
      const n = Number(v);
      const lim = Number(vals[0]);
      if (!has || !Number.isInteger(n) || !Number.isInteger(lim)) return false;
      return r.operator.toLowerCase() === 'gt' ? n > lim : n < lim;
    }
    default:
      throw new Error(`invalid operator ${r.operator} in match expression on label key ${r.key}`);
  }
}

/** The claim's namespace's admission by one HostDeployPolicy (every constraint it sets must hold). */
function admits(p: HostDeployPolicy, ns: string, nsLabels: Record<string, string>): boolean {
  const c = p.spec?.hostClaimNamespaces;
  if (!c) return false;
  if (c.names && !c.names.includes(ns)) return false;
  // RE2: a policy's pattern cannot make the operator backtrack for ever (Go's regexp is RE2 too)
  if (c.nameMatches && !re2Test(c.nameMatches, ns)) return false;
  return (c.hasLabels ?? []).every((l) => Object.hasOwn(nsLabels, l.name) && (!l.value || nsLabels[l.name] === l.value));
}

const consumerIs = (h: BareMetalHost, c: HostClaim) => {
  const r = h.spec?.consumerRef;
  return Boolean(
    r &&
      r.kind === 'HostClaim' &&
      r.name === c.metadata.name &&
      r.namespace === c.metadata.namespace &&
      String(r.apiVersion).startsWith('metal3.io/'),
  );
};

export function hostClaimController(): ControllerSpec {
  async function choose(ctx: ReconcileContext, claim: HostClaim): Promise<BareMetalHost> {
    const sel = claim.spec?.hostSelector ?? {};
    const policies = (await ctx.client.list<HostDeployPolicy>(HOST_CLAIM.apiVersion, 'HostDeployPolicy', sel.inNamespace || undefined))
      .items;
    const ns = await getOrNull<KubeObject>(ctx.client, { apiVersion: 'v1', kind: 'Namespace' }, undefined, claim.metadata.namespace);
    const nsLabels = ns?.metadata?.labels ?? {};
    const namespaces = new Set(
      policies.filter((p) => admits(p, claim.metadata.namespace, nsLabels)).map((p) => String(p.metadata?.namespace)),
    );
    const candidates: BareMetalHost[] = [];
    for (const n of namespaces) {
      for (const h of (await ctx.client.list<BareMetalHost & KubeObject>(BMH.apiVersion, BMH.kind, n)).items) {
        const labels = h.metadata.labels ?? {};
        if (!Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v)) continue;
        if (!(sel.matchExpressions ?? []).every((r) => matches(labels, r))) continue;
        if (consumerIs(h, claim)) return h;
        if (h.spec?.consumerRef || h.metadata.deletionTimestamp || A.paused in (h.metadata.annotations ?? {})) continue;
        if (!['available', 'ready'].includes(h.status?.provisioning?.state ?? '') || h.status?.errorMessage) continue;
        candidates.push(h);
      }
    }
    if (!candidates.length) throw new NoHost();
    const fd = claim.spec?.failureDomain;
    const inDomain = fd ? candidates.filter((h) => h.metadata.labels?.[FAILURE_DOMAIN] === fd) : [];
    const pool = inDomain.length ? inDomain : candidates;
    return pool[randomInt(pool.length)];
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<HostClaim>(ctx.client, HOST_CLAIM, req.namespace, req.name);
    if (!found) return undefined;
    const claim = found;
    const original = cloneJson(claim);
    const cond = (type: string, ok: boolean, reason: string, message = '') => condition(claim, type, ok, reason, message);
    const save = async (res?: Result) => {
      const s = summarize(claim.status?.conditions, ['Associated', 'Synchronized', 'Provisioned']);
      condition(claim, 'Ready', s.status === 'Unknown' ? 'Unknown' : s.status === 'True', s.reason, s.message);
      await patchObject(ctx.client, original, claim, { fieldManager: FIELD_MANAGER });
      return res;
    };

    if (isDeleting(claim)) {
      cond('Associated', false, 'HostClaimDeleting');
      const ref = claim.status?.bareMetalHost;
      if (ref) {
        const host = await getOrNull<BareMetalHost & KubeObject>(ctx.client, BMH, ref.namespace, ref.name);
        if (host && consumerIs(host, claim)) {
          const before = cloneJson(host);
          delete host.spec.consumerRef;
          await patchObject(ctx.client, before as KubeObject, host, { fieldManager: FIELD_MANAGER });
        }
        if (claim.status) delete claim.status.bareMetalHost;
      }
      removeFinalizer(claim, HOST_CLAIM_FINALIZER);
      await patchObject(ctx.client, original, claim, { fieldManager: FIELD_MANAGER });
      return undefined;
    }
    addFinalizer(claim, HOST_CLAIM_FINALIZER);
    if (isTrue(claim.status?.conditions, 'Provisioned')) return save();
    if (claim.status?.bareMetalHost) {
      cond('Associated', true, 'BareMetalHostAssociated');
      return save();
    }
    let host: BareMetalHost;
    try {
      host = await choose(ctx, claim);
    } catch (e) {
      if (e instanceof NoHost) {
        cond('Associated', false, 'NoBareMetalHost', 'No available host found: requeuing.');
        return save({ requeueAfterMs: 30_000 });
      }
      cond('Associated', false, 'NoBareMetalHost', 'Failed to pick a BaremetalHost for the Host');
      await save();
      throw e;
    }
    if (!consumerIs(host, claim)) {
      host.spec = {
        ...host.spec,
        consumerRef: {
          apiVersion: HOST_CLAIM.apiVersion,
          kind: 'HostClaim',
          name: claim.metadata.name,
          namespace: claim.metadata.namespace,
        },
      };
      try {
        // an update with the read resourceVersion: of two claims racing for one host, the loser
        // conflicts and picks again shortly (upstream's jittered 100 ms requeue)
        await ctx.client.update(host as unknown as KubeObject, { fieldManager: FIELD_MANAGER });
      } catch (e) {
        if (e instanceof KubeApiError && e.code === 409) return { requeueAfterMs: 100 + randomInt(900) };
        cond('Associated', false, 'BareMetalHostNotSynchronized', 'Failed to set consumer Reference on BareMetalHost');
        await save();
        throw e;
      }
    }
    claim.status = { ...(claim.status ?? {}), bareMetalHost: { namespace: host.metadata.namespace, name: host.metadata.name } };
    cond('Associated', true, 'BareMetalHostAssociated');
    return save();
  }

  return {
    name: 'hostclaim',
    eventSource: { component: 'metal3-hostclaim-controller', reportingController: 'metal3.io/hostclaim-controller', nameByReason: true },
    for: HOST_CLAIM,
    watches: [
      {
        ...BMH,
        // a host bound to a claim wakes it (upstream's BareMetalHostToHostClaims)
        map: (h) => {
          const r = (h as unknown as BareMetalHost).spec?.consumerRef;
          return r?.kind === 'HostClaim' && String(r.apiVersion ?? '').startsWith('metal3.io/') && r.name
            ? [{ namespace: String(r.namespace ?? h.metadata?.namespace), name: r.name }]
            : [];
        },
      },
    ],
    reconcile,
  };
}
