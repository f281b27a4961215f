// /v1/nodes: create, list (filters, fields, detail, pagination), show, JSON-patch update, delete,
// and the node sub-resources (states, provision/power/raid, validate, maintenance, boot device,
// ports, inventory, history, BIOS, firmware, virtual media, traits).
import type { Express, Request, Response } from 'express';
import jsonpatch, { type Operation } from 'fast-json-patch';
import { cloneJson } from '../../../lib/clone.js';
import { INTERFACE_KINDS, resolveInterfaces } from '../drivers/interfaces.js';
import { redfishPassthru, VENDOR_METHODS } from '../drivers/redfish-vendor.js';
import { describe, IronicError } from '../errors.js';
import { NAME_RE, type Node, newNode, now, UUID_RE } from '../model.js';
import { STABLE_STATES, UPDATE_ALLOWED_STATES } from '../states.js';
import { NODE_FIELD_VERSIONS, V } from './microversion.js';
import { link, NODE_API_FIELDS, NODE_LIST_FIELDS, parseFields, renderNode, renderPort } from './render.js';
import { type Ctx, h, minorOf, requireMinor } from './server.js';

const MAX_LIMIT = 1000;

const CREATE_FIELDS = new Set([
  'automated_clean',
  'bios_interface',
  'boot_interface',
  'boot_mode',
  'chassis_uuid',
  'conductor_group',
  'console_enabled',
  'console_interface',
  'deploy_interface',
  'description',
  'disable_power_off',
  'driver',
  'driver_info',
  'extra',
  'firmware_interface',
  'inspect_interface',
  'instance_info',
  'instance_name',
  'instance_uuid',
  'lessee',
  'management_interface',
  'maintenance',
  'name',
  'network_data',
  'network_interface',
  'owner',
  'parent_node',
  'power_interface',
  'properties',
  'raid_interface',
  'rescue_interface',
  'resource_class',
  'retired',
  'retired_reason',
  'secure_boot',
  'shard',
  'storage_interface',
  'uuid',
  'vendor_interface',
]);

const PATCH_FIELDS = new Set([...CREATE_FIELDS, 'protected', 'protected_reason', 'maintenance_reason']);
PATCH_FIELDS.delete('uuid');
PATCH_FIELDS.delete('console_enabled');
PATCH_FIELDS.delete('boot_mode');
PATCH_FIELDS.delete('secure_boot');

const OBJECT_FIELDS = new Set(['driver_info', 'extra', 'instance_info', 'properties', 'network_data']);
const BOOL_FIELDS = new Set(['automated_clean', 'maintenance', 'protected', 'retired', 'disable_power_off', 'console_enabled']);

function asBool(name: string, v: unknown): boolean | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(true|false|1|0|yes|no|on|off)$/i.test(v)) return /^(true|1|yes|on)$/i.test(v);
  throw new IronicError('Invalid', `Invalid value for ${name}: "${String(v)}" is not a boolean`);
}

/** Type checks shared by create and patch, with Ironic's wording where it has one. */
function checkField(node: Partial<Node>, key: string, minor: number): void {
  const v = (node as Record<string, unknown>)[key];
  if ((NODE_FIELD_VERSIONS[key] ?? 1) > minor)
    throw new IronicError('NotAcceptable', `The field "${key}" needs API version 1.${NODE_FIELD_VERSIONS[key]} or newer`);
  if (OBJECT_FIELDS.has(key) && v !== null && (typeof v !== 'object' || Array.isArray(v)))
    throw new IronicError('Invalid', `Invalid value for ${key}: must be an object`);
  if (BOOL_FIELDS.has(key)) (node as Record<string, unknown>)[key] = asBool(key, v);
  if (key === 'name' && v !== null && v !== undefined) {
    if (typeof v !== 'string' || !NAME_RE.test(v) || UUID_RE.test(v))
      throw new IronicError('Invalid', `Cannot create node with invalid name '${String(v)}'`);
  }
  if ((key === 'uuid' || key === 'instance_uuid' || key === 'chassis_uuid') && v !== null && v !== undefined)
    if (typeof v !== 'string' || !UUID_RE.test(v))
      throw new IronicError('Invalid', `Expected a UUID for ${key} but received ${String(v)}.`);
  if (key === 'description' && typeof v === 'string' && v.length > 4096)
    throw new IronicError('Invalid', 'Value for description is too long (max 4096 characters)');
  if (key.endsWith('_interface') && v !== null && typeof v !== 'string')
    throw new IronicError('Invalid', `Invalid value for ${key}: must be a string`);
  if (key === 'driver' && (typeof v !== 'string' || !v)) throw new IronicError('Invalid', 'driver must be a non-empty string');
}

