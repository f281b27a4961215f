// Done-when 1: Debian's/the machine's real kubectl against the embedded API server.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, eventually, http, kubectl, kubectlStream, ROOT, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

describe('kubectl against the embedded API server', () => {
  let srv: Srv;
  let kc: string;
  const k = (...args: string[]) => kubectl(kc, args);
  const ok = async (...args: string[]) => {
    const r = await k(...args);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    srv = await startTestServer();
    kc = srv.kubeconfigPath;
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  it('applies the generated CRDs and a sample BareMetalHost, and prints its columns', async () => {
    const out = await ok('apply', '-f', join(ROOT, 'crds'));
    assert.match(out, /customresourcedefinition.apiextensions.k8s.io\/baremetalhosts.metal3.io created/);
    await ok('wait', '--for=condition=Established', 'crd/baremetalhosts.metal3.io', '--timeout=10s');
    const manifest = join(srv.dir, 'bmh.yaml');
    writeFileSync(
      manifest,
      `apiVersion: v1
kind: Secret
metadata: {name: node-0-bmc-secret}
stringData: {username: admin, password: password}
---
apiVersion: metal3.io/v1alpha1
kind: BareMetalHost
metadata: {name: node-0, labels: {role: worker}}
spec:
  online: true
  bootMACAddress: "00:5c:52:31:3a:9c"
  bmc: {address: "redfish+http://127.0.0.1:8000/redfish/v1/Systems/1", credentialsName: node-0-bmc-secret}
`,
    );
    assert.match(await ok('apply', '-f', manifest), /baremetalhost.metal3.io\/node-0 created/);
    const table = await ok('get', 'bmh');
    assert.match(table.split('\n')[0], /^NAME\s+STATE\s+CONSUMER\s+ONLINE\s+ERROR\s+AGE$/);
    assert.match(table, /^node-0\s+true\s+\d+s$/m);
    const wide = await ok('get', 'bmh', '-o', 'wide');
    assert.match(wide, /redfish\+http:\/\/127\.0\.0\.1:8000/);
    // a second client-side apply is a no-op
    assert.match(await ok('apply', '-f', manifest), /baremetalhost.metal3.io\/node-0 unchanged/);
    // secret data arrived base64-encoded from stringData
    assert.equal(
      await ok('get', 'secret', 'node-0-bmc-secret', '-o', 'jsonpath={.data.username}'),
      Buffer.from('admin').toString('base64'),
    );
  });

  it('explains a kind from the OpenAPI v3 generated from the CRD schema', async () => {
    const out = await ok('explain', 'baremetalhost.spec');
    assert.match(out, /KIND:\s+BareMetalHost/);
    assert.match(out, /bmc\s+<Object>/);
    assert.match(out, /online\s+<boolean> -required-/);
  });

  it('installs a CRD with defaults and CEL, rejects invalid objects with field paths', async () => {
    await ok('apply', '-f', join(ROOT, 'test', 'fixtures', 'widgets-crd.yaml'));
    await ok('wait', '--for=condition=Established', 'crd/widgets.test.ferrite.dev', '--timeout=10s');
    const bad = await kubectl(kc, ['apply', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: huge}\n',
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.size: Unsupported value: "huge": supported values: "small", "large"/);
    const cel = await kubectl(kc, ['apply', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: small, replicas: 20}\n',
    });
    assert.notEqual(cel.code, 0);
    assert.match(cel.stderr, /replicas must not exceed maxReplicas/);
    const unknown = await kubectl(kc, ['apply', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: small, colour: red}\n',
    });
    assert.notEqual(unknown.code, 0, 'kubectl apply validates strictly through the server');
    assert.match(unknown.stderr, /unknown field "spec.colour"/);
    const dry = await kubectl(kc, ['create', '--dry-run=server', '-o', 'jsonpath={.spec.replicas}', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: dry}\nspec: {size: small}\n',
    });
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, '1', 'dry run returns the defaulted object');
    assert.notEqual((await k('get', 'widget', 'dry')).code, 0, 'dry run stored nothing');
  });

  it('streams changes with get -w, patches by merge and JSON patch, scales', async () => {
    await kubectl(kc, ['apply', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {size: small}\n',
    });
    assert.equal(await ok('get', 'widget', 'w1', '-o', 'jsonpath={.spec.replicas}/{.spec.maxReplicas}/{.metadata.generation}'), '1/10/1');
    const watch = kubectlStream(kc, ['get', 'widgets', '-w']);
    try {
      await watch.waitFor(/w1\s+small\s+1\s+/);
      await ok('patch', 'widget', 'w1', '--type', 'merge', '-p', '{"spec":{"size":"large"}}');
      await watch.waitFor(/w1\s+large\s+1\s+/);
      await ok('patch', 'widget', 'w1', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]');
      await watch.waitFor(/w1\s+large\s+3\s+/);
      await ok('scale', 'widget', 'w1', '--replicas=5');
      await watch.waitFor(/w1\s+large\s+5\s+/);
    } finally {
      watch.stop();
    }
    assert.equal(await ok('get', 'widget', 'w1', '-o', 'jsonpath={.metadata.generation}'), '4');
  });

  it('server-side applies with field managers and reports conflicts', async () => {
    const manifest = 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: ssa}\nspec: {size: small, replicas: 2}\n';
    const r1 = await kubectl(kc, ['apply', '--server-side', '--field-manager=alice', '-f', '-'], { input: manifest });
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stdout, /widget.test.ferrite.dev\/ssa serverside-applied/);
    const conflict = await kubectl(kc, ['apply', '--server-side', '--field-manager=bob', '-f', '-'], {
      input: manifest.replace('replicas: 2', 'replicas: 4'),
    });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict with "alice"/);
    const forced = await kubectl(kc, ['apply', '--server-side', '--field-manager=bob', '--force-conflicts', '-f', '-'], {
      input: manifest.replace('replicas: 2', 'replicas: 4'),
    });
    assert.equal(forced.code, 0, forced.stderr);
    const managers = JSON.parse(await ok('get', 'widget', 'ssa', '-o', 'json', '--show-managed-fields')).metadata.managedFields as Array<{
      manager: string;
      operation: string;
      fieldsV1: { 'f:spec'?: Record<string, unknown> };
    }>;
    const bob = managers.find((m) => m.manager === 'bob');
    const alice = managers.find((m) => m.manager === 'alice');
    assert.ok(bob?.fieldsV1['f:spec']?.['f:replicas'], 'bob owns replicas after forcing');
    assert.equal(alice?.fieldsV1['f:spec']?.['f:replicas'], undefined, 'alice lost replicas');
    assert.ok(alice?.fieldsV1['f:spec']?.['f:size'], 'alice still co-owns size');
    // alice stops applying replicas: bob still owns them, so they stay
    const r2 = await kubectl(kc, ['apply', '--server-side', '--field-manager=alice', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: ssa}\nspec: {size: small}\n',
    });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await ok('get', 'widget', 'ssa', '-o', 'jsonpath={.spec.replicas}'), '4');
  });

  it('waits for a condition written through the status subresource', async () => {
    const waiter = k('wait', '--for=condition=Ready', 'widget/w1', '--timeout=20s');
    await new Promise((r) => setTimeout(r, 500));
    await ok(
      'patch',
      'widget',
      'w1',
      '--subresource=status',
      '--type',
      'merge',
      '-p',
      '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"Done","message":"ready"}]}}',
    );
    const r = await waiter;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /widget.test.ferrite.dev\/w1 condition met/);
    // a status write does not bump generation; spec is untouched
    assert.equal(await ok('get', 'widget', 'w1', '-o', 'jsonpath={.metadata.generation}'), '4');
  });

  it('shows events and describes an object with its events', async () => {
    const uid = await ok('get', 'widget', 'w1', '-o', 'jsonpath={.metadata.uid}');
    const ev = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'w1.1', namespace: 'default' },
      involvedObject: { apiVersion: 'test.ferrite.dev/v1', kind: 'Widget', name: 'w1', namespace: 'default', uid },
      reason: 'Polished',
      message: 'the widget was polished',
      type: 'Normal',
      source: { component: 'widget-controller' },
      firstTimestamp: new Date().toISOString(),
      lastTimestamp: new Date().toISOString(),
      count: 1,
    };
    const r = await http(srv, 'POST', '/api/v1/namespaces/default/events', ev);
    assert.equal(r.status, 201, r.body);
    const events = await ok('get', 'events');
    assert.match(events, /Normal\s+Polished\s+widget\/w1\s+the widget was polished/);
    const desc = await ok('describe', 'widget', 'w1');
    assert.match(desc, /Name:\s+w1/);
    assert.match(desc, /Normal\s+Polished\s+.*the widget was polished/);
  });

  it('auth can-i: kubectl sends a protobuf SelfSubjectAccessReview and reads the answer', async () => {
    for (const args of [
      ['get', 'pods'],
      ['create', 'baremetalhosts.metal3.io', '-n', 'metal3'],
      ['get', '/healthz'],
    ]) {
      const r = await kubectl(kc, ['auth', 'can-i', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), 'yes');
    }
  });

  it('defers delete until finalizers are removed', async () => {
    await kubectl(kc, ['apply', '-f', '-'], {
      input:
        'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: fin, finalizers: [test.ferrite.dev/hold]}\nspec: {size: small}\n',
    });
    const del = k('delete', 'widget', 'fin', '--timeout=20s');
    await eventually(
      async () => (await ok('get', 'widget', 'fin', '-o', 'jsonpath={.metadata.deletionTimestamp}')) !== '',
      'deletionTimestamp',
    );
    let done = false;
    void del.then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(done, false, 'kubectl delete waits while the finalizer is present');
    await ok('patch', 'widget', 'fin', '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]');
    const r = await del;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /widget.test.ferrite.dev "fin" deleted/);
    const gone = await k('get', 'widget', 'fin');
    assert.match(gone.stderr, /NotFound|not found/);
  });

  it('cascades namespace deletion and garbage-collects dependents', async () => {
    await ok('create', 'namespace', 'scratch');
    await kubectl(kc, ['apply', '-n', 'scratch', '-f', '-'], {
      input: 'apiVersion: test.ferrite.dev/v1\nkind: Widget\nmetadata: {name: owner}\nspec: {size: small}\n',
    });
    const ownerUid = await ok('get', '-n', 'scratch', 'widget', 'owner', '-o', 'jsonpath={.metadata.uid}');
    await kubectl(kc, ['apply', '-n', 'scratch', '-f', '-'], {
      input: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dependent\n  ownerReferences: [{apiVersion: test.ferrite.dev/v1, kind: Widget, name: owner, uid: ${ownerUid}}]\ndata: {a: b}\n`,
    });
    await ok('create', 'configmap', 'other', '-n', 'scratch', '--from-literal=x=y');
    await ok('delete', '-n', 'scratch', 'widget', 'owner');
    await eventually(async () => (await k('get', '-n', 'scratch', 'configmap', 'dependent')).code !== 0, 'dependent collected');
    // written naming an owner that is already gone (as when a collection was missed): collected too
    await kubectl(kc, ['apply', '-n', 'scratch', '-f', '-'], {
      input: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n  ownerReferences: [{apiVersion: test.ferrite.dev/v1, kind: Widget, name: owner, uid: ${ownerUid}}]\ndata: {a: b}\n`,
    });
    await eventually(async () => (await k('get', '-n', 'scratch', 'configmap', 'late')).code !== 0, 'dependent of a gone owner collected');
    assert.equal((await k('get', '-n', 'scratch', 'configmap', 'other')).code, 0, 'unowned objects stay');
    const r = await k('delete', 'namespace', 'scratch', '--timeout=20s');
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual((await k('get', 'namespace', 'scratch')).code, 0);
    const leftovers = await http(srv, 'GET', '/api/v1/namespaces/scratch/configmaps');
    assert.equal(Array.isArray(leftovers.json().items) ? (leftovers.json().items as unknown[]).length : -1, 0);
  });
});
