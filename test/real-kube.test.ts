// The real Kubernetes API server as a peer and as the oracle: every generated CRD is accepted by
// kube-apiserver v1.37 and round-trips, and the embedded API server answers the differential
// corpus (test/differential/corpus.ts) as kube-apiserver does — status codes, reasons, messages
// and bodies — except where test/differential/known.ts says why not.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { crdObjects, installCrds } from '../cli/crds.js';
import type { ApiServer } from '../provider/apiserver/server.js';
import { corpus } from './differential/corpus.js';
import { KNOWN_DIFFERENCES, knownReason } from './differential/known.js';
import { runCorpus } from './differential/run.js';
import { kubectl, ROOT, startTestServer } from './helpers/apiserver.js';
import { RawClient, startTestRealKube } from './helpers/real-kube.js';

type RealKube = Awaited<ReturnType<typeof startTestRealKube>>;

/** Every field of `want` is in `got` with the same value (the server may add defaults). */
function contained(want: unknown, got: unknown, path: string, out: string[]): void {
  if (want && typeof want === 'object' && !Array.isArray(want)) {
    if (!got || typeof got !== 'object' || Array.isArray(got)) {
      out.push(`${path}: an object was applied, the server has ${JSON.stringify(got)?.slice(0, 80)}`);
      return;
    }
    for (const [k, v] of Object.entries(want)) contained(v, (got as Record<string, unknown>)[k], `${path}.${k}`, out);
  } else if (Array.isArray(want)) {
    if (!Array.isArray(got) || got.length !== want.length) {
      out.push(`${path}: a list of ${want.length} was applied, the server has ${Array.isArray(got) ? got.length : typeof got}`);
      return;
    }
    for (const [i, w] of want.entries()) contained(w, got[i], `${path}[${i}]`, out);
  } else if (!isDeepStrictEqual(want, got)) out.push(`${path}: applied ${JSON.stringify(want)}, the server has ${JSON.stringify(got)}`);
}

describe('the real kube-apiserver as peer and oracle', { concurrency: 1, timeout: 600_000 }, () => {
  let real: RealKube;
  let embedded: ApiServer & { dir: string };

  before(async () => {
    // CRDs go in through kubectl below; kube-controller-manager is not needed for the corpus
    [real, embedded] = await Promise.all([startTestRealKube({ crds: false, controllerManager: true }), startTestServer()]);
    await installCrds(embedded.core);
  });
  after(async () => {
    await Promise.all([real?.stop(), embedded?.close()]);
  });

  it('kubectl apply --server-side -f crds/: every CRD is Established and reads back as applied', async () => {
    const apply = await kubectl(real.kubeconfig, ['apply', '--server-side', '-f', join(ROOT, 'crds')], { timeoutMs: 120_000 });
    assert.equal(apply.code, 0, apply.stderr);
    assert.doesNotMatch(apply.stderr, /Warning/i, 'kube-apiserver warned about a CRD');
    const want = crdObjects();
    const wait = await kubectl(real.kubeconfig, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s'], {
      timeoutMs: 90_000,
    });
    assert.equal(wait.code, 0, wait.stderr);
    const got = JSON.parse((await kubectl(real.kubeconfig, ['get', 'crd', '-o', 'json'])).stdout) as {
      items: Array<{ metadata: { name: string }; spec: unknown; status: { conditions: Array<{ type: string; status: string }> } }>;
    };
    const byName = new Map(got.items.map((c) => [c.metadata.name, c]));
    const problems: string[] = [];
    for (const crd of want) {
      const name = (crd.metadata as { name: string }).name;
      const g = byName.get(name);
      if (!g) {
        problems.push(`${name}: not on the server`);
        continue;
      }
      if (!g.status.conditions.some((c) => c.type === 'Established' && c.status === 'True')) problems.push(`${name}: not Established`);
      if (g.status.conditions.some((c) => c.type === 'NonStructuralSchema')) problems.push(`${name}: NonStructuralSchema`);
      contained(crd.spec, g.spec, `${name} .spec`, problems);
    }
    assert.deepEqual(problems, [], 'every CRD round-trips');
    assert.equal(want.length, 37);
  });

  it('the embedded API server answers the differential corpus as kube-apiserver does', async () => {
    const cases = corpus();
    const r = await runCorpus(cases, { embedded: new RawClient(embedded.kubeconfigPath), real: new RawClient(real.kubeconfig) });
    const areas = [...new Set(cases.map((c) => c.area))];
    const unexplained = r.differences.filter((d) => !knownReason(d.id));
    const explained = r.differences.filter((d) => knownReason(d.id));
    // a known difference that no longer shows is stale: the list must stay honest
    const stale = Object.keys(KNOWN_DIFFERENCES).filter((p) => !r.differences.some((d) => knownReason(d.id) === KNOWN_DIFFERENCES[p]));
    mkdirSync(join(ROOT, 'test', 'output'), { recursive: true });
    writeFileSync(
      join(ROOT, 'test', 'output', 'differential.json'),
      JSON.stringify(
        { cases: cases.length, requestsPerServer: r.requests / 2, areas, unexplained, explained, answers: r.answers },
        null,
        1,
      ),
    );
    assert.ok(cases.length >= 200, `the corpus has ${cases.length} requests per server (at least 200 wanted)`);
    for (const a of ['namespace', 'configmap', 'baremetalhost', 'cluster', 'events', 'watch', 'auth', 'discovery', 'openapi', 'schema'])
      assert.ok(areas.includes(a), `the corpus covers ${a}`);
    assert.deepEqual(
      unexplained.map(
        (d) =>
          `${d.id} (${d.request}): embedded ${JSON.stringify(d.embedded).slice(0, 300)} — real ${JSON.stringify(d.real).slice(0, 300)}`,
      ),
      [],
      'no unexplained difference (details in test/output/differential.json)',
    );
    assert.deepEqual(stale, [], 'every known difference still shows');
    // the README names every known difference
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const id of Object.keys(KNOWN_DIFFERENCES)) assert.ok(readme.includes(`\`${id}\``), `README explains ${id}`);
  });
});
