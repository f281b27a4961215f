// Metal3Machine and Metal3MachineTemplate at v1beta2 (storage) and v1beta1, as CAPM3 serves them.
import { z } from 'zod';
import { age, condition, deprecatedV1beta1, v1beta1Condition, v1beta2Status } from '../cluster.x-k8s.io/common.js';
import type { KindDefinition } from '../crdgen.js';
import { conditionsToV1beta1, conditionsToV1beta2, getPath, move, setPath } from '../versioning.js';
import {
  CAPM3_LABELS,
  GROUP,
  hostSelector,
  imageToV1beta1,
  imageToV1beta2,
  imageV1beta1,
  imageV1beta2,
  machineAddress,
  metal3ObjectRef,
  provisionedToReady,
  readyToProvisioned,
  refsToMetal3,
  refsToV1beta1,
  secretRef,
  v1beta1ObjectRef,
} from './common.js';

type Obj = Record<string, unknown>;

export const metal3MachineSpecV1beta2 = z.object({
  providerID: z.string().min(1).max(512).optional(),
  image: imageV1beta2.optional(),
  customDeploy: z.object({ method: z.string().optional() }).optional(),
  userData: secretRef.optional(),
  hostSelector: hostSelector.optional(),
  dataTemplate: metal3ObjectRef.optional(),
  metaData: secretRef.optional(),
  networkData: secretRef.optional(),
  automatedCleaningMode: z.enum(['metadata', 'disabled']).optional(),
  failureDomain: z.string().min(1).max(256).optional(),
});

const metal3MachineSpecV1beta1 = z.object({
  providerID: z.string().optional(),
  image: imageV1beta1.optional(),
  customDeploy: z.object({ method: z.string() }).optional(),
  userData: secretRef.optional(),
  hostSelector: hostSelector.optional(),
  dataTemplate: v1beta1ObjectRef.optional(),
  metaData: secretRef.optional(),
  networkData: secretRef.optional(),
  automatedCleaningMode: z.enum(['metadata', 'disabled']).optional(),
  failureDomain: z.string().optional(),
});

export type Metal3MachineSpec = z.infer<typeof metal3MachineSpecV1beta2>;

