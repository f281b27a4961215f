// Manager (the BMC itself) and Chassis resources, one of each per machine.
import type { Machine } from '../machine/machine.js';
import { IndicatorLeds } from '../machine/model.js';
import { collection, ok, type RedfishContext, type RfRequest, type Route, ref, status, V1, visibleMachines } from './context.js';
import { RedfishError } from './errors.js';
import { bool, checkPatch, enumOf, str } from './patch.js';
import { virtualMediaRoutes } from './virtual-media.js';

function managerBody(m: Machine, offsets: Map<string, { clockOffsetMs: number; tz: string }>): Record<string, unknown> {
  const o = offsets.get(m.uuid) ?? { clockOffsetMs: 0, tz: '+00:00' };
  return {
    '@odata.id': `${V1}/Managers/${m.uuid}`,
    '@odata.type': '#Manager.v1_19_0.Manager',
    Id: m.uuid,
    Name: `BMC of ${m.name}`,
    ManagerType: 'BMC',
    Manufacturer: 'Ferrite',
    Model: 'Ferrite Emulated BMC',
    UUID: m.uuid,
    FirmwareVersion: m.state.firmware.find((f) => f.id === 'BMC')?.version ?? '1.0.0',
    DateTime: new Date(m.clock.now() + o.clockOffsetMs).toISOString().replace('Z', o.tz),
    DateTimeLocalOffset: o.tz,
    PowerState: 'On',
    Status: status(),
    VirtualMedia: ref(`${V1}/Managers/${m.uuid}/VirtualMedia`),
    Links: { ManagerForServers: [ref(`${V1}/Systems/${m.uuid}`)], ManagerForChassis: [ref(`${V1}/Chassis/${m.uuid}`)] },
  };
}

function chassisBody(m: Machine): Record<string, unknown> {
  const b = `${V1}/Chassis/${m.uuid}`;
  return {
    '@odata.id': b,
    '@odata.type': '#Chassis.v1_23_0.Chassis',
    Id: m.uuid,
    Name: `Chassis of ${m.name}`,
    ChassisType: 'RackMount',
    Manufacturer: m.spec.manufacturer,
    Model: m.spec.model,
    SerialNumber: m.spec.serial,
    PowerState: m.state.power,
    IndicatorLED: m.state.indicatorLed,
    LocationIndicatorActive: m.state.indicatorLed !== 'Off',
    Status: status(),
    Thermal: ref(`${b}/Thermal`),
    Power: ref(`${b}/Power`),
    Links: { ComputerSystems: [ref(`${V1}/Systems/${m.uuid}`)], ManagedBy: [ref(`${V1}/Managers/${m.uuid}`)] },
  };
}

