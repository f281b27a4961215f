// A real Kubernetes control plane on loopback — etcd, kube-apiserver and kube-controller-manager
// built by scripts/install-kube.sh — with its own PKI, RBAC on and an audit log of writes. It is
// what `ferrite kube serve` and `dev up --kube real` run, and the oracle the embedded API server
// is compared with in the tests.
import { type ChildProcess, spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clientCertKubeconfig, createCertificateAuthority, signCertificate } from '../provider/apiserver/pki.js';
import { CHECKOUT, freeTcpPort, StackError, tcpFree } from './stack.js';

const SETPRIV = '/usr/bin/setpriv';

const KUBE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager'] as const;

/** Where install-kube.sh puts the binaries (the checkout's .peers/kube, a link into ~/.cache/ferrite), or $FERRITE_KUBE_BIN. */
export function kubeBinDir(): string {
  return resolve(process.env.FERRITE_KUBE_BIN ?? join(CHECKOUT, '.peers', 'kube'));
}

/** Why the real control plane cannot run here (binaries missing), or null. */
export function kubeBinaryProblem(dir = kubeBinDir()): string | null {
  const missing = KUBE_BINARIES.filter((b) => !existsSync(join(dir, b)));
  if (!missing.length) return null;
  return `a real Kubernetes control plane needs ${missing.join(', ')} in ${dir}: run scripts/install-kube.sh (builds them from the Go module proxy, about 10 minutes the first time) or set FERRITE_KUBE_BIN`;
}

export interface RealKubeOptions {
  dataDir: string;
  /** kube-apiserver's port (0 = a free one, kept in DIR/ports.json across restarts) */
  port?: number;
  /** start kube-controller-manager too (garbage collection, namespace deletion, service-account tokens); default true */
  controllerManager?: boolean;
  log?: (line: string) => void;
}

export interface RealKube {
  server: string;
  /** admin kubeconfig (client certificate in system:masters) */
  kubeconfig: string;
  caPem: string;
  /** audit log: every write (create, update, patch, delete) with its user, at Metadata level */
  auditLog: string;
  dataDir: string;
  pids: Record<string, number>;
  /** resolves when any process of the control plane exits (with its name and code) */
  exited: Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

interface Pki {
  ca: { certPem: string; keyPem: string };
  files: Record<'ca' | 'caKey' | 'serverCrt' | 'serverKey' | 'saKey' | 'saPub' | 'etcdCrt' | 'etcdKey', string>;
}

/** The cluster's PKI, made once and kept: a restarted control plane keeps its kubeconfigs valid. */
async function ensurePki(dir: string): Promise<Pki> {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true, mode: 0o700 });
  const f = (n: string) => join(pki, n);
  const files = {
    ca: f('ca.crt'),
    caKey: f('ca.key'),
    serverCrt: f('apiserver.crt'),
    serverKey: f('apiserver.key'),
    saKey: f('sa.key'),
    saPub: f('sa.pub'),
    etcdCrt: f('etcd.crt'),
    etcdKey: f('etcd.key'),
  };
  if (!existsSync(files.caKey)) {
    const ca = await createCertificateAuthority('ferrite-real-kube-ca');
    writeFileSync(files.ca, ca.certPem);
    writeFileSync(files.caKey, ca.keyPem, { mode: 0o600 });
  }
  const ca = { certPem: readFileSync(files.ca, 'utf8'), keyPem: readFileSync(files.caKey, 'utf8') };
  if (!existsSync(files.serverKey)) {
    const hosts = [
      '127.0.0.1',
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
      '10.96.0.1',
    ];
    const s = await signCertificate({ ca, cn: 'kube-apiserver', hosts, server: true, years: 10 });
    writeFileSync(files.serverCrt, s.certPem);
    writeFileSync(files.serverKey, s.keyPem, { mode: 0o600 });
  }
  if (!existsSync(files.saKey)) {
    // the service-account signing key: an ECDSA key is accepted by kube-apiserver and kube-controller-manager alike
    const k = await signCertificate({ ca, cn: 'service-accounts', years: 10 });
    writeFileSync(files.saKey, k.keyPem, { mode: 0o600 });
    writeFileSync(files.saPub, createPublicKey(k.keyPem).export({ type: 'spki', format: 'pem' }));
  }
  if (!existsSync(files.etcdKey)) {
    const e = await signCertificate({ ca, cn: 'etcd', hosts: ['127.0.0.1', 'localhost'], server: true, client: true, years: 10 });
    writeFileSync(files.etcdCrt, e.certPem);
    writeFileSync(files.etcdKey, e.keyPem, { mode: 0o600 });
  }
  return { ca, files };
}

