import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonPathValue } from './table.js';

describe('printer column JSONPath', () => {
  const o = {
    metadata: { labels: { 'cluster.x-k8s.io/cluster-name': 'test1' } },
    status: {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Available', status: 'False' },
      ],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    },
  };

  it('reads fields, indexes and quoted keys', () => {
    assert.equal(jsonPathValue(o, '.status.phase'), 'Running');
    assert.equal(jsonPathValue(o, '.status.conditions[1].type'), 'Available');
    assert.equal(jsonPathValue(o, ".metadata.labels['cluster.x-k8s.io/cluster-name']"), 'test1');
    assert.equal(
      jsonPathValue(o, '.metadata.labels.cluster\\.x-k8s\\.io/cluster-name'),
      'test1',
      'escaped dots, as CAPM3 writes its column',
    );
  });

  it('filters a list as Cluster API columns do', () => {
    assert.equal(jsonPathValue(o, '.status.conditions[?(@.type=="Available")].status'), 'False');
    assert.equal(jsonPathValue(o, ".status.addresses[?(@.type=='InternalIP')].address"), '10.0.0.1');
    assert.equal(jsonPathValue(o, '.status.conditions[?(@.type=="Paused")].status'), undefined);
    assert.equal(jsonPathValue(o, '.status.phase[?(@.type=="x")]'), undefined);
  });
});
