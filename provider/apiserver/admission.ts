// Dynamic admission: calls the webhooks registered through MutatingWebhookConfiguration and
// ValidatingWebhookConfiguration objects, as kube-apiserver calls them — AdmissionReview v1 over
// HTTPS (caBundle), rules, namespace and object selectors, failurePolicy, timeouts,
// sideEffects on dry runs, and JSONPatch responses from mutating webhooks.
import { randomUUID } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import { cloneJson } from '../../lib/clone.js';
import { ApiError } from './errors.js';
import type { ResourceDef } from './registry.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import type { Store } from './store.js';
import { type ClientConfig, callWebhook, localServiceResolver, type ServiceResolver } from './webhook-client.js';

type Obj = Record<string, unknown>;

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionAttributes {
  def: ResourceDef;
  version: string;
  namespace: string;
  name: string;
  operation: Operation;
  subresource: string;
  dryRun: boolean;
  object?: Obj;
  oldObject?: Obj;
  /** Converts an object of this resource to another served version (for matchPolicy Equivalent). */
  convert?: (o: Obj, version: string) => Promise<Obj>;
  /** The version the client wrote in, when the webhook is sent another one. */
  requestVersion?: string;
}

interface Rule {
  operations?: string[];
  apiGroups?: string[];
  apiVersions?: string[];
  resources?: string[];
  scope?: string;
}

interface Webhook {
  name: string;
  clientConfig?: ClientConfig;
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  namespaceSelector?: Obj;
  objectSelector?: Obj;
  sideEffects?: string;
  timeoutSeconds?: number;
  admissionReviewVersions?: string[];
  matchPolicy?: 'Exact' | 'Equivalent';
}

const MUTATING = 'admissionregistration.k8s.io/mutatingwebhookconfigurations';
const VALIDATING = 'admissionregistration.k8s.io/validatingwebhookconfigurations';

const anyOf = (list: string[] | undefined, v: string) => !list || list.includes('*') || list.includes(v);

function resourceMatches(resources: string[] | undefined, plural: string, sub: string): boolean {
  const want = sub ? `${plural}/${sub}` : plural;
  for (const r of resources ?? []) {
    if (r === '*/*' || r === want) return true;
    if (r === '*' && !sub) return true;
    if (sub && r === `*/${sub}`) return true;
    if (!sub && r === `${plural}/*`) return false;
    if (sub && r === `${plural}/*`) return true;
  }
  return false;
}

export class Admission {
  private cache = new Map<string, { rv: number; hooks: Webhook[] }>();

  constructor(
    private readonly store: Store,
    private readonly resolveService: ServiceResolver = localServiceResolver,
  ) {}

  /** True when any webhook is registered (the write path stays synchronous otherwise). */
  active(): boolean {
    return this.store.count(MUTATING) + this.store.count(VALIDATING) > 0;
  }

  private hooks(resource: string): Webhook[] {
    const out: Webhook[] = [];
    for (const s of this.store.list(resource)) {
      const k = `${resource}/${s.name}`;
      let c = this.cache.get(k);
      if (!c || c.rv !== s.rv) {
        c = { rv: s.rv, hooks: ((JSON.parse(s.json) as Obj).webhooks as Webhook[] | undefined) ?? [] };
        this.cache.set(k, c);
      }
      out.push(...c.hooks);
    }
    return out;
  }

  /**
   * The version a webhook is called in when it applies to the request, else null: the request's
   * if a matching rule names it, else (matchPolicy Equivalent, the v1 default) the first served
   * version a matching rule names — kube-apiserver converts the object to it.
   */
  private match(h: Webhook, a: AdmissionAttributes): string | null {
    const { def } = a;
    // webhook configurations are never subject to webhooks, so a bad one cannot lock itself in
    if (def.group === 'admissionregistration.k8s.io') return null;
    const hits = (h.rules ?? []).filter(
      (r) =>
        anyOf(r.operations, a.operation) &&
        anyOf(r.apiGroups, def.group) &&
        resourceMatches(r.resources, def.plural, a.subresource) &&
        (!r.scope || r.scope === '*' || (r.scope === 'Namespaced') === def.namespaced),
    );
    let version: string | undefined;
    if (hits.some((r) => anyOf(r.apiVersions, a.version))) version = a.version;
    else if (h.matchPolicy !== 'Exact')
      version = def.versions.find((x) => x.served !== false && hits.some((r) => anyOf(r.apiVersions, x.name)))?.name;
    if (!version) return null;
    if (h.namespaceSelector && def.namespaced) {
      const nsObj = this.store.get('core/namespaces', '', a.namespace);
      const labels = nsObj ? (((JSON.parse(nsObj.json) as Obj).metadata as Obj).labels as Record<string, string> | undefined) : undefined;
      if (!matchLabels(fromLabelSelectorObject(h.namespaceSelector), { 'kubernetes.io/metadata.name': a.namespace, ...(labels ?? {}) }))
        return null;
    }
    if (h.objectSelector) {
      const sel = fromLabelSelectorObject(h.objectSelector);
      const labelsOf = (o?: Obj) => (o?.metadata as Obj | undefined)?.labels as Record<string, string> | undefined;
      if (!matchLabels(sel, labelsOf(a.object)) && !matchLabels(sel, labelsOf(a.oldObject))) return null;
    }
    return version;
  }

