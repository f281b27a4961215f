// The parts of kube-controller-manager an API server without one must do itself: the garbage
// collector (ownerReferences: background, foreground, orphan) and the namespace controller
// (deleting a namespace deletes everything in it). Both are level-based: they also run a full
// pass at start, so a server killed mid-cascade finishes the cascade after restart.
import type { ApiCore, Obj } from './core.js';
import { isPrimary, type ResourceDef } from './registry.js';
import type { StoredObject, StoreEvent } from './store.js';

function metadataOf(o: StoredObject): Obj {
  return (JSON.parse(o.json) as Obj).metadata as Obj;
}

interface Ref {
  resource: string;
  ns: string;
  name: string;
}

export class GarbageCollector {
  private readonly owners = new Map<string, Set<string>>(); // owner uid -> dependent keys
  private readonly uids = new Map<string, Ref>(); // uid -> object location
  // what each object was indexed under, so an update or delete unindexes without re-parsing
  private readonly indexed = new Map<string, { uid: string; ownerUids: string[] }>();
  private readonly queue = new Set<string>(); // work items
  private running = false;
  private stopped = false;
  private unsubscribe?: () => void;
  private idleWaiters: Array<() => void> = [];
  private readonly failures = new Map<string, number>();

  constructor(private readonly core: ApiCore) {}

  start(): void {
    for (const r of this.core.store.resources()) {
      for (const o of this.core.store.list(r)) {
        const m = metadataOf(o);
        this.index(o, m);
        // level-based pass: objects left mid-deletion by a previous run get finished
        if (m.deletionTimestamp) this.queue.add(`obj:${String(m.uid)}`);
      }
    }
    this.unsubscribe = this.core.store.subscribe(undefined, (ev, value) => this.onEvent(ev, value));
    for (const ownerUid of this.owners.keys()) if (!this.uids.has(ownerUid)) this.queue.add(`gone:${ownerUid}`);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
  }

