// The newer metal3.io/v1alpha1 kinds upstream's operator (v0.13) watches or serves: HostClaim (a
// request for a host, in the workload's namespace), HostDeployPolicy (which namespaces may claim
// hosts from this one) and HostUpdatePolicy (when firmware changes apply to a provisioned host).
// Field names, enums and required fields as upstream's apis/metal3.io/v1alpha1 *_types.go.
import { z } from 'zod';
import type { KindDefinition } from '../../crdgen.js';
import { condition, image, objectRef, secretRef } from './baremetalhost.js';

const nameAndNamespace = z
  .object({
    namespace: z.string().describe('Namespace of the referenced object.'),
    name: z.string().describe('Name of the referenced object.'),
  })
  .describe('A reference to an object by name and namespace.');

const hostSelector = z
  .object({
    matchLabels: z.record(z.string(), z.string()).optional().describe('Labels a chosen BareMetalHost must carry, with these values.'),
    matchExpressions: z
      .array(
        z.object({
          key: z.string().describe('The label key the requirement applies to.'),
          operator: z.string().describe('How the key relates to the values: in, notin, exists, !, =, ==, !=, gt or lt.'),
          values: z.array(z.string()).describe('The values the operator compares with.'),
        }),
      )
      .optional()
      .describe('Label requirements a chosen BareMetalHost must meet.'),
    inNamespace: z
      .string()
      .optional()
      .describe('The one namespace the BareMetalHost must be in; any namespace whose policy allows it when empty.'),
  })
  .describe('Which BareMetalHosts a HostClaim may be bound to.');

export const HostClaimKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostClaim',
  plural: 'hostclaims',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'HostClaim asks for a bare-metal host to run a workload: what to boot, how to power it and which hosts qualify.',
      status: true,
      schema: z.object({
        spec: z
          .object({
            poweredOn: z.boolean().describe('Whether the claimed host should be powered on; changing it changes the power state.'),
            image: image.optional().describe('The image to provision; setting it starts provisioning of the claimed host.'),
            userData: secretRef.optional().describe('The Secret holding user data for the config drive (cloud-init and the like).'),
            networkData: secretRef.optional().describe('The Secret holding network configuration for the config drive.'),
            metaData: secretRef.optional().describe('The Secret holding host metadata (meta_data.json) for the config drive.'),
            customDeploy: z
              .object({ method: z.string().describe('The custom deploy step the deployment ramdisk provides.') })
              .optional()
              .describe('A custom deploy procedure instead of an image; setting it starts provisioning.'),
            hostSelector: hostSelector.optional(),
            consumerRef: objectRef.optional().describe('What uses the claim (a Machine when Cluster API drives it).'),
            failureDomain: z
              .string()
              .optional()
              .describe('A preferred failure domain: hosts labelled infrastructure.cluster.x-k8s.io/failure-domain with it come first.'),
          })
          .optional()
          .describe('What the claim asks for.'),
        status: z
          .object({
            lastUpdated: z.string().meta({ format: 'date-time' }).optional().describe('When the status last changed.'),
            conditions: z.array(condition).optional().describe('The claim’s conditions (Associated, Synchronized).'),
            bareMetalHost: nameAndNamespace.optional().describe('The BareMetalHost bound to the claim.'),
            hardwareData: nameAndNamespace.optional().describe('The HardwareData of the bound host.'),
            poweredOn: z.boolean().optional().describe('Whether the bound host is powered on.'),
          })
          .optional()
          .describe('What the claim has been given.'),
      }),
    },
  ],
};

export const HostDeployPolicyKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostDeployPolicy',
  plural: 'hostdeploypolicies',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: "HostDeployPolicy says which namespaces' HostClaims may be bound to the BareMetalHosts of its namespace.",
      status: true,
      schema: z.object({
        spec: z
          .object({
            hostClaimNamespaces: z
              .object({
                names: z.array(z.string()).optional().describe('Namespaces allowed by name.'),
                nameMatches: z.string().optional().describe('A regular expression namespace names must match.'),
                hasLabels: z
                  .array(
                    z.object({
                      name: z.string().describe('The label key.'),
                      value: z.string().optional().describe('The label value; any value when empty.'),
                    }),
                  )
                  .optional()
                  .describe('Labels a namespace must carry.'),
              })
              .optional()
              .describe('The namespaces whose HostClaims may use this namespace’s hosts (all conditions apply).'),
          })
          .optional()
          .describe('The policy.'),
        status: z.object({}).optional().describe('Nothing is reported.'),
      }),
    },
  ],
};

const updatePolicy = z.enum(['onPreparing', 'onReboot']);

export const HostUpdatePolicyKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HostUpdatePolicy',
  plural: 'hostupdatepolicies',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'HostUpdatePolicy, named like its BareMetalHost, says when firmware changes may apply to the host once provisioned.',
      schema: z.object({
        spec: z
          .object({
            firmwareSettings: updatePolicy
              .optional()
              .describe('When HostFirmwareSettings changes apply: onPreparing (only while preparing) or onReboot.'),
            firmwareUpdates: updatePolicy.optional().describe('When HostFirmwareComponents updates apply: onPreparing or onReboot.'),
          })
          .optional()
          .describe('The policy.'),
        status: z.object({}).optional().describe('Nothing is reported.'),
      }),
    },
  ],
};
