// Object semantics of kube-apiserver over the store: create/update/patch/delete with
// resourceVersions, generation, finalizers, status subresource, schema pruning/defaulting/
// validation, managedFields and server-side apply. The HTTP layer and the garbage collector
// both go through here, so every write obeys the same rules.
import { randomUUID } from 'node:crypto';
import { cloneJson } from '../../lib/clone.js';
import { dns1123SubdomainProblems, labelValueProblems, qualifiedNameProblems } from '../kube/names.js';
import { Admission, type Operation } from './admission.js';
import { builtinResources } from './builtins.js';
import { convertByWebhook } from './conversion.js';
import { crdStatus, crdToResource, validateCrd } from './crd.js';
import { ApiError, errors, RacedWriteError, type StatusCause } from './errors.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { gvString, Registry, type ResourceDef, type VersionDef } from './registry.js';
import { applyDefaults, prune, validate } from './schema.js';
import { recordUpdate, apply as ssaApply } from './ssa.js';
import type { Store, StoredObject } from './store.js';

export type Obj = Record<string, unknown>;

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  subresource?: 'status' | 'scale' | '';
  force?: boolean;
}

export interface WriteResult {
  obj: Obj;
  created?: boolean;
  warnings: string[];
}

export interface DeleteOptions {
  dryRun?: boolean;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

// kube-apiserver's maxRetryWhenPatchConflicts
const PATCH_ATTEMPTS = 5;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function meta(o: Obj): Obj {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Obj;
}

function nowISO(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let s = '';
  for (let i = 0; i < 5; i++) s += alphabet[Math.floor(Math.random() * alphabet.length)];
  return s;
}

/** An object's identity for no-op detection: ignores resourceVersion and ownership timestamps. */
function withoutVolatile(o: Obj): string {
  const { metadata, ...rest } = o;
  const { resourceVersion: _rv, managedFields, ...m } = (metadata ?? {}) as Obj;
  const owners = Array.isArray(managedFields) ? managedFields.map(({ time: _t, ...e }: Obj) => e) : undefined;
  return JSON.stringify({ ...rest, metadata: m, owners });
}

function specPart(o: Obj, statusSub: boolean): string {
  const { metadata: _m, status, ...rest } = o;
  return JSON.stringify(statusSub ? rest : { ...rest, status });
}

/** the label every Namespace carries with its own name */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/** kube-apiserver's TotalAnnotationSizeLimitB: keys and values together */
const ANNOTATIONS_LIMIT = 256 * 1024;

/** Namespaces kube-apiserver refuses to delete (NamespaceLifecycle's immortal namespaces). */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

const LABEL_RE = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';

/** Why a name is not a DNS subdomain (or, for namespaces, a DNS label), in apimachinery's words; null when it is. */
function nameProblem(name: string, label: boolean): string | null {
  if (label) {
    if (name.length > 63) return 'must be no more than 63 characters';
    if (name.includes('.')) return 'must not contain dots';
    if (!DNS_LABEL.test(name))
      return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '${LABEL_RE}')`;
    return null;
  }
  return dns1123SubdomainProblems(name)[0] ?? null;
}

// kube-apiserver keeps metadata.generation for custom resources and for the built-in kinds whose
// strategy counts spec changes; ConfigMaps, Secrets, Namespaces, Events, Leases… have none
const GENERATION_KINDS = new Set([
  'CustomResourceDefinition',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'Deployment',
  'DaemonSet',
  'Pod',
]);

function hasGeneration(def: ResourceDef): boolean {
  return !def.builtin || GENERATION_KINDS.has(def.kind);
}

// top-level fields of the compiled-in kinds served here (beside apiVersion, kind, metadata)
const COMMON_FIELDS = ['apiVersion', 'kind', 'metadata'];
const BUILTIN_FIELDS: Record<string, string[]> = {
  ConfigMap: ['data', 'binaryData', 'immutable'],
  Secret: ['data', 'stringData', 'type', 'immutable'],
  Namespace: ['spec', 'status'],
  ServiceAccount: ['secrets', 'imagePullSecrets', 'automountServiceAccountToken'],
  Lease: ['spec'],
};

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/** ConfigMap and Secret keys, as kube-apiserver's IsConfigMapKey checks them. */
function checkDataKeys(def: ResourceDef, o: Obj): void {
  for (const field of ['data', 'binaryData', 'stringData']) {
    const d = o[field];
    if (!isObj(d)) continue;
    for (const k of Object.keys(d)) {
      if (CONFIG_KEY.test(k) && k.length <= 253 && k !== '.' && k !== '..') continue;
      throw errors.invalid(def.kind, '', String(meta(o).name), [
        {
          reason: 'FieldValueInvalid',
          field: `${field}[${k}]`,
          message: `Invalid value: "${k}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
        },
      ]);
    }
  }
}

