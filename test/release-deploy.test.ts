// The release as an operator deploys it, on a real kube-apiserver (scripts/install-kube.sh) with
// clusterctl built from the Go module proxy (scripts/install-clusterctl.sh):
//  - every component set, rendered by `clusterctl generate yaml`, is accepted by `kubectl apply`;
//    the kustomize tree in config/ renders the same objects;
//  - each Deployment's container command line runs with the image's entrypoint (dist/cli/main.js) outside a
//    container: its Secret volumes written out as the kubelet would mount them, its ports moved to free
//    loopback ones, and the controllers with nothing but their ServiceAccount's token (in-cluster
//    configuration: token, CA, KUBERNETES_SERVICE_HOST), each set in its own process — Ferrite's BMO
//    beside a separate CAPM3 + IPAM, Cluster API core, kubeadm bootstrap and control plane — keeping
//    their webhook certificates in Secrets, electing leaders on Leases, serving metrics over HTTPS;
//  - Ironic runs from its Deployment with TLS on its API and HTTP root and Basic auth, and the
//    machines trust its CA;
//  - 3 hosts become available, and a cluster rendered by `clusterctl generate cluster` from the
//    local repository reaches Running; no request of any component is refused (the audit log).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import bcrypt from 'bcryptjs';
import { parseAllDocuments } from 'yaml';
import { releaseDir } from '../cli/release.js';
import { kubeBinaryProblem } from '../devenv/real-kube.js';
import { freeTcpPort } from '../devenv/stack.js';
import { createServingCertificate } from '../provider/apiserver/pki.js';
import { KubeClient, type KubeObject } from '../provider/kube/client.js';
import { hasWebhookServer, SETS, serviceAccount, setLease, webhookSecret } from '../provider/release/components.js';
import { cleanup, eventually, httpsGet, kubectl, ROOT, run, tempDir } from './helpers/apiserver.js';
import { type FerriteProcess, startFerrite } from './helpers/process.js';

interface PodSpec {
  containers: Array<{
    args?: string[];
    env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }>;
    volumeMounts?: Array<{ name: string; mountPath: string }>;
  }>;
  volumes?: Array<{ name: string; secret?: { secretName: string; items?: Array<{ key: string; path: string }> } }>;
}

const CLUSTERCTL = join(ROOT, '.peers', 'clusterctl', 'clusterctl');
const VERSION = `v${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`;
const NS = 'metal3';
const IMAGE = 'UBUNTU_24.04_NODE_IMAGE_K8S_v1.36.0-raw.img';

