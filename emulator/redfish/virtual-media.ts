// VirtualMedia slots (Cd: CD/DVD, Floppy: floppy/USB stick) with InsertMedia/EjectMedia. Served
// under the System and, for clients that still look there, under the Manager.
import { MachineError } from '../machine/errors.js';
import type { Machine } from '../machine/machine.js';
import type { VirtualMediaState } from '../machine/model.js';
import { collection, ok, type RfRequest, type Route, status } from './context.js';
import { fromMachineError, RedfishError } from './errors.js';
import { bool, checkPatch } from './patch.js';

const MEDIA_TYPES: Record<VirtualMediaState['id'], string[]> = { Cd: ['CD', 'DVD'], Floppy: ['Floppy', 'USBStick'] };
const INSERT_PARAMS = ['Image', 'Inserted', 'WriteProtected', 'UserName', 'Password', 'TransferProtocolType', 'TransferMethod'];

export function virtualMediaBody(base: string, v: VirtualMediaState): Record<string, unknown> {
  const self = `${base}/${v.id}`;
  return {
    '@odata.id': self,
    '@odata.type': '#VirtualMedia.v1_6_0.VirtualMedia',
    Id: v.id,
    Name: v.id === 'Cd' ? 'Virtual CD' : 'Virtual Removable Media',
    MediaTypes: MEDIA_TYPES[v.id],
    Image: v.image,
    ImageName: v.imageName,
    Inserted: v.inserted,
    WriteProtected: v.writeProtected,
    ConnectedVia: v.inserted ? 'URI' : 'NotConnected',
    TransferProtocolType: v.transferProtocolType,
    TransferMethod: v.transferMethod,
    UserName: v.userName,
    Password: null,
    VerifyCertificate: v.verifyCertificate,
    Status: status('Enabled', v.fetch === 'failed' ? 'Warning' : 'OK'),
    Actions: {
      '#VirtualMedia.InsertMedia': { target: `${self}/Actions/VirtualMedia.InsertMedia` },
      '#VirtualMedia.EjectMedia': { target: `${self}/Actions/VirtualMedia.EjectMedia` },
    },
  };
}

function slot(r: RfRequest): VirtualMediaState {
  try {
    return r.machine.mediaSlot(r.params.vm);
  } catch {
    throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['VirtualMedia', r.params.vm] });
  }
}

async function insert(r: RfRequest) {
  const action = 'VirtualMedia.InsertMedia';
  const v = slot(r);
  const b = (r.body ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(b))
    if (!INSERT_PARAMS.includes(k)) throw new RedfishError(400, { messageId: 'ActionParameterUnknown', args: [action, k], property: k });
  if (typeof b.Image !== 'string' || !b.Image)
    throw new RedfishError(400, { messageId: 'ActionParameterMissing', args: [action, 'Image'], property: 'Image' });
  for (const k of ['Inserted', 'WriteProtected'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'boolean')
      throw new RedfishError(400, { messageId: 'ActionParameterValueFormatError', args: [JSON.stringify(b[k]), k, action], property: k });
  }
  for (const k of ['UserName', 'Password', 'TransferProtocolType', 'TransferMethod'] as const) {
    if (b[k] !== undefined && b[k] !== null && typeof b[k] !== 'string')
      throw new RedfishError(400, { messageId: 'ActionParameterValueFormatError', args: [JSON.stringify(b[k]), k, action], property: k });
  }
  if ((b.UserName === undefined) !== (b.Password === undefined))
    throw new RedfishError(400, {
      messageId: 'ActionParameterMissing',
      args: [action, b.UserName === undefined ? 'UserName' : 'Password'],
    });
  if (b.TransferMethod !== undefined && b.TransferMethod !== null && !['Stream', 'Upload'].includes(b.TransferMethod as string)) {
    throw new RedfishError(400, {
      messageId: 'ActionParameterValueNotInList',
      args: [String(b.TransferMethod), 'TransferMethod', action],
      property: 'TransferMethod',
    });
  }
  try {
    await r.machine.insertMedia(v.id, {
      image: b.Image,
      inserted: b.Inserted as boolean | undefined,
      writeProtected: b.WriteProtected as boolean | undefined,
      userName: b.UserName as string | undefined,
      password: b.Password as string | undefined,
      transferProtocolType: b.TransferProtocolType as string | undefined,
      transferMethod: b.TransferMethod as string | undefined,
    });
  } catch (e) {
    if (e instanceof MachineError) throw fromMachineError(e, action);
    throw e;
  }
  return { status: 204 };
}

export function virtualMediaRoutes(prefix: string, base: (m: Machine) => string): Route[] {
  return [
    {
      pattern: `${prefix}/VirtualMedia`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              base(r.machine),
              'VirtualMediaCollection',
              'Virtual Media Services',
              r.machine.state.media.map((v) => `${base(r.machine)}/${v.id}`),
            ),
          ),
      },
    },
    {
      pattern: `${prefix}/VirtualMedia/{vm}`,
      handlers: {
        GET: (r) => ok(virtualMediaBody(base(r.machine), slot(r))),
        PATCH: (r) => {
          const v = slot(r);
          const c = checkPatch(r.body, { VerifyCertificate: bool }, virtualMediaBody(base(r.machine), v)) as {
            VerifyCertificate?: boolean;
          };
          if (c.VerifyCertificate !== undefined) r.machine.setMediaVerifyCertificate(v.id, c.VerifyCertificate);
          return ok(virtualMediaBody(base(r.machine), v));
        },
      },
    },
    { pattern: `${prefix}/VirtualMedia/{vm}/Actions/VirtualMedia.InsertMedia`, handlers: { POST: insert } },
    {
      pattern: `${prefix}/VirtualMedia/{vm}/Actions/VirtualMedia.EjectMedia`,
      handlers: {
        POST: (r) => {
          const v = slot(r);
          const b = (r.body ?? {}) as Record<string, unknown>;
          for (const k of Object.keys(b))
            throw new RedfishError(400, { messageId: 'ActionParameterUnknown', args: ['VirtualMedia.EjectMedia', k], property: k });
          r.machine.ejectMedia(v.id);
          return { status: 204 };
        },
      },
    },
  ];
}
