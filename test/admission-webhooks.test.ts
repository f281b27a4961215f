// Admission webhooks registered through the standard objects are called as kube-apiserver calls
// them: a real HTTPS webhook server here receives AdmissionReviews; mutations, denials and
// failure policies are observed through kubectl.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { cleanup, kubectl, ROOT, startTestServer, tempDir } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type Review = {
  request: {
    uid: string;
    operation: string;
    name: string;
    object: Record<string, never> | null;
    oldObject: Record<string, never> | null;
    dryRun: boolean;
  };
};

describe('admission webhooks', () => {
  let srv: Srv;
  let hook: Server;
  let hookDir: string;
  let caBundle: string;
  let base: string;
  const seen: Review['request'][] = [];
  const k = (args: string[], input?: string) => kubectl(srv.kubeconfigPath, args, { input });

  before(async () => {
    srv = await startTestServer();
    assert.equal((await k(['apply', '-f', join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml')])).code, 0);
    hookDir = tempDir();
    const creds = await loadOrCreateCredentials(hookDir, ['127.0.0.1']);
    caBundle = Buffer.from(creds.caPem).toString('base64');
    hook = createServer({ cert: creds.certPem, key: creds.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        const review = JSON.parse(body) as Review;
        const r = review.request;
        seen.push(r);
        let response: Record<string, unknown> = { uid: r.uid, allowed: true };
        if (req.url === '/mutate' && r.object) {
          const ops: unknown[] = [];
          const o = r.object as unknown as { metadata: { labels?: object }; spec?: { size?: string } };
          if (!o.metadata.labels) ops.push({ op: 'add', path: '/metadata/labels', value: {} });
          ops.push({ op: 'add', path: '/metadata/labels/mutated', value: r.operation.toLowerCase() });
          if (!o.spec?.size) ops.push({ op: 'add', path: '/spec/size', value: 'large' });
          response = { ...response, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
        }
        if (req.url === '/validate') {
          const obj = (r.object ?? r.oldObject) as unknown as { metadata: { name: string; labels?: Record<string, string> } };
          if (r.operation === 'CREATE' && obj.metadata.name === 'forbidden') {
            response = { uid: r.uid, allowed: false, status: { code: 403, reason: 'Forbidden', message: 'forbidden names are forbidden' } };
          }
          if (r.operation === 'DELETE' && obj.metadata.labels?.protect === 'true') {
            response = { uid: r.uid, allowed: false, status: { message: 'this widget is protected' } };
          }
        }
        res.setHeader('content-type', 'application/json');
        const reply = () => res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
        // a slow webhook on one object makes concurrent writes to it overlap for certain
        if (r.name === 'contended') setTimeout(reply, 150);
        else reply();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    base = `https://127.0.0.1:${(hook.address() as AddressInfo).port}`;
    const rules = `rules: [{operations: ["CREATE", "UPDATE", "DELETE"], apiGroups: ["test.ferrite.dev"], apiVersions: ["v1"], resources: ["widgets"]}]`;
    const cfg = `apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: widgets}
webhooks:
- name: default.test.ferrite.dev
  clientConfig: {url: "${base}/mutate", caBundle: ${caBundle}}
  ${rules}
  sideEffects: None
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: widgets}
webhooks:
- name: deny.test.ferrite.dev
  clientConfig: {url: "${base}/validate", caBundle: ${caBundle}}
  ${rules}
  sideEffects: None
  admissionReviewVersions: [v1]
`;
    const r = await k(['apply', '-f', '-'], cfg);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    hook.closeAllConnections();
    await new Promise((r) => hook.close(() => r(undefined)));
    await srv.close();
    cleanup(srv.dir);
    cleanup(hookDir);
  });

  it('mutates before schema validation: a required field defaulted by the webhook is accepted', async () => {
    const r = await k(['apply', '-f', '-'], 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {replicas: 2}\n');
    assert.equal(r.code, 0, r.stderr);
    const got = await k(['get', 'widget', 'w1', '-o', 'jsonpath={.spec.size} {.metadata.labels.mutated}']);
    assert.equal(got.stdout, 'large create');
    const create = seen.find((x) => x.operation === 'CREATE' && x.name === 'w1');
    assert.ok(create, 'the webhook received the CREATE review');
    assert.equal(create.oldObject, null);
  });

  it('sends UPDATE reviews with the old object and applies their patches', async () => {
    const r = await k(['patch', 'widget', 'w1', '--type', 'merge', '-p', '{"spec":{"replicas":3}}']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await k(['get', 'widget', 'w1', '-o', 'jsonpath={.metadata.labels.mutated}'])).stdout, 'update');
    const upd = seen.findLast((x) => x.operation === 'UPDATE' && x.name === 'w1');
    assert.ok(upd, 'the webhook received the UPDATE review');
    assert.equal((upd.oldObject as unknown as { spec: { replicas: number } }).spec.replicas, 2);
  });

  it('rejects what a validating webhook denies, with its message and code', async () => {
    const r = await k(
      ['apply', '-f', '-'],
      'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: forbidden}\nspec: {size: small}\n',
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /admission webhook "deny.test.ferrite.dev" denied the request: forbidden names are forbidden/);
    assert.notEqual((await k(['get', 'widget', 'forbidden'])).code, 0, 'nothing was stored');
  });

  it('validates deletes: a denied delete leaves the object in place', async () => {
    await k(['label', 'widget', 'w1', 'protect=true']);
    const r = await k(['delete', 'widget', 'w1', '--wait=false']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /this widget is protected/);
    assert.equal((await k(['get', 'widget', 'w1'])).code, 0);
    await k(['label', 'widget', 'w1', 'protect-']);
    assert.equal((await k(['delete', 'widget', 'w1'])).code, 0);
  });

  it('re-applies a patch to the fresh object when another write lands while webhooks run; a resourceVersion in the patch stays a precondition', async () => {
    const made = await k(
      ['apply', '-f', '-'],
      'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: contended}\nspec: {size: small}\n',
    );
    assert.equal(made.code, 0, made.stderr);
    const rv = (await k(['get', 'widget', 'contended', '-o', 'jsonpath={.metadata.resourceVersion}'])).stdout;
    const writers = ['a', 'b', 'c', 'd'].map((x) =>
      k(['patch', 'widget', 'contended', '--type', 'merge', '-p', JSON.stringify({ metadata: { labels: { [`writer-${x}`]: 'yes' } } })]),
    );
    for (const r of await Promise.all(writers)) assert.equal(r.code, 0, r.stderr);
    const labels = JSON.parse((await k(['get', 'widget', 'contended', '-o', 'jsonpath={.metadata.labels}'])).stdout) as Record<
      string,
      string
    >;
    for (const x of ['a', 'b', 'c', 'd']) assert.equal(labels[`writer-${x}`], 'yes', `writer ${x}'s label survived`);
    const stale = await k([
      'patch',
      'widget',
      'contended',
      '--type',
      'merge',
      '-p',
      JSON.stringify({ metadata: { resourceVersion: rv, labels: { late: 'yes' } } }),
    ]);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /the object has been modified/);
  });

  it('honours dry run (sideEffects None) and failurePolicy', async () => {
    const dry = await k(
      ['create', '--dry-run=server', '-o', 'jsonpath={.spec.size}', '-f', '-'],
      'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: dry}\nspec: {}\n',
    );
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, 'large');
    assert.equal(seen.findLast((x) => x.name === 'dry')?.dryRun, true);
    const broken = (policy: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: unreachable}
webhooks:
- name: unreachable.test.ferrite.dev
  clientConfig: {url: "https://127.0.0.1:1/validate", caBundle: ${caBundle}}
  rules: [{operations: ["CREATE"], apiGroups: ["test.ferrite.dev"], apiVersions: ["*"], resources: ["widgets"]}]
  failurePolicy: ${policy}
  sideEffects: None
  timeoutSeconds: 2
  admissionReviewVersions: [v1]
`;
    assert.equal((await k(['apply', '-f', '-'], broken('Ignore'))).code, 0);
    const ok = await k(['apply', '-f', '-'], 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: w2}\nspec: {size: small}\n');
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await k(['apply', '-f', '-'], broken('Fail'))).code, 0);
    const fail = await k(
      ['apply', '-f', '-'],
      'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: small}\n',
    );
    assert.notEqual(fail.code, 0);
    assert.match(fail.stderr, /failed calling webhook "unreachable.test.ferrite.dev"/);
    // webhook configurations themselves are never subject to webhooks, so the bad one can go
    assert.equal((await k(['delete', 'validatingwebhookconfiguration', 'unreachable'])).code, 0);
    assert.equal(
      (await k(['apply', '-f', '-'], 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: w3}\nspec: {size: small}\n')).code,
      0,
    );
  });
});