async function clientKubeconfig(pki: Pki, file: string, server: string, cn: string, groups: string[]): Promise<void> {
  if (existsSync(file) && readFileSync(file, 'utf8').includes(`server: ${server}\n`)) return;
  const c = await signCertificate({ ca: pki.ca, cn, organizations: groups, client: true, years: 10 });
  writeFileSync(file, clientCertKubeconfig({ server, caPem: pki.ca.certPem, ...c, cluster: 'ferrite-real', user: cn }), { mode: 0o600 });
}

// Only writes are audited (what the idle-write check counts), without request bodies unless
// FERRITE_AUDIT_LEVEL=Request asks for them (to see what a write changed): small and cheap.
// FERRITE_AUDIT_READS=1 audits reads too (the RBAC test looks for any request refused with 403).
const auditPolicy = (level: string, reads: boolean) => `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: ${level}
  verbs: [create, update, patch, delete, deletecollection]
${reads ? '- level: Metadata\n' : ''}- level: None
`;

interface Ports {
  apiserver: number;
  etcdClient: number;
  etcdPeer: number;
}

/** Ports are kept in DIR/ports.json so a restarted control plane answers where its kubeconfig says. */
async function ensurePorts(dir: string, want?: number): Promise<Ports> {
  const file = join(dir, 'ports.json');
  const kept = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Ports) : null;
  const pick = async (name: keyof Ports, asked?: number) => {
    const p = asked || kept?.[name] || (await freeTcpPort());
    if (!(await tcpFree(p, '127.0.0.1')))
      throw new StackError('PortInUse', `port ${p} (${name}) of the real control plane in ${dir} is in use by another process`);
    return p;
  };
  const ports: Ports = {
    apiserver: await pick('apiserver', want),
    etcdClient: await pick('etcdClient'),
    etcdPeer: await pick('etcdPeer'),
  };
  writeFileSync(file, `${JSON.stringify(ports)}\n`);
  return ports;
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, log: string, timeoutMs: number) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new StackError(
        'ComponentFailed',
        `${what} exited during start (code ${child.exitCode ?? child.signalCode}): ${lastLines(log)}`,
      );
    if (await check()) return;
    await sleep(200);
  }
  throw new StackError('Timeout', `${what} did not become ready within ${timeoutMs / 1000}s; see ${log}`);
}

function lastLines(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    return (lines.findLast((l) => /^[EF]\d{4}|error|fatal/i.test(l)) ?? lines.at(-1) ?? '').slice(0, 500);
  } catch {
    return 'no log';
  }
}