export function managerRoutes(ctx: RedfishContext): Route[] {
  const offsets = new Map<string, { clockOffsetMs: number; tz: string }>();
  const visible = (r: Pick<RfRequest, 'principal'>) => visibleMachines(ctx, r);
  const M = `${V1}/Managers/{sys}`;
  const C = `${V1}/Chassis/{sys}`;
  return [
    {
      pattern: `${V1}/Managers`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${V1}/Managers`,
              'ManagerCollection',
              'Manager Collection',
              visible(r).map((m) => `${V1}/Managers/${m.uuid}`),
            ),
          ),
      },
    },
    {
      pattern: M,
      handlers: {
        GET: (r) => ok(managerBody(r.machine, offsets)),
        PATCH: (r) => {
          const c = checkPatch(r.body, { DateTime: str, DateTimeLocalOffset: str }, managerBody(r.machine, offsets)) as {
            DateTime?: string;
            DateTimeLocalOffset?: string;
          };
          const cur = offsets.get(r.machine.uuid) ?? { clockOffsetMs: 0, tz: '+00:00' };
          if (c.DateTimeLocalOffset !== undefined) {
            if (!/^[+-]\d{2}:\d{2}$/.test(c.DateTimeLocalOffset))
              throw new RedfishError(400, {
                messageId: 'PropertyValueFormatError',
                args: [c.DateTimeLocalOffset, 'DateTimeLocalOffset'],
                property: 'DateTimeLocalOffset',
              });
            cur.tz = c.DateTimeLocalOffset;
          }
          if (c.DateTime !== undefined) {
            const t = Date.parse(c.DateTime);
            if (Number.isNaN(t))
              throw new RedfishError(400, { messageId: 'PropertyValueFormatError', args: [c.DateTime, 'DateTime'], property: 'DateTime' });
            cur.clockOffsetMs = t - r.machine.clock.now();
          }
          offsets.set(r.machine.uuid, cur);
          return ok(managerBody(r.machine, offsets));
        },
      },
    },
    ...virtualMediaRoutes(M, (m) => `${V1}/Managers/${m.uuid}/VirtualMedia`),
    {
      pattern: `${V1}/Chassis`,
      handlers: {
        GET: (r) =>
          ok(
            collection(
              `${V1}/Chassis`,
              'ChassisCollection',
              'Chassis Collection',
              visible(r).map((m) => `${V1}/Chassis/${m.uuid}`),
            ),
          ),
      },
    },
    {
      pattern: C,
      handlers: {
        GET: (r) => ok(chassisBody(r.machine)),
        PATCH: (r) => {
          const c = checkPatch(r.body, { IndicatorLED: enumOf(IndicatorLeds), LocationIndicatorActive: bool }, chassisBody(r.machine)) as {
            IndicatorLED?: 'Lit' | 'Off' | 'Blinking';
            LocationIndicatorActive?: boolean;
          };
          if (c.IndicatorLED) r.machine.setIndicatorLed(c.IndicatorLED);
          if (c.LocationIndicatorActive !== undefined) r.machine.setIndicatorLed(c.LocationIndicatorActive ? 'Lit' : 'Off');
          return ok(chassisBody(r.machine));
        },
      },
    },
    {
      pattern: `${C}/Thermal`,
      handlers: {
        GET: (r) => {
          const on = r.machine.state.power === 'On';
          return ok({
            '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Thermal`,
            '@odata.type': '#Thermal.v1_7_0.Thermal',
            Id: 'Thermal',
            Name: 'Thermal',
            Temperatures: [
              {
                '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Thermal#/Temperatures/0`,
                MemberId: '0',
                Name: 'CPU1 Temp',
                ReadingCelsius: on ? 52 : 24,
                UpperThresholdCritical: 95,
                PhysicalContext: 'CPU',
                Status: status(),
              },
              {
                '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Thermal#/Temperatures/1`,
                MemberId: '1',
                Name: 'Inlet Temp',
                ReadingCelsius: 22,
                UpperThresholdCritical: 45,
                PhysicalContext: 'Intake',
                Status: status(),
              },
            ],
            Fans: [
              {
                '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Thermal#/Fans/0`,
                MemberId: '0',
                Name: 'Fan 1',
                Reading: on ? 6200 : 0,
                ReadingUnits: 'RPM',
                PhysicalContext: 'Backplane',
                Status: status(),
              },
            ],
          });
        },
      },
    },
    {
      pattern: `${C}/Power`,
      handlers: {
        GET: (r) => {
          const watts = r.machine.state.power === 'On' ? 180 + 10 * r.machine.spec.cpu.sockets * r.machine.spec.cpu.coresPerSocket : 8;
          return ok({
            '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Power`,
            '@odata.type': '#Power.v1_7_1.Power',
            Id: 'Power',
            Name: 'Power',
            PowerControl: [
              {
                '@odata.id': `${V1}/Chassis/${r.machine.uuid}/Power#/PowerControl/0`,
                MemberId: '0',
                Name: 'System Power Control',
                PowerConsumedWatts: watts,
                PowerCapacityWatts: 1100,
                Status: status(),
              },
            ],
          });
        },
      },
    },
  ];
}
