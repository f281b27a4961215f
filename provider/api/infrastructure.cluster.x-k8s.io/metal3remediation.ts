// Metal3Remediation and Metal3RemediationTemplate at v1beta2 (storage) and v1beta1: how a
// MachineHealthCheck's external remediation reboots an unhealthy host before giving up on it.
import { z } from 'zod';
import { age } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import { durationToSeconds, secondsToDuration } from '../versioning.js';
import { CAPM3_LABELS, GROUP } from './common.js';

type Obj = Record<string, unknown>;

const strategyV1beta2 = z.object({
  type: z.enum(['Reboot']).optional(),
  retryLimit: z.number().int().optional(),
  timeoutSeconds: z.number().int().optional(),
});
const strategyV1beta1 = z.object({
  type: z.enum(['Reboot']).optional(),
  retryLimit: z.number().int().optional(),
  timeout: z.string().optional(),
});
const status = z.object({
  phase: z.enum(['Running', 'Waiting', 'Deleting machine', 'Failed']).optional(),
  retryCount: z.number().int().optional(),
  lastRemediated: z.string().optional(),
});

const timeoutToHub = (o: Obj, base: string) => durationToSeconds(o, `${base}.timeout`, `${base}.timeoutSeconds`);
const timeoutFromHub = (o: Obj, base: string) => secondsToDuration(o, `${base}.timeoutSeconds`, `${base}.timeout`);

export const Metal3RemediationKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3Remediation',
  plural: 'metal3remediations',
  shortNames: ['m3r', 'm3remediation'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: (['v1beta2', 'v1beta1'] as const).map((name) => ({
    name,
    storage: name === 'v1beta2',
    status: true,
    description: 'Metal3Remediation is the Schema for the metal3remediations API.',
    schema: z.object({
      spec: z.object({ strategy: (name === 'v1beta2' ? strategyV1beta2 : strategyV1beta1).optional() }).optional(),
      status: status.optional(),
    }),
    printerColumns: [
      {
        name: 'Retry limit',
        type: 'string',
        jsonPath: '.spec.strategy.retryLimit',
        description: 'How many times remediation controller should attempt to remediate the host',
      },
      {
        name: 'Retry count',
        type: 'string',
        jsonPath: '.status.retryCount',
        description: 'How many times remediation controller has tried to remediate the node',
      },
      {
        name: 'Last Remediated',
        type: 'string',
        jsonPath: '.status.lastRemediated',
        description: 'Timestamp of the last remediation attempt',
      },
      { name: 'Strategy', type: 'string', jsonPath: '.spec.strategy.type', description: 'Type of the remediation strategy' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Phase of the remediation' },
    ],
  })),
  conversion: {
    toHub: (o) => timeoutToHub(o, 'spec.strategy'),
    fromHub: (o) => timeoutFromHub(o, 'spec.strategy'),
  },
};

export const Metal3RemediationTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3RemediationTemplate',
  plural: 'metal3remediationtemplates',
  shortNames: ['m3rt', 'm3remediationtemplate', 'm3remediationtemplates', 'metal3rt', 'metal3remediationtemplate'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: (['v1beta2', 'v1beta1'] as const).map((name) => ({
    name,
    storage: name === 'v1beta2',
    status: true,
    description: 'Metal3RemediationTemplate is the Schema for the metal3remediationtemplates API.',
    schema: z.object({
      spec: z
        .object({
          template: z
            .object({ spec: z.object({ strategy: (name === 'v1beta2' ? strategyV1beta2 : strategyV1beta1).optional() }).optional() })
            .optional(),
        })
        .optional(),
      status: z.object({ status: status.optional() }).optional(),
    }),
    printerColumns: [{ ...age, description: 'Time duration since creation of Metal3RemediationTemplate' }],
  })),
  conversion: {
    toHub: (o) => timeoutToHub(o, 'spec.template.spec.strategy'),
    fromHub: (o) => timeoutFromHub(o, 'spec.template.spec.strategy'),
  },
};
