// `ferrite controllers`: Ferrite's controllers (BMO, IPAM, Cluster API, CAPM3), all or any subset, against
// any Kubernetes API server and any Ironic, as they run on real racks: from a kubeconfig, or in a pod
// with its service account. Flags follow controller-runtime and BMO's environment variables
// (IRONIC_ENDPOINT, DEPLOY_KERNEL_URL, PROVISIONING_LIMIT, …).
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { Logger } from 'pino';
import { COMPONENTS, type Component, parseComponents, startControllers } from '../provider/controllers.js';
import { KubeClient } from '../provider/kube/client.js';
import { nonNegativeInt, positive } from './parse.js';

export interface ControllersFlags {
  controllers: Component[];
  kubeconfig?: string;
  ironicUrl?: string;
  ironicUsername?: string;
  ironicPassword?: string;
  ironicAuthDir?: string;
  ironicCacert?: string;
  ironicInsecure?: boolean;
  metricsBindAddress: string;
  metricsSecure?: boolean;
  metricsCertDir?: string;
  healthProbeBindAddress: string;
  leaderElect?: boolean;
  leaderElectionNamespace?: string;
  leaderElectionId?: string;
  webhookCertDir?: string;
  webhookCertSecret?: { namespace: string; name: string };
  webhookService?: { namespace: string; name: string };
  webhookUrl?: string;
  webhookHost: string;
  webhookPort: number;
  maxConcurrentReconciles: number;
  provisioningLimit: number;
  deployKernelUrl?: string;
  deployRamdiskUrl?: string;
  deployIsoUrl?: string;
  buildPreprovImage?: boolean;
  ironicNetworking?: boolean;
  switchConfigsSecret?: string;
  switchCredentialsSecret?: string;
  switchCredentialsPath?: string;
  pollInterval: number;
  errorBackoffBase: number;
  maxProvisioningRetries: number;
}

const nsName = (v: string) => {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(v);
  if (!m) throw new InvalidArgumentError('must be namespace/name');
  return { namespace: m[1], name: m[3] };
};

const bindAddr = (v: string) => {
  if (v !== '0' && !/^(\[[0-9a-f:]+\]|[^:]*):\d+$/i.test(v)) throw new InvalidArgumentError('must be host:port, :port or 0 (disabled)');
  return v;
};

