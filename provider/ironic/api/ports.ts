// /v1/ports: create, list (by address or node, fields, detail, pagination), show, patch, delete.
import type { Express } from 'express';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { cloneJson } from '../../../lib/clone.js';
import { describe, IronicError } from '../errors.js';
import { newPort, normalizeMac, now, type Port, UUID_RE } from '../model.js';
import { PORT_FIELD_VERSIONS, V } from './microversion.js';
import { PORT_API_FIELDS, PORT_LIST_FIELDS, parseFields, renderPort } from './render.js';
import { type Ctx, h, minorOf } from './server.js';

const PATCHABLE = new Set([
  'address',
  'node_uuid',
  'extra',
  'local_link_connection',
  'pxe_enabled',
  'physical_network',
  'portgroup_uuid',
  'is_smartnic',
  'name',
  'description',
  'vendor',
  'category',
]);
/** creation also takes the UUID, and the node by name (1.94) */
const CREATE = new Set([...PATCHABLE, 'node', 'uuid']);

export function portRoutes(app: Express, ctx: Ctx): void {
  const c = ctx.conductor;
  const store = c.store;

  const findPort = (ident: string): Port => {
    const p = UUID_RE.test(ident) ? store.port(ident.toLowerCase()) : [...store.allPorts()].find((x) => x.name === ident);
    if (!p) throw new IronicError('PortNotFound', `Port ${ident} could not be found.`);
    return p;
  };

  const list = (detailPath: boolean) =>
    h((req, res) => {
      const minor = minorOf(req);
      const q = req.query as Record<string, string | undefined>;
      const fields = parseFields(q.fields, PORT_API_FIELDS, minor, PORT_FIELD_VERSIONS);
      const detail = detailPath || q.detail === 'true' || q.detail === 'True';
      let ports: Port[];
      if (q.address !== undefined) {
        const mac = normalizeMac(q.address);
        if (!mac) throw new IronicError('Invalid', `Expected a MAC address but received ${q.address}.`);
        const p = store.portByAddress(mac);
        ports = p ? [p] : [];
      } else ports = [...store.allPorts()];
      const nodeIdent = q.node_uuid ?? q.node;
      if (nodeIdent !== undefined) {
        const n = c.find(nodeIdent);
        ports = ports.filter((p) => p.node_uuid === n.uuid);
      }
      ports.sort((a, b) => (a.created_at + a.uuid < b.created_at + b.uuid ? -1 : 1));
      if (q.marker) {
        const i = ports.findIndex((p) => p.uuid === q.marker);
        if (i < 0) throw new IronicError('PortNotFound', `Port ${q.marker} could not be found.`);
        ports = ports.slice(i + 1);
      }
      const limit = q.limit ? Math.min(Number(q.limit) || 1000, 1000) : 1000;
      const page = ports.slice(0, limit);
      const body: Record<string, unknown> = {
        ports: page.map((p) => renderPort(p, minor, ctx.base(req), detail ? null : (fields ?? [...PORT_LIST_FIELDS, 'links']))),
      };
      if (ports.length > limit) body.next = `${ctx.base(req)}/v1/ports?limit=${limit}&marker=${page[page.length - 1].uuid}`;
      res.json(body);
    });
  app.get('/v1/ports', list(false));
  app.get('/v1/ports/detail', list(true));

  app.get(
    '/v1/ports/:ident',
    h((req, res) => {
      const minor = minorOf(req);
      const fields = parseFields((req.query as Record<string, string>).fields, PORT_API_FIELDS, minor, PORT_FIELD_VERSIONS);
      res.json(renderPort(findPort(String(req.params.ident)), minor, ctx.base(req), fields));
    }),
  );

  const check = (p: Record<string, unknown>, minor: number) => {
    for (const [k, v] of Object.entries(p))
      if ((PORT_FIELD_VERSIONS[k] ?? 1) > minor && v !== undefined && k !== 'node')
        throw new IronicError('NotAcceptable', `The field "${k}" needs API version 1.${PORT_FIELD_VERSIONS[k]}`);
    const mac = typeof p.address === 'string' ? normalizeMac(p.address) : null;
    if (!mac) throw new IronicError('Invalid', `Expected a MAC address but received ${String(p.address)}.`);
    p.address = mac;
    if (p.pxe_enabled !== undefined && typeof p.pxe_enabled !== 'boolean')
      throw new IronicError('Invalid', 'pxe_enabled must be a boolean');
    for (const k of ['extra', 'local_link_connection'])
      if (p[k] !== undefined && (typeof p[k] !== 'object' || p[k] === null || Array.isArray(p[k])))
        throw new IronicError('Invalid', `${k} must be an object`);
  };

  app.post(
    '/v1/ports',
    h((req, res) => {
      const minor = minorOf(req);
      const b = req.body as Record<string, unknown>;
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw new IronicError('Invalid', 'The request body must be a JSON object');
      for (const k of Object.keys(b))
        if (!CREATE.has(k)) throw new IronicError('Invalid', `Additional properties are not allowed ('${k}' was unexpected)`);
      if (b.node !== undefined && minor < V.portNodeName)
        throw new IronicError('NotAcceptable', 'Creating a port by node name needs API version 1.94');
      const nodeIdent = b.node_uuid ?? b.node;
      if (typeof nodeIdent !== 'string') throw new IronicError('Invalid', "'node_uuid' is a required property");
      const node = c.find(nodeIdent);
      check(b, minor);
      if (b.uuid !== undefined && (typeof b.uuid !== 'string' || !UUID_RE.test(b.uuid)))
        throw new IronicError('Invalid', `Expected a UUID but received ${String(b.uuid)}.`);
      if (typeof b.uuid === 'string' && store.port(b.uuid.toLowerCase()))
        throw new IronicError('Conflict', `A port with UUID ${b.uuid} already exists.`);
      const { node: _n, ...rest } = b;
      const saved = store.putPort(
        newPort({
          ...(rest as Partial<Port>),
          address: b.address as string,
          node_uuid: node.uuid,
          ...(typeof b.uuid === 'string' ? { uuid: b.uuid.toLowerCase() } : {}),
        }),
      );
      res.status(201).setHeader('Location', `${ctx.base(req)}/v1/ports/${saved.uuid}`);
      res.json(renderPort(saved, minor, ctx.base(req), null));
    }),
  );

  app.patch(
    '/v1/ports/:ident',
    h((req, res) => {
      const minor = minorOf(req);
      const ops = req.body as Operation[];
      if (!Array.isArray(ops) || ops.length === 0) throw new IronicError('Invalid', 'The request body must be a non-empty JSON patch list');
      const cur = findPort(String(req.params.ident));
      for (const op of ops) {
        const top = typeof op?.path === 'string' ? (op.path.split('/')[1] ?? '') : '';
        if (!PATCHABLE.has(top)) throw new IronicError('Invalid', `'/${top}' can not be updated`);
      }
      const node = store.node(cur.node_uuid);
      if (node?.reservation)
        throw new IronicError(
          'NodeLocked',
          `Node ${node.uuid} is locked by host ${node.reservation}, please retry after the current operation is completed.`,
        );
      let next: Record<string, unknown>;
      try {
        next = jsonpatch.applyPatch(cloneJson(cur) as unknown as Record<string, unknown>, ops, true, false).newDocument;
      } catch (e) {
        throw new IronicError('Invalid', `Invalid patch: ${describe(e).split('\n')[0]}`);
      }
      check(next, minor);
      if (next.node_uuid !== cur.node_uuid) next.node_uuid = c.find(String(next.node_uuid)).uuid;
      next.updated_at = now();
      res.json(renderPort(store.putPort(next as unknown as Port), minor, ctx.base(req), null));
    }),
  );

  app.delete(
    '/v1/ports/:ident',
    h((req, res) => {
      const p = findPort(String(req.params.ident));
      const node = store.node(p.node_uuid);
      if (node?.reservation)
        throw new IronicError(
          'NodeLocked',
          `Node ${node.uuid} is locked by host ${node.reservation}, please retry after the current operation is completed.`,
        );
      store.deletePort(p.uuid);
      res.status(204).end();
    }),
  );
}
