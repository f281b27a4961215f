// The per-host companion kinds (metal3.io/v1alpha1), each named like its BareMetalHost:
// HardwareData, PreprovisioningImage, DataImage and BMCEventSubscription, as upstream's *_types.go.
import { z } from 'zod';
import type { KindDefinition } from '../../crdgen.js';
import { condition, hardwareDetails, secretRef } from './baremetalhost.js';

const age = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const HardwareDataKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'HardwareData',
  plural: 'hardwaredata',
  listKind: 'HardwareDataList',
  shortNames: ['hd'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'HardwareData is the Schema for the hardwaredata API.',
      schema: z.object({
        spec: z
          .object({ hardware: hardwareDetails.optional().describe('What inspection found.') })
          .optional()
          .describe("The host's hardware, named like its BareMetalHost."),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of HardwareData' }],
    },
  ],
};

export const PreprovisioningImageKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'PreprovisioningImage',
  plural: 'preprovisioningimages',
  shortNames: ['ppimg'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'PreprovisioningImage is the Schema for the preprovisioningimages API.',
      status: true,
      schema: z.object({
        spec: z
          .object({
            networkDataName: z.string().optional().describe('The Secret with the network configuration to build into the image.'),
            architecture: z.string().optional().describe('The CPU architecture the image is for.'),
            acceptFormats: z
              .array(z.enum(['iso', 'initrd']))
              .optional()
              .describe('The formats the host can boot, best first.'),
          })
          .optional()
          .describe('The agent image a host needs.'),
        status: z
          .object({
            imageUrl: z.string().optional().describe('Where the image is.'),
            kernelUrl: z.string().optional().describe('Where the kernel is, for an initrd image.'),
            extraKernelParams: z.string().optional().describe('Kernel parameters the image needs.'),
            format: z.enum(['iso', 'initrd']).optional().describe("The image's format."),
            networkData: z
              .object({
                name: z.string().optional().describe("The Secret's name."),
                version: z.string().optional().describe("The Secret's resourceVersion the image was built with."),
              })
              .optional()
              .describe('The network configuration built into the image.'),
            architecture: z.string().optional().describe('The CPU architecture the image is for.'),
            conditions: z.array(condition).optional().describe('Ready (the image is built) and Error.'),
          })
          .optional()
          .describe('The image built.'),
      }),
      printerColumns: [
        {
          name: 'Ready',
          type: 'string',
          jsonPath: ".status.conditions[?(@.type=='Ready')].status",
          description: 'Whether the image is ready',
        },
        {
          name: 'Reason',
          type: 'string',
          jsonPath: ".status.conditions[?(@.type=='Ready')].reason",
          description: 'The reason for the image readiness status',
        },
      ],
    },
  ],
};

export const DataImageKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'DataImage',
  plural: 'dataimages',
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'DataImage is the Schema for the dataimages API.',
      status: true,
      schema: z.object({
        spec: z
          .object({ url: z.string().describe('The ISO to attach to the host as a virtual CD.') })
          .optional()
          .describe('The image to attach, named like its BareMetalHost.'),
        status: z
          .object({
            lastReconciled: z.string().meta({ format: 'date-time' }).optional().describe('When the attachment was last checked.'),
            attachedImage: z
              .object({ url: z.string().describe('The ISO attached.') })
              .optional()
              .describe('What is attached now.'),
            error: z
              .object({
                count: z.number().int().describe('Failed attempts in a row.'),
                message: z.string().describe('The last failure.'),
              })
              .optional()
              .describe('The last failure to attach or detach.'),
          })
          .optional()
          .describe('What is attached.'),
      }),
    },
  ],
};

export const BMCEventSubscriptionKind: KindDefinition = {
  group: 'metal3.io',
  kind: 'BMCEventSubscription',
  plural: 'bmceventsubscriptions',
  shortNames: ['bes', 'bmcevent'],
  scope: 'Namespaced',
  versions: [
    {
      name: 'v1alpha1',
      description: 'BMCEventSubscription is the Schema for the fast eventing API.',
      status: true,
      schema: z.object({
        spec: z
          .object({
            hostName: z.string().optional().describe('The BareMetalHost whose BMC sends the events.'),
            destination: z.string().optional().describe('The URL the BMC posts its events to.'),
            context: z.string().optional().describe('A string the BMC passes back with every event.'),
            httpHeadersRef: secretRef.optional().describe('A Secret with HTTP headers the BMC sends with every event.'),
          })
          .optional()
          .describe("The subscription to the BMC's Redfish events."),
        status: z
          .object({
            subscriptionID: z.string().optional().describe("The subscription's ID in the BMC."),
            error: z.string().optional().describe('Why the subscription failed.'),
          })
          .optional()
          .describe('The subscription as the BMC has it.'),
      }),
      printerColumns: [
        { name: 'Error', type: 'string', jsonPath: '.status.error', description: 'The most recent error' },
        { ...age, description: 'Time duration since creation of BMCEventSubscription' },
      ],
    },
  ],
};
