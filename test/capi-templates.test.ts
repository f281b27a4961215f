// metal3-dev-env's cluster templates as Ferrite serves them: the v1beta2 set and its v1beta1
// spelling apply unchanged (apart from ${ VAR } values), and each reads back in the other version
// as the same objects — the v1beta1 set, read at v1beta2, equals the v1beta2 set.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { installCrds } from '../cli/crds.js';
import { TEMPLATE_NETWORK } from '../devenv/cluster.js';
import { KubeClient, type KubeObject } from '../provider/kube/client.js';
import { substitute } from '../scenarios/format.js';
import { cleanup, kubectl, startTestServer } from './helpers/apiserver.js';

const VARS: Record<string, string> = {
  CLUSTER_NAME: 'test1',
  ...TEMPLATE_NETWORK,
  CLUSTER_APIENDPOINT_PORT: '6443',
  CONTROL_PLANE_MACHINE_COUNT: '1',
  WORKER_MACHINE_COUNT: '2',
  KUBERNETES_VERSION: 'v1.36.0',
  NODE_DRAIN_TIMEOUT: '0',
  SSH_PUB_KEY_CONTENT: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFerriteTestKey ferrite@test',
  IMAGE_URL: 'http://172.22.0.1/images/UBUNTU_24.04_NODE_IMAGE_K8S_v1.36.0-raw.img',
  IMAGE_CHECKSUM: '5a2f5b4e3c4b1b0f0e9c9f2a7c1d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d',
  IMAGE_CHECKSUM_TYPE: 'sha256',
  IMAGE_FORMAT: 'raw',
};

const FILES = ['cluster.yaml', 'controlplane.yaml', 'workers.yaml'];
const read = (version: string, ns: string) =>
  FILES.map((f) =>
    substitute(readFileSync(new URL(`../scenarios/templates/${version}/${f}`, import.meta.url), 'utf8'), { ...VARS, NAMESPACE: ns }, f),
  ).join('\n---\n');

type Obj = Record<string, unknown>;

describe('dev-env cluster templates', () => {
  let api: Awaited<ReturnType<typeof startTestServer>>;
  let client: KubeClient;
  const k = (args: string[], input?: string) => kubectl(api.kubeconfigPath, args, { input });

  before(async () => {
    api = await startTestServer({ inMemory: true });
    await installCrds(api.core);
    client = KubeClient.fromFile(api.kubeconfigPath);
    for (const ns of ['v2', 'v1']) assert.equal((await k(['create', 'namespace', ns])).code, 0);
  });
  after(async () => {
    await api?.close();
    if (api) cleanup(api.dir);
  });

  it('apply unchanged at v1beta2 and at v1beta1', async () => {
    for (const [version, ns] of [
      ['v1beta2', 'v2'],
      ['v1beta1', 'v1'],
    ]) {
      const r = await k(['apply', '-f', '-'], read(version, ns));
      assert.equal(r.code, 0, `${version}: ${r.stderr}`);
      assert.equal((r.stdout.match(/created/g) ?? []).length, 11, r.stdout);
    }
  });

  it('the v1beta1 set read at v1beta2 is the v1beta2 set', async () => {
    const docs = parseAllDocuments(read('v1beta2', 'v2')).map((d) => d.toJS() as KubeObject);
    // a map of extra arguments has no order: the conversion lists it sorted by name, as upstream's
    const sortArgs = (v: unknown): unknown => {
      if (Array.isArray(v)) {
        const out = v.map(sortArgs);
        const isArgs = out.every((x) => x && typeof x === 'object' && 'name' in x && 'value' in x && Object.keys(x).length === 2);
        return isArgs ? [...(out as Obj[])].sort((a, b) => String(a.name).localeCompare(String(b.name))) : out;
      }
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([key, x]) => [key, sortArgs(x)]));
      return v;
    };
    const strip = (o: Obj) => {
      const { metadata, ...rest } = o;
      const m = metadata as Obj;
      return sortArgs({ ...rest, metadata: { name: m.name, labels: m.labels } });
    };
    for (const d of docs) {
      const v2 = await client.get(String(d.apiVersion), String(d.kind), 'v2', String(d.metadata?.name));
      const v1 = await client.get(String(d.apiVersion), String(d.kind), 'v1', String(d.metadata?.name));
      assert.deepEqual(strip(v1 as Obj), strip(v2 as Obj), `${d.kind} ${d.metadata?.name}`);
    }
  });

  it('the v1beta2 set reads at v1beta1 with the old spellings', async () => {
    const kcp = JSON.parse(
      (await k(['get', '-n', 'v2', 'kubeadmcontrolplanes.v1beta1.controlplane.cluster.x-k8s.io/test1', '-o', 'json'])).stdout,
    );
    assert.deepEqual(kcp.spec.machineTemplate.infrastructureRef, {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'Metal3MachineTemplate',
      name: 'test1-controlplane',
      namespace: 'v2',
    });
    assert.equal(
      kcp.spec.kubeadmConfigSpec.initConfiguration.nodeRegistration.kubeletExtraArgs['provider-id'],
      'metal3://{{ ds.meta_data.providerid }}',
    );
    assert.equal(kcp.spec.machineTemplate.nodeDrainTimeout, '0s');
    assert.equal(kcp.spec.rolloutStrategy.rollingUpdate.maxSurge, 1);
    const md = JSON.parse((await k(['get', '-n', 'v2', 'machinedeployments.v1beta1.cluster.x-k8s.io/test1', '-o', 'json'])).stdout);
    assert.equal(md.spec.template.spec.bootstrap.configRef.apiVersion, 'bootstrap.cluster.x-k8s.io/v1beta2');
    const list = await k(['get', '-n', 'v2', 'cluster,kcp,md,m3mt,m3dt,ippool']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cluster\.cluster\.x-k8s\.io\/test1/);
    assert.match(list.stdout, /kubeadmcontrolplane\.controlplane\.cluster\.x-k8s\.io\/test1/);
  });
});
