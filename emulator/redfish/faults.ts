// Fault injection for tests and scenarios, as OEM actions on each system (unadvertised: a real
// BMC has no such thing). Power cut: the machine loses power at once, the way a tripped PDU
// outlet would leave it, while its BMC keeps answering truthfully (PowerState Off).
import { noContent, type RedfishContext, type RfRequest, type Route, V1 } from './context.js';

export const POWER_CUT_ACTION = 'Ferrite.PowerCut';

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
  ];
}
