// Switch-side networking of hosts (metal3.io/v1alpha1), as upstream's operator has it on main:
// BareMetalSwitch (a top-of-rack switch Ironic's networking configures) and HostNetworkAttachment
// (the switchport settings a BareMetalHost's spec.networkInterfaces[] point at). Field names,
// enums, defaults, bounds and patterns as upstream's baremetalswitch_types.go and
// hostnetworkattachment_types.go.
import { z } from 'zod';
import { type KindDefinition, REQUIRED_WITH_DEFAULT } from '../../crdgen.js';
import { condition } from './baremetalhost.js';

export const MAC_PATTERN = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the object was created' };

export const BareMetalSwitchKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'BareMetalSwitch',
  plural: 'baremetalswitches',
  shortNames: ['bms'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'BareMetalSwitch is a top-of-rack switch whose ports Ironic configures for the hosts cabled to it.',
      status: true,
      schema: z.object({
        spec: z
          .object({
            address: z.string().describe('Where the switch is reached: an IP address or a host name.'),
            port: z
              .number()
              .int()
              .min(1)
              .max(65535)
              .meta({ format: 'int32' })
              .optional()
              .describe('The management port (SSH by default) when it is not the protocol’s usual one.'),
            macAddress: z
              .string()
              .regex(MAC_PATTERN)
              .describe('The MAC of the switch’s management interface: how LLDP data and switchPort.switchID name this switch.'),
            deviceType: z
              .string()
              .describe('The switch’s operating system as the generic-switch driver names it (netmiko_cisco_ios, netmiko_arista_eos, …).'),
            driver: z
              .enum(['generic-switch'])
              .default('generic-switch')
              .describe('The Ironic networking driver that configures the switch; generic-switch is the only one.'),
            credentials: z
              .object({
                name: z.string().optional().describe('The Secret’s name.'),
                namespace: z.string().optional().describe('The Secret’s namespace.'),
              })
              .meta({ 'x-kubernetes-map-type': 'atomic' })
              .optional()
              .describe('The Secret with the login: username plus password or ssh-privatekey (admin-password to escalate).'),
            disableCertificateVerification: z
              .boolean()
              .optional()
              .describe('Accept any certificate when the switch is reached over HTTPS (self-signed ones); insecure.'),
          })
          .optional()
          .describe('Where the switch is and how to log in.'),
        status: z
          .object({
            conditions: z
              .array(condition)
              .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
              .optional()
              .describe('Valid: whether the switch’s description and credentials can be used.'),
          })
          .optional()
          .describe('What the operator found.'),
      }),
      printerColumns: [
        { name: 'Driver', type: 'string', jsonPath: '.spec.driver', description: 'The networking driver' },
        { name: 'Device Type', type: 'string', jsonPath: '.spec.deviceType', description: 'The switch operating system' },
        { name: 'Address', type: 'string', jsonPath: '.spec.address', description: 'Where the switch is reached' },
        { name: 'Valid', type: 'string', jsonPath: '.status.conditions[?(@.type=="Valid")].status', description: 'Whether it is usable' },
      ],
    },
  ],
};

const attachmentSpec = z.object({
  mode: z
    .enum(['access', 'trunk', 'hybrid'])
    .default('access')
    .meta({ [REQUIRED_WITH_DEFAULT]: true })
    .describe('access: one untagged VLAN; trunk: tagged VLANs; hybrid: the native VLAN untagged plus tagged ones.'),
  nativeVLAN: z.number().int().min(1).max(4094).describe('The untagged VLAN of the port.'),
  allowedVLANs: z
    .array(z.string().regex(/^\d+(-\d+)?$/))
    .optional()
    .describe('The tagged VLANs a trunk or hybrid port carries: IDs ("100") or ranges ("100-200").'),
  mtu: z.number().int().min(68).max(9216).optional().describe('The largest frame the port passes; the network’s default when empty.'),
});

export interface HostNetworkAttachment {
  apiVersion: 'metal3.io/v1alpha1';
  kind: 'HostNetworkAttachment';
  metadata: import('../../../kube/client.js').KubeObject['metadata'] & { name: string; namespace: string };
  spec: z.input<typeof attachmentSpec>;
}

export const HostNetworkAttachmentKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostNetworkAttachment',
  plural: 'hostnetworkattachments',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description:
        'HostNetworkAttachment is a switchport configuration (mode, VLANs, MTU) for host interfaces; its spec cannot change while a host uses it.',
      status: true,
      schema: z.object({
        spec: attachmentSpec.optional().describe('The switchport settings.'),
      }),
      printerColumns: [
        { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'Switchport mode' },
        { name: 'Native VLAN', type: 'integer', jsonPath: '.spec.nativeVLAN', description: 'The untagged VLAN' },
        age,
      ],
    },
  ],
};