  /** The request as the webhook sees it, in `version`. */
  private async inVersion(a: AdmissionAttributes, version: string): Promise<AdmissionAttributes> {
    if (version === a.version || !a.convert) return a;
    return {
      ...a,
      version,
      requestVersion: a.version,
      object: a.object ? await a.convert(a.object, version) : undefined,
      oldObject: a.oldObject ? await a.convert(a.oldObject, version) : undefined,
    };
  }

  private review(a: AdmissionAttributes): Obj {
    return {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: randomUUID(),
        kind: { group: a.def.group, version: a.version, kind: a.def.kind },
        resource: { group: a.def.group, version: a.version, resource: a.def.plural },
        ...(a.subresource ? { subResource: a.subresource } : {}),
        requestKind: { group: a.def.group, version: a.requestVersion ?? a.version, kind: a.def.kind },
        requestResource: { group: a.def.group, version: a.requestVersion ?? a.version, resource: a.def.plural },
        name: a.name,
        ...(a.def.namespaced ? { namespace: a.namespace } : {}),
        operation: a.operation,
        userInfo: { username: 'ferrite-admin', groups: ['system:masters', 'system:authenticated'] },
        object: a.object ?? null,
        oldObject: a.oldObject ?? null,
        dryRun: a.dryRun,
        options: { apiVersion: 'meta.k8s.io/v1', kind: `${a.operation[0]}${a.operation.slice(1).toLowerCase()}Options` },
      },
    };
  }

  /** Calls one webhook; returns its response, or undefined when it failed and failurePolicy is Ignore. */
  private async invoke(h: Webhook, a: AdmissionAttributes): Promise<Obj | undefined> {
    if (a.dryRun && h.sideEffects !== 'None' && h.sideEffects !== 'NoneOnDryRun') {
      throw new ApiError(400, 'BadRequest', `admission webhook "${h.name}" does not support dry run`);
    }
    try {
      const out = await callWebhook(h.clientConfig ?? {}, this.review(a), (h.timeoutSeconds ?? 10) * 1000, this.resolveService);
      const response = out.response as Obj | undefined;
      if (!response) throw new Error('the AdmissionReview has no response');
      return response;
    } catch (e) {
      if (h.failurePolicy === 'Ignore') return undefined;
      throw new ApiError(500, 'InternalError', `Internal error occurred: failed calling webhook "${h.name}": ${(e as Error).message}`);
    }
  }

  private deny(h: Webhook, response: Obj): never {
    const status = (response.status ?? {}) as Obj;
    const code = Number(status.code ?? 0) >= 400 ? Number(status.code) : 400;
    const msg = status.message ? String(status.message) : 'without explanation';
    throw new ApiError(code, (status.reason as never) ?? 'BadRequest', `admission webhook "${h.name}" denied the request: ${msg}`);
  }

  /** Mutating webhooks, in configuration name order; returns the (possibly patched) object. */
  async mutate(a: AdmissionAttributes): Promise<{ object: Obj | undefined; warnings: string[] }> {
    const warnings: string[] = [];
    let object = a.object;
    for (const h of this.hooks(MUTATING)) {
      const version = this.match(h, { ...a, object });
      if (!version) continue;
      const attrs = await this.inVersion({ ...a, object }, version);
      const r = await this.invoke(h, attrs);
      if (!r) continue;
      for (const w of (r.warnings as string[] | undefined) ?? []) warnings.push(w);
      if (r.allowed !== true) this.deny(h, r);
      if (r.patch && object) {
        if (r.patchType !== 'JSONPatch')
          throw new ApiError(
            500,
            'InternalError',
            `admission webhook "${h.name}" returned an unsupported patchType ${String(r.patchType)}`,
          );
        try {
          const ops = JSON.parse(Buffer.from(String(r.patch), 'base64').toString('utf8')) as fastJsonPatch.Operation[];
          object = fastJsonPatch.applyPatch(cloneJson(attrs.object ?? object), ops, true, false).newDocument as Obj;
        } catch (e) {
          throw new ApiError(
            500,
            'InternalError',
            `admission webhook "${h.name}" returned a patch that does not apply: ${(e as Error).message.split('\n')[0]}`,
          );
        }
        // a patch made in the webhook's version comes back to the request's
        if (attrs.requestVersion && a.convert && object) object = await a.convert(object, a.version);
      }
    }
    return { object, warnings };
  }

  /** Validating webhooks; any denial rejects the request. */
  async validate(a: AdmissionAttributes): Promise<string[]> {
    const warnings: string[] = [];
    const hooks = this.hooks(VALIDATING).flatMap((h) => {
      const version = this.match(h, a);
      return version ? [{ h, version }] : [];
    });
    // kube-apiserver calls validating webhooks in parallel
    const results = await Promise.all(
      hooks.map(async ({ h, version }) => ({ h, r: await this.invoke(h, await this.inVersion(a, version)) })),
    );
    for (const { h, r } of results) {
      if (!r) continue;
      for (const w of (r.warnings as string[] | undefined) ?? []) warnings.push(w);
      if (r.allowed !== true) this.deny(h, r);
    }
    return warnings;
  }
}
