// Watch semantics as client-go relies on them: WatchList (sendInitialEvents) with the
// initial-events-end bookmark, resume from a resourceVersion, 410 for a compacted one, and
// parameter validation.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { cleanup, http, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

function watchLines(srv: Srv, path: string, count: number): Promise<Array<{ type: string; object: Record<string, unknown> }>> {
  return new Promise((resolve, reject) => {
    const out: Array<{ type: string; object: Record<string, unknown> }> = [];
    const req = request(new URL(path, srv.url), { ca: srv.caPem, headers: { authorization: `Bearer ${srv.token}` } }, (res) => {
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          out.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
          if (out.length >= count) {
            req.destroy();
            resolve(out);
            return;
          }
        }
      });
      res.on('end', () => resolve(out));
    });
    req.on('error', (e) => (out.length >= count ? undefined : reject(e)));
    req.end();
  });
}

describe('watch', () => {
  let srv: Srv;
  const cms = '/api/v1/namespaces/default/configmaps';
  before(async () => {
    srv = await startTestServer({ historySize: 5 });
    for (const n of ['a', 'b']) assert.equal((await http(srv, 'POST', cms, { metadata: { name: n } })).status, 201);
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  it('sendInitialEvents streams current state then the initial-events-end bookmark', async () => {
    const lines = await watchLines(
      srv,
      `${cms}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
      3,
    );
    assert.deepEqual(
      lines.map((l) => l.type),
      ['ADDED', 'ADDED', 'BOOKMARK'],
    );
    const md = lines[2].object.metadata as { annotations: Record<string, string>; resourceVersion: string };
    assert.equal(md.annotations['k8s.io/initial-events-end'], 'true');
    assert.ok(Number(md.resourceVersion) > 0);
  });

  it('rejects sendInitialEvents without resourceVersionMatch=NotOlderThan (422) so clients fall back', async () => {
    const r = await http(srv, 'GET', `${cms}?watch=true&sendInitialEvents=true`);
    assert.equal(r.status, 422);
    assert.equal(r.json().reason, 'Invalid');
  });

  it('resumes from a resourceVersion and reports 410 Expired once history has moved on', async () => {
    const list = (await http(srv, 'GET', cms)).json() as { metadata: { resourceVersion: string } };
    const rv = list.metadata.resourceVersion;
    const pending = watchLines(srv, `${cms}?watch=true&resourceVersion=${rv}`, 2);
    await new Promise((r) => setTimeout(r, 100));
    await http(srv, 'POST', cms, { metadata: { name: 'c' } });
    await http(srv, 'DELETE', `${cms}/a`);
    const ev = await pending;
    assert.deepEqual(
      ev.map((e) => `${e.type}:${(e.object.metadata as { name: string }).name}`),
      ['ADDED:c', 'DELETED:a'],
    );
    for (let i = 0; i < 10; i++) await http(srv, 'POST', cms, { metadata: { name: `x${i}` } });
    const expired = await watchLines(srv, `${cms}?watch=true&resourceVersion=${rv}`, 1);
    assert.equal(expired[0].type, 'ERROR');
    assert.equal(expired[0].object.code, 410);
    assert.equal(expired[0].object.reason, 'Expired');
  });

  it('paginates with limit/continue and filters by label', async () => {
    const page1 = (await http(srv, 'GET', `${cms}?limit=3`)).json() as { items: unknown[]; metadata: { continue?: string } };
    assert.equal(page1.items.length, 3);
    assert.ok(page1.metadata.continue);
    const page2 = (await http(srv, 'GET', `${cms}?limit=100&continue=${page1.metadata.continue}`)).json() as {
      items: unknown[];
      metadata: { continue?: string };
    };
    const total = (await http(srv, 'GET', cms)).json() as { items: unknown[] };
    assert.equal(page1.items.length + page2.items.length, total.items.length);
    assert.equal(page2.metadata.continue, undefined);
    const bad = await http(srv, 'GET', `${cms}?limit=1&continue=garbage!`);
    assert.equal(bad.status, 400);
  });
});

describe('consistent lists', () => {
  let srv: Srv;
  const cms = '/api/v1/namespaces/default/configmaps';
  before(async () => {
    srv = await startTestServer({ historySize: 50 });
    for (const n of ['a', 'b', 'c', 'd'])
      assert.equal((await http(srv, 'POST', cms, { metadata: { name: n }, data: { v: '1' } })).status, 201);
  });
  after(async () => {
    await srv.close();
    cleanup(srv.dir);
  });

  type L = { items: Array<{ metadata: { name: string }; data?: { v: string } }>; metadata: { continue?: string; resourceVersion: string } };

  it('serves every page of a paginated list from the first page’s resourceVersion', async () => {
    const p1 = (await http(srv, 'GET', `${cms}?limit=2`)).json() as L;
    assert.deepEqual(
      p1.items.map((i) => i.metadata.name),
      ['a', 'b'],
    );
    // writes between the pages must not show up in the second page
    await http(srv, 'DELETE', `${cms}/c`);
    await http(srv, 'POST', cms, { metadata: { name: 'bb' } });
    await http(srv, 'PATCH', `${cms}/d`, { data: { v: '2' } }, { contentType: 'application/merge-patch+json' });
    const p2 = (await http(srv, 'GET', `${cms}?limit=10&continue=${p1.metadata.continue}`)).json() as L;
    assert.deepEqual(
      p2.items.map((i) => `${i.metadata.name}:${i.data?.v}`),
      ['c:1', 'd:1'],
    );
    assert.equal(p2.metadata.resourceVersion, p1.metadata.resourceVersion);
    const now = (await http(srv, 'GET', cms)).json() as L;
    assert.deepEqual(
      now.items.map((i) => i.metadata.name),
      ['a', 'b', 'bb', 'd'],
    );
  });

  it('lists an exact older resourceVersion, and answers 410 beyond the history', async () => {
    const before = (await http(srv, 'GET', cms)).json() as L;
    await http(srv, 'DELETE', `${cms}/a`);
    const exact = (
      await http(srv, 'GET', `${cms}?resourceVersion=${before.metadata.resourceVersion}&resourceVersionMatch=Exact`)
    ).json() as L;
    assert.ok(
      exact.items.some((i) => i.metadata.name === 'a'),
      'the deleted object is in the older snapshot',
    );
    assert.equal(exact.metadata.resourceVersion, before.metadata.resourceVersion);
    for (let i = 0; i < 60; i++) await http(srv, 'POST', cms, { metadata: { name: `z${i}` } });
    const gone = await http(srv, 'GET', `${cms}?resourceVersion=${before.metadata.resourceVersion}&resourceVersionMatch=Exact`);
    assert.equal(gone.status, 410);
    assert.equal(gone.json().reason, 'Expired');
  });
});
