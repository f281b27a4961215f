// Done-when 3: bad input gets a Kubernetes Status with the right code and reason, and neither
// the server nor the stored data is harmed.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { cleanup, http, ROOT, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

describe('bad input', () => {
  let srv: Srv;
  const base = '/apis/test.ferrite.dev/v1/namespaces/default/widgets';
  before(async () => {
    srv = await startTestServer({ maxBodyBytes: 64 * 1024 });
    const crd = YAML.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml'), 'utf8'));
    assert.equal((await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
    const r = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'keep' },
      spec: { size: 'small' },
    });
    assert.equal(r.status, 201, r.body);
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  const intact = async () => {
    const r = await http(srv, 'GET', `${base}/keep`);
    assert.equal(r.status, 200);
    assert.equal((r.json().spec as { size: string }).size, 'small');
  };

  it('schema-invalid object: 422 Invalid with field paths', async () => {
    const r = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'bad' },
      spec: { size: 'medium', replicas: 'three' },
    });
    assert.equal(r.status, 422);
    const s = r.json();
    assert.equal(s.kind, 'Status');
    assert.equal(s.reason, 'Invalid');
    const fields = ((s.details as { causes: Array<{ field: string }> }).causes ?? []).map((c) => c.field).sort();
    assert.deepEqual(fields, ['spec.replicas', 'spec.size']);
    const missing = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'bad' },
      spec: {},
    });
    assert.equal(missing.status, 422);
    assert.match(missing.json().message as string, /spec\.size: Required value/);
    const badName = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'Bad_Name' },
      spec: { size: 'small' },
    });
    assert.equal(badName.status, 422);
    assert.match(badName.json().message as string, /metadata\.name: Invalid value: "Bad_Name"/);
    await intact();
  });

  it('stale resourceVersion: 409 Conflict', async () => {
    const cur = (await http(srv, 'GET', `${base}/keep`)).json();
    const rv = (cur.metadata as { resourceVersion: string }).resourceVersion;
    const ok = await http(srv, 'PUT', `${base}/keep`, { ...cur, spec: { size: 'small', replicas: 2 } });
    assert.equal(ok.status, 200, ok.body);
    const stale = await http(srv, 'PUT', `${base}/keep`, {
      ...cur,
      metadata: { ...(cur.metadata as object), resourceVersion: rv },
      spec: { size: 'large' },
    });
    assert.equal(stale.status, 409);
    assert.equal(stale.json().reason, 'Conflict');
    assert.match(stale.json().message as string, /the object has been modified/);
    const lock = await http(
      srv,
      'PATCH',
      `${base}/keep`,
      { metadata: { resourceVersion: rv }, spec: { size: 'large' } },
      { contentType: 'application/merge-patch+json' },
    );
    assert.equal(lock.status, 409, 'a merge patch carrying a stale resourceVersion is refused');
    await intact();
  });

  it('a wrong token: 401 Unauthorized; none: 403 for system:anonymous; health endpoints stay public', async () => {
    const wrong = await http(srv, 'GET', base, undefined, { token: 'not-the-token' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json().reason, 'Unauthorized');
    const anon = await http(srv, 'GET', base, undefined, { token: null });
    assert.equal(anon.status, 403);
    assert.equal(anon.json().reason, 'Forbidden');
    assert.match(String(anon.json().message), /User "system:anonymous" cannot list resource/);
    for (const p of ['/healthz', '/livez', '/readyz', '/version']) {
      assert.equal((await http(srv, 'GET', p, undefined, { token: null })).status, 200, p);
    }
  });

  it('garbage JSON: 400 BadRequest', async () => {
    for (const body of ['{"apiVersion": ', 'not json at all', '[1,2,3]']) {
      const r = await http(srv, 'POST', base, body);
      assert.equal(r.status, 400, body);
      assert.equal(r.json().reason, 'BadRequest');
    }
    const badPatch = await http(srv, 'PATCH', `${base}/keep`, '{"op": "nonsense"}', { contentType: 'application/json-patch+json' });
    assert.equal(badPatch.status, 400);
    const badType = await http(srv, 'PATCH', `${base}/keep`, '{}', { contentType: 'text/plain' });
    assert.equal(badType.status, 415);
    const smpOnCr = await http(srv, 'PATCH', `${base}/keep`, '{}', { contentType: 'application/strategic-merge-patch+json' });
    assert.equal(smpOnCr.status, 415, 'strategic merge patch is for built-in kinds only');
    const badSelector = await http(srv, 'GET', `${base}?labelSelector=${encodeURIComponent('a in (b')}`);
    assert.equal(badSelector.status, 400);
    const badField = await http(srv, 'GET', `${base}?fieldSelector=spec.size%3Dsmall`);
    assert.equal(badField.status, 400);
    assert.match(badField.json().message as string, /field label not supported: spec.size/);
    await intact();
  });

  it('body over the limit: 413 RequestEntityTooLarge', async () => {
    const huge = {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'huge' },
      spec: { size: 'small', extra: { blob: 'x'.repeat(200 * 1024) } },
    };
    const r = await http(srv, 'POST', base, huge);
    assert.equal(r.status, 413);
    assert.equal(r.json().reason, 'RequestEntityTooLarge');
    assert.equal((await http(srv, 'GET', `${base}/huge`)).status, 404);
    await intact();
  });

  it('CRDs with invalid schemas or CEL rules are refused with a clear message', async () => {
    const crd = YAML.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml'), 'utf8'));
    crd.metadata.name = 'gadgets.test.ferrite.dev';
    crd.spec.names = { kind: 'Gadget', plural: 'gadgets' };
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec['x-kubernetes-validations'] = [{ rule: 'self.replicas <=' }];
    const r = await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    assert.equal(r.status, 422);
    assert.match(r.json().message as string, /x-kubernetes-validations\[0\]\.rule/);
    const noStorage = structuredClone(crd);
    noStorage.spec.versions[0].storage = false;
    noStorage.spec.versions[0]['x-kubernetes-validations'] = undefined;
    const r2 = await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', noStorage);
    assert.equal(r2.status, 422);
    assert.equal((await http(srv, 'GET', '/apis/test.ferrite.dev/v1/namespaces/default/gadgets')).status, 404, 'nothing got served');
  });

  it('unknown paths and methods: 404 and 405 as Status objects', async () => {
    const r = await http(srv, 'GET', '/apis/nope.example.com/v1/things');
    assert.equal(r.status, 404);
    assert.equal(r.json().kind, 'Status');
    const m = await http(srv, 'POST', `${base}/keep`, { a: 1 });
    assert.equal(m.status, 405);
    await intact();
  });

  it('no request deletes every namespace, nor the system ones (as kube-apiserver)', async () => {
    const all = await http(srv, 'DELETE', '/api/v1/namespaces');
    assert.equal(all.status, 405, all.body);
    assert.equal(all.json().reason, 'MethodNotAllowed');
    for (const ns of ['default', 'kube-system']) {
      const r = await http(srv, 'DELETE', `/api/v1/namespaces/${ns}`);
      assert.equal(r.status, 403, r.body);
      assert.equal(r.json().reason, 'Forbidden');
      assert.equal(r.json().message, `namespaces "${ns}" is forbidden: this namespace may not be deleted`);
      assert.equal((await http(srv, 'GET', `/api/v1/namespaces/${ns}`)).status, 200);
    }
    await intact();
  });

  it('a SelfSubjectAccessReview without metadata is answered, one without attributes is 422 (not 500)', async () => {
    const path = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';
    const ok = await http(srv, 'POST', path, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'get', resource: 'pods' } },
    });
    assert.equal(ok.status, 201, ok.body);
    assert.equal((ok.json().status as { allowed: boolean }).allowed, true);
    const bad = await http(srv, 'POST', path, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview' });
    assert.equal(bad.status, 422, bad.body);
    assert.match(String(bad.json().message), /exactly one of nonResourceAttributes or resourceAttributes must be specified/);
    await intact();
  });

  it('nulls where the schema allows none are pruned before defaulting and validation, as kube-apiserver does', async () => {
    const r = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'nulls' },
      spec: { size: 'large', replicas: null, port: null },
    });
    assert.equal(r.status, 201, r.body);
    const spec = r.json().spec as Record<string, unknown>;
    assert.equal(spec.replicas, 1, 'the default fills a pruned null');
    assert.ok(!('port' in spec), 'a null without a default is dropped');
    const st = await http(srv, 'PUT', `${base}/nulls/status`, { ...r.json(), status: { replicas: null, conditions: null } });
    assert.equal(st.status, 200, st.body);
    assert.deepEqual(st.json().status, {});
    const req = await http(srv, 'POST', base, {
      apiVersion: 'test.ferrite.dev/v1',
      kind: 'Widget',
      metadata: { name: 'n2' },
      spec: { size: null },
    });
    assert.equal(req.status, 422, 'a pruned required field is then missing');
    assert.match(String(req.json().message), /spec\.size: Required value/);
    await intact();
  });
});
