// /v1/drivers: the hardware types this conductor serves, with their default and enabled
// interfaces (1.30+) as Ironic reports them.
import type { Express } from 'express';
import { HARDWARE_TYPES, hardwareType, INTERFACE_KINDS } from '../drivers/interfaces.js';
import { link } from './render.js';
import { type Ctx, h, minorOf } from './server.js';

const PROPERTIES: Record<string, Record<string, string>> = {
  'fake-hardware': {},
  ipmi: {
    ipmi_address: 'IP address or hostname of the node. Required.',
    ipmi_port: 'remote IPMI RMCP port. Optional.',
    ipmi_username: 'username. Optional.',
    ipmi_password: 'password. Optional.',
    ipmi_priv_level: 'privilege level; default is ADMINISTRATOR. Optional.',
    ipmi_cipher_suite: 'IPMI cipher suite (3 or 17). Optional.',
    deploy_kernel: 'URL of the deployment kernel. Required for agent-based deploy.',
    deploy_ramdisk: 'URL of the deployment ramdisk. Required for agent-based deploy.',
  },
  redfish: {
    redfish_address: 'The URL address to the Redfish controller. Required.',
    redfish_system_id: 'The canonical path to the ComputerSystem resource. Optional when the BMC has one system.',
    redfish_username: 'User account with admin/server-profile access privilege. Optional.',
    redfish_password: 'User account password. Optional.',
    redfish_verify_ca: 'true, false, or a path to a CA bundle. Optional.',
    redfish_auth_type: 'auto, session or basic. Optional.',
    deploy_kernel: 'URL of the deployment kernel. Required for agent-based deploy.',
    deploy_ramdisk: 'URL of the deployment ramdisk. Required for agent-based deploy.',
  },
};

export function driverRoutes(app: Express, ctx: Ctx): void {
  const host = ctx.conductor.opts.hostname;
  const render = (name: string, minor: number, base: string, detail: boolean) => {
    const t = hardwareType(name);
    const out: Record<string, unknown> = {
      name,
      hosts: [host],
      links: link(base, 'drivers', name),
      properties: link(base, 'drivers', name, '/properties'),
    };
    if (minor >= 30) out.type = 'dynamic';
    if (minor >= 30 && detail)
      for (const k of INTERFACE_KINDS) {
        out[`default_${k}_interface`] = t.supported[k][0];
        out[`enabled_${k}_interfaces`] = t.supported[k];
      }
    return out;
  };
  app.get(
    '/v1/drivers',
    h((req, res) => {
      const q = req.query as Record<string, string>;
      if (q.type && q.type !== 'dynamic') return res.json({ drivers: [] });
      const detail = q.detail === 'true' || q.detail === 'True';
      res.json({ drivers: Object.keys(HARDWARE_TYPES).map((n) => render(n, minorOf(req), ctx.base(req), detail)) });
    }),
  );
  app.get(
    '/v1/drivers/:name',
    h((req, res) => {
      const name = String(req.params.name);
      res.json(render(name, minorOf(req), ctx.base(req), true));
    }),
  );
  app.get(
    '/v1/drivers/:name/properties',
    h((req, res) => {
      const name = String(req.params.name);
      hardwareType(name); // DriverNotFound for a name that is not one
      res.json(Object.hasOwn(PROPERTIES, name) ? PROPERTIES[name] : {});
    }),
  );
}
