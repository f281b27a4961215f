// Seeded fuzzing of the HTTP surfaces — Ferrite's Ironic API, the embedded Kubernetes API server
// and the emulator's Redfish — with 10,000 requests each (test/helpers/fuzz.ts: hostile
// identifiers and query strings, prototype keys, deep and huge JSON, odd JSON patches, garbage,
// wrong charsets). Each fails on a request that gets no answer, a 5xx (Ironic's 503
// NoFreeConductorWorker aside, which is its documented back-pressure), or an answer over 5 s; the
// service must still answer correctly afterwards. FERRITE_FUZZ_SEED replays another seed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { installCrds } from '../cli/crds.js';
import { cleanup, http, startTestServer } from './helpers/apiserver.js';
import { rf, startTestFleet, type TestFleet } from './helpers/bmc.js';
import { fuzzCases, problems, type Surface, sendAll } from './helpers/fuzz.js';
import { startTestIronic } from './helpers/ironic.js';

const SEED = Number(process.env.FERRITE_FUZZ_SEED ?? 21);
const N = 10_000;

function report(name: string, outcomes: Awaited<ReturnType<typeof sendAll>>, bad: string[]) {
  const statuses = new Map<number, number>();
  for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  console.log(
    `# ${name}: ${outcomes.length} requests (seed ${SEED}), statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}, slowest ${Math.round(slowest)} ms`,
  );
  assert.equal(outcomes.length, N);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} problems`);
  // the fuzzer reached the handlers, not only the parsers
  assert.ok(
    [...statuses.keys()].some((s) => s >= 200 && s < 300),
    'some requests succeeded',
  );
  assert.ok([...statuses.keys()].filter((s) => s >= 400 && s < 500).length >= 3, 'several kinds of 4xx');
}

describe('API fuzzing (10,000 seeded requests per surface)', { concurrency: 1 }, () => {
  it("Ferrite's Ironic API", { timeout: 180_000 }, async () => {
    const ironic = await startTestIronic();
    try {
      const surface: Surface = {
        paths: [
          '/',
          '/v1',
          '/v1/nodes',
          '/v1/nodes/detail',
          '/v1/nodes/{id}',
          '/v1/nodes/{id}/states',
          '/v1/nodes/{id}/states/provision',
          '/v1/nodes/{id}/states/power',
          '/v1/nodes/{id}/states/boot_mode',
          '/v1/nodes/{id}/maintenance',
          '/v1/nodes/{id}/validate',
          '/v1/nodes/{id}/management/boot_device',
          '/v1/nodes/{id}/history',
          '/v1/nodes/{id}/inventory',
          '/v1/nodes/{id}/bios',
          '/v1/nodes/{id}/firmware',
          '/v1/nodes/{id}/vmedia',
          '/v1/ports',
          '/v1/ports/detail',
          '/v1/ports/{id}',
          '/v1/drivers',
          '/v1/drivers/{id}',
          '/v1/lookup',
          '/v1/heartbeat/{id}',
          '/v1/continue_inspection',
          '/v1/conductors',
          '/v1/chassis',
        ],
        fields: [
          'name',
          'driver',
          'driver_info',
          'target',
          'address',
          'node_uuid',
          'instance_info',
          'properties',
          'clean_steps',
          'deploy_steps',
          'configdrive',
          'callback_url',
          'agent_token',
          'inventory',
          'boot_device',
          'reason',
          'redfish_address',
          'ipmi_address',
          'uuid',
          'op',
          'path',
          'value',
        ],
        object: (p) =>
          p.startsWith('/v1/nodes') && !p.includes('/states')
            ? { driver: 'fake-hardware', name: `n${Math.floor(Math.random() * 1e9)}` }
            : p.startsWith('/v1/ports')
              ? { address: '52:54:00:00:00:01' }
              : p.includes('/states/provision')
                ? { target: 'manage' }
                : undefined,
        contentTypes: ['application/json', 'application/json; charset=utf-8'],
        headers: { 'X-OpenStack-Ironic-API-Version': '1.89' },
        headerFields: { 'X-OpenStack-Ironic-API-Version': ['latest', '1.1', '1.999', '2.0', 'x', '1.', '', '1.110'] },
      };
      // a few real nodes for the identifiers to hit
      for (const name of ['node-0', 'default']) {
        const r = await fetch(`${ironic.url}/v1/nodes`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-OpenStack-Ironic-API-Version': '1.89' },
          body: JSON.stringify({ driver: 'fake-hardware', name }),
        });
        assert.equal(r.status, 201);
      }
      const outcomes = await sendAll(ironic.url, fuzzCases(surface, SEED, N));
      report(
        'ironic',
        outcomes,
        problems(outcomes, (o) => o.status === 503 && o.text.includes('NoFreeConductorWorker')),
      );
      const list = await fetch(`${ironic.url}/v1/nodes`, { headers: { 'X-OpenStack-Ironic-API-Version': '1.89' } });
      assert.equal(list.status, 200, 'still answers');
    } finally {
      await ironic.close();
    }
  });

  describe('the embedded Kubernetes API server', () => {
    let srv: Awaited<ReturnType<typeof startTestServer>>;
    before(async () => {
      srv = await startTestServer();
      await installCrds(srv.core);
    });
    after(async () => {
      await srv?.close();
      if (srv) cleanup(srv.dir);
    });
    it('answers every request in time, never with a 5xx', { timeout: 180_000 }, async () => {
      const kinds: Record<string, [string, string]> = {
        secrets: ['v1', 'Secret'],
        configmaps: ['v1', 'ConfigMap'],
        events: ['v1', 'Event'],
        baremetalhosts: ['metal3.io/v1alpha1', 'BareMetalHost'],
        clusters: ['cluster.x-k8s.io/v1beta2', 'Cluster'],
        leases: ['coordination.k8s.io/v1', 'Lease'],
        customresourcedefinitions: ['apiextensions.k8s.io/v1', 'CustomResourceDefinition'],
      };
      const surface: Surface = {
        paths: [
          '/api',
          '/apis',
          '/version',
          '/healthz',
          '/openapi/v2',
          '/openapi/v3',
          '/api/v1',
          '/api/v1/namespaces',
          '/api/v1/namespaces/{ns}',
          '/api/v1/namespaces/{ns}/secrets',
          '/api/v1/namespaces/{ns}/secrets/{id}',
          '/api/v1/namespaces/{ns}/configmaps',
          '/api/v1/namespaces/{ns}/configmaps/{id}',
          '/api/v1/namespaces/{ns}/events',
          '/apis/metal3.io/v1alpha1/namespaces/{ns}/baremetalhosts',
          '/apis/metal3.io/v1alpha1/namespaces/{ns}/baremetalhosts/{id}',
          '/apis/metal3.io/v1alpha1/namespaces/{ns}/baremetalhosts/{id}/status',
          '/apis/metal3.io/v1alpha1/baremetalhosts',
          '/apis/cluster.x-k8s.io/v1beta2/namespaces/{ns}/clusters',
          '/apis/cluster.x-k8s.io/v1beta1/namespaces/{ns}/clusters/{id}',
          '/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{id}',
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
          '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{id}',
          '/apis/authentication.k8s.io/v1/tokenreviews',
          '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
          '/apis/authorization.k8s.io/v1/subjectaccessreviews',
          '/apis/nope.example.com/v1/things',
        ],
        fields: [
          'apiVersion',
          'kind',
          'metadata',
          'name',
          'namespace',
          'labels',
          'annotations',
          'finalizers',
          'ownerReferences',
          'resourceVersion',
          'spec',
          'status',
          'data',
          'stringData',
          'bmc',
          'address',
          'online',
          'image',
          'url',
          'versions',
          'schema',
          'openAPIV3Schema',
          'x-kubernetes-validations',
          'rule',
          'pattern',
          'items',
          'properties',
          'type',
          'token',
          'resourceAttributes',
          'clusterNetwork',
        ],
        object: (p, rng) => {
          const m = /\/(secrets|configmaps|events|baremetalhosts|clusters|leases|customresourcedefinitions)(\/|$|\?)/.exec(p);
          if (!m) return undefined;
          const [apiVersion, kind] = kinds[m[1]];
          return { apiVersion, kind, metadata: { name: `f${rng.int(0, 1e9)}`, labels: { a: 'b' } } };
        },
        contentTypes: [
          'application/json',
          'application/merge-patch+json',
          'application/strategic-merge-patch+json',
          'application/json-patch+json',
          'application/apply-patch+yaml',
          'application/yaml',
        ],
        headers: { authorization: `Bearer ${srv.token}`, accept: 'application/json' },
        headerFields: {
          accept: ['application/json;as=Table;v=v1;g=meta.k8s.io', 'application/vnd.kubernetes.protobuf', '*/*', 'text/html'],
        },
      };
      const outcomes = await sendAll(srv.url, fuzzCases(surface, SEED, N), { ca: srv.caPem });
      report('kubernetes', outcomes, problems(outcomes));
      const r = await http(srv, 'GET', '/api/v1/namespaces/default');
      assert.equal(r.status, 200, 'still answers');
    });
  });

  describe("the emulator's Redfish", () => {
    let fleet: TestFleet;
    before(async () => {
      fleet = await startTestFleet(1);
    });
    after(async () => fleet?.close());
    it('answers every request in time, never with a 5xx', { timeout: 180_000 }, async () => {
      const sys = `/redfish/v1/Systems/${fleet.fleet.machines[0].uuid}`;
      const surface: Surface = {
        paths: [
          '/redfish',
          '/redfish/v1',
          '/redfish/v1/Systems',
          sys,
          '/redfish/v1/Systems/{id}',
          `${sys}/Actions/ComputerSystem.Reset`,
          `${sys}/Bios`,
          `${sys}/Bios/Settings`,
          `${sys}/Bios/Actions/Bios.ResetBios`,
          `${sys}/VirtualMedia`,
          `${sys}/VirtualMedia/Cd`,
          `${sys}/VirtualMedia/Cd/Actions/VirtualMedia.InsertMedia`,
          `${sys}/VirtualMedia/Cd/Actions/VirtualMedia.EjectMedia`,
          `${sys}/Storage`,
          `${sys}/Storage/1/Volumes`,
          `${sys}/SecureBoot`,
          `${sys}/EthernetInterfaces`,
          '/redfish/v1/Managers',
          '/redfish/v1/Chassis',
          '/redfish/v1/SessionService/Sessions',
          '/redfish/v1/SessionService/Sessions/{id}',
          '/redfish/v1/EventService/Subscriptions',
          '/redfish/v1/EventService/Subscriptions/{id}',
          '/redfish/v1/UpdateService',
          '/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate',
          '/redfish/v1/TaskService/Tasks',
          '/redfish/v1/AccountService/Accounts',
        ],
        fields: [
          'ResetType',
          'Boot',
          'BootSourceOverrideTarget',
          'BootSourceOverrideEnabled',
          'BootSourceOverrideMode',
          'Attributes',
          'Image',
          'Inserted',
          'WriteProtected',
          'TransferMethod',
          'UserName',
          'Password',
          'Destination',
          'EventTypes',
          'Context',
          'Protocol',
          'CapacityBytes',
          'RAIDType',
          'ImageURI',
          'Targets',
          'SecureBootEnable',
          '@odata.id',
          '@Redfish.SettingsApplyTime',
          'AssetTag',
        ],
        object: (p) =>
          p.endsWith('Reset') ? { ResetType: 'On' } : p.endsWith('InsertMedia') ? { Image: 'http://127.0.0.1:1/x.iso' } : undefined,
        contentTypes: ['application/json', 'application/json; charset=utf-8'],
        headers: { authorization: `Basic ${Buffer.from('admin:password').toString('base64')}` },
        headerFields: { 'if-match': ['*', 'W/"x"', '"1"', ''], authorization: ['Basic Og==', 'Basic !!!', 'Bearer x', ''] },
      };
      const outcomes = await sendAll(fleet.url, fuzzCases(surface, SEED, N));
      report('redfish', outcomes, problems(outcomes));
      const r = await rf(fleet.url, 'GET', sys, { auth: ['admin', 'password'] });
      assert.equal(r.status, 200, 'still answers');
    });
  });
});
