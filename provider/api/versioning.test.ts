import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterKind } from './cluster.x-k8s.io/cluster.js';
import { CONVERSION_DATA, type ConversionContext, convertKind } from './versioning.js';

// biome-ignore lint/suspicious/noExplicitAny: the tests read deep into converted objects
type Any = any;
const ctx: ConversionContext = { apiVersionFor: (g) => `${g}/v1beta2` };
const conv = ClusterKind.conversion as NonNullable<typeof ClusterKind.conversion>;
const convert = (o: Record<string, unknown>, to: string) => convertKind(ClusterKind, conv, o, `cluster.x-k8s.io/${to}`, ctx);

describe('Cluster conversion', () => {
  const v1beta1 = {
    apiVersion: 'cluster.x-k8s.io/v1beta1',
    kind: 'Cluster',
    metadata: { name: 'test1', namespace: 'metal3' },
    spec: {
      clusterNetwork: { services: { cidrBlocks: ['10.96.0.0/12'] } },
      infrastructureRef: { apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta1', kind: 'Metal3Cluster', name: 'test1' },
      controlPlaneRef: { apiVersion: 'controlplane.cluster.x-k8s.io/v1beta1', kind: 'KubeadmControlPlane', name: 'test1' },
    },
    status: {
      infrastructureReady: true,
      controlPlaneReady: false,
      failureDomains: { b: { controlPlane: true }, a: { attributes: { rack: '1' } } },
      conditions: [{ type: 'Ready', status: 'False', severity: 'Info', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'x' }],
      v1beta2: { conditions: [{ type: 'Available', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'y' }] },
    },
  };

  it('moves v1beta1 fields to their v1beta2 places', () => {
    const hub = convert(v1beta1, 'v1beta2') as Any;
    assert.equal(hub.apiVersion, 'cluster.x-k8s.io/v1beta2');
    assert.deepEqual(hub.spec.infrastructureRef, { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'Metal3Cluster', name: 'test1' });
    assert.deepEqual(hub.status.initialization, { infrastructureProvisioned: true, controlPlaneInitialized: false });
    assert.deepEqual(hub.status.failureDomains, [
      { name: 'a', attributes: { rack: '1' } },
      { name: 'b', controlPlane: true },
    ]);
    assert.equal(hub.status.conditions[0].type, 'Available');
    assert.equal(hub.status.deprecated.v1beta1.conditions[0].severity, 'Info');
    assert.equal(hub.status.v1beta2, undefined);
  });

  it('spells references with the version the contract label names', () => {
    const back = convert(convert(v1beta1, 'v1beta2'), 'v1beta1') as Any;
    assert.deepEqual(back.spec.infrastructureRef, {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'Metal3Cluster',
      name: 'test1',
      namespace: 'metal3',
    });
    assert.deepEqual(back.status.failureDomains, v1beta1.status.failureDomains);
  });

  it('keeps what v1beta1 cannot say in the conversion-data annotation, and restores it', () => {
    const hub = {
      apiVersion: 'cluster.x-k8s.io/v1beta2',
      kind: 'Cluster',
      metadata: { name: 'c', namespace: 'ns' },
      spec: { paused: false, topology: { classRef: { name: 'cc' }, version: 'v1.36.0', rollout: { after: '2026-01-01T00:00:00Z' } } },
    };
    const spoke = convert(hub, 'v1beta1') as Any;
    assert.equal(spoke.spec.topology.class, 'cc');
    assert.ok(spoke.metadata.annotations[CONVERSION_DATA], 'paused:false and rollout.after do not survive without the annotation');
    const again = convert(spoke, 'v1beta2') as Any;
    assert.deepEqual(again.spec, hub.spec);
    assert.equal(again.metadata.annotations, undefined, 'the annotation is not shown at the hub');
  });
});
