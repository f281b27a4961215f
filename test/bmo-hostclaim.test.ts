// HostClaim as upstream's operator answers it: a claim in a workload namespace is bound to an
// available host its selector matches, in a namespace whose HostDeployPolicy admits the claim's
// namespace, preferring its failure domain; a claim nothing matches says so and waits; deleting
// the claim frees the host; the webhook refuses selectors upstream's refuses.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import YAML from 'yaml';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import type { BareMetalHost } from '../provider/api/metal3.io/v1alpha1/baremetalhost.js';
import { HOST_CLAIM, type HostClaim } from '../provider/bmo/hostclaim-controller.js';
import type { KubeObject } from '../provider/kube/client.js';
import { getOrNull } from '../provider/kube/read.js';
import { eventually } from './helpers/apiserver.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const LABELS: Record<string, Record<string, string>> = {
  'node-0': { tier: 'gold' },
  'node-1': { tier: 'gold', 'infrastructure.cluster.x-k8s.io/failure-domain': 'fd-a' },
  'node-2': { tier: 'bronze' },
};

const claim = (name: string, namespace: string, hostSelector: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  YAML.stringify({
    apiVersion: 'metal3.io/v1alpha1',
    kind: 'HostClaim',
    metadata: { name, namespace },
    spec: { poweredOn: true, hostSelector, ...extra },
  });

describe('HostClaim', { concurrency: 1, timeout: 600_000 }, () => {
  let s: BmoStack;
  const getClaim = (name: string, ns = 'workload') => getOrNull<HostClaim>(s.client, HOST_CLAIM, ns, name);
  const consumer = async (name: string) =>
    (await s.client.get<BareMetalHost & KubeObject>('metal3.io/v1alpha1', 'BareMetalHost', 'default', name)).spec.consumerRef;
  const cond = (c: HostClaim | null, t: string) => c?.status?.conditions?.find((x) => x.type === t);

  before(async () => {
    s = await startBmoStack({ machines: 3, webhook: true, pollMs: 200 });
    const docs = YAML.parseAllDocuments(fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' })).map((d) => d.toJS());
    for (const d of docs) if (d.kind === 'BareMetalHost') d.metadata.labels = LABELS[d.metadata.name];
    const r = await s.k(['apply', '-f', '-'], docs.map((d) => YAML.stringify(d)).join('---\n'));
    assert.equal(r.code, 0, r.stderr);
    for (const n of Object.keys(LABELS)) await s.waitFor(n, (h) => h.status?.provisioning?.state === 'available', 'available', 180_000);
    const setup = [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'workload', labels: { team: 'blue' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'stranger' } },
      {
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'HostDeployPolicy',
        metadata: { name: 'blue-teams', namespace: 'default' },
        spec: { hostClaimNamespaces: { hasLabels: [{ name: 'team', value: 'blue' }], nameMatches: '^work' } },
      },
    ];
    const p = await s.k(['apply', '-f', '-'], setup.map((d) => YAML.stringify(d)).join('---\n'));
    assert.equal(p.code, 0, p.stderr);
  });
  after(() => s?.close());

  it('binds a claim to a matching available host in an admitting namespace, its failure domain first', async () => {
    const r = await s.k(['apply', '-f', '-'], claim('web', 'workload', { matchLabels: { tier: 'gold' } }, { failureDomain: 'fd-a' }));
    assert.equal(r.code, 0, r.stderr);
    const c = await eventually(
      async () => {
        const x = await getClaim('web');
        return x?.status?.bareMetalHost ? x : null;
      },
      'the claim bound',
      60_000,
    );
    assert.deepEqual(c.status?.bareMetalHost, { namespace: 'default', name: 'node-1' }, 'the gold host in fd-a');
    assert.deepEqual(await consumer('node-1'), { apiVersion: 'metal3.io/v1alpha1', kind: 'HostClaim', name: 'web', namespace: 'workload' });
    assert.equal(cond(c, 'Associated')?.status, 'True');
    assert.equal(cond(c, 'Associated')?.reason, 'BareMetalHostAssociated');
    const ready = cond(c, 'Ready');
    assert.equal(ready?.status, 'Unknown', 'Synchronized and Provisioned are not reported yet');
    assert.equal(ready?.reason, 'UnknownReported');
    assert.match(String(ready?.message), /\* Synchronized: Condition not yet reported\n\* Provisioned: Condition not yet reported/);
    assert.ok(c.metadata.finalizers?.includes('metal3.io/hostclaim'));
  });

  it('says so and waits when no host qualifies: nothing matching, or no policy admitting the namespace', async () => {
    const r = await s.k(
      ['apply', '-f', '-'],
      [
        claim('platinum', 'workload', { matchExpressions: [{ key: 'tier', operator: 'in', values: ['platinum'] }] }),
        claim('outsider', 'stranger', { matchLabels: { tier: 'bronze' } }),
      ].join('---\n'),
    );
    assert.equal(r.code, 0, r.stderr);
    for (const [name, ns] of [
      ['platinum', 'workload'],
      ['outsider', 'stranger'],
    ]) {
      const c = await eventually(
        async () => {
          const x = await getClaim(name, ns);
          return cond(x, 'Associated') ? x : null;
        },
        `${name} reports on its association`,
        60_000,
      );
      assert.equal(cond(c, 'Associated')?.status, 'False');
      assert.equal(cond(c, 'Associated')?.reason, 'NoBareMetalHost');
      assert.equal(cond(c, 'Associated')?.message, 'No available host found: requeuing.');
      assert.equal(cond(c, 'Ready')?.reason, 'IssuesReported');
    }
    assert.equal(await consumer('node-2'), undefined, "the stranger's namespace is not admitted by any policy");
    // a selector that also excludes the bound host: notin, with upstream's lower-case operators
    const other = await s.k(
      ['apply', '-f', '-'],
      claim('bronze', 'workload', { matchExpressions: [{ key: 'tier', operator: 'notin', values: ['gold'] }] }),
    );
    assert.equal(other.code, 0, other.stderr);
    const c = await eventually(
      async () => {
        const x = await getClaim('bronze');
        return x?.status?.bareMetalHost ? x : null;
      },
      'the bronze claim bound',
      60_000,
    );
    assert.equal(c.status?.bareMetalHost?.name, 'node-2');
  });

  it('frees the host when the claim is deleted', async () => {
    assert.equal((await s.k(['delete', 'hostclaim', 'web', '-n', 'workload', '--timeout=60s'])).code, 0);
    assert.equal(await getClaim('web'), null);
    assert.equal(await consumer('node-1'), undefined);
  });

  it("refuses selectors upstream's webhook refuses", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [
        { matchExpressions: [{ key: 'tier', operator: 'gt', values: ['1'] }] },
        /matchExpr 1: invalid operation gt in match expression on label key tier/,
      ],
      [{ matchExpressions: [{ key: 'tier', operator: '=', values: ['a', 'b'] }] }, /matchExpr 1: exactly one value for operator = /],
      [
        { matchExpressions: [{ key: 'tier', operator: 'exists', values: ['a'] }] },
        /matchExpr 1: values not authorized for operator exists/,
      ],
      [{ matchLabels: { 'bad key!': 'x' } }, /bad key!=x: name part must consist of alphanumeric characters/],
      [{ matchLabels: { tier: '-x' } }, /tier=-x: a valid label must be an empty string or consist of alphanumeric characters/],
    ];
    for (const [sel, why] of cases) {
      const r = await s.k(['apply', '-f', '-'], claim('bad', 'workload', sel));
      assert.notEqual(r.code, 0, JSON.stringify(sel));
      assert.match(r.stderr, why);
    }
  });
});
