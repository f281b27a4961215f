// Done-when 4: kill -9 the API server during a write loop, restart it on the same data dir:
// every acknowledged object is there and resourceVersions keep increasing.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cleanup, http, ROOT, tempDir } from './helpers/apiserver.js';

interface Running {
  child: ChildProcess;
  url: string;
  caPem: string;
  token: string;
}

function launch(dir: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'apiserver', '--data-dir', dir, '--port', '0', '--no-crds'],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const m = /server: (https:\/\/\S+)/.exec(out);
      if (m) {
        resolve({
          child,
          url: m[1],
          caPem: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
          token: readFileSync(join(dir, 'pki', 'token'), 'utf8').trim(),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`apiserver exited early (${code}): ${out}`)));
  });
}

describe('durability', () => {
  const dir = tempDir();
  let current: Running | undefined;
  after(() => {
    current?.child.kill('SIGKILL');
    cleanup(dir);
  });

  it('keeps every acknowledged write across kill -9', async () => {
    current = await launch(dir);
    const srv = current;
    const acked = new Map<string, number>();
    let stop = false;
    // 4 concurrent writers; each write is acknowledged only by its 201 response
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `cm-${w}-${i}`;
        try {
          const r = await http(srv, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name }, data: { i: String(i) } });
          if (r.status === 201) acked.set(name, Number((r.json().metadata as { resourceVersion: string }).resourceVersion));
        } catch {
          return; // the server died mid-request: this write was never acknowledged
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    while (acked.size < 200) await new Promise((r) => setTimeout(r, 10));
    srv.child.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
    assert.ok(acked.size >= 200);

    current = await launch(dir);
    const list = await http(current, 'GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.status, 200);
    const body = list.json() as {
      items: Array<{ metadata: { name: string; resourceVersion: string }; data: { i: string } }>;
      metadata: { resourceVersion: string };
    };
    const have = new Map(body.items.map((o) => [o.metadata.name, o]));
    for (const [name, rv] of acked) {
      const o = have.get(name);
      assert.ok(o, `acknowledged ${name} survived`);
      assert.equal(Number(o.metadata.resourceVersion), rv);
      assert.equal(o.data.i, name.split('-')[2]);
    }
    const maxAcked = Math.max(...acked.values());
    const next = await http(current, 'POST', '/api/v1/namespaces/default/configmaps', { metadata: { name: 'after-restart' } });
    assert.equal(next.status, 201);
    assert.ok(Number((next.json().metadata as { resourceVersion: string }).resourceVersion) > maxAcked, 'resourceVersions continue');
    assert.ok(Number(body.metadata.resourceVersion) >= maxAcked);
  });
});
