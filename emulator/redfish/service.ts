// Service-level resources: the service root, OData documents, message and attribute registries,
// AccountService (read-only) and SessionService (token login/logout).

import { collection, ok, type RedfishContext, type Route, ref, V1 } from './context.js';
import { schemaXml } from './csdl.js';
import { BASE_MESSAGES, BASE_REGISTRY, RedfishError } from './errors.js';
import { checkPatch, int } from './patch.js';
import { SCHEMA_VERSIONS } from './schema-versions.js';

/** $metadata: one Reference per schema file, including each versioned namespace used. */
export function metadataXml(): string {
  const refs = Object.entries(SCHEMA_VERSIONS)
    .map(([t, v]) => {
      const file = `http://redfish.dmtf.org/schemas/v1/${t}_v1.xml`;
      const inc = [`    <edmx:Include Namespace="${t}"/>`, ...(v ? [`    <edmx:Include Namespace="${t}.${v}"/>`] : [])];
      return `  <edmx:Reference Uri="${file}">\n${inc.join('\n')}\n  </edmx:Reference>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">
  <edmx:Reference Uri="http://docs.oasis-open.org/odata/odata/v4.0/errata03/csd01/complete/vocabularies/Org.OData.Core.V1.xml">
    <edmx:Include Namespace="Org.OData.Core.V1" Alias="OData"/>
  </edmx:Reference>
  <edmx:Reference Uri="http://redfish.dmtf.org/schemas/v1/RedfishExtensions_v1.xml">
    <edmx:Include Namespace="RedfishExtensions.v1_0_0" Alias="Redfish"/>
  </edmx:Reference>
${refs}
  <edmx:DataServices>
    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">
      <EntityContainer Name="Service" Extends="ServiceRoot.${SCHEMA_VERSIONS.ServiceRoot}.ServiceContainer"/>
    </Schema>
  </edmx:DataServices>
</edmx:Edmx>
`;
}

// Messages of the Ferrite registry: machine events (power, boot, media, BIOS, storage, firmware)
export const FERRITE_MESSAGES: Record<string, { message: string; args: number; severity: string }> = {
  ResetRequested: { message: '%1 requested.', args: 1, severity: 'OK' },
  PowerStateChanged: { message: 'Power state changed to %1.', args: 1, severity: 'OK' },
  PowerLost: { message: 'The system lost power.', args: 0, severity: 'Critical' },
  DriveFailed: { message: 'The boot drive failed.', args: 0, severity: 'Critical' },
  OsCrashed: { message: 'The operating system stopped: %1.', args: 1, severity: 'Critical' },
  PowerRestored: { message: 'Power restored after the emulator restarted; the system boots again.', args: 0, severity: 'Warning' },
  BootCompleted: { message: 'Booted from %1 (%2).', args: 2, severity: 'OK' },
  NoBootableDevice: { message: 'No bootable device found.', args: 0, severity: 'Warning' },
  MediaInserted: { message: 'Virtual media %1 ready: %2.', args: 2, severity: 'OK' },
  MediaEjected: { message: 'Virtual media %1 ejected.', args: 1, severity: 'OK' },
  MediaFetchFailed: { message: 'Virtual media %1 could not be fetched.', args: 1, severity: 'Warning' },
  BiosSettingsApplied: { message: 'Pending BIOS settings applied.', args: 0, severity: 'OK' },
  VolumeCreated: { message: 'Volume %1 created.', args: 1, severity: 'OK' },
  VolumeDeleted: { message: 'Volume %1 deleted.', args: 1, severity: 'OK' },
  FirmwareUpdated: { message: 'Firmware %1 updated to %2.', args: 2, severity: 'OK' },
  ImageWritten: { message: 'Image %1 written to disk.', args: 1, severity: 'OK' },
  SoftwareRaidCreated: { message: 'Software RAID %1 created.', args: 1, severity: 'OK' },
  BootOverrideExpired: { message: 'IPMI boot flags expired after 60 seconds without a chassis control command.', args: 0, severity: 'OK' },
  BmcReset: { message: 'BMC reset requested.', args: 0, severity: 'OK' },
  InternalError: { message: 'Internal error.', args: 0, severity: 'Critical' },
  TestEvent: { message: 'Test event.', args: 0, severity: 'OK' },
};

const BIOS_ENUMS: Record<string, string[]> = {
  BootMode: ['Uefi', 'Bios'],
  EmbeddedSata: ['Raid', 'Ahci', 'Off'],
  NicBoot1: ['NetworkBoot', 'Disabled'],
  NicBoot2: ['NetworkBoot', 'Disabled'],
};

function registries(ctx: RedfishContext): Record<string, { file: string; body: () => Record<string, unknown> }> {
  const R = `${V1}/Registries`;
  return {
    Base: {
      file: `${R}/Base/${BASE_REGISTRY}.json`,
      body: () => ({
        '@odata.type': `#MessageRegistry.${SCHEMA_VERSIONS.MessageRegistry}.MessageRegistry`,
        Id: BASE_REGISTRY,
        Name: 'Base Message Registry (subset used by Ferrite)',
        Language: 'en',
        RegistryPrefix: 'Base',
        RegistryVersion: BASE_REGISTRY.slice(5),
        OwningEntity: 'DMTF',
        Messages: Object.fromEntries(
          Object.entries(BASE_MESSAGES).map(([id, m]) => {
            const text = m.message(['%1', '%2', '%3']);
            const n = (text.match(/%\d/g) ?? []).length;
            return [
              id,
              {
                Description: text,
                Message: text,
                Severity: m.severity,
                MessageSeverity: m.severity,
                NumberOfArgs: n,
                ...(n ? { ParamTypes: Array(n).fill('string') } : {}),
                Resolution: m.resolution,
              },
            ];
          }),
        ),
      }),
    },
    Ferrite: {
      file: `${R}/Ferrite/Ferrite.1.0.0.json`,
      body: () => ({
        '@odata.type': `#MessageRegistry.${SCHEMA_VERSIONS.MessageRegistry}.MessageRegistry`,
        Id: 'Ferrite.1.0.0',
        Name: 'Ferrite Machine Event Registry',
        Language: 'en',
        RegistryPrefix: 'Ferrite',
        RegistryVersion: '1.0.0',
        OwningEntity: 'Ferrite',
        Messages: Object.fromEntries(
          Object.entries(FERRITE_MESSAGES).map(([id, m]) => [
            id,
            {
              Description: m.message,
              Message: m.message,
              Severity: m.severity,
              MessageSeverity: m.severity,
              NumberOfArgs: m.args,
              ...(m.args ? { ParamTypes: Array(m.args).fill('string') } : {}),
              Resolution: 'None.',
            },
          ]),
        ),
      }),
    },
    BiosAttributeRegistry: {
      file: `${R}/BiosAttributeRegistry/BiosAttributeRegistry.v1_0_0.json`,
      body: () => {
        const defaults = ctx.machines[0]?.spec.biosDefaults ?? {};
        return {
          '@odata.type': `#AttributeRegistry.${SCHEMA_VERSIONS.AttributeRegistry}.AttributeRegistry`,
          Id: 'BiosAttributeRegistry.v1_0_0',
          Name: 'BIOS Attribute Registry',
          Language: 'en',
          RegistryVersion: '1.0.0',
          OwningEntity: 'Ferrite',
          SupportedSystems: [{ ProductName: 'Ferrite simulated server', SystemId: 'FERRITE', FirmwareVersion: '2.1.0' }],
          RegistryEntries: {
            Attributes: Object.entries(defaults).map(([k, v]) => {
              const enums = BIOS_ENUMS[k] ?? (v === 'Enabled' || v === 'Disabled' ? ['Enabled', 'Disabled'] : null);
              const type = typeof v === 'boolean' ? 'Boolean' : typeof v === 'number' ? 'Integer' : enums ? 'Enumeration' : 'String';
              return {
                AttributeName: k,
                DisplayName: k.replace(/([a-z])([A-Z])/g, '$1 $2'),
                Type: type,
                ReadOnly: k === 'L2Cache',
                DefaultValue: v,
                ...(enums ? { Value: enums.map((x) => ({ ValueName: x, ValueDisplayName: x })) } : {}),
                ...(type === 'Integer' ? { LowerBound: 1, UpperBound: 256 } : {}),
              };
            }),
          },
        };
      },
    },
  };
}

export function serviceRoutes(ctx: RedfishContext): Route[] {
  const regs = registries(ctx);
  const sessionBody = (s: { id: string; account: { userName: string }; created: number; origin: string }) => ({
    '@odata.id': `${V1}/SessionService/Sessions/${s.id}`,
    '@odata.type': `#Session.${SCHEMA_VERSIONS.Session}.Session`,
    Id: s.id,
    Name: 'User Session',
    UserName: s.account.userName,
    Password: null,
    CreatedTime: new Date(s.created).toISOString(),
    ClientOriginIPAddress: s.origin,
    SessionType: 'Redfish',
  });
  const sessionServiceBody = () => ({
    '@odata.id': `${V1}/SessionService`,
    '@odata.type': `#SessionService.${SCHEMA_VERSIONS.SessionService}.SessionService`,
    Id: 'SessionService',
    Name: 'Session Service',
    ServiceEnabled: true,
    SessionTimeout: ctx.auth.sessionTimeoutS,
    Status: { State: 'Enabled', Health: 'OK' },
    Sessions: ref(`${V1}/SessionService/Sessions`),
  });
  const roles = {
    Administrator: ['Login', 'ConfigureManager', 'ConfigureUsers', 'ConfigureSelf', 'ConfigureComponents'],
    Operator: ['Login', 'ConfigureSelf', 'ConfigureComponents'],
    ReadOnly: ['Login', 'ConfigureSelf'],
  };
  return [
    { pattern: '/redfish', handlers: { GET: () => ok({ v1: '/redfish/v1/' }) }, public: ['GET', 'HEAD'] },
    {
      pattern: V1,
      public: ['GET', 'HEAD'],
      handlers: {
        GET: () =>
          ok({
            '@odata.id': `${V1}/`,
            '@odata.type': `#ServiceRoot.${SCHEMA_VERSIONS.ServiceRoot}.ServiceRoot`,
            Id: 'RootService',
            Name: 'Ferrite Redfish Service',
            RedfishVersion: '1.20.0',
            UUID: ctx.serviceUuid,
            Vendor: ctx.vendor,
            Product: ctx.product,
            ProtocolFeaturesSupported: {
              ExcerptQuery: false,
              ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false },
              FilterQuery: false,
              OnlyMemberQuery: false,
              SelectQuery: false,
            },
            Systems: ref(`${V1}/Systems`),
            Managers: ref(`${V1}/Managers`),
            Chassis: ref(`${V1}/Chassis`),
            SessionService: ref(`${V1}/SessionService`),
            AccountService: ref(`${V1}/AccountService`),
            TaskService: ref(`${V1}/TaskService`),
            EventService: ref(`${V1}/EventService`),
            UpdateService: ref(`${V1}/UpdateService`),
            Registries: ref(`${V1}/Registries`),
            Links: { Sessions: ref(`${V1}/SessionService/Sessions`) },
          }),
      },
    },
    {
      pattern: `${V1}/odata`,
      public: ['GET', 'HEAD'],
      handlers: {
        GET: () =>
          ok({
            '@odata.context': `${V1}/$metadata`,
            value: [
              ['Service', `${V1}/`],
              ['Systems', `${V1}/Systems`],
              ['Managers', `${V1}/Managers`],
              ['Chassis', `${V1}/Chassis`],
              ['SessionService', `${V1}/SessionService`],
              ['AccountService', `${V1}/AccountService`],
              ['TaskService', `${V1}/TaskService`],
              ['EventService', `${V1}/EventService`],
              ['UpdateService', `${V1}/UpdateService`],
              ['Registries', `${V1}/Registries`],
            ].map(([name, url]) => ({ name, kind: 'Singleton', url })),
          }),
      },
    },
    {
      pattern: `${V1}/$metadata`,
      public: ['GET', 'HEAD'],
      produces: 'application/xml',
      handlers: { GET: () => ({ status: 200, body: metadataXml(), headers: { 'Content-Type': 'application/xml' } }) },
    },
    {
      pattern: `${V1}/Schemas/{file}`,
      public: ['GET', 'HEAD'],
      produces: 'application/xml',
      handlers: {
        GET: (r) => {
          const xml = r.params.file.endsWith('_v1.xml') ? schemaXml(r.params.file.slice(0, -7)) : null;
          if (!xml) throw new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [r.path] });
          return { status: 200, body: xml, headers: { 'Content-Type': 'application/xml' } };
        },
      },
    },
    {
      pattern: `${V1}/Registries`,
      handlers: {
        GET: () =>
          ok(
            collection(
              `${V1}/Registries`,
              'MessageRegistryFileCollection',
              'Registry File Collection',
              Object.keys(regs).map((k) => `${V1}/Registries/${k}`),
            ),
          ),
      },
    },
    {
      pattern: `${V1}/Registries/{reg}`,
      handlers: {
        GET: (r) => {
          const g = regs[r.params.reg];
          if (!g) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['MessageRegistryFile', r.params.reg] });
          const id = String(g.body().Id);
          return ok({
            '@odata.id': `${V1}/Registries/${r.params.reg}`,
            '@odata.type': `#MessageRegistryFile.${SCHEMA_VERSIONS.MessageRegistryFile}.MessageRegistryFile`,
            Id: r.params.reg,
            Name: `${r.params.reg} Registry File`,
            Languages: ['en'],
            Registry: id.replace(/\.\d+$/, ''),
            Location: [{ Language: 'en', Uri: g.file }],
          });
        },
      },
    },
    {
      pattern: `${V1}/Registries/{reg}/{file}`,
      handlers: {
        GET: (r) => {
          const g = regs[r.params.reg];
          if (!g || g.file !== r.path) throw new RedfishError(404, { messageId: 'ResourceMissingAtURI', args: [r.path] });
          return ok(g.body());
        },
      },
    },
    {
      pattern: `${V1}/AccountService`,
      handlers: {
        GET: () =>
          ok({
            '@odata.id': `${V1}/AccountService`,
            '@odata.type': `#AccountService.${SCHEMA_VERSIONS.AccountService}.AccountService`,
            Id: 'AccountService',
            Name: 'Account Service',
            ServiceEnabled: true,
            MinPasswordLength: 1,
            MaxPasswordLength: 20,
            AuthFailureLoggingThreshold: 3,
            AccountLockoutThreshold: 0,
            LocalAccountAuth: 'Enabled',
            Status: { State: 'Enabled', Health: 'OK' },
            Accounts: ref(`${V1}/AccountService/Accounts`),
            Roles: ref(`${V1}/AccountService/Roles`),
          }),
      },
    },
    {
      pattern: `${V1}/AccountService/Accounts`,
      handlers: {
        GET: (r) => {
          const visible = ctx.auth.accounts.filter(
            (a) => a === r.principal?.account || [...a.systems].some((s) => r.principal?.account.systems.has(s)),
          );
          return ok(
            collection(
              `${V1}/AccountService/Accounts`,
              'ManagerAccountCollection',
              'Accounts Collection',
              visible.map((a) => `${V1}/AccountService/Accounts/${a.id}`),
            ),
          );
        },
      },
    },
    {
      pattern: `${V1}/AccountService/Accounts/{acct}`,
      handlers: {
        GET: (r) => {
          const a = ctx.auth.accounts.find((x) => x.id === r.params.acct);
          if (!a || !(a === r.principal?.account || [...a.systems].some((s) => r.principal?.account.systems.has(s))))
            throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['ManagerAccount', r.params.acct] });
          return ok({
            '@odata.id': `${V1}/AccountService/Accounts/${a.id}`,
            '@odata.type': `#ManagerAccount.${SCHEMA_VERSIONS.ManagerAccount}.ManagerAccount`,
            Id: a.id,
            Name: 'User Account',
            UserName: a.userName,
            Password: null,
            RoleId: a.roleId,
            Enabled: true,
            Locked: false,
            AccountTypes: ['Redfish', 'IPMI'],
            Links: { Role: ref(`${V1}/AccountService/Roles/${a.roleId}`) },
          });
        },
      },
    },
    {
      pattern: `${V1}/AccountService/Roles`,
      handlers: {
        GET: () =>
          ok(
            collection(
              `${V1}/AccountService/Roles`,
              'RoleCollection',
              'Roles Collection',
              Object.keys(roles).map((k) => `${V1}/AccountService/Roles/${k}`),
            ),
          ),
      },
    },
    {
      pattern: `${V1}/AccountService/Roles/{role}`,
      handlers: {
        GET: (r) => {
          const p = roles[r.params.role as keyof typeof roles];
          if (!p) throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Role', r.params.role] });
          return ok({
            '@odata.id': `${V1}/AccountService/Roles/${r.params.role}`,
            '@odata.type': `#Role.${SCHEMA_VERSIONS.Role}.Role`,
            Id: r.params.role,
            Name: `${r.params.role} Role`,
            RoleId: r.params.role,
            IsPredefined: true,
            AssignedPrivileges: p,
          });
        },
      },
    },
    {
      pattern: `${V1}/SessionService`,
      handlers: {
        GET: () => ok(sessionServiceBody()),
        PATCH: (r) => {
          const c = checkPatch(r.body, { SessionTimeout: int(30, 86400) }, sessionServiceBody()) as { SessionTimeout?: number };
          if (c.SessionTimeout !== undefined) ctx.auth.sessionTimeoutS = c.SessionTimeout;
          return ok(sessionServiceBody());
        },
      },
    },
    {
      pattern: `${V1}/SessionService/Sessions`,
      public: ['POST'],
      handlers: {
        GET: (r) => {
          const mine = ctx.auth.activeSessions().filter((s) => s.account === r.principal?.account);
          return ok(
            collection(
              `${V1}/SessionService/Sessions`,
              'SessionCollection',
              'Session Collection',
              mine.map((s) => `${V1}/SessionService/Sessions/${s.id}`),
            ),
          );
        },
        POST: (r) => {
          const b = (r.body ?? {}) as Record<string, unknown>;
          for (const k of Object.keys(b))
            if (!['UserName', 'Password', 'Context', 'Oem'].includes(k))
              throw new RedfishError(400, { messageId: 'PropertyUnknown', args: [k], property: k });
          const s = ctx.auth.login(b.UserName, b.Password, r.raw.socket.remoteAddress ?? '');
          return {
            status: 201,
            headers: { Location: `${V1}/SessionService/Sessions/${s.id}`, 'X-Auth-Token': s.token },
            body: sessionBody(s),
          };
        },
      },
    },
    {
      pattern: `${V1}/SessionService/Sessions/{session}`,
      handlers: {
        GET: (r) => {
          const s = ctx.auth.sessions.get(r.params.session);
          if (!s || s.account !== r.principal?.account)
            throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Session', r.params.session] });
          return ok(sessionBody(s));
        },
        DELETE: (r) => {
          const s = ctx.auth.sessions.get(r.params.session);
          if (!s || s.account !== r.principal?.account)
            throw new RedfishError(404, { messageId: 'ResourceNotFound', args: ['Session', r.params.session] });
          ctx.auth.remove(s.id);
          return { status: 204 };
        },
      },
    },
  ];
}
