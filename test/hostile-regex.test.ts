// Regular expressions cannot freeze the embedded API server: OpenAPI `pattern` and CEL's
// matches()/find()/findAll() run in RE2 (linear time, Go's syntax) as in kube-apiserver. A
// catastrophic-backtracking pattern (^(a+)+$ against "aaaa…ab") answers at once; a pattern RE2
// cannot compile is refused when the CRD is created, as kube-apiserver refuses it. Costly CEL
// rules cannot either: as kube-apiserver does, a rule is priced against the sizes its schema allows
// when the CRD is created (over the per-call limit, or over the CRD's total: refused, in
// Kubernetes' words), and priced again over the object's actual sizes before it runs (over the
// limit or the request's budget: refused, nothing evaluated).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { evaluateRules } from '../provider/apiserver/cel.js';
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

const costCrd = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${name}s.cost.example.com` },
  spec: {
    group: 'cost.example.com',
    scope: 'Namespaced',
    names: {
      plural: `${name}s`,
      singular: name,
      kind: name[0].toUpperCase() + name.slice(1),
      listKind: `${name[0].toUpperCase()}${name.slice(1)}List`,
    },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec } } } }],
  },
});
const nested = 'self.l.all(a, self.l.all(b, self.l.all(c, a + b != c)))';
const list = (extra: Record<string, unknown> = {}) => ({ type: 'array', items: { type: 'string', maxLength: 16 }, ...extra });

describe('hostile regular expressions and costly CEL rules', () => {
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

  it('nested comprehensions over an unbounded list are refused with the CRD, in kube-apiserver words', async () => {
    const t = Date.now();
    const r = await http(
      srv,
      'POST',
      crds,
      costCrd('unbounded', { type: 'object', properties: { l: list() }, 'x-kubernetes-validations': [{ rule: nested }] }),
    );
    assert.equal(r.status, 422, r.body);
    const body = r.json() as { message: string; details: { causes: Array<{ reason: string; field: string; message: string }> } };
    assert.match(
      body.message,
      /x-kubernetes-validations\[0\]\.rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x/,
    );
    assert.ok(body.details.causes.some((c) => c.reason === 'FieldValueForbidden'));
    assert.ok(Date.now() - t < 1000, 'refused at once');
  });

  it('the same rule over a list with a small maxItems is within budget and enforced', async () => {
    const r = await http(
      srv,
      'POST',
      crds,
      costCrd('bounded', { type: 'object', properties: { l: list({ maxItems: 20 }) }, 'x-kubernetes-validations': [{ rule: nested }] }),
    );
    assert.equal(r.status, 201, r.body);
    await new Promise((res) => setTimeout(res, 500));
    const obj = (l: string[]) => ({ apiVersion: 'cost.example.com/v1', kind: 'Bounded', metadata: { name: `x${l.length}` }, spec: { l } });
    const path = '/apis/cost.example.com/v1/namespaces/default/boundeds';
    assert.equal((await http(srv, 'POST', path, obj(['a', 'b']))).status, 201);
    const bad = await http(srv, 'POST', path, obj(['a', '', 'a']));
    assert.equal(bad.status, 422, 'the rule still runs: "a" + "" equals "a"');
  });

  it('rules whose total over the schema is too costly are refused together, naming the ones that count', async () => {
    // cheap each, but counted once per element of two nested unbounded lists
    const r = await http(
      srv,
      'POST',
      crds,
      costCrd('total', {
        type: 'object',
        properties: {
          outer: {
            type: 'array',
            items: {
              type: 'array',
              items: { type: 'string', maxLength: 64, 'x-kubernetes-validations': [{ rule: "self.startsWith('a')" }] },
            },
          },
        },
      }),
    );
    assert.equal(r.status, 422, r.body);
    const msg = (r.json() as { message: string }).message;
    assert.match(
      msg,
      /openAPIV3Schema: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of/,
    );
    assert.match(msg, /contributed to estimated rule & messageExpression cost total exceeding cost limit/);
  });

  it('at run time a rule is priced over the actual sizes first: over the limit or the budget, nothing runs', () => {
    // a schema no CRD check saw (as one stored before the limits): the run-time bound still holds
    const schema = {
      type: 'object',
      properties: { l: { type: 'array', items: { type: 'string' } } },
      'x-kubernetes-validations': [{ rule: nested }],
    };
    const small = evaluateRules(schema, { l: ['a', 'b', 'c'] }, undefined);
    assert.deepEqual(small, [], 'three elements are cheap and pass');
    const t = Date.now();
    const big = evaluateRules(schema, { l: Array.from({ length: 300 }, (_, i) => `s${i}`) }, undefined);
    assert.ok(Date.now() - t < 1000, `bounded in time (${Date.now() - t} ms)`);
    assert.equal(big.length, 1);
    assert.match(
      big[0].message,
      /'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self\.l\.all/,
    );
    // twenty rules of ~750k each: the 10M request budget runs out part way
    const many = {
      type: 'object',
      properties: { l: { type: 'array', items: { type: 'string' } } },
      'x-kubernetes-validations': Array.from({ length: 20 }, () => ({ rule: 'self.l.all(a, self.l.all(b, a != b || a == b))' })),
    };
    const out = evaluateRules(many, { l: Array.from({ length: 250 }, (_, i) => `s${i}`) }, undefined);
    assert.equal(out.length, 1, JSON.stringify(out));
    assert.match(out[0].message, /validation failed due to running out of cost budget, no further validation rules will be run/);
  });
});
