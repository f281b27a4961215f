// ClusterClass and managed topologies through kubectl, with the controllers and their webhooks:
// a class or a topology upstream would refuse is refused with upstream's message before anything is
// created (a patch to a path that does not exist included); a topology Cluster gets its
// infrastructure cluster, control plane and MachineDeployment from the patched templates; a changed
// variable rotates a template; a class in use cannot be deleted; deleting the Cluster leaves none
// of the generated templates; both API versions of ClusterClass read back with upstream's renames.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

// biome-ignore lint/suspicious/noExplicitAny: objects read back from kubectl, checked field by field by the assertions
type Obj = Record<string, any>;
const CLASS = readFileSync(new URL('./fixtures/capi/clusterclass.yaml', import.meta.url), 'utf8');
const docs = () => parseAllDocuments(CLASS).map((d) => d.toJS() as Obj);
const classDoc = () => docs()[0];

function cluster(name: string, topology: Obj): string {
  return stringify({
    apiVersion: 'cluster.x-k8s.io/v1beta2',
    kind: 'Cluster',
    metadata: { name, namespace: 'metal3' },
    spec: { topology },
  });
}
const goodTopology = (over: Obj = {}): Obj => ({
  classRef: { name: 'small' },
  version: 'v1.36.0',
  controlPlane: { replicas: 1 },
  workers: { machineDeployments: [{ class: 'worker', name: 'md-0', replicas: 0 }] },
  variables: [
    { name: 'endpoint', value: { host: '10.0.0.1', port: 6443 } },
    { name: 'imageURL', value: 'http://images/v1.img' },
  ],
  ...over,
});

