// The Ironic store: nodes, ports and node history in SQLite (WAL), mirrored in memory so reads
// and lists never touch disk. Every write is committed before the call returns, so anything the
// API acknowledged survives a kill -9.
import Database from 'better-sqlite3';
import { cloneJson } from '../../lib/clone.js';
import { IronicError } from './errors.js';
import type { HistoryEvent, Node, Port } from './model.js';

export interface IronicStoreOptions {
  /** SQLite file; undefined keeps everything in memory */
  path?: string;
  /** 'full' also survives power loss; 'normal' (WAL) survives a killed process */
  synchronous?: 'full' | 'normal';
}

const HISTORY_PER_NODE = 300;

export class IronicStore {
  private readonly db: Database.Database;
  private readonly nodes = new Map<string, Node>();
  private readonly names = new Map<string, string>();
  private readonly ports = new Map<string, Port>();
  private readonly macs = new Map<string, string>();
  private readonly history = new Map<string, HistoryEvent[]>();
  private readonly stmts;

  constructor(opts: IronicStoreOptions = {}) {
    this.db = new Database(opts.path ?? ':memory:');
    if (opts.path) {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    }
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS nodes (uuid TEXT PRIMARY KEY, data TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS ports (uuid TEXT PRIMARY KEY, node_uuid TEXT NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS history (uuid TEXT PRIMARY KEY, node_uuid TEXT NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS history_node ON history (node_uuid, created_at);
    `);
    this.stmts = {
      putNode: this.db.prepare('INSERT INTO nodes (uuid, data) VALUES (?, ?) ON CONFLICT (uuid) DO UPDATE SET data = excluded.data'),
      delNode: this.db.prepare('DELETE FROM nodes WHERE uuid = ?'),
      putPort: this.db.prepare(
        'INSERT INTO ports (uuid, node_uuid, data) VALUES (?, ?, ?) ON CONFLICT (uuid) DO UPDATE SET node_uuid = excluded.node_uuid, data = excluded.data',
      ),
      delPort: this.db.prepare('DELETE FROM ports WHERE uuid = ?'),
      delNodePorts: this.db.prepare('DELETE FROM ports WHERE node_uuid = ?'),
      putHistory: this.db.prepare('INSERT INTO history (uuid, node_uuid, created_at, data) VALUES (?, ?, ?, ?)'),
      delHistory: this.db.prepare('DELETE FROM history WHERE uuid = ?'),
      delNodeHistory: this.db.prepare('DELETE FROM history WHERE node_uuid = ?'),
    };
    this.load();
  }

  private load(): void {
    for (const r of this.db.prepare('SELECT data FROM nodes').iterate() as Iterable<{ data: string }>) {
      const n = JSON.parse(r.data) as Node;
      this.nodes.set(n.uuid, n);
      if (n.name) this.names.set(n.name, n.uuid);
    }
    for (const r of this.db.prepare('SELECT data FROM ports').iterate() as Iterable<{ data: string }>) {
      const p = JSON.parse(r.data) as Port;
      this.ports.set(p.uuid, p);
      this.macs.set(p.address, p.uuid);
    }
    for (const r of this.db.prepare('SELECT data FROM history ORDER BY created_at').iterate() as Iterable<{ data: string }>) {
      const h = JSON.parse(r.data) as HistoryEvent;
      const list = this.history.get(h.node_uuid) ?? [];
      list.push(h);
      this.history.set(h.node_uuid, list);
    }
  }

  // ---- nodes ----

  node(uuid: string): Node | undefined {
    return this.nodes.get(uuid);
  }

  nodeByName(name: string): Node | undefined {
    const u = this.names.get(name);
    return u ? this.nodes.get(u) : undefined;
  }

  allNodes(): IterableIterator<Node> {
    return this.nodes.values();
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  /** Writes a node (a copy is kept); refuses a name another node holds. */
  putNode(node: Node): Node {
    const prev = this.nodes.get(node.uuid);
    if (node.name) {
      const holder = this.names.get(node.name);
      if (holder && holder !== node.uuid) throw new IronicError('DuplicateName', `A node with name ${node.name} already exists.`);
    }
    const copy = cloneJson(node);
    this.stmts.putNode.run(copy.uuid, JSON.stringify(copy));
    if (prev?.name && prev.name !== copy.name) this.names.delete(prev.name);
    if (copy.name) this.names.set(copy.name, copy.uuid);
    this.nodes.set(copy.uuid, copy);
    return copy;
  }

  deleteNode(uuid: string): void {
    const n = this.nodes.get(uuid);
    if (!n) return;
    this.db.transaction(() => {
      this.stmts.delNodePorts.run(uuid);
      this.stmts.delNodeHistory.run(uuid);
      this.stmts.delNode.run(uuid);
    })();
    for (const p of this.portsOf(uuid)) {
      this.ports.delete(p.uuid);
      this.macs.delete(p.address);
    }
    this.history.delete(uuid);
    if (n.name) this.names.delete(n.name);
    this.nodes.delete(uuid);
  }

  // ---- ports ----

  port(uuid: string): Port | undefined {
    return this.ports.get(uuid);
  }

  portByAddress(mac: string): Port | undefined {
    const u = this.macs.get(mac);
    return u ? this.ports.get(u) : undefined;
  }

  allPorts(): IterableIterator<Port> {
    return this.ports.values();
  }

  portsOf(nodeUuid: string): Port[] {
    return [...this.ports.values()].filter((p) => p.node_uuid === nodeUuid);
  }

  putPort(port: Port): Port {
    const holder = this.macs.get(port.address);
    if (holder && holder !== port.uuid)
      throw new IronicError('MACAlreadyExists', `A port with MAC address ${port.address} already exists.`);
    const prev = this.ports.get(port.uuid);
    const copy = cloneJson(port);
    this.stmts.putPort.run(copy.uuid, copy.node_uuid, JSON.stringify(copy));
    if (prev && prev.address !== copy.address) this.macs.delete(prev.address);
    this.macs.set(copy.address, copy.uuid);
    this.ports.set(copy.uuid, copy);
    return copy;
  }

  deletePort(uuid: string): void {
    const p = this.ports.get(uuid);
    if (!p) return;
    this.stmts.delPort.run(uuid);
    this.macs.delete(p.address);
    this.ports.delete(uuid);
  }

  // ---- history ----

  historyOf(nodeUuid: string): HistoryEvent[] {
    return this.history.get(nodeUuid) ?? [];
  }

  addHistory(h: HistoryEvent): void {
    const list = this.history.get(h.node_uuid) ?? [];
    this.db.transaction(() => {
      this.stmts.putHistory.run(h.uuid, h.node_uuid, h.created_at, JSON.stringify(h));
      // Ironic prunes old history; keep the newest entries per node
      while (list.length >= HISTORY_PER_NODE) {
        const old = list.shift();
        if (old) this.stmts.delHistory.run(old.uuid);
      }
    })();
    list.push(h);
    this.history.set(h.node_uuid, list);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
