// The load half of `bench:kube-client`: the mix of calls a reconciler sends, through one tree's
// KubeClient, against a running API server. Imports nothing but that client, so the bench can copy
// it into an older tree and measure that tree's client the same way. Prints one JSON line.
// Usage: tsx scripts/bench/kube-client-load.ts KUBECONFIG REQUESTS CONCURRENCY
import { KubeClient } from '../../provider/kube/client.js';

const [kubeconfig, requestsArg, concurrencyArg] = process.argv.slice(2);
const REQUESTS = Number(requestsArg);
const CONCURRENCY = Number(concurrencyArg);
const NS = 'bench';
const OBJECTS = 40;

const client = KubeClient.fromFile(kubeconfig);
const cm = { apiVersion: 'v1', kind: 'ConfigMap' };

// setup, not measured: a namespace and labelled ConfigMaps to read, list and patch
await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }).catch(() => undefined);
for (let i = 0; i < OBJECTS; i++)
  await client.create({ ...cm, metadata: { name: `cm-${i}`, namespace: NS, labels: { group: `g${i % 4}` } }, data: { n: '0' } });

// one "reconcile" is four calls: read the object, list its siblings, patch it, record an Event
async function call(i: number): Promise<void> {
  const name = `cm-${i % OBJECTS}`;
  switch (i % 4) {
    case 0:
      await client.get('v1', 'ConfigMap', NS, name);
      return;
    case 1:
      await client.list('v1', 'ConfigMap', NS, `labelSelector=group%3Dg${(i >> 2) % 4}`);
      return;
    case 2:
      await client.patch({ ...cm, namespace: NS, name }, 'merge', { data: { n: String(i) } });
      return;
    default:
      await client.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { generateName: `${name}.`, namespace: NS },
        involvedObject: { apiVersion: 'v1', kind: 'ConfigMap', namespace: NS, name },
        reason: 'Bench',
        message: `call ${i}`,
        type: 'Normal',
        source: { component: 'bench' },
      });
  }
}

// the bench reads the API server's CPU from here on
process.stdout.write('measuring\n');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < REQUESTS) await call(next++);
  }),
);
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
(client as { close?: () => void }).close?.();
console.log(JSON.stringify({ requests: REQUESTS, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }));
process.exit(0);