/** Where standard base64 (with padding) first fails to decode, as Go's CorruptInputError counts; null when it decodes. */
function base64Problem(v: string): number | null {
  const bad = v.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = v.indexOf('=');
  if (pad >= 0 && (!/^=+$/.test(v.slice(pad)) || v.length - pad > 2)) return pad;
  if (v.length % 4 !== 0) return v.length - (v.length % 4);
  return null;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
}

/** The one identity the embedded server's bearer token and client certificates carry. */
export const ADMIN_USER: UserInfo = { username: 'ferrite-admin', groups: ['system:masters', 'system:authenticated'] };

export class ApiCore {
  readonly registry = new Registry();
  readonly admission: Admission;
  private readonly validatingOn: boolean;

  constructor(
    readonly store: Store,
    opts: { validate?: boolean } = {},
  ) {
    this.validatingOn = opts.validate ?? true;
    this.admission = new Admission(store);
    for (const d of builtinResources()) this.registry.add(d);
    // CRDs persisted earlier are served again at start, and follow every later change.
    for (const s of store.list('apiextensions.k8s.io/customresourcedefinitions')) this.registerCrd(JSON.parse(s.json));
    store.subscribe('apiextensions.k8s.io/customresourcedefinitions', (ev, crd) => {
      if (ev.type === 'DELETED') this.unregisterCrd(crd);
      else this.registerCrd(crd);
    });
  }

  private registerCrd(crd: Obj): void {
    try {
      const def = crdToResource(crd);
      const cur = this.registry.get(def.group, def.plural);
      if (cur?.builtin) return;
      this.registry.add(def);
    } catch {
      // an invalid stored CRD is left unserved rather than crashing the server
    }
  }

  private unregisterCrd(crd: Obj): void {
    const spec = crd.spec as { group: string; names: { plural: string } };
    const cur = this.registry.get(spec.group, spec.names.plural);
    if (cur && !cur.builtin) this.registry.remove(spec.group, spec.names.plural);
  }

  // ---- reading ----------------------------------------------------------------------------

  /**
   * Converts objects into `version` of `def`'s group: natively (Ferrite's groups, built-in
   * aliases), by rewriting apiVersion (strategy None), or through the CRD's conversion webhook.
   */
  async convertList(def: ResourceDef, objs: Obj[], version: string): Promise<Obj[]> {
    return this.convertTo(def, objs, gvString(def.group, version));
  }

  /** `target` is a full apiVersion: for alias groups the storage one is another group's. */
  private async convertTo(def: ResourceDef, objs: Obj[], target: string): Promise<Obj[]> {
    if (def.webhookConversion && !def.conversion) {
      return convertByWebhook(def.webhookConversion, def.kind, objs, target);
    }
    return objs.map((o) => {
      if (o.apiVersion === target) return o;
      if (def.conversion) return def.conversion(o, target);
      return { ...o, apiVersion: target };
    });
  }

  async convert(def: ResourceDef, obj: Obj, version: string): Promise<Obj> {
    return (await this.convertList(def, [obj], version))[0];
  }

  private async toStorage(def: ResourceDef, obj: Obj): Promise<Obj> {
    return (await this.convertTo(def, [obj], def.storageGroupVersion))[0];
  }

  getStored(def: ResourceDef, ns: string, name: string): StoredObject | undefined {
    return this.store.get(def.storeId, def.namespaced ? ns : '', name);
  }

  async get(def: ResourceDef, version: string, ns: string, name: string): Promise<Obj> {
    const s = this.getStored(def, ns, name);
    if (!s) throw errors.notFound(def, name);
    return await this.convert(def, JSON.parse(s.json), version);
  }

  storageVersionDef(def: ResourceDef): VersionDef {
    return def.versions.find((v) => v.storage) ?? def.versions[0];
  }

  // ---- validation -------------------------------------------------------------------------