const metaTemplate = z.object({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

function machineToHub(o: Obj, base: string): Obj {
  let r = imageToV1beta2(o, `${base}.image`);
  r = refsToMetal3(r, [`${base}.dataTemplate`]);
  return r;
}

function machineFromHub(o: Obj, base: string): Obj {
  let r = imageToV1beta1(o, `${base}.image`);
  r = refsToV1beta1(r, [[`${base}.dataTemplate`, 'Metal3DataTemplate']]);
  return r;
}

export const Metal3MachineKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3Machine',
  plural: 'metal3machines',
  shortNames: ['m3m', 'm3machine', 'm3machines', 'metal3m', 'metal3machine'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      status: true,
      description: 'Metal3Machine is the Schema for the metal3machines API.',
      schema: z.object({
        spec: metal3MachineSpecV1beta2.optional(),
        status: z
          .object({
            conditions: z.array(condition).max(32).optional(),
            lastUpdated: z.string().optional(),
            addresses: z.array(machineAddress).max(32).optional(),
            initialization: z.object({ provisioned: z.boolean().optional() }).optional(),
            userData: secretRef.optional(),
            renderedData: metal3ObjectRef.optional(),
            metaData: secretRef.optional(),
            networkData: secretRef.optional(),
            deprecated: deprecatedV1beta1({ failureReason: z.string().optional(), failureMessage: z.string().optional() }).optional(),
          })
          .optional(),
      }),
      printerColumns: [
        { ...age, description: 'Time duration since creation of Metal3Machine' },
        { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID' },
        {
          name: 'Provisioned',
          type: 'string',
          jsonPath: '.status.initialization.provisioned',
          description: 'Metal3Machine is provisioned',
        },
        {
          name: 'Cluster',
          type: 'string',
          jsonPath: '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name',
          description: 'Cluster to which this M3Machine belongs',
        },
      ],
    },
    {
      name: 'v1beta1',
      storage: false,
      status: true,
      description: 'Metal3Machine is the Schema for the metal3machines API.',
      schema: z.object({
        spec: metal3MachineSpecV1beta1.optional(),
        status: z
          .object({
            lastUpdated: z.string().optional(),
            failureReason: z.string().optional(),
            failureMessage: z.string().optional(),
            addresses: z.array(machineAddress).optional(),
            phase: z.string().optional(),
            ready: z.boolean().optional(),
            userData: secretRef.optional(),
            renderedData: v1beta1ObjectRef.optional(),
            metaData: secretRef.optional(),
            networkData: secretRef.optional(),
            conditions: z.array(v1beta1Condition).optional(),
            v1beta2: v1beta2Status.optional(),
          })
          .optional(),
      }),
      printerColumns: [
        { ...age, description: 'Time duration since creation of Metal3Machine' },
        { name: 'ProviderID', type: 'string', jsonPath: '.spec.providerID', description: 'Provider ID' },
        { name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'metal3machine is Ready' },
        {
          name: 'Cluster',
          type: 'string',
          jsonPath: '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name',
          description: 'Cluster to which this M3Machine belongs',
        },
        { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'metal3machine current phase' },
      ],
    },
  ],
  conversion: {
    toHub(o) {
      let r = machineToHub(o, 'spec');
      r = conditionsToV1beta2(r);
      r = readyToProvisioned(r);
      r = setPath(r, 'status.phase', undefined);
      r = move(r, 'status.failureReason', 'status.deprecated.v1beta1.failureReason');
      r = move(r, 'status.failureMessage', 'status.deprecated.v1beta1.failureMessage');
      r = refsToMetal3(r, ['status.renderedData']);
      if (getPath(r, 'status') && Object.keys(getPath(r, 'status') as Obj).length === 0) r = setPath(r, 'status', undefined);
      return r;
    },
    fromHub(o) {
      let r = machineFromHub(o, 'spec');
      r = conditionsToV1beta1(r);
      r = move(r, 'status.deprecated.v1beta1.failureReason', 'status.failureReason');
      r = move(r, 'status.deprecated.v1beta1.failureMessage', 'status.failureMessage');
      r = provisionedToReady(r);
      r = refsToV1beta1(r, [['status.renderedData', 'Metal3Data']]);
      return r;
    },
  },
};

export const Metal3MachineTemplateKind: KindDefinition = {
  group: GROUP,
  kind: 'Metal3MachineTemplate',
  plural: 'metal3machinetemplates',
  shortNames: ['m3mt', 'm3machinetemplate', 'm3machinetemplates', 'metal3mt', 'metal3machinetemplate'],
  categories: ['cluster-api'],
  scope: 'Namespaced',
  labels: CAPM3_LABELS,
  versions: [
    {
      name: 'v1beta2',
      storage: true,
      description: 'Metal3MachineTemplate is the Schema for the metal3machinetemplates API.',
      schema: z.object({
        spec: z
          .object({
            template: z.object({ metadata: metaTemplate.optional(), spec: metal3MachineSpecV1beta2.optional() }).optional(),
            nodeReuse: z.boolean().optional(),
          })
          .optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3MachineTemplate' }],
    },
    {
      name: 'v1beta1',
      storage: false,
      description: 'Metal3MachineTemplate is the Schema for the metal3machinetemplates API.',
      schema: z.object({
        spec: z.object({ template: z.object({ spec: metal3MachineSpecV1beta1 }), nodeReuse: z.boolean().optional() }).optional(),
      }),
      printerColumns: [{ ...age, description: 'Time duration since creation of Metal3MachineTemplate' }],
    },
  ],
  conversion: {
    toHub: (o) => machineToHub(o, 'spec.template.spec'),
    fromHub(o) {
      const r = machineFromHub(o, 'spec.template.spec');
      return setPath(r, 'spec.template.metadata', undefined);
    },
  },
};
