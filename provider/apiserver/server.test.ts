import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { cleanup, startTestServer } from '../../test/helpers/apiserver.js';
import { KubeClient } from '../kube/client.js';
import type { ApiServer } from './server.js';

// Two servers in one process, as the BMC emulator runs one per workload cluster.
describe('API servers sharing a process', () => {
  let a: ApiServer & { dir: string };
  let b: ApiServer & { dir: string };
  before(async () => {
    a = await startTestServer({ inMemory: true });
    b = await startTestServer({ inMemory: true });
  });
  after(async () => {
    for (const s of [a, b]) {
      await s.close();
      cleanup(s.dir);
    }
  });

  const scrape = (s: ApiServer) =>
    new Promise<string>((resolve, reject) => {
      const req = request(`${s.url}/metrics`, { ca: s.caPem, headers: { authorization: `Bearer ${s.token}` } }, (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  const counted = async (s: ApiServer) =>
    ((await s.metrics.getSingleMetric('apiserver_request_total')?.get())?.values ?? [])
      .filter((v) => v.labels.resource === 'namespaces')
      .reduce((n, v) => n + v.value, 0);

  it('collect the process metrics once, so a GC or an event-loop tick is observed once', () => {
    for (const name of ['nodejs_gc_duration_seconds', 'nodejs_eventloop_lag_seconds', 'process_cpu_user_seconds_total']) {
      const m = a.metrics.getSingleMetric(name);
      assert.ok(m, `${name} is served`);
      assert.equal(b.metrics.getSingleMetric(name), m, `${name} is one metric for the process`);
    }
  });

  it('count each server’s requests apart and serve both kinds of metric', async () => {
    const client = KubeClient.fromFile(a.kubeconfigPath);
    try {
      const [beforeA, beforeB] = [await counted(a), await counted(b)];
      await client.list('v1', 'Namespace');
      assert.equal(await counted(a), beforeA + 1);
      assert.equal(await counted(b), beforeB, "a's request is not counted by b");
    } finally {
      client.close();
    }
    const text = await scrape(a);
    assert.match(text, /^# TYPE process_cpu_user_seconds_total counter$/m);
    assert.match(text, /^# TYPE apiserver_request_total counter$/m);
    assert.equal(text.match(/^# TYPE nodejs_gc_duration_seconds /gm)?.length, 1);
  });
});
