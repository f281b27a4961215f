// Ferrite's own API groups convert between served versions inside the server (no webhook):
// a converter registered for the group is used on writes, reads and lists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, http, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type O = Record<string, unknown> & { apiVersion: string; spec?: Record<string, unknown> };

describe('native conversion', () => {
  let srv: Srv;
  before(async () => {
    srv = await startTestServer();
    // v1alpha1 spells the field `hostName`, v1beta1 (storage) `hostname`
    srv.core.registry.registerConverter('native.ferrite.dev', (o, to) => {
      const spec = { ...((o.spec as Record<string, unknown>) ?? {}) };
      if (to.endsWith('/v1alpha1')) {
        spec.hostName = spec.hostname;
        delete spec.hostname;
      } else {
        spec.hostname = spec.hostName;
        delete spec.hostName;
      }
      return { ...o, apiVersion: to, spec };
    });
    const schema = {
      openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    };
    const r = await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'hosts.native.ferrite.dev' },
      spec: {
        group: 'native.ferrite.dev',
        scope: 'Namespaced',
        names: { kind: 'Host', plural: 'hosts' },
        versions: [
          { name: 'v1beta1', served: true, storage: true, schema },
          { name: 'v1alpha1', served: true, storage: false, schema },
        ],
      },
    });
    assert.equal(r.status, 201, r.body);
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  it('writes in one version and reads in the other', async () => {
    const c = await http(srv, 'POST', '/apis/native.ferrite.dev/v1alpha1/namespaces/default/hosts', {
      apiVersion: 'native.ferrite.dev/v1alpha1',
      kind: 'Host',
      metadata: { name: 'h1' },
      spec: { hostName: 'node-0' },
    });
    assert.equal(c.status, 201, c.body);
    assert.deepEqual((c.json() as O).spec, { hostName: 'node-0' });
    const stored = (await http(srv, 'GET', '/apis/native.ferrite.dev/v1beta1/namespaces/default/hosts/h1')).json() as O;
    assert.equal(stored.apiVersion, 'native.ferrite.dev/v1beta1');
    assert.deepEqual(stored.spec, { hostname: 'node-0' });
    const list = (await http(srv, 'GET', '/apis/native.ferrite.dev/v1alpha1/namespaces/default/hosts')).json() as { items: O[] };
    assert.deepEqual(list.items[0].spec, { hostName: 'node-0' });
  });
});