export function controllersCommand(run: (flags: ControllersFlags, cmd: Command) => Promise<void>): Command {
  return new Command('controllers')
    .description(
      "Run the controllers, all or a subset: the Bare Metal Operator, Metal3 IPAM, CAPM3, Cluster API's core, its kubeadm bootstrap and control plane (with their validating webhooks and CRD conversion)",
    )
    .addOption(
      new Option('--controllers <list>', `which controllers run, comma-separated: ${COMPONENTS.join(', ')} (kubeadm: both kubeadm ones)`)
        .argParser((v: string) => {
          try {
            return parseComponents(v);
          } catch (e) {
            throw new InvalidArgumentError((e as Error).message);
          }
        })
        .default([...COMPONENTS], 'all'),
    )
    .option(
      '--kubeconfig <file>',
      "kubeconfig of the cluster to manage (default: KUBECONFIG, else the pod's service account)",
      process.env.KUBECONFIG,
    )
    .option('--ironic-url <url>', 'Ironic API endpoint, needed by bmo (IRONIC_ENDPOINT)', process.env.IRONIC_ENDPOINT)
    .option('--ironic-username <user>', 'HTTP Basic user for Ironic')
    .option('--ironic-password <password>', 'HTTP Basic password for Ironic')
    .option(
      '--ironic-auth-dir <dir>',
      'directory with `username` and `password` files (as METAL3_AUTH_ROOT_DIR/ironic)',
      process.env.METAL3_AUTH_ROOT_DIR ? join(process.env.METAL3_AUTH_ROOT_DIR, 'ironic') : undefined,
    )
    .option('--ironic-cacert <file>', 'CA bundle for an HTTPS Ironic (IRONIC_CACERT_FILE)', process.env.IRONIC_CACERT_FILE)
    .option('--ironic-insecure', 'do not verify the Ironic certificate (IRONIC_INSECURE)', process.env.IRONIC_INSECURE === 'true')
    .option('--metrics-bind-address <addr>', 'where /metrics listens; 0 disables', bindAddr, '127.0.0.1:8080')
    .option('--metrics-secure', 'serve /metrics over HTTPS to callers a TokenReview and SubjectAccessReview allow')
    .option('--metrics-cert-dir <dir>', 'tls.crt and tls.key for secure metrics (default: a self-signed certificate)')
    .option('--health-probe-bind-address <addr>', 'where /healthz and /readyz listen; 0 disables', bindAddr, '127.0.0.1:9440')
    .option('--leader-elect', 'hold a Lease so only one replica reconciles')
    .option('--leader-election-namespace <ns>', "namespace of the Lease (default: the pod's namespace, else kube-system)")
    .option('--leader-election-id <name>', 'identity of this replica (default: hostname_pid)')
    .option('--webhook-cert-dir <dir>', 'serve the validating webhook with tls.crt and tls.key from here')
    .option(
      '--webhook-cert-secret <ns/name>',
      'keep the webhook certificate in this Secret and its CA in the webhook configurations and CRDs (no cert-manager needed)',
      nsName,
    )
    .option('--webhook-service <ns/name>', 'the Service the API server reaches the webhooks through (for --webhook-cert-secret)', nsName)
    .option(
      '--webhook-url <url>',
      'controllers outside the cluster: point the webhook configurations and CRDs at this URL instead of the Service',
    )
    .option('--webhook-host <ip>', 'address the webhook listens on', '127.0.0.1')
    .option('--webhook-port <port>', 'webhook port', positive, 9443)
    .option(
      '--max-concurrent-reconciles <n>',
      'BareMetalHosts reconciled at once (BMO_CONCURRENCY)',
      positive,
      Number(process.env.BMO_CONCURRENCY ?? 20),
    )
    .option(
      '--provisioning-limit <n>',
      'hosts provisioning at once over a provisioning network (PROVISIONING_LIMIT)',
      positive,
      Number(process.env.PROVISIONING_LIMIT ?? 20),
    )
    .option('--deploy-kernel-url <url>', 'agent kernel for driver_info/deploy_kernel (DEPLOY_KERNEL_URL)', process.env.DEPLOY_KERNEL_URL)
    .option(
      '--deploy-ramdisk-url <url>',
      'agent ramdisk for driver_info/deploy_ramdisk (DEPLOY_RAMDISK_URL)',
      process.env.DEPLOY_RAMDISK_URL,
    )
    .option(
      '--deploy-iso-url <url>',
      'agent ISO for driver_info/deploy_iso on virtual-media BMCs, instead of the kernel and ramdisk (DEPLOY_ISO_URL)',
      process.env.DEPLOY_ISO_URL,
    )
    .option(
      '--build-preprov-image',
      'give each host its agent image through a PreprovisioningImage (from the --deploy-* URLs, per architecture from DEPLOY_*_URL_<ARCH> or DEPLOY_*_BY_ARCH)',
      false,
    )
    .option(
      '--ironic-networking',
      "render BareMetalSwitches into Ironic's networking-generic-switch configuration (IRONIC_NETWORKING_ENABLED)",
      process.env.IRONIC_NETWORKING_ENABLED === 'true',
    )
    .option(
      '--switch-configs-secret <name>',
      'the Secret for switch-configs.conf (IRONIC_SWITCH_CONFIGS_SECRET)',
      process.env.IRONIC_SWITCH_CONFIGS_SECRET,
    )
    .option(
      '--switch-credentials-secret <name>',
      "the Secret for switches' SSH keys (IRONIC_SWITCH_CREDENTIALS_SECRET)",
      process.env.IRONIC_SWITCH_CREDENTIALS_SECRET,
    )
    .option(
      '--switch-credentials-path <dir>',
      'where Ironic mounts that Secret (IRONIC_SWITCH_CREDENTIALS_PATH)',
      process.env.IRONIC_SWITCH_CREDENTIALS_PATH,
    )
    .option('--poll-interval <s>', 'seconds between looks at a busy Ironic node (upstream: 10)', positive, 10)
    .option('--error-backoff-base <s>', 'errorCount backoff unit in seconds (upstream: 60)', positive, 60)
    .option(
      '--max-provisioning-retries <n>',
      'failed provisionings of one image before a host stops retrying it; 0: no limit',
      nonNegativeInt,
      5,
    )
    .action(run);
}

