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
      schema: z.object({ spec: z.object({ hardware: hardwareDetails.optional() }).optional() }),
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
            networkDataName: z.string().optional(),
            architecture: z.string().optional(),
            acceptFormats: z.array(z.enum(['iso', 'initrd'])).optional(),
          })
          .optional(),
        status: z
          .object({
            imageUrl: z.string().optional(),
            kernelUrl: z.string().optional(),
            extraKernelParams: z.string().optional(),
            format: z.enum(['iso', 'initrd']).optional(),
            networkData: z.object({ name: z.string().optional(), version: z.string().optional() }).optional(),
            architecture: z.string().optional(),
            conditions: z.array(condition).optional(),
          })
          .optional(),
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
        spec: z.object({ url: z.string() }).optional(),
        status: z
          .object({
            lastReconciled: z.string().optional(),
            attachedImage: z.object({ url: z.string() }).optional(),
            error: z.object({ count: z.number().int(), message: z.string() }).optional(),
          })
          .optional(),
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
            hostName: z.string().optional(),
            destination: z.string().optional(),
            context: z.string().optional(),
            httpHeadersRef: secretRef.optional(),
          })
          .optional(),
        status: z.object({ subscriptionID: z.string().optional(), error: z.string().optional() }).optional(),
      }),
      printerColumns: [
        { name: 'Error', type: 'string', jsonPath: '.status.error', description: 'The most recent error' },
        { ...age, description: 'Time duration since creation of BMCEventSubscription' },
      ],
    },
  ],
};
