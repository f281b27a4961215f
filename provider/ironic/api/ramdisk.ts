// The endpoints the agent calls (public, as in Ironic): lookup by MAC, heartbeat, and
// continue_inspection with the collected inventory.
import type { Express } from 'express';
import { IronicError } from '../errors.js';
import { normalizeMac, UUID_RE } from '../model.js';
import { V } from './microversion.js';
import { type Ctx, h, minorOf, requireMinor } from './server.js';

export function ramdiskRoutes(app: Express, ctx: Ctx): void {
  const c = ctx.conductor;
  const config = () => ({
    heartbeat_timeout: c.opts.heartbeatTimeout,
    agent_token_required: true,
    metrics: { backend: 'noop', prepend_host: false, prepend_uuid: false, prepend_host_reverse: true, global_prefix: null },
    metrics_statsd: { statsd_host: 'localhost', statsd_port: 8125 },
    agent_md5_checksum_enable: false,
    disable_deep_image_inspection: false,
    permitted_image_formats: ['raw', 'qcow2', 'iso'],
  });

  app.get(
    '/v1/lookup',
    h((req, res) => {
      requireMinor(req, V.ramdisk);
      const q = req.query as Record<string, string | undefined>;
      const addresses = (q.addresses ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean);
      if (!addresses.length && !q.node_uuid) throw new IronicError('Invalid', 'Either addresses or node_uuid is required for lookup');
      const macs = addresses.map((a) => normalizeMac(a)).filter((m): m is string => m !== null);
      if (addresses.length && !macs.length && !q.node_uuid) throw new IronicError('Invalid', `No valid MAC addresses in "${q.addresses}"`);
      if (q.node_uuid && !UUID_RE.test(q.node_uuid)) throw new IronicError('Invalid', `Expected a UUID but received ${q.node_uuid}.`);
      const { node, token } = c.lookup(macs, q.node_uuid ?? null);
      const base = ctx.base(req);
      const cfg: Record<string, unknown> = config();
      if (minorOf(req) >= V.agentToken) cfg.agent_token = token ?? '******';
      res.json({
        node: {
          uuid: node.uuid,
          properties: node.properties,
          instance_info: { ...node.instance_info, configdrive: node.instance_info.configdrive ? '******' : undefined },
          driver_internal_info: { agent_secret_token_pregenerated: false },
          links: [{ href: `${base}/v1/nodes/${node.uuid}`, rel: 'self' }],
        },
        config: cfg,
      });
    }),
  );

  app.post(
    '/v1/heartbeat/:node',
    h((req, res) => {
      requireMinor(req, V.ramdisk);
      const b = (req.body ?? {}) as Record<string, unknown>;
      if (typeof b !== 'object' || Array.isArray(b)) throw new IronicError('Invalid', 'The request body must be a JSON object');
      c.heartbeat(String(req.params.node), b);
      res.status(202).end();
    }),
  );

  app.post(
    '/v1/continue_inspection',
    h(async (req, res) => {
      requireMinor(req, V.continueInspection);
      const b = req.body as Record<string, unknown>;
      if (!b || typeof b !== 'object' || Array.isArray(b)) throw new IronicError('Invalid', 'The request body must be a JSON object');
      const q = req.query as Record<string, string | undefined>;
      // the inspect task may still hold the node (rebooting it) when a fast agent calls back
      const { uuid } = await c.whenUnlocked(() => c.continueInspection(b, q.node_uuid ?? null));
      res.status(202).json({ uuid });
    }),
  );
}
