// The firmware kinds (metal3.io/v1alpha1): FirmwareSchema, HostFirmwareSettings and
// HostFirmwareComponents, shaped as upstream's *_types.go so BMO-era manifests apply unchanged.
import { z } from 'zod';
import { intOrString, type KindDefinition } from '../../crdgen.js';
import { condition } from './baremetalhost.js';

const settingSchema = z.object({
  attribute_type: z
    .enum(['Enumeration', 'String', 'Integer', 'Boolean', 'Password'])
    .optional()
    .describe('The kind of value the setting takes.'),
  allowable_values: z.array(z.string()).optional().describe('The values an Enumeration takes.'),
  lower_bound: z.number().int().optional().describe('The smallest value an Integer takes.'),
  upper_bound: z.number().int().optional().describe('The largest value an Integer takes.'),
  min_length: z.number().int().optional().describe('The shortest a String may be.'),
  max_length: z.number().int().optional().describe('The longest a String may be.'),
  read_only: z.boolean().optional().describe('The setting cannot be changed.'),
  unique: z.boolean().optional().describe('No other setting may have the same value.'),
});

export const FirmwareSchemaKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'FirmwareSchema',
  plural: 'firmwareschemas',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'FirmwareSchema is the Schema for the firmwareschemas API.',
      schema: z.object({
        spec: z
          .object({
            hardwareVendor: z.string().optional().describe('The vendor of the machines the schema applies to.'),
            hardwareModel: z.string().optional().describe('The model of the machines the schema applies to.'),
            schema: z.record(z.string(), settingSchema).describe('Each BIOS setting with what values it takes.'),
          })
          .optional()
          .describe('The BIOS settings a kind of machine has, as its BMC describes them.'),
      }),
    },
  ],
};

export const HostFirmwareSettingsKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostFirmwareSettings',
  plural: 'hostfirmwaresettings',
  shortNames: ['hfs'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'HostFirmwareSettings is the Schema for the hostfirmwaresettings API.',
      status: true,
      schema: z.object({
        spec: z
          .object({
            settings: z.record(z.string(), intOrString).describe('BIOS settings to apply, by name; applied while the host is prepared.'),
          })
          .optional()
          .describe('The BIOS settings wanted.'),
        status: z
          .object({
            conditions: z.array(condition).optional().describe('Valid (the wanted settings fit the schema) and ChangeDetected.'),
            lastUpdated: z.string().meta({ format: 'date-time' }).optional().describe('When the status last changed.'),
            schema: z
              .object({
                name: z.string().describe("The FirmwareSchema's name."),
                namespace: z.string().describe("The FirmwareSchema's namespace."),
              })
              .optional()
              .describe('The FirmwareSchema the settings are checked against.'),
            settings: z.record(z.string(), z.string()).describe('Every BIOS setting and its current value, as the BMC reports them.'),
          })
          .optional()
          .describe('The BIOS settings the host has.'),
      }),
    },
  ],
};

const firmwareUpdate = z.object({
  component: z.string().describe('The firmware to update: bios, bmc, or nic:<id>.'),
  url: z.string().describe('Where the BMC downloads the new firmware from.'),
});

export const HostFirmwareComponentsKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostFirmwareComponents',
  plural: 'hostfirmwarecomponents',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'HostFirmwareComponents is the Schema for the hostfirmwarecomponents API.',
      status: true,
      schema: z.object({
        spec: z
          .object({ updates: z.array(firmwareUpdate).describe('Firmware to flash while the host is prepared.') })
          .optional()
          .describe('The firmware updates wanted.'),
        status: z
          .object({
            updates: z.array(firmwareUpdate).optional().describe('The updates last applied.'),
            components: z
              .array(
                z.object({
                  component: z.string().describe('The firmware component (bios, bmc, nic:<id>).'),
                  initialVersion: z.string().describe('The version found when the host was first seen.'),
                  currentVersion: z.string().optional().describe('The version running now.'),
                  lastVersionFlashed: z.string().optional().describe('The version of the last update flashed.'),
                  updatedAt: z.string().meta({ format: 'date-time' }).optional().describe('When it was last updated.'),
                }),
              )
              .optional()
              .describe('Each firmware component and its versions.'),
            lastUpdated: z.string().meta({ format: 'date-time' }).optional().describe('When the status last changed.'),
            conditions: z.array(condition).optional().describe('Valid (the updates name known components) and ChangeDetected.'),
          })
          .optional()
          .describe('The firmware the host has.'),
      }),
    },
  ],
};
