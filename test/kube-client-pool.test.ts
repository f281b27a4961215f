// The controllers' Kubernetes client keeps its connections: requests to one API server share a
// pooled TLS connection instead of paying a handshake each (issue 24's profile: over half of the
// controllers' CPU went to TLS set-up), and a workload client replaced by a new kubeconfig lets go
// of the old one's sockets.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../provider/kube/client.js';
import { cleanup, startTestServer } from './helpers/apiserver.js';

type Srv = Awaited<ReturnType<typeof startTestServer>>;

/** A TCP relay in front of the API server that counts the connections clients open. */
async function countingRelay(target: number): Promise<{ port: number; connections: () => number; open: Set<Socket>; server: Server }> {
  let n = 0;
  const open = new Set<Socket>();
  const server = createServer((c) => {
    n++;
    open.add(c);
    const up = connect(target, '127.0.0.1');
    c.pipe(up).pipe(c);
    const done = () => {
      open.delete(c);
      c.destroy();
      up.destroy();
    };
    c.on('error', done).on('close', done);
    up.on('error', done).on('close', done);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, connections: () => n, open, server };
}

describe('KubeClient connection pooling', () => {
  let srv: Srv;
  let relay: Awaited<ReturnType<typeof countingRelay>>;
  let kubeconfig: string;

  before(async () => {
    srv = await startTestServer();
    relay = await countingRelay(srv.port);
    kubeconfig = join(srv.dir, 'relay.kubeconfig');
    writeFileSync(kubeconfig, readFileSync(srv.kubeconfigPath, 'utf8').replace(`:${srv.port}`, `:${relay.port}`));
  });
  after(async () => {
    relay.server.close();
    for (const s of relay.open) s.destroy();
    await srv.close();
    cleanup(srv.dir);
  });

  it('sequential and parallel requests reuse a few TLS connections', async () => {
    const c = KubeClient.fromFile(kubeconfig);
    const before = relay.connections();
    for (let i = 0; i < 40; i++) await c.raw('GET', '/api/v1/namespaces/default');
    assert.equal(relay.connections() - before, 1, 'forty sequential GETs over one connection');
    await Promise.all(Array.from({ length: 20 }, () => c.raw('GET', '/api/v1/namespaces')));
    const total = relay.connections() - before;
    assert.ok(total <= 21, `twenty parallel GETs open at most twenty more connections (opened ${total})`);
    const settled = relay.connections();
    for (let i = 0; i < 20; i++) await c.raw('GET', '/version');
    assert.equal(relay.connections(), settled, 'the pool serves later requests without new connections');
    c.close();
  });

  it('a connection the server side closes is replaced, and the request still succeeds', async () => {
    const c = KubeClient.fromFile(kubeconfig);
    await c.raw('GET', '/version');
    for (const s of relay.open) s.destroy();
    // give the client a moment to see the close; a race with it is what the one retry covers
    await new Promise((r) => setTimeout(r, 50));
    const v = await c.raw('GET', '/version');
    assert.ok(v.gitVersion, 'answered after the pooled connection was closed');
    c.close();
  });

  it('close() drops the pooled sockets and an open watch', async () => {
    const c = KubeClient.fromFile(kubeconfig);
    const watch = await c.stream('/api/v1/namespaces?watch=true');
    const ended = new Promise<void>((r) => {
      watch.on('close', () => r());
      watch.on('error', () => r());
    });
    await c.raw('GET', '/version');
    assert.ok(relay.open.size >= 2, `a watch and a pooled connection are open (${relay.open.size})`);
    c.close();
    await ended;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(relay.open.size, 0, 'no connection left open after close()');
  });
});
