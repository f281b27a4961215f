// `ferrite dev up|down|status`: the one-machine dev environment (see devenv/).
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { type ClusterResult, provisionCluster } from '../devenv/cluster.js';
import { COMPONENTS, componentAlive, readState, stateFile, stopStack } from '../devenv/stack.js';
import { devUp, IRONIC_AUTH_DIR } from '../devenv/up.js';
import { FleetError } from '../emulator/fleet/config.js';
import { AGENT_KERNEL_PATH, AGENT_RAMDISK_PATH } from '../provider/ironic/service.js';
import { KubeClient } from '../provider/kube/client.js';
import { port, positive, positiveInt } from './parse.js';
import { table } from './table.js';

/** Progress on a terminal rewrites one line; elsewhere each change is its own line. */
export function progressPrinter(out: NodeJS.WriteStream = process.stdout): (line: string, final: boolean) => void {
  let last = '';
  return (line, final) => {
    if (out.isTTY) out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else if (line !== last) out.write(`${line}\n`);
    last = line;
  };
}

export function devCommand(): Command {
  const dev = new Command('dev').description('The one-machine dev environment: API server, Ironic, BMC emulator and controllers');
  dev
    .command('up')
    .description(
      'Start the environment (or resume the kept one in --data-dir), register the fleet as BareMetalHosts, wait until they are available, then provision a workload cluster on them',
    )
    .option('--hosts <n>', 'a default fleet of N machines', positiveInt, 3)
    .option('--fleet <file>', 'a fleet file (YAML, see docs/bmc-emulator.md) instead of --hosts')
    .option('--data-dir <dir>', 'state and per-component logs', '.ferrite/dev')
    .option('--kubeconfig <file>', 'run the controllers against this cluster instead of the embedded API server')
    .option(
      '--kube <which>',
      "API server to start when no --kubeconfig: embedded (Ferrite's own) or real (etcd + kube-apiserver + kube-controller-manager from scripts/install-kube.sh)",
      'embedded',
    )
    .option('--port <port>', 'API server port (0 picks a free one)', port, 6443)
    .option('--namespace <ns>', 'namespace of the BareMetalHosts and Secrets', 'metal3')
    .option('--protocol <p>', 'BMC address kind for machines with several: redfish, redfish-virtualmedia or ipmi', 'redfish-virtualmedia')
    .option('--time-scale <n>', 'simulated seconds per real second for the machines', positive, 10)
    .option('--heartbeat-timeout <s>', "Ironic's agent heartbeat timeout: the pace of agent-driven steps", positiveInt, 5)
    .option('--poll-interval <s>', 'seconds between the operator looking at a busy Ironic node', positive, 2)
    .option(
      '--timeout <s>',
      'give up waiting for available hosts, and then for the cluster, after this long (0: do not wait)',
      (v) => Number(v),
      600,
    )
    .option('--cluster <name>', "provision a workload cluster from metal3-dev-env's templates on the hosts", 'test1')
    .option('--no-cluster', 'only bring the hosts to available')
    .option('--no-register', 'start the stack only: register no BareMetalHosts (and provision no cluster)')
    .option('--no-controllers', "do not start Ferrite's controllers: run your own (upstream BMO, CAPM3) against the stack")
    .option(
      '--ironic-tls',
      'run Ironic over HTTPS (API and HTTP root) with a generated CA and Basic auth, as deployed; the machines trust the CA',
    )
    .option('--control-planes <n>', 'control plane machines of the cluster', positiveInt, 1)
    .option('--workers <n>', 'worker machines of the cluster (default: the hosts left)')
    .option('--kubernetes-version <v>', 'Kubernetes version of the cluster', 'v1.36.0')
    .option('--no-dashboard', 'do not start `ferrite dashboard`')
    .option('--dashboard-port <port>', 'port of the dashboard (default: 8088 when free, else any free one; 0: any free one)', port)
    .option(
      '--cluster-class',
      "declare the cluster through a Metal3 ClusterClass and Cluster.spec.topology instead of metal3-dev-env's templates",
    )
    .action(
      async (o: {
        hosts: number;
        fleet?: string;
        dataDir: string;
        kubeconfig?: string;
        kube: string;
        port: number;
        namespace: string;
        protocol: string;
        timeScale: number;
        heartbeatTimeout: number;
        pollInterval: number;
        timeout: number;
        cluster: string | false;
        register: boolean;
        controllers: boolean;
        ironicTls?: boolean;
        controlPlanes: number;
        workers?: string;
        kubernetesVersion: string;
        clusterClass?: boolean;
        dashboard: boolean;
        dashboardPort?: number;
      }) => {
        const hostCount = o.fleet ? undefined : o.hosts;
        const workers = o.workers !== undefined ? Number(o.workers) : Math.max(0, (hostCount ?? o.controlPlanes) - o.controlPlanes);
        if (!Number.isInteger(workers) || workers < 0)
          throw new InvalidArgumentError(`--workers must be a whole number, not "${o.workers}"`);
        if (o.cluster && hostCount !== undefined && hostCount < o.controlPlanes + workers) {
          throw new InvalidArgumentError(
            `a cluster of ${o.controlPlanes} control plane and ${workers} worker machines needs ${o.controlPlanes + workers} hosts; --hosts is ${hostCount}`,
          );
        }
        if (o.kube !== 'embedded' && o.kube !== 'real') throw new InvalidArgumentError(`--kube must be embedded or real, not "${o.kube}"`);
        if (o.kube === 'real' && o.kubeconfig)
          throw new InvalidArgumentError('--kube real starts its own API server: leave out --kubeconfig');
        if (!['redfish', 'redfish-virtualmedia', 'ipmi'].includes(o.protocol)) {
          throw new InvalidArgumentError(`--protocol must be redfish, redfish-virtualmedia or ipmi, not "${o.protocol}"`);
        }
        const started = Date.now();
        const r = await devUp({
          dataDir: o.dataDir,
          fleetFile: o.fleet,
          hosts: o.hosts,
          kubeconfig: o.kubeconfig,
          kube: o.kube,
          apiPort: o.port,
          namespace: o.namespace,
          protocol: o.protocol as 'redfish',
          timeScale: o.timeScale,
          heartbeatTimeout: o.heartbeatTimeout,
          pollInterval: o.pollInterval,
          waitTimeoutMs: o.timeout * 1000,
          registerHosts: o.register,
          controllers: o.controllers,
          ironicTls: o.ironicTls,
          dashboard: o.dashboard,
          dashboardPort: o.dashboardPort,
          progress: progressPrinter(),
        }).catch((e: unknown) => {
          // a malformed fleet file is the user's input: a usage error (exit 2)
          if (e instanceof FleetError) throw new InvalidArgumentError(e.message);
          throw e;
        });
        const s = r.state;
        let cluster: ClusterResult | undefined;
        if (o.cluster && o.register && o.controllers && o.timeout > 0) {
          cluster = await provisionCluster(s, {
            name: o.cluster,
            namespace: o.namespace,
            controlPlanes: o.controlPlanes,
            workers,
            kubernetesVersion: o.kubernetesVersion,
            clusterClass: Boolean(o.clusterClass),
            timeoutMs: o.timeout * 1000,
            progress: progressPrinter(),
          });
        }
        process.stdout.write(
          [
            '',
            `Ferrite dev environment is up (${r.hosts.length} hosts${cluster ? `, cluster ${o.cluster} with ${cluster.nodes.length} Ready Nodes` : ''}, ${((Date.now() - started) / 1000).toFixed(1)}s)`,
            `  kubeconfig:  ${s.kubeconfig}`,
            ...(cluster ? [`  cluster ${o.cluster}: ${cluster.endpoint}, kubeconfig ${cluster.kubeconfig}`] : []),
            `  Ironic:      ${s.ironicUrl} (Basic auth: ${resolve(s.dataDir, IRONIC_AUTH_DIR, 'ironic')}/{username,password})`,
            `  Redfish:     ${s.redfishUrl}`,
            ...(s.dashboardUrl ? [`  dashboard:   ${s.dashboardUrl}`] : []),
            `  logs:        ${resolve(s.dataDir, 'logs')}`,
            ...(o.controllers
              ? []
              : [
                  '',
                  "No controllers run (--no-controllers). Upstream's Bare Metal Operator, for one, runs against this stack with:",
                  `  KUBECONFIG=${s.kubeconfig} IRONIC_ENDPOINT=${s.ironicUrl}/v1/ \\`,
                  `  METAL3_AUTH_ROOT_DIR=${resolve(s.dataDir, IRONIC_AUTH_DIR)} \\`,
                  ...(o.ironicTls ? [`  IRONIC_CACERT_FILE=${resolve(s.dataDir, 'ironic-tls', 'pki', 'ca.crt')} \\`] : []),
                  `  DEPLOY_KERNEL_URL=${s.ironicHttpUrl}/${AGENT_KERNEL_PATH} DEPLOY_RAMDISK_URL=${s.ironicHttpUrl}/${AGENT_RAMDISK_PATH} \\`,
                  '  baremetal-operator --webhook-port 0 --metrics-addr 127.0.0.1:8443 --health-addr 127.0.0.1:9440',
                ]),
            '',
            'Try:',
            `  export KUBECONFIG=${s.kubeconfig}`,
            `  kubectl get bmh -n ${s.namespace}`,
            ...(cluster
              ? [`  kubectl get cluster,kcp,md,machines -n ${s.namespace}`, `  kubectl --kubeconfig ${cluster.kubeconfig} get nodes`]
              : []),
            ...(cluster
              ? [`  kubectl scale md ${o.cluster} -n ${s.namespace} --replicas 1`]
              : [
                  `  kubectl patch bmh -n ${s.namespace} ${r.hosts[0] ?? 'node-0'} --type merge -p '{"spec":{"image":{"url":"http://…/image.qcow2","checksum":"…"}}}'`,
                ]),
            `  OS_ENDPOINT=${s.ironicUrl} OS_AUTH_TYPE=http_basic OS_USERNAME=ironic OS_PASSWORD=$(cat ${resolve(s.dataDir, IRONIC_AUTH_DIR, 'ironic', 'password')}) \\`,
            `    ${o.ironicTls ? `OS_CACERT=${resolve(s.dataDir, 'ironic-tls', 'pki', 'ca.crt')} ` : ''}baremetal node list`,
            `  ferrite dev status --data-dir ${o.dataDir}`,
            `  ferrite dev down --data-dir ${o.dataDir}`,
            '',
          ].join('\n'),
        );
      },
    );

  dev
    .command('down')
    .description('Stop every component of the environment (state stays unless --purge)')
    .option('--data-dir <dir>', 'the environment to stop', '.ferrite/dev')
    .option('--purge', 'also delete the data directory')
    .action(async (o: { dataDir: string; purge?: boolean }) => {
      const s = readState(resolve(o.dataDir));
      if (!s) throw new Error(`no dev environment in ${resolve(o.dataDir)} (no ${stateFile(resolve(o.dataDir))})`);
      await stopStack(s);
      for (const n of COMPONENTS) if (s.components[n]) process.stdout.write(`stopped ${n}\n`);
      if (o.purge) rmSync(resolve(o.dataDir), { recursive: true, force: true });
      else rmSync(stateFile(resolve(o.dataDir)), { force: true });
    });

  dev
    .command('status')
    .description('Show which components run and where the hosts are')
    .option('--data-dir <dir>', 'the environment to show', '.ferrite/dev')
    .action(async (o: { dataDir: string }) => {
      const s = readState(resolve(o.dataDir));
      if (!s) throw new Error(`no dev environment in ${resolve(o.dataDir)}: start one with \`ferrite dev up\``);
      const rows = [['COMPONENT', 'PID', 'STATE', 'LOG']];
      for (const n of COMPONENTS) {
        const c = s.components[n];
        if (c) rows.push([n, String(c.pid), componentAlive(n, c.pid) ? 'running' : 'stopped', c.log]);
      }
      process.stdout.write(
        `${table(rows)}\nkubeconfig: ${s.kubeconfig}\nIronic: ${s.ironicUrl}\n${s.dashboardUrl ? `dashboard: ${s.dashboardUrl}\n` : ''}`,
      );
      try {
        const client = KubeClient.fromFile(s.kubeconfig);
        const list = await client.list<{ status?: { provisioning?: { state?: string }; errorType?: string } }>(
          'metal3.io/v1alpha1',
          'BareMetalHost',
          s.namespace,
        );
        const counts = new Map<string, number>();
        for (const h of list.items) {
          const k = h.status?.errorType ? `error (${h.status.errorType})` : h.status?.provisioning?.state || 'new';
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        process.stdout.write(`hosts in ${s.namespace}: ${list.items.length}${[...counts].map(([k, v]) => ` · ${k} ${v}`).join('')}\n`);
      } catch (e) {
        process.stdout.write(`hosts: API server unreachable (${(e as Error).message.split('\n')[0]})\n`);
      }
    });
  return dev;
}
