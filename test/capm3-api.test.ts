// The Metal3 infrastructure kinds through kubectl: metal3-dev-env's v1beta2 templates and their
// v1beta1 predecessors apply unchanged and read back in either version with upstream's renames;
// CRD schemas and CAPM3's validating webhooks reject what upstream rejects, with its messages.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

const fixture = (f: string) => readFileSync(new URL(`./fixtures/capm3/${f}`, import.meta.url), 'utf8');

describe('CAPM3 API', { concurrency: 1 }, () => {
  let s: BmoStack;
  const get = async (what: string, ns = 'metal3') => {
    const r = await s.k(['get', '-n', ns, what, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const refused = async (yaml: string, pattern: RegExp) => {
    const r = await s.k(['apply', '-f', '-'], yaml);
    assert.notEqual(r.code, 0, `expected a refusal for:\n${yaml}`);
    assert.match(r.stderr, pattern);
  };

  before(async () => {
    s = await startBmoStack({ machines: 1, webhook: true });
    assert.equal((await s.k(['create', 'namespace', 'metal3'])).code, 0);
  });
  after(async () => s?.close());

  it('applies the dev-env v1beta2 templates and reads them at v1beta1 with the old field names', async () => {
    const r = await s.k(['apply', '-f', '-'], fixture('dev-env-v1beta2.yaml'));
    assert.equal(r.code, 0, r.stderr);
    const mt = await get('metal3machinetemplates.v1beta1.infrastructure.cluster.x-k8s.io/test1-controlplane');
    assert.equal(mt.spec.template.spec.image.format, 'raw');
    assert.equal(mt.spec.template.spec.image.diskFormat, undefined);
    assert.equal(mt.spec.template.spec.dataTemplate.name, 'test1-controlplane-template');
    const dt = await get('metal3datatemplates.v1beta1.infrastructure.cluster.x-k8s.io/test1-controlplane-template');
    assert.deepEqual(dt.spec.metaData.ipAddressesFromIPPool, [
      { key: 'provisioningIP', name: 'provisioning-pool', apiGroup: 'ipam.metal3.io', kind: 'IPPool' },
    ]);
    assert.equal(dt.spec.metaData.ipAddressesFromPool, undefined);
    const c = await get('metal3clusters.v1beta1.infrastructure.cluster.x-k8s.io/test1');
    assert.deepEqual(c.spec.controlPlaneEndpoint, { host: '192.168.111.249', port: 6443 });
    const v2 = await get('metal3datatemplates.v1beta2.infrastructure.cluster.x-k8s.io/test1-controlplane-template');
    assert.equal(v2.metadata.annotations?.['cluster.x-k8s.io/conversion-data'], undefined, 'nothing lost, nothing stashed');
  });

  it('applies v1beta1 templates and reads them at v1beta2', async () => {
    const r = await s.k(['apply', '-f', '-'], fixture('dev-env-v1beta1.yaml'));
    assert.equal(r.code, 0, r.stderr);
    const mt = await get('metal3machinetemplates.v1beta2.infrastructure.cluster.x-k8s.io/old1-workers');
    assert.equal(mt.spec.template.spec.image.diskFormat, 'qcow2');
    assert.deepEqual(mt.spec.template.spec.dataTemplate, { name: 'old1-workers-template' });
    const dt = await get('metal3datatemplates.v1beta2.infrastructure.cluster.x-k8s.io/old1-workers-template');
    assert.equal(dt.spec.metaData.ipAddressesFromPool[0].name, 'provisioning-pool');
    assert.deepEqual(dt.spec.networkData.links.bonds[0].parameters, [{ name: 'miimon', value: 100 }]);
    const c = await get('metal3clusters.v1beta2.infrastructure.cluster.x-k8s.io/old1');
    assert.equal(c.spec.cloudProviderEnabled, false, 'noCloudProvider: true means no cloud provider');
    const rt = await get('metal3remediationtemplates.v1beta2.infrastructure.cluster.x-k8s.io/old1-remediation');
    assert.equal(rt.spec.template.spec.strategy.timeoutSeconds, 300);
    const back = await get('metal3remediationtemplates.v1beta1.infrastructure.cluster.x-k8s.io/old1-remediation');
    assert.equal(back.spec.template.spec.strategy.timeout, '5m0s');
  });

  it('lists the kinds with their short names and columns', async () => {
    const r = await s.k(['get', '-n', 'metal3', 'm3c,m3mt,m3dt']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME +AGE +PROVISIONED +ERROR +CLUSTER +ENDPOINT$/m);
    assert.match(r.stdout, /^metal3cluster\.infrastructure\.cluster\.x-k8s\.io\/test1 /m);
    assert.match(r.stdout, /^metal3machinetemplate\.infrastructure\.cluster\.x-k8s\.io\/test1-controlplane /m);
    assert.match(r.stdout, /^metal3datatemplate\.infrastructure\.cluster\.x-k8s\.io\/test1-controlplane-template /m);
    const crd = JSON.parse((await s.k(['get', 'crd', 'metal3machines.infrastructure.cluster.x-k8s.io', '-o', 'json'])).stdout);
    assert.equal(crd.metadata.labels['cluster.x-k8s.io/v1beta2'], 'v1beta2');
    assert.equal(crd.metadata.labels['cluster.x-k8s.io/v1beta1'], 'v1beta1');
  });

  it('rejects an invalid checksum type at admission', async () => {
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3MachineTemplate
metadata: {name: bad-type, namespace: metal3}
spec: {template: {spec: {image: {url: http://x/i.img, checksum: abc, checksumType: sha1}}}}
`,
      /checksumType: Unsupported value: "sha1": supported values: "md5", "sha256", "sha512"/,
    );
  });

  it('rejects an image without checksum, unless it is a live ISO', async () => {
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3Machine
metadata: {name: no-sum, namespace: metal3}
spec: {image: {url: http://x/i.img}}
`,
      /admission webhook "validation\.metal3machine\.infrastructure\.cluster\.x-k8s\.io" denied the request: .*Spec\.Image\.Checksum: Required value: cannot be empty/,
    );
    const ok = await s.k(
      ['apply', '-f', '-'],
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: Metal3Machine
metadata: {name: live, namespace: metal3}
spec: {image: {url: http://x/live.iso, format: live-iso}}
`,
    );
    assert.equal(ok.code, 0, ok.stderr);
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3MachineTemplate
metadata: {name: no-image, namespace: metal3}
spec: {template: {spec: {hostSelector: {matchLabels: {a: b}}}}}
`,
      /Spec\.Template\.Spec\.Image: Required value: either image or customDeploy is required/,
    );
  });

  it('rejects cross-namespace secrets, a short remediation timeout and a changed data template', async () => {
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3Machine
metadata: {name: xns, namespace: metal3}
spec: {customDeploy: {method: install_coreos}, userData: {name: u, namespace: other}}
`,
      /spec\.userData\.namespace: Forbidden: cross-namespace secret references are not allowed/,
    );
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta1
kind: Metal3Remediation
metadata: {name: quick, namespace: metal3}
spec: {strategy: {type: Reboot, retryLimit: 1, timeout: 50s}}
`,
      /spec\.strategy\.timeoutSeconds: Invalid value: 50: min duration is 100 seconds/,
    );
    const patch = JSON.stringify({ spec: { metaData: { strings: [{ key: 'a', value: 'b' }] } } });
    const r = await s.k(['patch', '-n', 'metal3', 'm3dt', 'test1-controlplane-template', '--type', 'merge', '-p', patch]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /spec\.MetaData: Invalid value: "object": cannot be modified/);
    await refused(
      `apiVersion: infrastructure.cluster.x-k8s.io/v1beta2
kind: Metal3Cluster
metadata: {name: noendpoint, namespace: metal3}
spec: {}
`,
      /spec\.controlPlaneEndpoint: Invalid value: .*is required/,
    );
  });

  it('serves CRD conversion as a ConversionReview webhook for clusters that call one', async () => {
    const review = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      request: {
        uid: 'u-1',
        desiredAPIVersion: 'infrastructure.cluster.x-k8s.io/v1beta1',
        objects: [
          {
            apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
            kind: 'Metal3MachineTemplate',
            metadata: { name: 'x', namespace: 'metal3', uid: 'abc' },
            spec: { template: { spec: { image: { url: 'http://x/i.img', checksum: 'c', checksumType: 'sha256', diskFormat: 'qcow2' } } } },
          },
        ],
      },
    };
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        `${s.op.webhook?.url}/convert`,
        { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          let t = '';
          res.on('data', (c) => {
            t += c;
          });
          res.on('end', () => resolve(t));
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify(review));
    });
    const out = JSON.parse(body);
    assert.equal(out.response.uid, 'u-1');
    assert.equal(out.response.result.status, 'Success');
    assert.equal(out.response.convertedObjects[0].apiVersion, 'infrastructure.cluster.x-k8s.io/v1beta1');
    assert.equal(out.response.convertedObjects[0].spec.template.spec.image.format, 'qcow2');
  });
});
