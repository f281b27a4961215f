import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMPONENTS, conversionCrdNames, leaseName, parseComponents, webhookConfigurations } from './controllers.js';

test('--controllers takes names, the kubeadm and all aliases, in any order, and refuses unknown ones', () => {
  assert.deepEqual(parseComponents('capm3,bmo'), ['bmo', 'capm3']);
  assert.deepEqual(parseComponents('kubeadm'), ['kubeadm-bootstrap', 'kubeadm-control-plane']);
  assert.deepEqual(parseComponents('all'), [...COMPONENTS]);
  assert.deepEqual(parseComponents(' ipam , ipam '), ['ipam']);
  assert.throws(() => parseComponents('bmo,capz'), /unknown controller set "capz"/);
  assert.throws(() => parseComponents(','), /name at least one/);
});

test('each subset elects on its own Lease; all of them on one', () => {
  assert.equal(leaseName(COMPONENTS), 'ferrite-controllers');
  assert.equal(leaseName(['bmo']), 'ferrite-bmo');
  assert.notEqual(leaseName(['ipam', 'capm3']), leaseName(['capm3']));
});

test('a component registers only its own webhooks and converts only its own CRDs', () => {
  assert.deepEqual(
    webhookConfigurations(['bmo'], () => ({ url: 'https://x' })).map((w) => w.metadata?.name),
    ['ferrite-bmo-validating-webhook-configuration'],
  );
  // Cluster API core's webhooks (ClusterClass, topology Clusters) are its own; IPAM has none
  const capiHooks = webhookConfigurations(['capi', 'ipam'], () => ({ url: 'https://x' }));
  assert.deepEqual(
    capiHooks.map((w) => w.metadata?.name),
    ['ferrite-capi-validating-webhook-configuration'],
  );
  assert.deepEqual(
    (capiHooks[0] as unknown as { webhooks: Array<{ rules: Array<{ resources: string[] }> }> }).webhooks.map(
      (h) => h.rules[0].resources[0],
    ),
    ['clusterclasses', 'clusters'],
  );
  assert.deepEqual(
    webhookConfigurations(['ipam'], () => ({ url: 'https://x' })),
    [],
  );
  const capi = conversionCrdNames(['capi']);
  assert.ok(capi.includes('clusters.cluster.x-k8s.io'));
  assert.ok(capi.every((n) => n.endsWith('.cluster.x-k8s.io') && !n.includes('infrastructure')));
  assert.deepEqual(conversionCrdNames(['bmo']), []);
});
