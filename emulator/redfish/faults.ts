// Fault injection for tests and scenarios, as OEM actions on each system (unadvertised: a real
// BMC has no such thing). Power cut: the machine loses power at once, the way a tripped PDU
// outlet would leave it, while its BMC keeps answering truthfully (PowerState Off). Disk failure:
// the boot disk dies with the power, so the installed OS no longer boots (the machine stays
// usable once something writes a new image to it). OS crash: what the machine runs (the agent,
// the installed OS) dies and the machine hangs powered on, as after a kernel panic.
import { noContent, type RedfishContext, type RfRequest, type Route, V1 } from './context.js';
import { RedfishError } from './errors.js';

export const POWER_CUT_ACTION = 'Ferrite.PowerCut';
export const DISK_FAILURE_ACTION = 'Ferrite.DiskFailure';
export const OS_CRASH_ACTION = 'Ferrite.OsCrash';

export function faultRoutes(_ctx: RedfishContext): Route[] {
  return [
    {
      pattern: `${V1}/Systems/{sys}/Actions/Oem/${POWER_CUT_ACTION}`,
      handlers: {
        POST: (r: RfRequest) => {
          r.machine.event('Critical', 'PowerLost', 'The system lost power.');
          if (r.machine.poweredOn) r.machine.reset('ForceOff');
          return noContent;
        },
      },
    },
    {
      pattern: `${V1}/Systems/{sys}/Actions/Oem/${OS_CRASH_ACTION}`,
      handlers: {
        POST: (r: RfRequest) => {
          if (!r.machine.crashOs())
            throw new RedfishError(409, { messageId: 'GeneralError', args: ['nothing runs on the machine: there is no OS to crash'] });
          return noContent;
        },
      },
    },
    {
      pattern: `${V1}/Systems/{sys}/Actions/Oem/${DISK_FAILURE_ACTION}`,
      handlers: {
        POST: (r: RfRequest) => {
          r.machine.event('Critical', 'DriveFailed', 'The boot drive failed.');
          if (r.machine.poweredOn) r.machine.reset('ForceOff');
          r.machine.failBootDisk();
          return noContent;
        },
      },
    },
  ];
}