async function httpsOk(url: string, pki: Pki, certFile?: string, keyFile?: string): Promise<boolean> {
  const { request } = await import('node:https');
  return new Promise((res) => {
    const req = request(
      url,
      {
        ca: pki.ca.certPem,
        cert: certFile ? readFileSync(certFile) : undefined,
        key: keyFile ? readFileSync(keyFile) : undefined,
        timeout: 2000,
      },
      (r) => {
        r.resume();
        res(r.statusCode === 200);
      },
    );
    req.on('error', () => res(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Starts etcd, kube-apiserver and (by default) kube-controller-manager from dataDir, creating
 * PKI, kubeconfigs and ports on first use and reusing them after. Resolves once the API server's
 * /readyz answers 200 to the admin.
 */
export async function startRealKube(o: RealKubeOptions): Promise<RealKube> {
  const bin = kubeBinDir();
  const problem = kubeBinaryProblem(bin);
  if (problem) throw new StackError('ComponentFailed', problem);
  const dir = resolve(o.dataDir);
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const pki = await ensurePki(dir);
  const ports = await ensurePorts(dir, o.port);
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const admin = join(dir, 'kubeconfig');
  await clientKubeconfig(pki, admin, server, 'kubernetes-admin', ['system:masters']);
  const kcmConfig = join(dir, 'controller-manager.kubeconfig');
  await clientKubeconfig(pki, kcmConfig, server, 'system:kube-controller-manager', []);
  const audit = join(dir, 'audit.log');
  const policy = join(dir, 'audit-policy.yaml');
  writeFileSync(
    policy,
    auditPolicy(process.env.FERRITE_AUDIT_LEVEL === 'Request' ? 'Request' : 'Metadata', process.env.FERRITE_AUDIT_READS === '1'),
  );

  const children: Array<{ name: string; child: ChildProcess }> = [];
  const killAll = (sig: NodeJS.Signals) => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  // a test or CLI that dies without stop() must not leave a control plane behind
  const onExit = () => killAll('SIGKILL');
  process.on('exit', onExit);
  let exitedResolve: (v: { name: string; code: number | null; signal: NodeJS.Signals | null }) => void = () => {};
  const exited = new Promise<{ name: string; code: number | null; signal: NodeJS.Signals | null }>((r) => {
    exitedResolve = r;
  });
  const run = (name: string, args: string[]) => {
    const log = join(dir, 'logs', `${name}.log`);
    const fd = openSync(log, 'a');
    // setpriv (util-linux) makes the kernel kill the child when this process dies, however it dies:
    // a control plane never outlives the `kube serve` (or test) that started it
    const [cmd, pre] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', join(bin, name)]] : [join(bin, name), []];
    const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', fd, fd], env: { ...process.env, GOMAXPROCS: '2' } });
    child.on('exit', (code, signal) => exitedResolve({ name, code, signal }));
    children.push({ name, child });
    o.log?.(`${name} started (pid ${child.pid}, log ${log})`);
    return { child, log };
  };
  const stop = async () => {
    process.off('exit', onExit);
    // controllers first, etcd last: the API server flushes nothing to a dead etcd
    for (const { child } of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      child.kill('SIGTERM');
      const end = Date.now() + 10_000;
      while (child.exitCode === null && child.signalCode === null && Date.now() < end) await sleep(50);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  };

  try {
    const etcdUrl = `https://127.0.0.1:${ports.etcdClient}`;
    const etcd = run('etcd', [
      '--name=ferrite',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${ports.etcdPeer}`,
      `--initial-cluster=ferrite=http://127.0.0.1:${ports.etcdPeer}`,
      `--cert-file=${pki.files.etcdCrt}`,
      `--key-file=${pki.files.etcdKey}`,
      `--trusted-ca-file=${pki.files.ca}`,
      '--client-cert-auth=true',
      // one small machine: no fsync pressure from a huge backend, frequent compaction of old revisions
      '--quota-backend-bytes=2147483648',
      '--auto-compaction-mode=periodic',
      '--auto-compaction-retention=5m',
      '--log-level=warn',
    ]);
    await waitFor('etcd', () => httpsOk(`${etcdUrl}/health`, pki, pki.files.etcdCrt, pki.files.etcdKey), etcd.child, etcd.log, 30_000);

    const api = run('kube-apiserver', [
      `--etcd-servers=${etcdUrl}`,
      `--etcd-cafile=${pki.files.ca}`,
      `--etcd-certfile=${pki.files.etcdCrt}`,
      `--etcd-keyfile=${pki.files.etcdKey}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiserver}`,
      `--tls-cert-file=${pki.files.serverCrt}`,
      `--tls-private-key-file=${pki.files.serverKey}`,
      `--client-ca-file=${pki.files.ca}`,
      `--service-account-key-file=${pki.files.saPub}`,
      `--service-account-signing-key-file=${pki.files.saKey}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--authorization-mode=Node,RBAC',
      `--audit-policy-file=${policy}`,
      `--audit-log-path=${audit}`,
      '--audit-log-maxsize=100',
      '--audit-log-maxbackup=1',
      // the API server's own lease and endpoint upkeep would write where nothing changed
      '--endpoint-reconciler-type=none',
      '--profiling=false',
      '--v=1',
    ]);
    await waitFor('kube-apiserver', () => httpsOk(`${server}/readyz`, pki, undefined, undefined), api.child, api.log, 120_000);
    if (o.controllerManager !== false) {
      const kcm = run('kube-controller-manager', [
        `--kubeconfig=${kcmConfig}`,
        `--authentication-kubeconfig=${kcmConfig}`,
        `--authorization-kubeconfig=${kcmConfig}`,
        '--bind-address=127.0.0.1',
        '--secure-port=0',
        '--leader-elect=false',
        `--service-account-private-key-file=${pki.files.saKey}`,
        `--root-ca-file=${pki.files.ca}`,
        `--cluster-signing-cert-file=${pki.files.ca}`,
        `--cluster-signing-key-file=${pki.files.caKey}`,
        '--use-service-account-credentials=true',
        '--v=1',
      ]);
      // kube-controller-manager has no port here: it is up once it has made the default namespace's service account
      const { KubeClient } = await import('../provider/kube/client.js');
      const client = KubeClient.fromFile(admin);
      await waitFor(
        'kube-controller-manager',
        async () => {
          try {
            await client.get('v1', 'ServiceAccount', 'default', 'default');
            return true;
          } catch {
            return false;
          }
        },
        kcm.child,
        kcm.log,
        120_000,
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    server,
    kubeconfig: admin,
    caPem: pki.ca.certPem,
    auditLog: audit,
    dataDir: dir,
    pids: Object.fromEntries(children.map(({ name, child }) => [name, child.pid ?? -1])),
    exited,
    stop,
  };
}
