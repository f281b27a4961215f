// The firmware kinds (metal3.io/v1alpha1): FirmwareSchema, HostFirmwareSettings and
// HostFirmwareComponents, shaped as upstream's *_types.go so BMO-era manifests apply unchanged.
import { z } from 'zod';
import { intOrString, type KindDefinition } from '../../crdgen.js';
import { condition } from './baremetalhost.js';

const settingSchema = z.object({
  attribute_type: z.enum(['Enumeration', 'String', 'Integer', 'Boolean', 'Password']).optional(),
  allowable_values: z.array(z.string()).optional(),
  lower_bound: z.number().int().optional(),
  upper_bound: z.number().int().optional(),
  min_length: z.number().int().optional(),
  max_length: z.number().int().optional(),
  read_only: z.boolean().optional(),
  unique: z.boolean().optional(),
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
            hardwareVendor: z.string().optional(),
            hardwareModel: z.string().optional(),
            schema: z.record(z.string(), settingSchema),
          })
          .optional(),
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
        spec: z.object({ settings: z.record(z.string(), intOrString) }).optional(),
        status: z
          .object({
            conditions: z.array(condition).optional(),
            lastUpdated: z.string().optional(),
            schema: z.object({ name: z.string(), namespace: z.string() }).optional(),
            settings: z.record(z.string(), z.string()),
          })
          .optional(),
      }),
    },
  ],
};

const firmwareUpdate = z.object({ component: z.string(), url: z.string() });

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
        spec: z.object({ updates: z.array(firmwareUpdate) }).optional(),
        status: z
          .object({
            updates: z.array(firmwareUpdate).optional(),
            components: z
              .array(
                z.object({
                  component: z.string(),
                  initialVersion: z.string(),
                  currentVersion: z.string().optional(),
                  lastVersionFlashed: z.string().optional(),
                  updatedAt: z.string().optional(),
                }),
              )
              .optional(),
            lastUpdated: z.string().optional(),
            conditions: z.array(condition).optional(),
          })
          .optional(),
      }),
    },
  ],
};
