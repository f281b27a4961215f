// CRDs with `conversion.strategy: Webhook`: objects are converted between served versions by a
// real HTTPS ConversionReview webhook, on writes, reads, lists and watches.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadOrCreateCredentials } from '../provider/apiserver/pki.js';
import { cleanup, http, startTestServer, tempDir } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;
type O = Record<string, unknown> & { apiVersion: string; spec?: Record<string, unknown> };

// v1 stores spec.size; v2 nests it as spec.dimensions.size
function convert(o: O, to: string): O {
  if (o.apiVersion === to) return o;
  const spec = { ...(o.spec ?? {}) };
  if (to.endsWith('/v2')) {
    const size = spec.size;
    delete spec.size;
    return { ...o, apiVersion: to, spec: { ...spec, dimensions: { size } } };
  }
  const dims = (spec.dimensions ?? {}) as { size?: string };
  delete spec.dimensions;
  return { ...o, apiVersion: to, spec: { ...spec, size: dims.size } };
}

describe('conversion webhooks', () => {
  let srv: Srv;
  let hook: Server;
  let hookDir: string;
  let reviews = 0;
  let broken = false;
  const v1 = '/apis/test.ferrite.dev/v1/namespaces/default/gizmos';
  const v2 = '/apis/test.ferrite.dev/v2/namespaces/default/gizmos';

  before(async () => {
    srv = await startTestServer();
    hookDir = tempDir();
    const creds = await loadOrCreateCredentials(hookDir, ['127.0.0.1']);
    hook = createServer({ cert: creds.certPem, key: creds.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        reviews++;
        const r = JSON.parse(body).request as { uid: string; desiredAPIVersion: string; objects: O[] };
        const response = broken
          ? { uid: r.uid, result: { status: 'Failure', message: 'the converter is broken' } }
          : { uid: r.uid, result: { status: 'Success' }, convertedObjects: r.objects.map((o) => convert(o, r.desiredAPIVersion)) };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', response }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    const url = `https://127.0.0.1:${(hook.address() as AddressInfo).port}/convert`;
    const schema = {
      openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
    };
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gizmos.test.ferrite.dev' },
      spec: {
        group: 'test.ferrite.dev',
        scope: 'Namespaced',
        names: { kind: 'Gizmo', plural: 'gizmos' },
        versions: [
          { name: 'v1', served: true, storage: true, schema },
          { name: 'v2', served: true, storage: false, schema },
        ],
        conversion: {
          strategy: 'Webhook',
          webhook: { conversionReviewVersions: ['v1'], clientConfig: { url, caBundle: Buffer.from(creds.caPem).toString('base64') } },
        },
      },
    };
    const r = await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    assert.equal(r.status, 201, r.body);
  });
  after(async () => {
    hook.closeAllConnections();
    await new Promise((r) => hook.close(() => r(undefined)));
    await srv.close();
    cleanup(srv.dir);
    cleanup(hookDir);
  });

  it('stores a v2 object in the v1 storage version and reads it back in either', async () => {
    const c = await http(srv, 'POST', v2, {
      apiVersion: 'test.ferrite.dev/v2',
      kind: 'Gizmo',
      metadata: { name: 'g1' },
      spec: { dimensions: { size: 'xl' } },
    });
    assert.equal(c.status, 201, c.body);
    assert.deepEqual(c.json().spec, { dimensions: { size: 'xl' } }, 'the response is in the request version');
    const asV1 = (await http(srv, 'GET', `${v1}/g1`)).json();
    assert.equal(asV1.apiVersion, 'test.ferrite.dev/v1');
    assert.deepEqual(asV1.spec, { size: 'xl' });
    const list = (await http(srv, 'GET', v2)).json() as { apiVersion: string; items: O[] };
    assert.equal(list.apiVersion, 'test.ferrite.dev/v2');
    assert.deepEqual(list.items[0].spec, { dimensions: { size: 'xl' } });
    assert.ok(reviews >= 3);
  });

  it('converts watch events in order', async () => {
    const events = new Promise<string[]>((resolve, reject) => {
      const out: string[] = [];
      const req = request(
        new URL(`${v2}?watch=true&resourceVersion=0`, srv.url),
        { ca: srv.caPem, headers: { authorization: `Bearer ${srv.token}` } },
        (res) => {
          let buf = '';
          res.on('data', (d: Buffer) => {
            buf += d;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const ev = JSON.parse(buf.slice(0, i)) as { type: string; object: O };
              buf = buf.slice(i + 1);
              out.push(
                `${ev.type}:${(ev.object.metadata as { name: string }).name}:${(ev.object.spec?.dimensions as { size?: string } | undefined)?.size}`,
              );
              if (out.length === 3) {
                req.destroy();
                resolve(out);
              }
            }
          });
        },
      );
      req.on('error', (e) => (out.length === 3 ? undefined : reject(e)));
      req.end();
    });
    await new Promise((r) => setTimeout(r, 100));
    await http(srv, 'POST', v1, { apiVersion: 'test.ferrite.dev/v1', kind: 'Gizmo', metadata: { name: 'g2' }, spec: { size: 's' } });
    await http(srv, 'PATCH', `${v1}/g2`, { spec: { size: 'm' } }, { contentType: 'application/merge-patch+json' });
    assert.deepEqual(await events, ['ADDED:g1:xl', 'ADDED:g2:s', 'MODIFIED:g2:m']);
  });

  it('fails requests clearly when the webhook fails, without touching stored data', async () => {
    broken = true;
    try {
      const r = await http(srv, 'GET', `${v2}/g1`);
      assert.equal(r.status, 500);
      assert.match(r.json().message as string, /conversion webhook for Gizmo failed: the converter is broken/);
      const w = await http(srv, 'POST', v2, {
        apiVersion: 'test.ferrite.dev/v2',
        kind: 'Gizmo',
        metadata: { name: 'g3' },
        spec: { dimensions: { size: 'l' } },
      });
      assert.equal(w.status, 500);
      // reads in the storage version need no conversion
      assert.equal((await http(srv, 'GET', `${v1}/g1`)).status, 200);
      assert.equal((await http(srv, 'GET', `${v1}/g3`)).status, 404);
    } finally {
      broken = false;
    }
  });

  it('refuses a Webhook strategy without a client config', async () => {
    const r = await http(srv, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'things.test.ferrite.dev' },
      spec: {
        group: 'test.ferrite.dev',
        scope: 'Namespaced',
        names: { kind: 'Thing', plural: 'things' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object' } } }],
        conversion: { strategy: 'Webhook' },
      },
    });
    assert.equal(r.status, 422);
    assert.match(r.json().message as string, /spec.conversion.webhook.clientConfig: Required value/);
  });
});