  /** Resolves once the collector has nothing left to do (tests and shutdown use it). */
  idle(): Promise<void> {
    if (!this.running && this.queue.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private key(o: { resource: string; ns: string; name: string }): string {
    return `${o.resource}|${o.ns}|${o.name}`;
  }

  private index(o: StoredObject, m: Obj): void {
    const k = this.key(o);
    this.unindex(k);
    const uid = String(m.uid);
    const ownerUids = ((m.ownerReferences as Obj[] | undefined) ?? []).map((r) => String(r.uid));
    this.uids.set(uid, { resource: o.resource, ns: o.ns, name: o.name });
    this.indexed.set(k, { uid, ownerUids });
    for (const ou of ownerUids) {
      let s = this.owners.get(ou);
      if (!s) {
        s = new Set();
        this.owners.set(ou, s);
      }
      s.add(k);
    }
  }

  private unindex(k: string): void {
    const prev = this.indexed.get(k);
    if (!prev) return;
    this.indexed.delete(k);
    for (const ou of prev.ownerUids) this.owners.get(ou)?.delete(k);
  }

  private onEvent(ev: StoreEvent, obj: Obj): void {
    const m = obj.metadata as Obj;
    const uid = String(m.uid);
    if (ev.type === 'DELETED') {
      if (ev.obj.resource === 'apiextensions.k8s.io/customresourcedefinitions') {
        const spec = obj.spec as { group: string; names: { plural: string } };
        this.queue.add(`crd:${spec.group}/${spec.names.plural}`);
      }
      this.unindex(this.key(ev.obj));
      this.uids.delete(uid);
      if (this.owners.get(uid)?.size) this.queue.add(`gone:${uid}`);
      // an owner waiting in foreground deletion may now be free to go
      for (const ref of (m.ownerReferences as Obj[] | undefined) ?? []) {
        if (this.uids.has(String(ref.uid))) this.queue.add(`obj:${String(ref.uid)}`);
      }
      if (ev.obj.resource !== 'core/namespaces') {
        const nsUid = this.uidOfNamespace(ev.obj.ns);
        if (nsUid) this.queue.add(`obj:${nsUid}`);
      }
    } else {
      this.index(ev.obj, m);
      if (m.deletionTimestamp) this.queue.add(`obj:${uid}`);
      // level-based: a dependent whose owner is already gone (its collection failed, or it was
      // written with a stale owner) is collected on its next write, not left behind
      for (const ou of this.indexed.get(this.key(ev.obj))?.ownerUids ?? []) if (!this.uids.has(ou)) this.queue.add(`gone:${ou}`);
    }
    if (this.queue.size > 0) this.kick();
  }

  private uidOfNamespace(ns: string): string | undefined {
    if (!ns) return undefined;
    const n = this.core.store.get('core/namespaces', '', ns);
    if (!n) return undefined;
    const m = metadataOf(n);
    return m.deletionTimestamp ? String(m.uid) : undefined;
  }

  private retryLater(item: string): void {
    const n = (this.failures.get(item) ?? 0) + 1;
    if (n > 20) {
      this.failures.delete(item);
      return;
    }
    this.failures.set(item, n);
    const t = setTimeout(
      () => {
        if (this.stopped) return;
        this.queue.add(item);
        this.kick();
      },
      Math.min(100 * 2 ** n, 5000),
    );
    t.unref();
  }

  private kick(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const item = this.queue.values().next().value as string;
        this.queue.delete(item);
        try {
          if (item.startsWith('gone:')) await this.ownerGone(item.slice(5));
          else if (item.startsWith('crd:')) await this.purge(item.slice(4));
          else await this.process(item.slice(4));
          this.failures.delete(item);
        } catch {
          // a conflict with a concurrent writer: tried again shortly (an owner's deletion sends no
          // second event, so waiting for one could leave its dependents behind for good)
          this.retryLater(item);
        }
      }
    } finally {
      this.running = false;
      if (this.queue.size > 0 && !this.stopped) this.kick();
      else for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private dependents(uid: string): Array<{ def: ResourceDef; ref: Ref; obj: Obj }> {
    const out: Array<{ def: ResourceDef; ref: Ref; obj: Obj }> = [];
    for (const k of this.owners.get(uid) ?? []) {
      const [resource, ns, name] = k.split('|');
      const def = this.core.registry.primary(resource);
      const s = this.core.store.get(resource, ns, name);
      if (def && s) out.push({ def, ref: { resource, ns, name }, obj: JSON.parse(s.json) });
    }
    return out;
  }

  /** The owner no longer exists: dependents whose every owner is gone are deleted (background). */
  private async ownerGone(uid: string): Promise<void> {
    if (this.uids.has(uid)) return;
    for (const d of this.dependents(uid)) {
      const refs = ((d.obj.metadata as Obj).ownerReferences as Obj[] | undefined) ?? [];
      const remaining = refs.filter((r) => r.uid !== uid && this.uids.has(String(r.uid)));
      if (remaining.length > 0) {
        // still owned by someone else: just drop the dangling reference
        await this.core.systemWrite(d.def, d.ref.ns, d.ref.name, (o) => {
          (o.metadata as Obj).ownerReferences = refs.filter((r) => r.uid !== uid);
        });
        continue;
      }
      if (!(d.obj.metadata as Obj).deletionTimestamp) {
        await this.core.delete(d.def, this.version(d.def), d.ref.ns, d.ref.name, { propagationPolicy: 'Background' });
      }
    }
  }

  private version(def: ResourceDef): string {
    return (def.versions.find((v) => v.storage) ?? def.versions[0]).name;
  }

  private async process(uid: string): Promise<void> {
    const ref = this.uids.get(uid);
    if (!ref) return;
    const def = this.core.registry.primary(ref.resource);
    const s = this.core.store.get(ref.resource, ref.ns, ref.name);
    if (!def || !s) return;
    const obj = JSON.parse(s.json) as Obj;
    const m = obj.metadata as Obj;
    if (!m.deletionTimestamp) return;
    const finalizers = (m.finalizers as string[] | undefined) ?? [];
    if (finalizers.includes('orphan')) {
      for (const d of this.dependents(uid)) {
        await this.core.systemWrite(d.def, d.ref.ns, d.ref.name, (o) => {
          const om = o.metadata as Obj;
          om.ownerReferences = ((om.ownerReferences as Obj[] | undefined) ?? []).filter((r) => r.uid !== uid);
          if ((om.ownerReferences as Obj[]).length === 0) delete om.ownerReferences;
        });
      }
      await this.core.removeFinalizer(def, ref.ns, ref.name, 'orphan');
      return;
    }
    if (finalizers.includes('foregroundDeletion')) {
      const deps = this.dependents(uid);
      for (const d of deps) {
        if (!(d.obj.metadata as Obj).deletionTimestamp) {
          await this.core.delete(d.def, this.version(d.def), d.ref.ns, d.ref.name, { propagationPolicy: 'Foreground' });
        }
      }
      const blocking = this.dependents(uid).filter((d) =>
        (((d.obj.metadata as Obj).ownerReferences as Obj[] | undefined) ?? []).some((r) => r.uid === uid && r.blockOwnerDeletion === true),
      );
      if (blocking.length === 0) await this.core.removeFinalizer(def, ref.ns, ref.name, 'foregroundDeletion');
      return;
    }
    if (def.builtin && def.kind === 'Namespace' && def.group === '') await this.finalizeNamespace(ref.name);
  }

  /** A CRD was deleted: its custom resources go with it. */
  private async purge(storeId: string): Promise<void> {
    if (this.core.registry.byStoreId(storeId).length > 0) return; // re-created meanwhile
    for (const o of this.core.store.list(storeId)) await this.core.store.write(storeId, o.ns, o.name, null);
  }

  private async finalizeNamespace(ns: string): Promise<void> {
    let remaining = 0;
    for (const d of this.core.registry.all()) {
      if (!d.namespaced || d.virtual) continue;
      if (!isPrimary(d)) continue; // alias groups share another resource's storage
      for (const o of this.core.store.list(d.storeId, ns)) {
        remaining++;
        const m = (JSON.parse(o.json) as Obj).metadata as Obj;
        if (!m.deletionTimestamp) await this.core.delete(d, this.version(d), ns, o.name, { propagationPolicy: 'Background' });
      }
    }
    if (remaining === 0) {
      const nsDef = this.core.registry.get('', 'namespaces') as ResourceDef;
      await this.core.removeFinalizer(nsDef, '', ns, 'kubernetes', true);
    }
  }
}