describe('ClusterClass and managed topologies', { concurrency: 1, timeout: 300_000 }, () => {
  let s: BmoStack;
  const get = async (what: string, extra: string[] = []): Promise<Obj> => {
    const r = await s.k(['get', '-n', 'metal3', what, '-o', 'json', ...extra]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const refused = async (yaml: string, ...patterns: RegExp[]) => {
    const r = await s.k(['apply', '-f', '-'], yaml);
    assert.notEqual(r.code, 0, `expected a refusal for:\n${yaml}`);
    for (const p of patterns) assert.match(r.stderr, p);
  };
  const patchCluster = async (ops: unknown[]) => {
    const r = await s.k(['patch', '-n', 'metal3', 'cluster', 'c1', '--type', 'json', '-p', JSON.stringify(ops)]);
    assert.equal(r.code, 0, r.stderr);
  };
  const until = async <T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        const v = await f();
        if (v !== undefined) return v;
      } catch (e) {
        last = e;
      }
      if (Date.now() > end) assert.fail(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
      await sleep(200);
    }
  };

  before(async () => {
    s = await startBmoStack({ machines: 1, webhook: true });
    assert.equal((await s.k(['create', 'namespace', 'metal3'])).code, 0);
  });
  after(async () => s?.close());

  it('refuses ClusterClasses upstream refuses, with its messages', async () => {
    const variant = (f: (c: Obj) => void) => {
      const c = classDoc();
      c.metadata.name = 'bad';
      f(c.spec);
      return stringify(c);
    };
    await refused(
      variant((sp) => sp.variables.push({ name: 'builtin', required: false, schema: { openAPIV3Schema: { type: 'string' } } })),
      /spec\.variables\[builtin\]\.name: Invalid value: "builtin": "builtin" is a reserved variable name/,
    );
    await refused(
      variant((sp) => {
        sp.patches[0].definitions[0].jsonPatches[0].valueFrom.variable = 'nope';
      }),
      /valueFrom\.variable: Invalid value: "nope": variable with name nope cannot be found/,
    );
    await refused(
      variant((sp) => {
        sp.patches[0].definitions[0].selector.kind = 'Metal3MachineTemplate';
      }),
      /selector is enabled but does not match the infrastructure ref/,
    );
    await refused(
      variant((sp) => {
        sp.patches[0].definitions[0].jsonPatches[0].path = '/metadata/labels';
      }),
      /jsonPatch path must start with "\/spec"/,
    );
    await refused(
      variant((sp) => {
        sp.patches[1].enabledIf = '{{ if .imageURL }}true';
      }),
      /enabledIf: Invalid value: .*template can not be parsed/,
    );
    await refused(
      variant((sp) => {
        sp.variables[2].schema.openAPIV3Schema.default = 'one';
      }),
      /spec\.variables\[replicasHint\]\.schema\.openAPIV3Schema\.default.*must be of type integer/,
    );
    await refused(
      variant((sp) => sp.workers.machineDeployments.push(structuredClone(sp.workers.machineDeployments[0]))),
      /MachineDeployment class must be unique/,
    );
    const list = await get('clusterclasses');
    assert.equal(list.items.length, 0, 'nothing was created');
  });

  it('accepts the class and reports it reconciled', async () => {
    const r = await s.k(['apply', '-f', '-'], CLASS);
    assert.equal(r.code, 0, r.stderr);
    const cc = await until('the ClusterClass reconciled', async () => {
      const c = await get('clusterclass/small');
      const ok = c.status?.conditions?.find((x: Obj) => x.type === 'RefVersionsUpToDate')?.status === 'True';
      return ok && c.status.observedGeneration === c.metadata.generation ? c : undefined;
    });
    assert.deepEqual(
      cc.status.variables.map((v: Obj) => [v.name, v.definitions[0].from, v.definitions[0].required]),
      [
        ['endpoint', 'inline', true],
        ['imageURL', 'inline', true],
        ['replicasHint', 'inline', false],
      ],
    );
    assert.equal(cc.status.conditions.find((x: Obj) => x.type === 'VariablesReady')?.status, 'True');
    // what Clusters were built from cannot change kind under them
    const changed = classDoc();
    changed.spec.infrastructure.templateRef.kind = 'Metal3MachineTemplate';
    await refused(
      stringify(changed),
      /spec\.infrastructure\.templateRef\.kind: Forbidden: kind cannot be changed from "Metal3ClusterTemplate" to "Metal3MachineTemplate"/,
    );
  });

  it('reads ClusterClass at v1beta1 with upstream\u2019s field names, and takes v1beta1 back', async () => {
    const v1 = await get('clusterclasses.v1beta1.cluster.x-k8s.io/small');
    assert.deepEqual(v1.spec.controlPlane.ref, {
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmControlPlaneTemplate',
      name: 'small-cp',
      namespace: 'metal3',
    });
    assert.equal(v1.spec.controlPlane.machineInfrastructure.ref.name, 'small-cp');
    assert.equal(v1.spec.workers.machineDeployments[0].template.bootstrap.ref.kind, 'KubeadmConfigTemplate');
    assert.equal(v1.spec.workers.machineDeployments[0].template.infrastructure.ref.name, 'small-worker');
    assert.equal(v1.spec.infrastructure.ref.kind, 'Metal3ClusterTemplate');
    const old = structuredClone(v1);
    old.metadata = { name: 'old-style', namespace: 'metal3' };
    old.spec.workers.machineDeployments[0].strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, deletePolicy: 'Oldest' } };
    old.spec.workers.machineDeployments[0].nodeDrainTimeout = '1m30s';
    delete old.status;
    const r = await s.k(['apply', '-f', '-'], JSON.stringify(old));
    assert.equal(r.code, 0, r.stderr);
    const v2 = await get('clusterclasses.v1beta2.cluster.x-k8s.io/old-style');
    const md = v2.spec.workers.machineDeployments[0];
    assert.deepEqual(md.bootstrap.templateRef, {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmConfigTemplate',
      name: 'small-worker',
    });
    assert.deepEqual(md.rollout, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2 } } });
    assert.deepEqual(md.deletion, { order: 'Oldest', nodeDrainTimeoutSeconds: 90 });
    assert.equal((await s.k(['delete', '-n', 'metal3', 'clusterclass', 'old-style'])).code, 0);
  });

  it('refuses topologies upstream refuses, before anything is created', async () => {
    await refused(
      cluster('c-bad', goodTopology({ variables: [...goodTopology().variables, { name: 'colour', value: 'blue' }] })),
      /spec\.topology\.variables\[colour\]: Invalid value: .*variable is not defined/,
    );
    await refused(
      cluster(
        'c-bad',
        goodTopology({ variables: [{ name: 'endpoint', value: { host: 'h', port: 'http' } }, goodTopology().variables[1]] }),
      ),
      /spec\.topology\.variables\[endpoint\]\.value\.port: Invalid value: .*must be of type integer/,
    );
    await refused(
      cluster('c-bad', goodTopology({ variables: [goodTopology().variables[1]] })),
      /spec\.topology\.variables: Required value: required variable "endpoint" must be set/,
    );
    await refused(
      cluster('c-bad', goodTopology({ variables: [goodTopology().variables[0], { name: 'imageURL', value: 'ftp://x' }] })),
      /spec\.topology\.variables\[imageURL\]\.value: Invalid value: "ftp:\/\/x"/,
    );
    await refused(
      cluster('c-bad', goodTopology({ workers: { machineDeployments: [{ class: 'gpu', name: 'md-0' }] } })),
      /MachineDeploymentClass with name "gpu" does not exist in ClusterClass "small"/,
    );
    await refused(
      cluster('c-bad', goodTopology({ version: '1.36.0' })),
      /spec\.topology\.version: Invalid value: "1\.36\.0": must start with v/,
    );
    // a patch to a path the template does not have: the class is valid, this Cluster's dry run is not
    const c = classDoc();
    c.metadata.name = 'broken';
    c.spec.patches[0].definitions[0].jsonPatches[0] = {
      op: 'replace',
      path: '/spec/template/spec/noSuchField/host',
      valueFrom: { variable: 'endpoint.host' },
    };
    assert.equal((await s.k(['apply', '-f', '-'], stringify(c))).code, 0);
    await refused(
      cluster('c-bad', goodTopology({ classRef: { name: 'broken' } })),
      /patch "endpoint" cannot replace \/spec\/template\/spec\/noSuchField\/host in Metal3ClusterTemplate "small-cluster": path does not exist/,
    );
    assert.equal((await get('clusters')).items.length, 0);
    assert.equal((await get('metal3clusters')).items.length, 0, 'nothing was generated');
    assert.equal((await s.k(['delete', '-n', 'metal3', 'clusterclass', 'broken'])).code, 0);
  });

  it('builds the topology from the patched templates and rotates a template when a variable changes', async () => {
    const r = await s.k(['apply', '-f', '-'], cluster('c1', goodTopology()));
    assert.equal(r.code, 0, r.stderr);
    const c1 = await until('TopologyReconciled', async () => {
      const c = await get('cluster/c1');
      return c.status?.conditions?.find((x: Obj) => x.type === 'TopologyReconciled')?.status === 'True' ? c : undefined;
    });
    assert.equal(c1.spec.infrastructureRef.kind, 'Metal3Cluster');
    assert.equal(c1.spec.controlPlaneRef.kind, 'KubeadmControlPlane');
    assert.equal(c1.metadata.labels['topology.cluster.x-k8s.io/owned'], '');
    const m3c = await get(`metal3cluster/${c1.spec.infrastructureRef.name}`);
    assert.deepEqual(m3c.spec.controlPlaneEndpoint, { host: '10.0.0.1', port: 6443 });
    assert.equal(m3c.metadata.annotations['cluster.x-k8s.io/cloned-from-name'], 'small-cluster');
    assert.equal(m3c.metadata.ownerReferences[0].kind, 'Cluster');
    const kcp = await get(`kubeadmcontrolplane/${c1.spec.controlPlaneRef.name}`);
    assert.equal(kcp.spec.version, 'v1.36.0');
    assert.equal(kcp.spec.replicas, 1);
    assert.deepEqual(kcp.spec.kubeadmConfigSpec.preKubeadmCommands, ['echo hello']);
    const cpTemplate = await get(`metal3machinetemplate/${kcp.spec.machineTemplate.spec.infrastructureRef.name}`);
    assert.equal(cpTemplate.spec.template.spec.image.url, 'http://images/v1.img');
    assert.equal(cpTemplate.spec.template.spec.dataTemplate.name, 'c1-cp', 'the Go template saw no builtin.machineDeployment');
    const mds = await get('machinedeployments', ['-l', 'topology.cluster.x-k8s.io/deployment-name=md-0']);
    assert.equal(mds.items.length, 1);
    const md = mds.items[0];
    assert.match(md.metadata.name, /^c1-md-0-[a-z0-9]{5}$/);
    assert.equal(md.spec.template.spec.version, 'v1.36.0');
    const workerTemplate = await get(`metal3machinetemplate/${md.spec.template.spec.infrastructureRef.name}`);
    assert.equal(workerTemplate.spec.template.spec.dataTemplate.name, 'c1-md-0');
    assert.equal(workerTemplate.spec.template.spec.image.url, 'http://images/v1.img');
    assert.equal(workerTemplate.metadata.labels['topology.cluster.x-k8s.io/deployment-name'], 'md-0');
    // the class's health check for its workers, none for the control plane (the class defines none)
    const mhcs = (await get('machinehealthchecks')).items;
    assert.deepEqual(
      mhcs.map((m: Obj) => [m.metadata.name, m.spec.selector.matchLabels]),
      [[md.metadata.name, { 'topology.cluster.x-k8s.io/owned': '', 'topology.cluster.x-k8s.io/deployment-name': 'md-0' }]],
    );
    assert.equal(mhcs[0].spec.checks.nodeStartupTimeoutSeconds, 600);

    // a new image: new templates, the used ones never edited, the old ones deleted once unused
    await patchCluster([{ op: 'replace', path: '/spec/topology/variables/1/value', value: 'http://images/v2.img' }]);
    const rotated = await until('the worker template rotated', async () => {
      const m = (await get('machinedeployments', ['-l', 'topology.cluster.x-k8s.io/deployment-name=md-0'])).items[0];
      const name = m.spec.template.spec.infrastructureRef.name;
      return name !== workerTemplate.metadata.name ? name : undefined;
    });
    assert.equal((await get(`metal3machinetemplate/${rotated}`)).spec.template.spec.image.url, 'http://images/v2.img');
    await until('the old worker and control plane templates deleted', async () => {
      const names = (await get('metal3machinetemplates')).items.map((t: Obj) => t.metadata.name);
      return !names.includes(workerTemplate.metadata.name) && !names.includes(cpTemplate.metadata.name) ? names : undefined;
    });
    const v1 = await get('clusters.v1beta1.cluster.x-k8s.io/c1');
    assert.equal(v1.spec.topology.class, 'small');
    assert.equal(v1.spec.topology.classRef, undefined);
    assert.equal(v1.spec.topology.workers.machineDeployments[0].name, 'md-0');
    const kcp2 = await get(`kubeadmcontrolplane/${kcp.metadata.name}`);
    assert.notEqual(kcp2.spec.machineTemplate.spec.infrastructureRef.name, cpTemplate.metadata.name);

    // scaling by editing the topology reaches the MachineDeployment in place
    await patchCluster([
      { op: 'replace', path: '/spec/topology/workers/machineDeployments/0/replicas', value: 0 },
      { op: 'replace', path: '/spec/topology/controlPlane/replicas', value: 3 },
    ]);
    await until('the control plane scaled to 3', async () =>
      (await get(`kubeadmcontrolplane/${kcp.metadata.name}`)).spec.replicas === 3 ? true : undefined,
    );
  });

  it('a v1beta1 ClusterClass over v1beta1 Metal3 templates builds a v1beta1 Cluster\u2019s topology', async () => {
    const legacy = readFileSync(new URL('./fixtures/capi/clusterclass-v1beta1.yaml', import.meta.url), 'utf8');
    const a = await s.k(['apply', '-f', '-'], legacy);
    assert.equal(a.code, 0, a.stderr);
    const v2 = await get('clusterclasses.v1beta2.cluster.x-k8s.io/legacy');
    assert.deepEqual(v2.spec.controlPlane.healthCheck, {
      checks: {
        nodeStartupTimeoutSeconds: 180,
        unhealthyNodeConditions: [
          { type: 'Ready', status: 'Unknown', timeoutSeconds: 300 },
          { type: 'Ready', status: 'False', timeoutSeconds: 300 },
        ],
      },
      remediation: { triggerIf: { unhealthyLessThanOrEqualTo: '33%' } },
    });
    assert.deepEqual(v2.spec.workers.machineDeployments[0].metadata, { labels: { nodepool: 'nodepool-0' } });
    const c = await s.k(
      ['apply', '-f', '-'],
      stringify({
        apiVersion: 'cluster.x-k8s.io/v1beta1',
        kind: 'Cluster',
        metadata: { name: 'old1', namespace: 'metal3' },
        spec: {
          topology: {
            class: 'legacy',
            version: 'v1.36.0',
            controlPlane: { replicas: 1 },
            workers: { machineDeployments: [{ class: 'legacy-worker', name: 'pool', replicas: 0 }] },
            variables: [
              { name: 'controlPlaneEndpoint', value: { host: '10.1.1.1', port: 6443 } },
              { name: 'imageURL', value: 'http://images/legacy.img' },
            ],
          },
        },
      }),
    );
    assert.equal(c.code, 0, c.stderr);
    const old1 = await until('the v1beta1 topology reconciled', async () => {
      const x = await get('cluster/old1');
      return x.status?.conditions?.find((y: Obj) => y.type === 'TopologyReconciled')?.status === 'True' ? x : undefined;
    });
    assert.deepEqual(old1.spec.topology.classRef, { name: 'legacy' });
    const m3c = await get(`metal3clusters.v1beta1.infrastructure.cluster.x-k8s.io/${old1.spec.infrastructureRef.name}`);
    assert.deepEqual(m3c.spec.controlPlaneEndpoint, { host: '10.1.1.1', port: 6443 });
    const hub = await get(`metal3clusters.v1beta2.infrastructure.cluster.x-k8s.io/${old1.spec.infrastructureRef.name}`);
    assert.equal(hub.spec.cloudProviderEnabled, false, 'the v1beta1 template\u2019s noCloudProvider: true');
    const kcp = await get(`kubeadmcontrolplane/${old1.spec.controlPlaneRef.name}`);
    const cpTemplate = await get(
      `metal3machinetemplates.v1beta1.infrastructure.cluster.x-k8s.io/${kcp.spec.machineTemplate.spec.infrastructureRef.name}`,
    );
    assert.equal(cpTemplate.spec.template.spec.image.url, 'http://images/legacy.img');
    assert.equal(cpTemplate.spec.template.spec.image.format, 'raw');
    // the class's control plane health check, as v1beta2 spells it
    const mhc = await get(`machinehealthcheck/${kcp.metadata.name}`);
    assert.equal(mhc.spec.checks.nodeStartupTimeoutSeconds, 180);
    assert.deepEqual(mhc.spec.selector.matchLabels, { 'topology.cluster.x-k8s.io/owned': '', 'cluster.x-k8s.io/control-plane': '' });
    const md = (await get('machinedeployments', ['-l', 'topology.cluster.x-k8s.io/deployment-name=pool'])).items[0];
    assert.equal(md.spec.template.metadata.labels.nodepool, 'nodepool-0');
    // copies of v1beta1 templates are compared at v1beta1: nothing rotates while nothing changes
    await s.k(['annotate', '-n', 'metal3', 'cluster', 'old1', 'poke=1']);
    await sleep(2_000);
    const again = await get(`kubeadmcontrolplane/${kcp.metadata.name}`);
    assert.equal(again.spec.machineTemplate.spec.infrastructureRef.name, cpTemplate.metadata.name);
    const copies = (await get('metal3machinetemplates', ['-l', 'cluster.x-k8s.io/cluster-name=old1'])).items;
    assert.equal(copies.length, 2, copies.map((t: Obj) => t.metadata.name).join(', '));
    assert.equal((await s.k(['delete', '-n', 'metal3', 'cluster', 'old1'])).code, 0);
    await until(
      'old1 gone',
      async () => ((await get('clusters')).items.some((x: Obj) => x.metadata.name === 'old1') ? undefined : true),
      120_000,
    );
    const gone = await s.k(['delete', '-f', '-'], legacy);
    assert.equal(gone.code, 0, gone.stderr);
  });

  it('refuses deleting a class in use; deleting the Cluster leaves no generated object', async () => {
    const d = await s.k(['delete', '-n', 'metal3', 'clusterclass', 'small']);
    assert.notEqual(d.code, 0);
    assert.match(d.stderr, /ClusterClass cannot be deleted because it is used by Cluster\(s\): metal3\/c1/);
    const down = await s.k([
      'patch',
      '-n',
      'metal3',
      'cluster',
      'c1',
      '--type',
      'merge',
      '-p',
      '{"spec":{"topology":{"version":"v1.35.0"}}}',
    ]);
    assert.notEqual(down.code, 0);
    assert.match(down.stderr, /version cannot be decreased from "v1\.36\.0" to "v1\.35\.0"/);
    assert.equal((await s.k(['delete', '-n', 'metal3', 'cluster', 'c1', '--wait=false'])).code, 0);
    await until(
      'every generated object gone',
      async () => {
        const left = [
          ...(await get('clusters')).items,
          ...(await get('metal3clusters')).items,
          ...(await get('kubeadmcontrolplanes')).items,
          ...(await get('machinedeployments')).items,
          ...(await get('machinehealthchecks')).items,
          ...(await get('metal3machinetemplates', ['-l', 'topology.cluster.x-k8s.io/owned'])).items,
          ...(await get('kubeadmconfigtemplates', ['-l', 'topology.cluster.x-k8s.io/owned'])).items,
        ];
        return left.length === 0 ? true : undefined;
      },
      120_000,
    );
    const kept = (await get('metal3machinetemplates')).items.map((t: Obj) => t.metadata.name).sort();
    assert.deepEqual(kept, ['small-cp', 'small-worker'], 'the class\u2019s own templates stay');
    const ok = await s.k(['delete', '-n', 'metal3', 'clusterclass', 'small']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