describe('the release deployed on a real kube-apiserver', { concurrency: 1, timeout: 2_400_000 }, () => {
  const dir = tempDir('ferrite-release-');
  const procs: FerriteProcess[] = [];
  let kubeconfig = '';
  let admin: KubeClient;
  let apiHost = '';
  let apiPort = '';
  let httpUrl = '';
  let ironicPort = 0;
  let httpPort = 0;
  const rendered = new Map<string, KubeObject[]>();
  const podRoot = (name: string) => join(dir, 'pods', name);
  const RENDER_ENV = { PROVISIONING_IP: '127.0.0.1', IRONIC_BIND_IP: '127.0.0.1' };
  const caFile = join(dir, 'ironic-tls', 'ca.crt');
  const metricsPorts = new Map<string, number>();
  const tokens = new Map<string, string>();
  const k = (args: string[], input?: string) => kubectl(kubeconfig, args, { input, timeoutMs: 120_000 });
  const clusterctl = (args: string[], env: Record<string, string> = {}) =>
    run(CLUSTERCTL, [...args, '--config', join(dir, 'clusterctl.yaml')], {
      timeoutMs: 120_000,
      env: { PATH: process.env.PATH, HOME: dir, XDG_CONFIG_HOME: join(dir, 'xdg'), KUBECONFIG: kubeconfig, ...env },
    });

  /** The machines: the emulator on the provisioning network, trusting Ironic's CA. */
  async function startBmcs(): Promise<void> {
    procs.push(
      await startFerrite(
        [
          'bmc',
          'serve',
          '--machines',
          '3',
          '--data-dir',
          join(dir, 'bmc'),
          '--port',
          String(await freeTcpPort()),
          '--ipmi-base-port',
          String(20000 + Math.floor(Math.random() * 20000)),
          '--pxe-url',
          `${httpUrl}/boot.ipxe`,
          '--trusted-ca',
          caFile,
          '--time-scale',
          '10',
        ],
        { log: join(dir, 'bmc.log'), ready: /Press Ctrl-C to stop/ },
      ),
    );
  }

  /**
   * A Deployment's first container as the kubelet would start it, outside a container: the image's
   * entrypoint is `ferrite`, its Secret volumes are written under `root` (emptyDirs made there), every
   * absolute path moved under `root` and every port in `ports` rewritten, the namespace fieldRef filled in.
   */
  async function podCommand(
    d: KubeObject,
    root: string,
    ports: Array<[string, string]>,
  ): Promise<{ args: string[]; env: Record<string, string> }> {
    const pod = (d.spec as { template: { spec: PodSpec } }).template.spec;
    const c = pod.containers[0];
    const mounts = (c.volumeMounts ?? []).map((m) => ({ ...m, to: join(root, m.mountPath) }));
    for (const m of mounts) {
      mkdirSync(m.to, { recursive: true });
      const v = (pod.volumes ?? []).find((x) => x.name === m.name);
      if (!v?.secret) continue;
      const sec = await admin.get<KubeObject & { data?: Record<string, string> }>(
        'v1',
        'Secret',
        d.metadata?.namespace,
        v.secret.secretName,
      );
      const items = v.secret.items ?? Object.keys(sec.data ?? {}).map((key) => ({ key, path: key }));
      for (const it of items) writeFileSync(join(m.to, it.path), Buffer.from(sec.data?.[it.key] ?? '', 'base64'));
    }
    const map = (v: string) => {
      let out = v;
      // an absolute path (a value, or a flag's) is one inside the pod's filesystem
      out = out.replace(/(^|=)\//, `$1${root}/`);
      for (const [from, to] of ports) out = out.replace(new RegExp(`([:=])${from}\\b`, 'g'), `$1${to}`);
      // ":8443" (every interface in a pod) becomes loopback here
      return out.replace(/=:(\d+)$/, '=127.0.0.1:$1').replace(/=0\.0\.0\.0$/, '=127.0.0.1');
    };
    const env: Record<string, string> = {};
    for (const e of c.env ?? [])
      env[e.name] = e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace' ? String(d.metadata?.namespace) : map(e.value ?? '');
    return { args: (c.args ?? []).map(map), env };
  }

  before(async () => {
    const problem = kubeBinaryProblem();
    if (problem) throw new Error(problem);
    if (!existsSync(CLUSTERCTL)) throw new Error(`${CLUSTERCTL} is missing: run scripts/install-clusterctl.sh`);
    const kube = await startFerrite(['kube', 'serve', '--data-dir', join(dir, 'kube')], {
      log: join(dir, 'kube.log'),
      ready: /Kubernetes control plane is up/,
      env: { ...process.env, FERRITE_AUDIT_READS: '1' },
      timeoutMs: 240_000,
    });
    procs.push(kube);
    kubeconfig = join(dir, 'kube', 'kubeconfig');
    admin = KubeClient.fromFile(kubeconfig);
    const u = new URL(admin.server);
    apiHost = u.hostname;
    apiPort = u.port;
    // Ironic's TLS and Basic auth, as docs/deploy.md makes them
    const tlsDir = join(dir, 'ironic-tls');
    mkdirSync(tlsDir, { recursive: true });
    const leaf = await createServingCertificate('ironic', ['127.0.0.1', 'localhost']);
    const ca = { certPem: leaf.caPem };
    writeFileSync(caFile, ca.certPem);
    writeFileSync(join(tlsDir, 'tls.crt'), leaf.certPem);
    writeFileSync(join(tlsDir, 'tls.key'), leaf.keyPem);
    writeFileSync(join(tlsDir, 'htpasswd'), `ironic:${bcrypt.hashSync('ironic-password', 5)}\n`);
    const [ip, hp] = [await freeTcpPort(), await freeTcpPort()];
    ironicPort = ip;
    httpPort = hp;
    httpUrl = `https://127.0.0.1:${hp}`;
    // the node image, served from Ironic's HTTP root like any file there (its emptyDir volume)
    const img = Buffer.alloc(8 << 20);
    mkdirSync(join(podRoot('ironic'), 'var', 'lib', 'ironic', 'httpboot', 'images'), { recursive: true });
    writeFileSync(join(podRoot('ironic'), 'var', 'lib', 'ironic', 'httpboot', 'images', IMAGE), img);
    writeFileSync(join(dir, 'image.sha256'), createHash('sha256').update(img).digest('hex'));
    writeFileSync(
      join(dir, 'clusterctl.yaml'),
      `providers:\n  - name: ferrite\n    type: InfrastructureProvider\n    url: ${join(ROOT, 'release', 'infrastructure-ferrite', VERSION, 'infrastructure-components.yaml')}\n`,
    );
  });

  after(async () => {
    for (const p of procs.reverse()) await p.stop();
    cleanup(dir);
  });

  it('renders every component set with clusterctl and kubectl applies it; config/ renders the same objects', async () => {
    for (const s of SETS) {
      const file = join(ROOT, 'release', releaseDir(s, VERSION), s.file);
      const r = await clusterctl(['generate', 'yaml', '--from', file], RENDER_ENV);
      assert.equal(r.code, 0, `${s.file}: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /\$\{/, `${s.file}: every variable is substituted`);
      const a = await k(['apply', '--server-side', '-f', '-'], r.stdout);
      assert.equal(a.code, 0, `kubectl apply of ${s.file}: ${a.stderr}`);
      rendered.set(
        s.name,
        parseAllDocuments(r.stdout)
          .map((d) => d.toJSON() as KubeObject | null)
          .filter((o): o is KubeObject => Boolean(o)),
      );
      const kz = await k(['kustomize', join(ROOT, 'config', s.name, 'default')]);
      assert.equal(kz.code, 0, kz.stderr);
      const ids = (text: string) =>
        parseAllDocuments(text)
          .map((d) => d.toJSON() as KubeObject | null)
          .filter((o): o is KubeObject => Boolean(o))
          .map((o) => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`)
          .sort();
      assert.deepEqual(ids(kz.stdout), ids(readFileSync(file, 'utf8')), `config/${s.name}/default renders ${s.file}'s objects`);
    }
  });

  it("runs Ironic's and each controller Deployment's command line, the controllers with only their ServiceAccount's token", {
    timeout: 600_000,
  }, async () => {
    const kc = readFileSync(kubeconfig, 'utf8');
    const caData = /certificate-authority-data: (\S+)/.exec(kc)?.[1];
    assert.ok(caData, 'the kubeconfig carries the cluster CA');
    const bmoSet = SETS.find((s) => s.name === 'bmo');
    assert.ok(bmoSet);
    // the Secrets docs/deploy.md has the operator create for Ironic
    const tlsDir = join(dir, 'ironic-tls');
    for (const args of [
      [
        'create',
        'secret',
        'generic',
        'ferrite-ironic-cert',
        `--from-file=tls.crt=${join(tlsDir, 'tls.crt')}`,
        `--from-file=tls.key=${join(tlsDir, 'tls.key')}`,
        `--from-file=ca.crt=${caFile}`,
      ],
      ['create', 'secret', 'generic', 'ferrite-ironic-htpasswd', `--from-file=htpasswd=${join(tlsDir, 'htpasswd')}`],
      [
        'create',
        'secret',
        'generic',
        'ferrite-ironic-credentials',
        '--from-literal=username=ironic',
        '--from-literal=password=ironic-password',
      ],
    ]) {
      const r = await k([...args, '-n', bmoSet.namespace]);
      assert.equal(r.code, 0, r.stderr);
    }
    const ironicDeployment = (rendered.get('bmo') ?? []).find((o) => o.kind === 'Deployment' && o.metadata?.name === 'ferrite-bmo-ironic');
    assert.ok(ironicDeployment, 'the BMO set has an Ironic Deployment');
    const ironicCmd = await podCommand(ironicDeployment, podRoot('ironic'), [
      ['6385', String(ironicPort)],
      ['6180', String(httpPort)],
    ]);
    procs.push(
      await startFerrite(ironicCmd.args, {
        log: join(dir, 'ironic.log'),
        ready: /Press Ctrl-C to stop/,
        env: { ...process.env, ...ironicCmd.env },
        built: true,
      }),
    );
    await startBmcs();
    for (const s of SETS) {
      const t = await k(['create', 'token', serviceAccount(s), '-n', s.namespace, '--duration', '3h']);
      assert.equal(t.code, 0, t.stderr);
      tokens.set(s.name, t.stdout.trim());
      const root = podRoot(s.name);
      const sa = join(root, 'var', 'run', 'secrets', 'kubernetes.io', 'serviceaccount');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'token'), t.stdout.trim());
      writeFileSync(join(sa, 'ca.crt'), Buffer.from(caData, 'base64'));
      writeFileSync(join(sa, 'namespace'), s.namespace);
      const d = (rendered.get(s.name) ?? []).find(
        (o) => o.kind === 'Deployment' && o.metadata?.name === `ferrite-${s.name}-controller-manager`,
      );
      assert.ok(d, `${s.name} has a manager Deployment`);
      const metrics = await freeTcpPort();
      metricsPorts.set(s.name, metrics);
      const webhookPort = await freeTcpPort();
      const cmd = await podCommand(d, root, [
        ['6385', String(ironicPort)],
        ['6180', String(httpPort)],
        ['8443', String(metrics)],
        ['9440', String(await freeTcpPort())],
        ['9443', String(webhookPort)],
      ]);
      // outside the cluster its Service cannot reach this process: the API server calls here instead
      if (hasWebhookServer(s)) cmd.args.push(`--webhook-url=https://127.0.0.1:${webhookPort}`);
      // pacing for a test, as dev up sets it
      if (s.components.includes('bmo')) cmd.args.push('--poll-interval=2', '--error-backoff-base=10');
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        ...cmd.env,
        KUBERNETES_SERVICE_HOST: apiHost,
        KUBERNETES_SERVICE_PORT: apiPort,
        FERRITE_SERVICEACCOUNT_ROOT: root,
      };
      delete env.KUBECONFIG;
      procs.push(
        await startFerrite(cmd.args, {
          log: join(dir, `controllers-${s.name}.log`),
          ready: /controllers started/,
          env,
          timeoutMs: 180_000,
          built: true,
        }),
      );
    }
    // every set holds its own Lease, named for its components
    for (const s of SETS) {
      const lease = await eventually(
        async () => {
          const l = await admin.get<KubeObject & { spec?: { holderIdentity?: string } }>(
            'coordination.k8s.io/v1',
            'Lease',
            s.namespace,
            setLease(s),
          );
          return l.spec?.holderIdentity ? l : null;
        },
        `the ${s.name} Lease`,
        60_000,
      );
      assert.ok(lease.spec?.holderIdentity);
    }
  });

  it('keeps each webhook certificate in a Secret and its CA in the webhook configuration: invalid hosts are refused', async () => {
    const vwc = await admin.get<KubeObject & { webhooks: Array<{ clientConfig: { url?: string; caBundle?: string } }> }>(
      'admissionregistration.k8s.io/v1',
      'ValidatingWebhookConfiguration',
      undefined,
      'ferrite-bmo-validating-webhook-configuration',
    );
    const bmo = SETS.find((s) => s.name === 'bmo');
    assert.ok(bmo);
    const secret = await admin.get<KubeObject & { data: Record<string, string> }>('v1', 'Secret', bmo.namespace, webhookSecret(bmo));
    assert.equal(vwc.webhooks[0].clientConfig.caBundle, secret.data['ca.crt']);
    assert.match(String(vwc.webhooks[0].clientConfig.url), /^https:\/\/127\.0\.0\.1:\d+\/validate-metal3-io-v1alpha1-baremetalhost$/);
    assert.equal((await k(['create', 'namespace', NS])).code, 0);
    const bad = await k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'metal3.io/v1alpha1',
        kind: 'BareMetalHost',
        metadata: { name: 'bad', namespace: NS },
        spec: { online: false, bmc: { address: 'nosuchdriver://10.0.0.1', credentialsName: 'x' } },
      }),
    );
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /denied the request|admission webhook/);
  });

  it('registers, inspects and makes 3 hosts available through HTTPS Ironic', { timeout: 600_000 }, async () => {
    const m = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), 'bmc', 'manifests', '--data-dir', join(dir, 'bmc'), '--namespace', NS],
      {
        cwd: ROOT,
      },
    );
    assert.equal(m.code, 0, m.stderr);
    const a = await k(['apply', '-f', '-'], m.stdout);
    assert.equal(a.code, 0, a.stderr);
    await eventually(
      async () => {
        const hosts = (
          await admin.list<KubeObject & { status?: { provisioning?: { state?: string }; errorMessage?: string } }>(
            'metal3.io/v1alpha1',
            'BareMetalHost',
            NS,
          )
        ).items;
        const errs = hosts.filter((h) => h.status?.errorMessage).map((h) => `${h.metadata?.name}: ${h.status?.errorMessage}`);
        if (errs.length) throw new Error(errs.join('; '));
        return hosts.length === 3 && hosts.every((h) => h.status?.provisioning?.state === 'available');
      },
      'three available hosts',
      480_000,
    );
  });

  it('renders the cluster template from the local repository with clusterctl; the cluster reaches Running', {
    timeout: 900_000,
  }, async () => {
    const r = await clusterctl(
      [
        'generate',
        'cluster',
        'test1',
        '--infrastructure',
        `ferrite:${VERSION}`,
        '--kubernetes-version',
        'v1.36.0',
        '--control-plane-machine-count',
        '1',
        '--worker-machine-count',
        '1',
        '--target-namespace',
        NS,
      ],
      {
        IMAGE_URL: `${httpUrl}/images/${IMAGE}`,
        IMAGE_CHECKSUM: readFileSync(join(dir, 'image.sha256'), 'utf8'),
        CLUSTER_APIENDPOINT_HOST: '127.0.0.1',
        CLUSTER_APIENDPOINT_PORT: String(await freeTcpPort()),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const a = await k(['apply', '-f', '-'], r.stdout);
    assert.equal(a.code, 0, a.stderr);
    await eventually(
      async () => {
        const ms = (await admin.list<KubeObject & { status?: { phase?: string } }>('cluster.x-k8s.io/v1beta2', 'Machine', NS)).items;
        return ms.length === 2 && ms.every((x) => x.status?.phase === 'Running');
      },
      `both machines Running (logs: ${dir})`,
      840_000,
    );
    const c = await admin.get<KubeObject & { status?: { phase?: string } }>('cluster.x-k8s.io/v1beta2', 'Cluster', NS, 'test1');
    assert.equal(c.status?.phase, 'Provisioned');
  });

  it("serves each manager's metrics over HTTPS only to callers RBAC allows", async () => {
    const bmo = SETS.find((s) => s.name === 'bmo');
    assert.ok(bmo);
    const url = `https://127.0.0.1:${metricsPorts.get('bmo')}/metrics`;
    assert.equal((await httpsGet(url)).status, 401);
    // the operator's own token may not read metrics: only a metrics-reader binding grants it
    assert.equal((await httpsGet(url, { token: tokens.get('bmo') })).status, 403);
    assert.equal((await k(['create', 'serviceaccount', 'prometheus', '-n', bmo.namespace])).code, 0);
    const b = await k([
      'create',
      'clusterrolebinding',
      'prometheus-bmo-metrics',
      '--clusterrole=ferrite-bmo-metrics-reader',
      `--serviceaccount=${bmo.namespace}:prometheus`,
    ]);
    assert.equal(b.code, 0, b.stderr);
    const t = await k(['create', 'token', 'prometheus', '-n', bmo.namespace]);
    let last = { status: 0, text: '' };
    const ok = await eventually(
      async () => {
        last = await httpsGet(url, { token: t.stdout.trim() });
        return last.status === 200 ? last : null;
      },
      'metrics for the reader',
      90_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: last HTTP ${last.status} ${last.text.slice(0, 300)}`);
    });
    assert.match(ok.text, /controller_runtime_reconcile_total\{controller="baremetalhost"/);
  });

  it('no request of any component was refused: their RBAC covers all they do', () => {
    const refused = readFileSync(join(dir, 'kube', 'audit.log'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { user?: { username?: string }; verb?: string; requestURI?: string; responseStatus?: { code?: number } })
      .filter((e) => e.user?.username?.startsWith('system:serviceaccount:ferrite-') && e.responseStatus?.code === 403)
      .map((e) => `${e.user?.username} ${e.verb} ${e.requestURI}`);
    assert.deepEqual([...new Set(refused)], []);
  });
});