function boolQuery(name: string, v: unknown): boolean | undefined {
  if (v === undefined) return undefined;
  const b = asBool(name, v);
  return b ?? undefined;
}

export function nodeRoutes(app: Express, ctx: Ctx): void {
  const c = ctx.conductor;
  const store = c.store;

  const list = (detailPath: boolean) =>
    h((req: Request, res: Response) => {
      const minor = minorOf(req);
      const q = req.query as Record<string, string | undefined>;
      if (detailPath && q.fields) throw new IronicError('Invalid', 'Can not specify ?fields with /detail');
      let detail = detailPath;
      if (q.detail !== undefined) {
        if (minor < V.detailParam) throw new IronicError('NotAcceptable', 'The "detail" parameter needs API version 1.43');
        if (q.fields) throw new IronicError('Invalid', 'Can not specify ?detail=True and fields in the same request.');
        detail = asBool('detail', q.detail) === true;
      }
      const fields = parseFields(q.fields, NODE_API_FIELDS, minor, NODE_FIELD_VERSIONS);
      const limit = q.limit === undefined ? MAX_LIMIT : Number(q.limit);
      if (!Number.isInteger(limit) || limit < 0) throw new IronicError('Invalid', `Limit must be positive: ${q.limit}`);
      const effLimit = limit === 0 ? MAX_LIMIT : Math.min(limit, MAX_LIMIT);
      const sortKey = q.sort_key ?? 'id';
      const sortDir = q.sort_dir ?? 'asc';
      if (sortDir !== 'asc' && sortDir !== 'desc')
        throw new IronicError('Invalid', `Invalid sort direction: ${sortDir}. Acceptable values are 'asc' or 'desc'`);
      if (sortKey !== 'id' && !NODE_API_FIELDS.has(sortKey))
        throw new IronicError('Invalid', `The sort_key value "${sortKey}" is an invalid field for sorting`);
      if (q.provision_state !== undefined && minor < V.provisionStateFilter)
        throw new IronicError('NotAcceptable', 'Filtering by provision_state needs API version 1.9');
      if (q.driver !== undefined && minor < V.driverFilter)
        throw new IronicError('NotAcceptable', 'Filtering by driver needs API version 1.16');
      const maintenance = boolQuery('maintenance', q.maintenance);
      const associated = boolQuery('associated', q.associated);
      const retired = boolQuery('retired', q.retired);
      let nodes = [...store.allNodes()].filter(
        (n) =>
          (q.provision_state === undefined || n.provision_state === q.provision_state) &&
          (q.driver === undefined || n.driver === q.driver) &&
          (maintenance === undefined || n.maintenance === maintenance) &&
          (associated === undefined || Boolean(n.instance_uuid) === associated) &&
          (retired === undefined || n.retired === retired) &&
          (q.instance_uuid === undefined || n.instance_uuid === q.instance_uuid) &&
          (q.resource_class === undefined || n.resource_class === q.resource_class) &&
          (q.fault === undefined || n.fault === q.fault) &&
          (q.conductor_group === undefined || n.conductor_group === q.conductor_group.toLowerCase()) &&
          (q.owner === undefined || n.owner === q.owner) &&
          (q.lessee === undefined || n.lessee === q.lessee) &&
          (q.shard === undefined || q.shard.split(',').includes(n.shard ?? '')) &&
          (q.chassis_uuid === undefined || n.chassis_uuid === q.chassis_uuid) &&
          (q.description_contains === undefined || (n.description ?? '').includes(q.description_contains)),
      );
      // keys computed once per node, not once per comparison
      const keyed = nodes.map((n) => ({
        n,
        k: sortKey === 'id' ? `${n.created_at}|${n.uuid}` : String((n as unknown as Record<string, unknown>)[sortKey] ?? ''),
      }));
      keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
      nodes = keyed.map((x) => x.n);
      if (sortDir === 'desc') nodes.reverse();
      if (q.marker) {
        const i = nodes.findIndex((n) => n.uuid === q.marker);
        if (i < 0) throw new IronicError('NodeNotFound', `Node ${q.marker} could not be found.`);
        nodes = nodes.slice(i + 1);
      }
      const page = nodes.slice(0, effLimit);
      const base = ctx.base(req);
      const shown = detail ? null : (fields ?? NODE_LIST_FIELDS);
      const body: Record<string, unknown> = { nodes: page.map((n) => renderNode(n, minor, base, shown, c.opts.hostname)) };
      if (page.length === effLimit && nodes.length > effLimit) {
        const params = new URLSearchParams();
        for (const [k, v] of Object.entries(q)) if (k !== 'marker' && k !== 'limit' && v !== undefined) params.set(k, String(v));
        params.set('limit', String(effLimit));
        params.set('marker', page[page.length - 1].uuid);
        body.next = `${base}/v1/nodes${detailPath ? '/detail' : ''}?${params}`;
      }
      res.json(body);
    });
  app.get('/v1/nodes', list(false));
  app.get('/v1/nodes/detail', list(true));

  app.post(
    '/v1/nodes',
    h((req, res) => {
      const minor = minorOf(req);
      const body = req.body as Record<string, unknown>;
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw new IronicError('Invalid', 'The request body must be a JSON object');
      for (const k of Object.keys(body))
        if (!CREATE_FIELDS.has(k)) throw new IronicError('Invalid', `Additional properties are not allowed ('${k}' was unexpected)`);
      if (body.driver === undefined) throw new IronicError('Invalid', "'driver' is a required property");
      for (const k of Object.keys(body)) checkField(body as Partial<Node>, k, minor);
      const driver = String(body.driver);
      let ifaces: Record<string, string>;
      try {
        ifaces = resolveInterfaces(driver, body);
      } catch (e) {
        if (e instanceof IronicError && e.reason === 'DriverNotFound')
          throw new IronicError(
            'Invalid',
            `No valid host was found. Reason: No conductor service registered which supports driver ${driver} for conductor group "".`,
          );
        throw e;
      }
      const fields: Partial<Node> & { driver: string } = { driver };
      for (const [k, v] of Object.entries(body))
        if (!k.endsWith('_interface') && v !== undefined) (fields as Record<string, unknown>)[k] = v;
      for (const k of OBJECT_FIELDS) if ((fields as Record<string, unknown>)[k] === null) (fields as Record<string, unknown>)[k] = {};
      if (typeof fields.uuid === 'string') fields.uuid = fields.uuid.toLowerCase();
      if (fields.uuid && store.node(fields.uuid)) throw new IronicError('Conflict', `A node with UUID ${fields.uuid} already exists.`);
      if (fields.instance_uuid && [...store.allNodes()].some((n) => n.instance_uuid === fields.instance_uuid))
        throw new IronicError('Conflict', `Instance ${fields.instance_uuid} is already associated with a node.`);
      if (fields.conductor_group) fields.conductor_group = String(fields.conductor_group).toLowerCase();
      const node = newNode({ ...fields, ...(ifaces as Partial<Node>) });
      // before 1.11 new nodes went straight to available
      if (minor < V.enrollByDefault) node.provision_state = 'available';
      const saved = store.putNode(node);
      res.status(201).setHeader('Location', `${ctx.base(req)}/v1/nodes/${saved.uuid}`);
      res.json(renderNode(saved, minor, ctx.base(req), null, c.opts.hostname));
    }),
  );

  app.get(
    '/v1/nodes/:ident',
    h((req, res) => {
      const minor = minorOf(req);
      const fields = parseFields((req.query as Record<string, string>).fields, NODE_API_FIELDS, minor, NODE_FIELD_VERSIONS);
      res.json(renderNode(c.find(String(req.params.ident)), minor, ctx.base(req), fields, c.opts.hostname));
    }),
  );

  app.patch(
    '/v1/nodes/:ident',
    h((req, res) => {
      const minor = minorOf(req);
      const ops = req.body as Operation[];
      if (!Array.isArray(ops) || ops.length === 0) throw new IronicError('Invalid', 'The request body must be a non-empty JSON patch list');
      const cur = c.find(String(req.params.ident));
      const resetInterfaces = (req.query as Record<string, string>).reset_interfaces;
      if (resetInterfaces !== undefined && minor < 45) throw new IronicError('NotAcceptable', 'reset_interfaces needs API version 1.45');
      const touched = new Set<string>();
      for (const op of ops) {
        if (!op || typeof op !== 'object' || typeof op.path !== 'string' || !['add', 'remove', 'replace'].includes(op.op))
          throw new IronicError('Invalid', `Invalid patch operation ${JSON.stringify(op)}: op must be add, remove or replace with a path`);
        const top = op.path.split('/')[1] ?? '';
        if (
          [
            'uuid',
            'id',
            'provision_state',
            'power_state',
            'reservation',
            'created_at',
            'updated_at',
            'target_provision_state',
            'target_power_state',
            'last_error',
            'driver_internal_info',
          ].includes(top)
        )
          throw new IronicError('Invalid', `'/${top}' is an internal attribute and can not be updated`);
        if (!PATCH_FIELDS.has(top))
          throw new IronicError('Invalid', `Adding a new attribute (/${top}) to the root of the resource is not allowed.`);
        if ((NODE_FIELD_VERSIONS[top] ?? 1) > minor)
          throw new IronicError('NotAcceptable', `The field "${top}" needs API version 1.${NODE_FIELD_VERSIONS[top]}`);
        touched.add(top);
      }
      if (cur.reservation)
        throw new IronicError(
          'NodeLocked',
          `Node ${cur.uuid} is locked by host ${cur.reservation}, please retry after the current operation is completed.`,
        );
      const onlyMaint = [...touched].every((t) =>
        [
          'maintenance',
          'maintenance_reason',
          'description',
          'extra',
          'instance_info',
          'protected',
          'protected_reason',
          'retired',
          'retired_reason',
          'owner',
          'lessee',
        ].includes(t),
      );
      if (
        !STABLE_STATES.includes(cur.provision_state) &&
        !UPDATE_ALLOWED_STATES.includes(cur.provision_state) &&
        !cur.maintenance &&
        !onlyMaint
      )
        throw new IronicError('InvalidState', `Node ${cur.uuid} can not be updated while a state transition is in progress.`);
      const doc = cloneJson(cur) as unknown as Record<string, unknown>;
      let patched: Record<string, unknown>;
      try {
        // Ironic's patches treat add on an existing member as replace
        patched = jsonpatch.applyPatch(
          doc,
          ops.map((o) => (o.op === 'add' ? ({ ...o, op: 'add' } as Operation) : o)),
          true,
          false,
        ).newDocument;
      } catch (e) {
        const msg = describe(e).split('\n')[0];
        throw new IronicError('Invalid', `Invalid patch: ${msg}`);
      }
      for (const k of OBJECT_FIELDS) if (patched[k] === undefined || patched[k] === null) patched[k] = {};
      for (const t of touched) {
        if (patched[t] === undefined)
          patched[t] = t.endsWith('_interface') ? null : t === 'maintenance' || t === 'protected' || t === 'retired' ? false : null;
        checkField(patched as Partial<Node>, t, minor);
      }
      const next = patched as unknown as Node;
      if (touched.has('driver') || [...touched].some((t) => t.endsWith('_interface'))) {
        const req2: Record<string, unknown> = {};
        const reset = touched.has('driver') && resetInterfaces !== 'false';
        for (const k of INTERFACE_KINDS) {
          const key = `${k}_interface`;
          req2[key] = reset && !touched.has(key) ? null : (next as unknown as Record<string, unknown>)[key];
        }
        Object.assign(next, resolveInterfaces(next.driver, req2));
      }
      if (next.instance_uuid && next.instance_uuid !== cur.instance_uuid) {
        if (cur.instance_uuid)
          throw new IronicError('NodeAssociated', `Node ${cur.uuid} is associated with instance ${cur.instance_uuid}.`);
        if ([...store.allNodes()].some((n) => n.instance_uuid === next.instance_uuid && n.uuid !== cur.uuid))
          throw new IronicError('Conflict', `Instance ${next.instance_uuid} is already associated with a node.`);
      }
      if (touched.has('maintenance') && !next.maintenance) {
        next.maintenance_reason = null;
        next.fault = null;
      }
      if (touched.has('protected') && next.protected && !['active', 'rescue'].includes(cur.provision_state))
        throw new IronicError('InvalidState', 'Protected can only be set in ACTIVE state');
      if (touched.has('protected') && !next.protected) next.protected_reason = null;
      next.updated_at = now();
      const saved = store.putNode(next);
      res.json(renderNode(saved, minor, ctx.base(req), null, c.opts.hostname));
    }),
  );

  app.delete(
    '/v1/nodes/:ident',
    h((req, res) => {
      c.destroy(String(req.params.ident));
      res.status(204).end();
    }),
  );

  app.get(
    '/v1/nodes/:ident/states',
    h((req, res) => {
      const minor = minorOf(req);
      const n = c.find(String(req.params.ident));
      const out: Record<string, unknown> = {
        console_enabled: n.console_enabled,
        last_error: n.last_error,
        power_state: n.power_state,
        provision_state: minor < 2 && n.provision_state === 'available' ? null : n.provision_state,
        provision_updated_at: n.provision_updated_at,
        target_power_state: n.target_power_state,
        target_provision_state: n.target_provision_state,
      };
      if (minor >= 12) {
        out.raid_config = n.raid_config;
        out.target_raid_config = n.target_raid_config;
      }
      if (minor >= 75) {
        out.boot_mode = n.boot_mode;
        out.secure_boot = n.secure_boot;
      }
      res.json(out);
    }),
  );

  app.put(
    '/v1/nodes/:ident/states/provision',
    h((req, res) => {
      const minor = minorOf(req);
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (typeof b !== 'object' || Array.isArray(b)) throw new IronicError('Invalid', 'The request body must be a JSON object');
      const target = b.target;
      if (typeof target !== 'string') throw new IronicError('Invalid', "'target' is a required property");
      for (const k of Object.keys(b))
        if (
          ![
            'target',
            'configdrive',
            'clean_steps',
            'deploy_steps',
            'service_steps',
            'rescue_password',
            'disable_ramdisk',
            'runbook',
          ].includes(k)
        )
          throw new IronicError('Invalid', `Additional properties are not allowed ('${k}' was unexpected)`);
      const gate: Record<string, number> = {
        manage: 4,
        inspect: V.inspectStates,
        clean: V.manualClean,
        adopt: V.adopt,
        abort: V.abortCleanWait,
        unhold: V.unhold,
        service: V.service,
        deploy: V.deployVerbs,
        undeploy: V.deployVerbs,
      };
      if (gate[target] && minor < gate[target])
        throw new IronicError('NotAcceptable', `The "${target}" target needs API version 1.${gate[target]}`);
      if (b.configdrive !== undefined && !['active', 'deploy', 'rebuild'].includes(target))
        throw new IronicError(
          'Invalid',
          'Adding a config drive is only supported when setting provision state to active, deploy or rebuild',
        );
      if (b.configdrive && typeof b.configdrive === 'object' && minor < V.configdriveDict)
        throw new IronicError('NotAcceptable', 'A config drive given as an object needs API version 1.56');
      if (b.deploy_steps !== undefined && minor < V.deploySteps)
        throw new IronicError('NotAcceptable', 'deploy_steps needs API version 1.69');
      if (b.clean_steps !== undefined && target !== 'clean')
        throw new IronicError('Invalid', '"clean_steps" is only valid when setting target provision state to clean');
      for (const k of ['clean_steps', 'deploy_steps', 'service_steps'] as const)
        if (b[k] !== undefined && !Array.isArray(b[k])) throw new IronicError('Invalid', `${k} must be a list`);
      c.provision(String(req.params.ident), target, b as never, minor);
      res.status(202).setHeader('Location', `${ctx.base(req)}/v1/nodes/${req.params.ident}/states`);
      res.end();
    }),
  );

  app.put(
    '/v1/nodes/:ident/states/power',
    h((req, res) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (typeof b.target !== 'string') throw new IronicError('Invalid', "'target' is a required property");
      if (b.timeout !== undefined && minorOf(req) < V.softPower) throw new IronicError('NotAcceptable', 'timeout needs API version 1.27');
      c.changePower(String(req.params.ident), b.target, b.timeout === undefined ? undefined : Number(b.timeout), minorOf(req));
      res.status(202).setHeader('Location', `${ctx.base(req)}/v1/nodes/${req.params.ident}/states`);
      res.end();
    }),
  );

  app.put(
    '/v1/nodes/:ident/states/raid',
    h((req, res) => {
      requireMinor(req, V.raid);
      const b = req.body as { logical_disks?: unknown };
      if (!b || !Array.isArray(b.logical_disks)) throw new IronicError('Invalid', 'logical_disks is required and must be a list');
      for (const d of b.logical_disks as Array<Record<string, unknown>>) {
        if (!d || typeof d !== 'object') throw new IronicError('Invalid', 'each logical disk must be an object');
        if (d.size_gb === undefined || d.raid_level === undefined)
          throw new IronicError('Invalid', 'each logical disk needs size_gb and raid_level');
        if (!['0', '1', '2', '5', '6', '1+0', '5+0', '6+0'].includes(String(d.raid_level)))
          throw new IronicError('Invalid', `invalid raid_level ${String(d.raid_level)}`);
      }
      const node = c.acquire(String(req.params.ident));
      node.target_raid_config = b as Record<string, unknown>;
      c.release(node);
      res.status(204).end();
    }),
  );

  app.get(
    '/v1/nodes/:ident/validate',
    h(async (req, res) => {
      const n = cloneJson(c.find(String(req.params.ident)));
      const set = (() => {
        try {
          return c.drivers.forNode(n);
        } catch {
          return null;
        }
      })();
      const r = (fn: () => void, supported = true) => {
        if (!supported) return { result: null, reason: 'not supported' };
        try {
          fn();
          return { result: true };
        } catch (e) {
          return { result: false, reason: describe(e) };
        }
      };
      const none = () => {};
      const deploy = () => {
        if (n.deploy_interface === 'fake') return;
        if (n.deploy_interface === 'ramdisk') {
          if (!n.instance_info.boot_iso)
            throw new IronicError('MissingParameterValue', 'instance_info.boot_iso is required by the ramdisk deploy interface');
          return;
        }
        const missing = [];
        if (!n.instance_info.image_source) missing.push("'instance_info.image_source'");
        if (missing.length)
          throw new IronicError(
            'MissingParameterValue',
            `Node ${n.uuid} failed to validate deploy image info. Some parameters were missing. Missing are: [${missing.join(', ')}]`,
          );
      };
      res.json({
        bios: r(none, n.bios_interface !== 'no-bios'),
        boot: r(() => set?.boot.validate(n)),
        console: r(none, false),
        deploy: r(deploy),
        firmware: r(none, n.firmware_interface !== 'no-firmware'),
        inspect: r(none, n.inspect_interface !== 'no-inspect'),
        management: r(() => set?.management.validate(n)),
        network: r(none),
        power: r(() => set?.power.validate(n)),
        raid: r(none, n.raid_interface !== 'no-raid'),
        rescue: r(none, false),
        storage: r(none),
      });
    }),
  );

  const setMaint = (on: boolean) =>
    h((req, res) => {
      const node = c.acquire(String(req.params.ident));
      node.maintenance = on;
      node.maintenance_reason = on ? (((req.body ?? {}) as { reason?: string }).reason ?? null) : null;
      if (!on) node.fault = null;
      c.release(node);
      res.status(202).end();
    });
  app.put('/v1/nodes/:ident/maintenance', setMaint(true));
  app.delete('/v1/nodes/:ident/maintenance', setMaint(false));

  app.get(
    '/v1/nodes/:ident/management/boot_device',
    h(async (req, res) => {
      const n = c.find(String(req.params.ident));
      res.json(await c.drivers.forNode(n).management.getBootDevice(n));
    }),
  );
  app.get(
    '/v1/nodes/:ident/management/boot_device/supported',
    h((req, res) => {
      const n = c.find(String(req.params.ident));
      res.json({ supported_boot_devices: c.drivers.forNode(n).management.supportedBootDevices(n) });
    }),
  );
  app.put(
    '/v1/nodes/:ident/management/boot_device',
    h(async (req, res) => {
      const b = (req.body ?? {}) as { boot_device?: string; persistent?: unknown };
      if (typeof b.boot_device !== 'string') throw new IronicError('Invalid', "'boot_device' is a required property");
      const persistent = b.persistent === undefined ? false : asBool('persistent', b.persistent) === true;
      await c.withLock(String(req.params.ident), async (n) => {
        const m = c.drivers.forNode(n).management;
        if (!m.supportedBootDevices(n).includes(b.boot_device as never))
          throw new IronicError(
            'InvalidParameterValue',
            `Invalid boot device ${b.boot_device} specified. Supported: ${m.supportedBootDevices(n).join(', ')}`,
          );
        await m.setBootDevice(n, b.boot_device as never, persistent);
      });
      res.status(204).end();
    }),
  );
  app.put(
    '/v1/nodes/:ident/management/inject_nmi',
    h(async (req, res) => {
      requireMinor(req, 29);
      await c.withLock(String(req.params.ident), async (n) => {
        const m = c.drivers.forNode(n).management;
        if (!m.injectNmi) throw new IronicError('UnsupportedDriverExtension', `Driver ${n.driver} does not support inject_nmi`);
        await m.injectNmi(n);
      });
      res.status(204).end();
    }),
  );

  app.get(
    '/v1/nodes/:ident/ports',
    h((req, res) => {
      const minor = minorOf(req);
      const n = c.find(String(req.params.ident));
      const detail = (req.query as Record<string, string>).detail;
      const ports = store.portsOf(n.uuid).map((p) => renderPort(p, minor, ctx.base(req), detail ? null : ['uuid', 'address', 'links']));
      res.json({ ports });
    }),
  );
  app.get(
    '/v1/nodes/:ident/portgroups',
    h((req, res) => {
      c.find(String(req.params.ident));
      res.json({ portgroups: [] });
    }),
  );

  app.get(
    '/v1/nodes/:ident/inventory',
    h((req, res) => {
      requireMinor(req, V.inventory);
      const n = c.find(String(req.params.ident));
      if (!n.inventory) throw new IronicError('NotFound', `Inventory for node ${n.uuid} was not found.`);
      res.json(n.inventory);
    }),
  );

  app.get(
    '/v1/nodes/:ident/history',
    h((req, res) => {
      requireMinor(req, V.history);
      const n = c.find(String(req.params.ident));
      const detail = asBool('detail', (req.query as Record<string, string>).detail ?? false);
      const base = ctx.base(req);
      res.json({
        history: store.historyOf(n.uuid).map((e) => {
          const row: Record<string, unknown> = {
            uuid: e.uuid,
            created_at: e.created_at,
            severity: e.severity,
            event: e.event,
            links: link(base, `nodes/${n.uuid}/history`, e.uuid),
          };
          if (detail) Object.assign(row, { event_type: e.event_type, conductor: e.conductor, user: e.user });
          return row;
        }),
      });
    }),
  );
  app.get(
    '/v1/nodes/:ident/history/:event',
    h((req, res) => {
      requireMinor(req, V.history);
      const n = c.find(String(req.params.ident));
      const e = store.historyOf(n.uuid).find((x) => x.uuid === req.params.event);
      if (!e) throw new IronicError('NotFound', `Node history record ${req.params.event} could not be found.`);
      res.json({ ...e, links: link(ctx.base(req), `nodes/${n.uuid}/history`, e.uuid) });
    }),
  );

  const biosOf = async (n: Node): Promise<Node> => {
    if (n.bios || n.bios_interface !== 'redfish' || n.provision_state === 'enroll') return n;
    // cache BIOS settings on first read, as Ironic caches them at verification/cleaning
    try {
      return await c.withLock(n.uuid, async (locked) => {
        locked.bios = await c.drivers.redfish.biosSettings(locked);
        locked.firmware = await c.drivers.redfish.firmwareComponents(locked, locked.firmware ?? []);
        return locked;
      });
    } catch (e) {
      if (e instanceof IronicError && e.reason === 'NodeLocked') return n;
      throw e;
    }
  };
  app.get(
    '/v1/nodes/:ident/bios',
    h(async (req, res) => {
      requireMinor(req, 40);
      const n = await biosOf(c.find(String(req.params.ident)));
      const detail = asBool('detail', (req.query as Record<string, string>).detail ?? false);
      const base = ctx.base(req);
      res.json({
        bios: (n.bios ?? []).map((s) => {
          const row: Record<string, unknown> = { name: s.name, value: s.value, links: link(base, `nodes/${n.uuid}/bios`, s.name) };
          if (detail)
            Object.assign(row, {
              created_at: s.created_at,
              updated_at: s.updated_at,
              attribute_type: s.attribute_type ?? null,
              allowable_values: s.allowable_values ?? null,
              lower_bound: s.lower_bound ?? null,
              upper_bound: s.upper_bound ?? null,
              min_length: s.min_length ?? null,
              max_length: s.max_length ?? null,
              read_only: s.read_only ?? null,
              reset_required: s.reset_required ?? null,
              unique: s.unique ?? null,
            });
          return row;
        }),
      });
    }),
  );
  app.get(
    '/v1/nodes/:ident/bios/:setting',
    h(async (req, res) => {
      requireMinor(req, 40);
      const n = await biosOf(c.find(String(req.params.ident)));
      const s = (n.bios ?? []).find((x) => x.name === req.params.setting);
      if (!s) throw new IronicError('NotFound', `The BIOS setting ${req.params.setting} for node ${n.uuid} could not be found.`);
      res.json({ [s.name]: { ...s, links: link(ctx.base(req), `nodes/${n.uuid}/bios`, s.name) } });
    }),
  );
  app.get(
    '/v1/nodes/:ident/firmware',
    h(async (req, res) => {
      requireMinor(req, V.firmware);
      const n = await biosOf(c.find(String(req.params.ident)));
      res.json({ firmware: n.firmware ?? [] });
    }),
  );

  app.get(
    '/v1/nodes/:ident/traits',
    h((req, res) => {
      requireMinor(req, 37);
      res.json({ traits: c.find(String(req.params.ident)).traits });
    }),
  );

  // virtual media (1.89 attach/detach, 1.93 list)
  app.post(
    '/v1/nodes/:ident/vmedia',
    h(async (req, res) => {
      requireMinor(req, V.vmediaAttach);
      const b = (req.body ?? {}) as { device_type?: string; image_url?: string };
      if (typeof b.image_url !== 'string' || !/^https?:\/\//.test(b.image_url))
        throw new IronicError('Invalid', 'image_url must be an http(s) URL');
      if ((b.device_type ?? 'cdrom') !== 'cdrom')
        throw new IronicError('Invalid', `Unsupported device_type ${b.device_type}: only cdrom is supported`);
      await c.withLock(String(req.params.ident), async (n) => {
        const m = c.drivers.forNode(n).management;
        if (!m.insertMedia)
          throw new IronicError('UnsupportedDriverExtension', `Node ${n.uuid}'s management interface does not support virtual media`);
        await m.insertMedia(n, b.image_url as string);
      });
      res.status(204).end();
    }),
  );
  app.get(
    '/v1/nodes/:ident/vmedia',
    h(async (req, res) => {
      requireMinor(req, V.vmediaGet);
      const n = c.find(String(req.params.ident));
      const m = c.drivers.forNode(n).management;
      if (!m.mediaState)
        throw new IronicError('UnsupportedDriverExtension', `Node ${n.uuid}'s management interface does not support virtual media`);
      res.json({ vmedia: await m.mediaState(n) });
    }),
  );
  app.delete(
    '/v1/nodes/:ident/vmedia',
    h(async (req, res) => {
      requireMinor(req, V.vmediaAttach);
      await c.withLock(String(req.params.ident), async (n) => {
        const m = c.drivers.forNode(n).management;
        if (!m.ejectMedia)
          throw new IronicError('UnsupportedDriverExtension', `Node ${n.uuid}'s management interface does not support virtual media`);
        await m.ejectMedia(n);
      });
      res.status(204).end();
    }),
  );

  app.all(
    '/v1/nodes/:ident/vendor_passthru/methods',
    h((req, res) => {
      const n = c.find(String(req.params.ident));
      if (n.vendor_interface !== 'redfish') return res.json({});
      res.json(
        Object.fromEntries(
          Object.entries(VENDOR_METHODS).map(([k, v]) => [
            k,
            { http_methods: v.http, async: false, description: v.description, attach: false, require_exclusive_lock: true },
          ]),
        ),
      );
    }),
  );
  app.all(
    '/v1/nodes/:ident/vendor_passthru',
    h(async (req, res) => {
      const method = String((req.query as Record<string, string>).method ?? '');
      if (!method) throw new IronicError('Invalid', 'Method not specified');
      const n = c.find(String(req.params.ident));
      if (n.vendor_interface !== 'redfish')
        throw new IronicError(
          'UnsupportedDriverExtension',
          `Driver ${n.driver} does not have a vendor passthru method "${method}" (vendor interface ${n.vendor_interface})`,
        );
      const args = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : {};
      const result = await redfishPassthru(c.drivers.redfish, n, method, req.method, args);
      if (result === null) return res.status(204).end();
      res.json(result);
    }),
  );
}