/** Runs the controllers until `stopped` resolves. */
export async function runControllers(f: ControllersFlags, log: Logger, stopped: Promise<string>): Promise<void> {
  const components = f.controllers ?? [...COMPONENTS];
  const bmo = components.includes('bmo');
  if (bmo && !f.ironicUrl) throw new Error('--ironic-url (or IRONIC_ENDPOINT) is required to run the bmo controllers');
  if (f.ironicNetworking)
    for (const [flag, v, env] of [
      ['--switch-configs-secret', f.switchConfigsSecret, 'IRONIC_SWITCH_CONFIGS_SECRET'],
      ['--switch-credentials-secret', f.switchCredentialsSecret, 'IRONIC_SWITCH_CREDENTIALS_SECRET'],
      ['--switch-credentials-path', f.switchCredentialsPath, 'IRONIC_SWITCH_CREDENTIALS_PATH'],
    ])
      if (!v) throw new Error(`${flag} (or ${env}) is required with --ironic-networking`);
  let username = f.ironicUsername;
  let password = f.ironicPassword;
  if (f.ironicAuthDir && username === undefined) {
    const read = (n: string) => readFileSync(join(f.ironicAuthDir as string, n), 'utf8').trim();
    username = read('username');
    password = read('password');
  }
  if (f.webhookCertSecret && !f.webhookService)
    throw new Error('--webhook-cert-secret needs --webhook-service (the Service its certificate is for)');
  if (f.webhookCertSecret && f.webhookCertDir) throw new Error('--webhook-cert-dir and --webhook-cert-secret are alternatives: give one');
  for (const [flag, dir] of [
    ['--webhook-cert-dir', f.webhookCertDir],
    ['--metrics-cert-dir', f.metricsCertDir],
  ] as const) {
    for (const n of ['tls.crt', 'tls.key']) if (dir && !existsSync(join(dir, n))) throw new Error(`${flag} ${dir} has no ${n}`);
  }
  const client = f.kubeconfig ? KubeClient.fromFile(f.kubeconfig) : KubeClient.inCluster();
  log.info(
    { server: client.server, credentials: client.source, controllers: components.join(','), ironic: bmo ? f.ironicUrl : undefined },
    `starting the ${components.join(', ')} controllers against ${client.server}`,
  );
  const starting = startControllers({
    client,
    log,
    components,
    ironic: bmo
      ? {
          endpoint: String(f.ironicUrl),
          username,
          password,
          caCert: f.ironicCacert ? readFileSync(f.ironicCacert, 'utf8') : undefined,
          insecure: f.ironicInsecure,
        }
      : undefined,
    deployKernelUrl: f.deployKernelUrl,
    deployRamdiskUrl: f.deployRamdiskUrl,
    deployIsoUrl: f.deployIsoUrl,
    buildPreprovImage: f.buildPreprovImage,
    switchNetworking: f.ironicNetworking
      ? {
          configsSecret: String(f.switchConfigsSecret),
          credentialsSecret: String(f.switchCredentialsSecret),
          credentialsPath: String(f.switchCredentialsPath),
        }
      : undefined,
    pollMs: f.pollInterval * 1000,
    errorBackoffBaseMs: f.errorBackoffBase * 1000,
    maxProvisioningRetries: f.maxProvisioningRetries,
    provisioningLimit: f.provisioningLimit,
    maxConcurrentReconciles: f.maxConcurrentReconciles,
    metricsBindAddress: f.metricsBindAddress === '0' ? undefined : f.metricsBindAddress,
    metricsSecure: f.metricsSecure ? { certDir: f.metricsCertDir } : undefined,
    healthProbeBindAddress: f.healthProbeBindAddress === '0' ? undefined : f.healthProbeBindAddress,
    leaderElection: f.leaderElect
      ? {
          namespace: f.leaderElectionNamespace ?? KubeClient.inClusterNamespace() ?? 'kube-system',
          identity: f.leaderElectionId ?? `${hostname()}_${process.pid}`,
        }
      : undefined,
    webhook:
      f.webhookCertDir || f.webhookCertSecret
        ? {
            host: f.webhookHost,
            port: f.webhookPort,
            certDir: f.webhookCertDir,
            certSecret: f.webhookCertSecret,
            service: f.webhookService,
            url: f.webhookUrl,
          }
        : undefined,
  });
  // a signal while the caches still wait for an API server that never answers ends the process
  // at once: nothing was reconciled yet, so there is nothing to finish (a pod must not hang in Terminating)
  const first = await Promise.race([starting.then((op) => ({ op })), stopped.then((signal) => ({ signal }))]);
  if ('signal' in first) {
    log.info({ signal: first.signal, server: client.server }, 'shutting down before the caches synced');
    starting.then((op) => op.stop()).catch(() => {});
    return;
  }
  const op = first.op;
  log.info(
    {
      controllers: components.join(','),
      ironic: op.ironic ? f.ironicUrl : undefined,
      microversion: op.ironic?.microversion,
      metrics: op.manager.metricsAddress,
      probes: op.manager.probeAddress,
      webhook: op.webhook?.url,
    },
    'controllers started',
  );
  const sig = await stopped;
  log.info({ signal: sig }, 'shutting down');
  await op.stop();
}
