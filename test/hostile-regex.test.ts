// Regular expressions cannot freeze the embedded API server: OpenAPI `pattern` and CEL's
// matches()/find()/findAll() run in RE2 (linear time, Go's syntax) as in kube-apiserver. A
// catastrophic-backtracking pattern (^(a+)+$ against "aaaa…ab") answers at once; a pattern RE2
// cannot compile is refused when the CRD is created, as kube-apiserver refuses it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, http, startTestServer } from './helpers/apiserver.js';

const crd = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'things.re.example.com' },
  spec: {
    group: 're.example.com',
    scope: 'Namespaced',
    names: { plural: 'things', singular: 'thing', kind: 'Thing', listKind: 'ThingList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: { spec: { type: 'object', properties: { a: { type: 'string', ...a }, b: { type: 'string', ...b } } } },
          },
        },
      },
    ],
  },
});

describe('hostile regular expressions', () => {
  let srv: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });
  const crds = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

  it('a pattern RE2 cannot compile is refused with the CRD, in kube-apiserver words', async () => {
    const r = await http(srv, 'POST', crds, crd({ pattern: '(?=x)y' }, {}));
    assert.equal(r.status, 422, r.body);
    assert.match(
      r.json().message as string,
      /pattern: Invalid value: "\(\?=x\)y": must be a valid regular expression, but isn't: error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/,
    );
  });

  it('a constant CEL regex RE2 cannot compile is refused with the CRD', async () => {
    const r = await http(srv, 'POST', crds, crd({}, { 'x-kubernetes-validations': [{ rule: "self.matches('(?<=x)y')" }] }));
    assert.equal(r.status, 422, r.body);
    assert.match(r.json().message as string, /invalid matches argument/);
  });

  it('catastrophic-backtracking patterns answer at once, in OpenAPI and in CEL', async () => {
    const ok = await http(
      srv,
      'POST',
      crds,
      crd({ pattern: '^(a+)+$' }, { 'x-kubernetes-validations': [{ rule: "self.matches('^(a+)+$') && self.find('(b+)+c') == ''" }] }),
    );
    assert.equal(ok.status, 201, ok.body);
    await new Promise((r) => setTimeout(r, 200));
    const evil = `${'a'.repeat(60)}b`;
    // with a backtracking engine each of these would take longer than the universe has left
    const r = await http(srv, 'POST', '/apis/re.example.com/v1/namespaces/default/things', {
      apiVersion: 're.example.com/v1',
      kind: 'Thing',
      metadata: { name: 't1' },
      spec: { a: evil, b: evil },
    });
    assert.equal(r.status, 422, r.body);
    assert.match(r.json().message as string, /spec\.a in body should match '\^\(a\+\)\+\$'/);
    assert.match(r.json().message as string, /spec\.b: Invalid value: .*failed rule/);
    const good = await http(srv, 'POST', '/apis/re.example.com/v1/namespaces/default/things', {
      apiVersion: 're.example.com/v1',
      kind: 'Thing',
      metadata: { name: 't2' },
      spec: { a: 'aaaa', b: 'aaaa' },
    });
    assert.equal(good.status, 201, good.body);
    // the server still answers everyone else
    assert.equal((await http(srv, 'GET', '/api/v1/namespaces')).status, 200);
  });
});