  private checkName(def: ResourceDef, o: Obj): void {
    const m = meta(o);
    const name = m.name;
    if (typeof name !== 'string' || name === '') {
      throw errors.invalid(def.kind, def.group, '', [
        { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' },
      ]);
    }
    // RBAC objects and core Events are validated as path segments (kubeadm's "kubeadm:get-nodes", an
    // Event named after its object "Host-0.17f8…"), as kube-apiserver does; events.k8s.io Events are
    // DNS subdomains, reported as the internal (group-less) Event
    const rbacOrCoreEvent = def.group === 'rbac.authorization.k8s.io' || (def.plural === 'events' && def.group === '');
    if (rbacOrCoreEvent) {
      if (name === '.' || name === '..' || /[/%]/.test(name)) {
        throw errors.invalid(def.kind, def.group, name, [
          {
            reason: 'FieldValueInvalid',
            field: 'metadata.name',
            message: `Invalid value: "${name}": may not be '.' or '..' and may not contain '/' or '%'`,
          },
        ]);
      }
    }
    // every metadata problem at once, as kube-apiserver lists them: the name, then labels and annotations
    const group = def.plural === 'events' && def.group === 'events.k8s.io' ? '' : def.group;
    const causes: StatusCause[] = [];
    const problem = rbacOrCoreEvent ? null : nameProblem(name, def.kind === 'Namespace');
    if (problem) causes.push({ reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": ${problem}` });
    const labels = m.labels;
    if (labels !== undefined && (!isObj(labels) || Object.values(labels).some((v) => typeof v !== 'string'))) {
      throw errors.invalid(def.kind, group, name, [
        ...causes,
        { reason: 'FieldValueTypeInvalid', field: 'metadata.labels', message: 'Invalid value: labels must be a map of string to string' },
      ]);
    }
    const ann = m.annotations;
    if (ann !== undefined && (!isObj(ann) || Object.values(ann).some((v) => typeof v !== 'string'))) {
      throw errors.invalid(def.kind, group, name, [
        ...causes,
        {
          reason: 'FieldValueTypeInvalid',
          field: 'metadata.annotations',
          message: 'Invalid value: annotations must be a map of string to string',
        },
      ]);
    }
    // label keys and values, annotation keys: apimachinery's rules and words (ValidateLabels,
    // ValidateAnnotations); a Namespace's own name label counts (a 64-character name fails twice)
    const bad = (field: string, value: string, msg: string) =>
      causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${msg}` });
    const checked =
      def.kind === 'Namespace'
        ? { ...((labels as Record<string, string> | undefined) ?? {}), [NAMESPACE_NAME_LABEL]: name }
        : ((labels as Record<string, string> | undefined) ?? {});
    for (const [k, v] of Object.entries(checked)) {
      for (const msg of qualifiedNameProblems(k, 'label key')) bad('metadata.labels', k, msg);
      for (const msg of labelValueProblems(v)) bad('metadata.labels', v, msg);
    }
    let annotationBytes = 0;
    for (const [k, v] of Object.entries((ann as Record<string, string> | undefined) ?? {})) {
      for (const msg of qualifiedNameProblems(k.toLowerCase())) bad('metadata.annotations', k, msg);
      annotationBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    }
    if (annotationBytes > ANNOTATIONS_LIMIT)
      causes.push({
        reason: 'FieldValueTooLong',
        field: 'metadata.annotations',
        message: `Too long: may not be more than ${ANNOTATIONS_LIMIT} bytes`,
      });
    if (causes.length) throw errors.invalid(def.kind, group, name, causes);
    if (m.finalizers !== undefined && (!Array.isArray(m.finalizers) || m.finalizers.some((f) => typeof f !== 'string'))) {
      throw errors.invalid(def.kind, def.group, name, [
        { reason: 'FieldValueTypeInvalid', field: 'metadata.finalizers', message: 'Invalid value: finalizers must be a list of strings' },
      ]);
    }
  }

  /** Prunes unknown fields and applies defaults in place (decode time); returns warnings. */
  private prepareSchema(def: ResourceDef, o: Obj, opts: WriteOptions): string[] {
    const ver = this.storageVersionDef(def);
    const warnings: string[] = [];
    const known = def.builtin ? BUILTIN_FIELDS[def.kind] : undefined;
    if (!known && (!ver.schema || !this.validatingOn)) return warnings;
    // compiled-in kinds decode into Go structs: an unknown top-level field is dropped (or refused)
    const unknown = known ? Object.keys(o).filter((k) => !known.includes(k) && !COMMON_FIELDS.includes(k)) : prune(ver.schema!, o);
    if (known) for (const k of unknown) delete o[k];
    if (unknown.length) {
      const mode = opts.fieldValidation ?? 'Warn';
      if (mode === 'Strict') {
        throw new ApiError(
          400,
          'BadRequest',
          `${def.kind} in version "${String(o.apiVersion).split('/').pop()}" cannot be handled as a ${def.kind}: strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`,
        );
      }
      if (mode === 'Warn') for (const u of unknown) warnings.push(`unknown field "${u}"`);
    }
    if (ver.schema) applyDefaults(ver.schema, o);
    return warnings;
  }

  /** Validates against the structural schema and CEL rules (or a CRD against CRD rules). */
  private validateSchema(def: ResourceDef, o: Obj, old: Obj | undefined): void {
    const name = String(meta(o).name ?? '');
    if (def.kind === 'CustomResourceDefinition' && def.group === 'apiextensions.k8s.io') {
      const causes = validateCrd(o);
      if (causes.length) throw errors.invalid(def.kind, def.group, name, causes);
      return;
    }
    const ver = this.storageVersionDef(def);
    if (!ver.schema || !this.validatingOn) return;
    const causes = validate(ver.schema, o, old);
    if (causes.length) throw errors.invalid(def.kind, def.group, name, causes);
  }

  /** Runs mutating webhooks on `o` (storage version) and returns the result, re-defaulted. */
  private async mutateByWebhooks(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    operation: Operation,
    o: Obj,
    old: Obj | undefined,
    opts: WriteOptions,
    warnings: string[],
  ): Promise<Obj> {
    const r = await this.admission.mutate({
      def,
      version,
      namespace: ns,
      name,
      operation,
      subresource: opts.subresource ?? '',
      dryRun: opts.dryRun === true,
      object: await this.convert(def, o, version),
      oldObject: old ? await this.convert(def, old, version) : undefined,
      convert: (x, v) => this.convert(def, x, v),
    });
    warnings.push(...r.warnings);
    const out = await this.toStorage(def, r.object ?? o);
    // a webhook may not rename or move the object
    meta(out).name = name;
    if (def.namespaced) meta(out).namespace = ns;
    const ver = this.storageVersionDef(def);
    if (ver.schema && this.validatingOn) {
      prune(ver.schema, out);
      applyDefaults(ver.schema, out);
    }
    return out;
  }

  private async validateByWebhooks(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    operation: Operation,
    o: Obj | undefined,
    old: Obj | undefined,
    opts: { dryRun?: boolean; subresource?: string },
    warnings: string[],
  ): Promise<void> {
    warnings.push(
      ...(await this.admission.validate({
        def,
        version,
        namespace: ns,
        name,
        operation,
        subresource: opts.subresource ?? '',
        dryRun: opts.dryRun === true,
        object: o ? await this.convert(def, o, version) : undefined,
        oldObject: old ? await this.convert(def, old, version) : undefined,
        convert: (x, v) => this.convert(def, x, v),
      })),
    );
  }

  /** After awaiting webhooks, the object must still be what the write was computed from. */
  private checkUnchanged(def: ResourceDef, ns: string, name: string, rv: number | undefined): void {
    const now = this.getStored(def, ns, name);
    if (rv === undefined && now) throw errors.alreadyExists(def, name);
    if (rv !== undefined && now?.rv !== rv) throw errors.raced(def, name);
  }

  // namespaces are checked on every namespaced create: their phase is cached per resourceVersion
  private readonly nsPhase = new Map<string, { rv: number; terminating: boolean }>();

  private namespaceTerminating(n: StoredObject): boolean {
    let c = this.nsPhase.get(n.name);
    if (!c || c.rv !== n.rv) {
      c = { rv: n.rv, terminating: (JSON.parse(n.json) as { status?: { phase?: string } }).status?.phase === 'Terminating' };
      this.nsPhase.set(n.name, c);
    }
    return c.terminating;
  }

  private namespaceCheck(def: ResourceDef, ns: string, creating: boolean): void {
    if (!def.namespaced) return;
    const n = this.store.get('core/namespaces', '', ns);
    if (!n) throw errors.notFound({ group: '', plural: 'namespaces' }, ns);
    if (creating && this.namespaceTerminating(n)) {
      throw errors.forbidden(def, '', `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  // ---- writing ----------------------------------------------------------------------------

  private async commit(def: ResourceDef, ns: string, name: string, obj: Obj | null): Promise<StoredObject> {
    try {
      return await this.store.write(def.storeId, def.namespaced ? ns : '', name, obj);
    } catch (e) {
      throw errors.internal((e as Error).message);
    }
  }

  async create(
    def: ResourceDef,
    version: string,
    ns: string,
    body: Obj,
    opts: WriteOptions = {},
    managedOverride?: unknown,
  ): Promise<WriteResult> {
    if (def.virtual) return { obj: this.virtualCreate(def, body), created: true, warnings: [] };
    const o = cloneJson(body);
    const m = meta(o);
    this.checkKind(def, version, o);
    if (def.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== ns) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = ns;
    } else delete m.namespace;
    if ((m.name === undefined || m.name === '') && typeof m.generateName === 'string' && m.generateName) {
      m.name = `${m.generateName}${randomSuffix()}`;
    }
    const ver = this.storageVersionDef(def);
    try {
      this.checkName(def, o);
    } catch (e) {
      // kube-apiserver reports a bad name of a custom resource together with its schema's findings
      if (!(e instanceof ApiError) || e.code !== 422 || def.builtin || !ver.schema || !this.validatingOn) throw e;
      const copy = await this.toStorage(def, o);
      if (ver.statusSubresource) delete copy.status;
      this.prepareSchema(def, copy, { ...opts, fieldValidation: 'Ignore' });
      throw errors.invalid(def.kind, def.group, String(m.name ?? ''), [
        ...(e.details?.causes ?? []),
        ...validate(ver.schema, copy, undefined),
      ]);
    }
    this.namespaceCheck(def, ns, true);
    const name = m.name as string;
    if (this.getStored(def, ns, name)) throw errors.alreadyExists(def, name);
    let stored = await this.toStorage(def, o);
    if (ver.statusSubresource && !def.builtin) delete stored.status;
    const warnings = this.prepareSchema(def, stored, opts);
    this.builtinDefaults(def, stored);
    const webhooks = this.admission.active();
    if (webhooks) stored = await this.mutateByWebhooks(def, version, ns, name, 'CREATE', stored, undefined, opts, warnings);
    this.validateSchema(def, stored, undefined);
    const sm = meta(stored);
    sm.uid = randomUUID();
    sm.creationTimestamp = nowISO();
    if (hasGeneration(def)) sm.generation = 1;
    else delete sm.generation;
    delete sm.deletionTimestamp;
    delete sm.deletionGracePeriodSeconds;
    delete sm.selfLink;
    const now = nowISO();
    sm.managedFields = managedOverride ?? recordUpdate(undefined, stored, this.manager(opts), ver.schema, stored.apiVersion as string, now);
    if (Array.isArray(sm.managedFields) && sm.managedFields.length === 0) delete sm.managedFields;
    if (webhooks) {
      await this.validateByWebhooks(def, version, ns, name, 'CREATE', stored, undefined, opts, warnings);
    }
    if (opts.dryRun) {
      sm.resourceVersion = undefined;
      return { obj: await this.convert(def, stored, version), created: true, warnings };
    }
    // webhooks or conversion may have awaited I/O since the existence check above
    this.checkUnchanged(def, ns, name, undefined);
    stored = await this.persist(def, ns, name, stored);
    return { obj: await this.convert(def, stored, version), created: true, warnings };
  }

  private async persist(def: ResourceDef, ns: string, name: string, obj: Obj): Promise<Obj> {
    meta(obj).resourceVersion = String(this.store.nextRV());
    await this.commit(def, ns, name, obj);
    return obj;
  }

  /**
   * Who a bearer token belongs to (the server's own admin token), for TokenReview and
   * SubjectAccessReview; set by the server that owns the credentials.
   */
  identify: (token: string) => UserInfo | null = () => null;

  private virtualCreate(def: ResourceDef, body: Obj): Obj {
    const spec = (isObj(body.spec) ? body.spec : {}) as Obj;
    const answer = (status: Obj): Obj => ({
      ...body,
      apiVersion: gvString(def.group, 'v1'),
      kind: def.kind,
      metadata: isObj(body.metadata) ? body.metadata : {},
      spec,
      status,
    });
    if (def.kind === 'TokenReview') {
      if (typeof spec.token !== 'string' || spec.token === '') throw errors.badRequest('token is required for TokenReview');
      const user = this.identify(spec.token);
      return answer(user ? { authenticated: true, user, audiences: spec.audiences ?? [] } : { user: {}, error: 'invalid bearer token' });
    }
    // exactly one of the two attribute kinds, as kube-apiserver validates reviews
    if (Boolean(spec.resourceAttributes) === Boolean(spec.nonResourceAttributes)) {
      throw errors.invalid(def.kind, def.group, '', [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.resourceAttributes',
          message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
        },
      ]);
    }
    if (def.kind === 'SubjectAccessReview') {
      const groups = Array.isArray(spec.groups) ? (spec.groups as string[]) : [];
      if (!spec.user && !groups.length)
        throw errors.invalid(def.kind, def.group, '', [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.user',
            message: 'Invalid value: "": at least one of user or group must be specified',
          },
        ]);
      // the embedded server knows one identity, its admin (system:masters): only that group is granted anything
      return groups.includes('system:masters') || spec.user === ADMIN_USER.username
        ? answer({ allowed: true, reason: 'member of system:masters' })
        : answer({ allowed: false });
    }
    // SelfSubjectAccessReview: every authenticated caller here is the admin
    return answer({ allowed: true, reason: "ferrite: the embedded server's only identity is its admin (system:masters)" });
  }

  private checkKind(def: ResourceDef, version: string, o: Obj): void {
    const want = gvString(def.group, version);
    if (o.kind !== undefined && o.kind !== def.kind) {
      // compiled-in kinds fail to decode; custom resources fail validation of `kind`
      if (def.builtin)
        throw errors.badRequest(
          `${String(o.kind)} in version "${version}" cannot be handled as a ${def.kind}: no kind "${String(o.kind)}" is registered for version "${gvString(def.group, version)}" in scheme "pkg/runtime/scheme.go:111"`,
        );
      throw errors.invalid(String(o.kind), def.group, String(meta(o).name ?? ''), [
        { reason: 'FieldValueInvalid', field: 'kind', message: `Invalid value: "${String(o.kind)}": must be ${def.kind}` },
      ]);
    }
    if (o.apiVersion !== undefined && o.apiVersion !== want && !def.versions.some((v) => gvString(def.group, v.name) === o.apiVersion)) {
      throw errors.badRequest(`the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${want})`);
    }
    o.apiVersion = o.apiVersion ?? want;
    o.kind = def.kind;
  }

  private builtinDefaults(def: ResourceDef, o: Obj): void {
    if (!def.builtin) return;
    if (def.kind === 'Namespace' && def.group === '') {
      o.spec = { finalizers: ['kubernetes'], ...(isObj(o.spec) ? o.spec : {}) };
      o.status = { phase: 'Active', ...(isObj(o.status) ? o.status : {}) };
    }
    if (def.kind === 'Secret' && def.group === '') {
      if (o.type === undefined) o.type = 'Opaque';
      if (isObj(o.stringData)) {
        // stringData is write-only: merged into data, base64-encoded, as kube-apiserver does
        const data = isObj(o.data) ? { ...o.data } : {};
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        o.data = data;
        delete o.stringData;
      }
      if (isObj(o.data)) {
        for (const v of Object.values(o.data)) {
          const at = typeof v === 'string' ? base64Problem(v) : 0;
          // a []byte field that is not base64 fails to decode, before any validation
          if (at !== null)
            throw errors.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${at}`);
        }
      }
      checkDataKeys(def, o);
    }
    if (def.kind === 'ConfigMap' && def.group === '') checkDataKeys(def, o);
    if (def.kind === 'Event' && def.group === '') {
      const io = isObj(o.involvedObject) ? o.involvedObject : {};
      const ns = meta(o).namespace;
      if (io.namespace !== undefined && io.namespace !== '' && io.namespace !== ns)
        throw errors.invalid('Event', '', String(meta(o).name), [
          {
            reason: 'FieldValueInvalid',
            field: 'involvedObject.namespace',
            message: `Invalid value: "${String(io.namespace)}": does not match event.namespace`,
          },
        ]);
    }
    if (def.kind === 'Namespace' && def.group === '') {
      // the NamespaceDefaultLabelName admission: every namespace carries its own name as a label
      const m = meta(o);
      m.labels = { ...(isObj(m.labels) ? m.labels : {}), [NAMESPACE_NAME_LABEL]: String(m.name) };
    }
    if (def.kind === 'CustomResourceDefinition') o.status = crdStatus(o, nowISO());
  }

  private manager(opts: WriteOptions): string {
    return opts.fieldManager || 'unknown';
  }

  /** PUT semantics: full replacement with optimistic concurrency. */
  async update(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    body: Obj,
    opts: WriteOptions = {},
    requireRV = !def.builtin,
  ): Promise<WriteResult> {
    const cur = this.getStored(def, ns, name);
    if (!cur) throw errors.notFound(def, name);
    const o = cloneJson(body);
    this.checkKind(def, version, o);
    const m = meta(o);
    if (m.name !== undefined && m.name !== name)
      throw errors.badRequest(`the name of the object (${String(m.name)}) does not match the name on the URL (${name})`);
    m.name = name;
    if (def.namespaced) m.namespace = ns;
    const rv = m.resourceVersion;
    if (rv === undefined || rv === '') {
      if (requireRV) {
        // kube-apiserver names the resource (plural) here, not the kind
        throw errors.invalid(def.plural, def.group, name, [
          {
            reason: 'FieldValueInvalid',
            field: 'metadata.resourceVersion',
            message: 'Invalid value: 0: must be specified for an update',
          },
        ]);
      }
    } else if (String(rv) !== String(cur.rv)) throw errors.staleResourceVersion(def, name);
    return this.writeUpdate(def, version, ns, name, JSON.parse(cur.json), await this.toStorage(def, o), opts);
  }

  private async writeUpdate(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    old: Obj,
    incoming: Obj,
    opts: WriteOptions,
    managedOverride?: unknown,
  ): Promise<WriteResult> {
    const ver = this.storageVersionDef(def);
    const sub = opts.subresource ?? '';
    let next: Obj;
    if (sub === 'status') {
      // a status write changes status only (customresource statusStrategy)
      next = cloneJson(old);
      if (incoming.status === undefined) delete next.status;
      else next.status = incoming.status;
    } else {
      next = incoming;
      if (ver.statusSubresource && !(def.builtin && def.kind === 'CustomResourceDefinition')) {
        if (old.status === undefined) delete next.status;
        else next.status = old.status;
      }
      const nm = meta(next);
      const om = old.metadata as Obj;
      // identity and server-owned metadata cannot be changed by a client
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation']) {
        if (om[k] === undefined) delete nm[k];
        else nm[k] = om[k];
      }
      if (def.kind === 'CustomResourceDefinition' && def.builtin) next.status = crdStatus({ ...next, status: old.status }, nowISO());
    }
    const warnings = this.prepareSchema(def, next, opts);
    if (def.builtin && ['Secret', 'ConfigMap', 'Namespace'].includes(def.kind)) this.builtinDefaults(def, next);
    const webhooks = this.admission.active();
    if (webhooks) next = await this.mutateByWebhooks(def, version, ns, name, 'UPDATE', next, old, opts, warnings);
    this.validateSchema(def, next, old);
    const nm = meta(next);
    const om = old.metadata as Obj;
    if (hasGeneration(def) && specPart(next, ver.statusSubresource) !== specPart(old, ver.statusSubresource)) {
      nm.generation = Number(om.generation ?? 1) + 1;
    }
    // a deleting object cannot gain new finalizers
    if (om.deletionTimestamp) {
      const oldF = (om.finalizers as string[] | undefined) ?? [];
      const added = ((nm.finalizers as string[] | undefined) ?? []).filter((f) => !oldF.includes(f));
      if (added.length) {
        throw errors.invalid(def.kind, def.group, name, [
          {
            reason: 'FieldValueForbidden',
            field: 'metadata.finalizers',
            message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`,
          },
        ]);
      }
    }
    const now = nowISO();
    nm.managedFields =
      managedOverride ?? recordUpdate(old, next, this.manager(opts), ver.schema, String(next.apiVersion), now, sub || undefined);
    if (Array.isArray(nm.managedFields) && nm.managedFields.length === 0) delete nm.managedFields;
    nm.resourceVersion = om.resourceVersion;
    if (withoutVolatile(next) === withoutVolatile(old)) {
      // a no-op write keeps the resourceVersion and emits no event, as etcd3's store does
      return { obj: await this.convert(def, old, version), warnings };
    }
    if (webhooks) {
      await this.validateByWebhooks(def, version, ns, name, 'UPDATE', next, old, opts, warnings);
    }
    if (opts.dryRun) return { obj: await this.convert(def, next, version), warnings };
    // webhooks or conversion may have awaited I/O since `old` was read: it must still be current
    this.checkUnchanged(def, ns, name, Number(om.resourceVersion));
    if (om.deletionTimestamp && ((nm.finalizers as string[] | undefined) ?? []).length === 0) {
      // the last finalizer is gone: the deferred delete completes now
      await this.commit(def, ns, name, null);
      return { obj: await this.convert(def, next, version), warnings };
    }
    const stored = await this.persist(def, ns, name, next);
    return { obj: await this.convert(def, stored, version), warnings };
  }

  /**
   * A patch is recomputed against the fresh object when a concurrent write lands while it awaits
   * webhooks, as the apiserver's GuaranteedUpdate does; only a resourceVersion in the patch itself
   * makes it a precondition that fails with 409.
   */
  async patch(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.patchOnce(def, version, ns, name, type, patch, opts);
      } catch (e) {
        if (!(e instanceof RacedWriteError) || attempt >= PATCH_ATTEMPTS) throw e;
      }
    }
  }

  private async patchOnce(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions,
  ): Promise<WriteResult> {
    const cur = this.getStored(def, ns, name);
    if (type === 'apply') {
      if (!isObj(patch)) throw errors.badRequest('apply patch must be an object');
      if (!opts.fieldManager) throw errors.badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
      this.checkKind(def, version, patch);
      const pm = meta(patch);
      if (pm.name !== undefined && pm.name !== name)
        throw errors.badRequest(`the name of the object (${String(pm.name)}) does not match the name on the URL (${name})`);
      const ver = this.storageVersionDef(def);
      const live = cur ? await this.convert(def, JSON.parse(cur.json), version) : undefined;
      const now = nowISO();
      const merged = ssaApply({
        live,
        applied: patch,
        manager: opts.fieldManager,
        force: opts.force === true,
        schema: ver.schema,
        apiVersion: gvString(def.group, version),
        now,
        subresource: opts.subresource || undefined,
      });
      const managed = (merged.metadata as Obj).managedFields;
      if (!cur) {
        const mm = meta(merged);
        mm.name = name;
        return this.create(def, version, ns, merged, opts, managed);
      }
      return this.writeUpdate(def, version, ns, name, JSON.parse(cur.json), await this.toStorage(def, merged), opts, managed);
    }
    if (!cur) throw errors.notFound(def, name);
    const current = await this.convert(def, JSON.parse(cur.json), version);
    let next: Obj;
    if (type === 'merge') {
      if (!isObj(patch)) throw errors.badRequest('merge patch must be a JSON object');
      next = mergePatch(current, patch) as Obj;
    } else if (type === 'strategic') {
      if (!def.strategicMerge) {
        throw errors.unsupportedPatchType(['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
      }
      if (!isObj(patch)) throw errors.badRequest('strategic merge patch must be a JSON object');
      next = strategicMergePatch(current, patch) as Obj;
    } else {
      next = jsonPatch(current, patch);
    }
    if (!isObj(next)) throw errors.badRequest('the patch produced a non-object');
    const nm = meta(next);
    // a patch that carries metadata.resourceVersion is an optimistic-lock precondition
    if (nm.resourceVersion !== undefined && String(nm.resourceVersion) !== String(cur.rv)) {
      throw errors.staleResourceVersion(def, name);
    }
    if (nm.name !== name) throw errors.badRequest('metadata.name cannot be changed by a patch');
    return this.writeUpdate(def, version, ns, name, JSON.parse(cur.json), await this.toStorage(def, next), opts);
  }

  async delete(
    def: ResourceDef,
    version: string,
    ns: string,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<{ obj: Obj; deleted: boolean }> {
    const cur = this.getStored(def, ns, name);
    if (!cur) throw errors.notFound(def, name);
    const obj = JSON.parse(cur.json) as Obj;
    const m = meta(obj);
    if (opts.preconditions?.uid && opts.preconditions.uid !== m.uid) {
      throw errors.conflict(
        def,
        name,
        `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${String(m.uid)}`,
      );
    }
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== m.resourceVersion) {
      throw errors.conflict(
        def,
        name,
        `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${String(m.resourceVersion)}`,
      );
    }
    const finalizers = [...((m.finalizers as string[] | undefined) ?? [])];
    const policy = opts.propagationPolicy;
    if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
    if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
    const isNamespace = def.builtin && def.kind === 'Namespace' && def.group === '';
    // NamespaceLifecycle admission: the namespaces the system itself lives in are never deleted
    if (isNamespace && IMMORTAL_NAMESPACES.has(name)) throw errors.forbidden(def, name, 'this namespace may not be deleted');
    if (this.admission.active()) {
      await this.validateByWebhooks(def, version, ns, name, 'DELETE', undefined, obj, opts, []);
      if (!opts.dryRun) this.checkUnchanged(def, ns, name, cur.rv);
    }
    if (finalizers.length === 0 && !isNamespace) {
      if (!opts.dryRun) await this.commit(def, ns, name, null);
      return { obj: await this.convert(def, obj, version), deleted: true };
    }
    // deferred delete: mark it; the finalizers' owners (or the GC / namespace controller) finish it
    if (m.deletionTimestamp && JSON.stringify(finalizers) === JSON.stringify(m.finalizers ?? [])) {
      return { obj: await this.convert(def, obj, version), deleted: false };
    }
    m.deletionTimestamp = m.deletionTimestamp ?? nowISO();
    m.deletionGracePeriodSeconds = 0;
    m.finalizers = finalizers;
    if (hasGeneration(def)) m.generation = Number(m.generation ?? 1) + 1;
    if (isNamespace) obj.status = { ...(isObj(obj.status) ? obj.status : {}), phase: 'Terminating' };
    if (opts.dryRun) return { obj: await this.convert(def, obj, version), deleted: false };
    const stored = await this.persist(def, ns, name, obj);
    return { obj: await this.convert(def, stored, version), deleted: false };
  }

  /** Removes one finalizer (used by the GC and namespace controller); deletes when none remain. */
  async removeFinalizer(def: ResourceDef, ns: string, name: string, finalizer: string, specFinalizer = false): Promise<void> {
    const cur = this.getStored(def, ns, name);
    if (!cur) return;
    const obj = JSON.parse(cur.json) as Obj;
    const m = meta(obj);
    if (specFinalizer) {
      const spec = isObj(obj.spec) ? obj.spec : {};
      spec.finalizers = ((spec.finalizers as string[] | undefined) ?? []).filter((f) => f !== finalizer);
      obj.spec = spec;
      if ((spec.finalizers as string[]).length === 0 && ((m.finalizers as string[] | undefined) ?? []).length === 0) {
        await this.commit(def, ns, name, null);
        return;
      }
    } else {
      const f = ((m.finalizers as string[] | undefined) ?? []).filter((x) => x !== finalizer);
      m.finalizers = f;
      const specF = ((obj.spec as Obj | undefined)?.finalizers as string[] | undefined) ?? [];
      if (f.length === 0 && m.deletionTimestamp && (def.kind !== 'Namespace' || specF.length === 0)) {
        await this.commit(def, ns, name, null);
        return;
      }
    }
    await this.persist(def, ns, name, obj);
  }

  /** Writes an object as the server itself (GC removing owner references, namespace phase). */
  async systemWrite(def: ResourceDef, ns: string, name: string, mutate: (o: Obj) => void): Promise<void> {
    const cur = this.getStored(def, ns, name);
    if (!cur) return;
    const obj = JSON.parse(cur.json) as Obj;
    mutate(obj);
    await this.persist(def, ns, name, obj);
  }

  /** Ensures the namespaces every Kubernetes cluster has. */
  async bootstrap(): Promise<void> {
    const nsDef = this.registry.get('', 'namespaces') as ResourceDef;
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      if (!this.getStored(nsDef, '', name)) {
        await this.create(
          nsDef,
          'v1',
          '',
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
          { fieldManager: 'ferrite-apiserver' },
        );
      }
    }
  }
}
