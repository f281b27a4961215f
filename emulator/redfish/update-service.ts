// UpdateService: SimpleUpdate fetches the image and "flashes" it as an asynchronous task; the
// firmware inventory shows the new version when the task completes.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { MachineError } from '../machine/errors.js';
import type { Machine } from '../machine/machine.js';
import { fetchImage } from '../machine/media-fetch.js';
import { collection, ok, type RedfishContext, type RfRequest, type Route, V1, visibleMachines } from './context.js';
import { fromMachineError, RedfishError } from './errors.js';

const PARAMS = ['ImageURI', 'TransferProtocol', 'Targets', 'Username', 'Password', '@Redfish.OperationApplyTime'];

/** The version an image carries: the last x.y[.z] in its file name, else the old version + 1. */
export function versionFromImage(uri: string, current: string): string {
  const last = new URL(uri).pathname.split('/').pop() ?? '';
  let name = last;
  try {
    name = decodeURIComponent(last);
  } catch {
    // a malformed %-escape: the name as written
  }
  const found = name.match(/\d+\.\d+(?:\.\d+)*/g);
  if (found?.length) return found[found.length - 1];
  const parts = current.split('.').map(Number);
  parts[parts.length - 1] = (parts[parts.length - 1] || 0) + 1;
  return parts.join('.');
}

export function updateServiceRoutes(ctx: RedfishContext, tmpDir: string): Route[] {
  const inv = (m: Machine, id: string) => `${V1}/UpdateService/FirmwareInventory/${m.uuid}.${id}`;
  const visible = (r: Pick<RfRequest, 'principal'>) => visibleMachines(ctx, r);
  const find = (key: string) => {
    const dot = key.indexOf('.');
    const m = ctx.byId.get(key.slice(0, dot));
    const f = m?.state.firmware.find((x) => x.id === key.slice(dot + 1));
    if (!m || !f) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['SoftwareInventory', key] });
    return { m, f };
  };
  return [
    {
      pattern: `${V1}/UpdateService`,
      handlers: {
        GET: () =>
          ok({
            '@odata.id': `${V1}/UpdateService`,
            '@odata.type': '#UpdateService.v1_11_0.UpdateService',
            Id: 'UpdateService',
            Name: 'Update Service',
            ServiceEnabled: true,
            Status: { State: 'Enabled', Health: 'OK' },
            FirmwareInventory: { '@odata.id': `${V1}/UpdateService/FirmwareInventory` },
            Actions: {
              '#UpdateService.SimpleUpdate': {
                target: `${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`,
                'TransferProtocol@Redfish.AllowableValues': ['HTTP', 'HTTPS'],
              },
            },
          }),
      },
    },
    {
      pattern: `${V1}/UpdateService/FirmwareInventory`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${V1}/UpdateService/FirmwareInventory`,
              'SoftwareInventoryCollection',
              'Firmware Inventory',
              visible(r).flatMap((m) => m.state.firmware.map((f) => inv(m, f.id))),
            ),
          ),
      },
    },
    {
      pattern: `${V1}/UpdateService/FirmwareInventory/{fw}`,
      handlers: {
        GET: (r) => {
          const { m, f } = find(r.params.fw);
          if (!r.principal?.account.systems.has(m.uuid))
            throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['SoftwareInventory', r.params.fw] });
          return ok({
            '@odata.id': inv(m, f.id),
            '@odata.type': '#SoftwareInventory.v1_10_0.SoftwareInventory',
            Id: `${m.uuid}.${f.id}`,
            Name: `${f.name} (${m.name})`,
            Version: f.version,
            Updateable: f.updateable,
            Manufacturer: 'Ferrite',
            Status: { State: 'Enabled', Health: 'OK' },
            RelatedItem: [{ '@odata.id': f.id === 'BMC' ? `${V1}/Managers/${m.uuid}` : `${V1}/Systems/${m.uuid}` }],
          });
        },
      },
    },
    {
      pattern: `${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`,
      handlers: {
        POST: (r) => {
          const action = 'UpdateService.SimpleUpdate';
          const b = (r.body ?? {}) as Record<string, unknown>;
          for (const k of Object.keys(b))
            if (!PARAMS.includes(k)) throw new RedfishError(400, { messageId: 'ActionParameterUnknown', args: [action, k], property: k });
          if (typeof b.ImageURI !== 'string')
            throw new RedfishError(400, { messageId: 'ActionParameterMissing', args: [action, 'ImageURI'], property: 'ImageURI' });
          let uri: URL;
          try {
            uri = new URL(b.ImageURI);
          } catch {
            throw new RedfishError(400, {
              messageId: 'ActionParameterValueFormatError',
              args: [b.ImageURI, 'ImageURI', action],
              property: 'ImageURI',
            });
          }
          const proto = (b.TransferProtocol as string | undefined) ?? uri.protocol.slice(0, -1).toUpperCase();
          if (!['HTTP', 'HTTPS'].includes(proto))
            throw new RedfishError(400, {
              messageId: 'ActionParameterValueNotInList',
              args: [proto, 'TransferProtocol', action],
              property: 'TransferProtocol',
            });
          const targets = b.Targets === undefined ? null : b.Targets;
          if (targets !== null && (!Array.isArray(targets) || targets.some((t) => typeof t !== 'string')))
            throw new RedfishError(400, {
              messageId: 'ActionParameterValueFormatError',
              args: [JSON.stringify(targets), 'Targets', action],
              property: 'Targets',
            });
          // no Targets: the BIOS of every system the caller administers, as a BMC with one host would do
          const resolved = ((targets as string[] | null) ?? visible(r).map((m) => inv(m, 'BIOS'))).map((t) => {
            const key = t.split('/').pop() ?? '';
            const sys = ctx.byId.get(key);
            const { m, f } = sys ? { m: sys, f: sys.state.firmware.find((x) => x.id === 'BMC') } : find(key);
            if (!f || !r.principal?.account.systems.has(m.uuid))
              throw new RedfishError(400, {
                messageId: 'ActionParameterValueFormatError',
                args: [t, 'Targets', action],
                property: 'Targets',
              });
            if (!f.updateable)
              throw new RedfishError(400, {
                messageId: 'ActionParameterValueConflict',
                args: [t, 'Targets', `${f.name} is not updateable`],
                property: 'Targets',
              });
            return { m, f };
          });
          if (!resolved.length)
            throw new RedfishError(400, { messageId: 'ActionParameterMissing', args: [action, 'Targets'], property: 'Targets' });
          return ctx.tasks.start(
            `Firmware update from ${b.ImageURI}`,
            { uri: r.path, method: 'POST', body: { ...b, Password: b.Password ? '***' : undefined } },
            resolved[0].m.uuid,
            async (h) => {
              const file = join(tmpDir, `firmware-${h.task.id}.bin`);
              try {
                await fetchImage(uri.href, file, {
                  userName: b.Username as string | undefined,
                  password: b.Password as string | undefined,
                  signal: h.signal,
                });
              } catch (e) {
                throw e instanceof MachineError ? fromMachineError(e, action) : e;
              } finally {
                rmSync(file, { force: true });
              }
              h.progress(30);
              for (const [i, t] of resolved.entries()) {
                await ctx.clock.sleep(t.m.spec.timings.firmwareFlash, h.signal);
                t.m.setFirmwareVersion(t.f.id, versionFromImage(uri.href, t.f.version));
                h.progress(30 + (70 * (i + 1)) / resolved.length);
              }
              return { status: 204 };
            },
          );
        },
      },
    },
  ];
}
