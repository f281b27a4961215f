// `ferrite dashboard`: the fleet, each host's story and the clusters on top, live in a browser
// (docs/dashboard.md).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import type { Logger } from 'pino';
import { startDashboard } from '../dashboard/server.js';
import { KubeClient, KubeconfigError } from '../provider/kube/client.js';
import { port, positive } from './parse.js';

interface Flags {
  kubeconfig?: string;
  ironicUrl?: string;
  ironicAuthDir?: string;
  ironicCacert?: string;
  ironicInterval: number;
  emulatorUrl?: string;
  bmcTimeScale: number;
  bmc: boolean;
  namespace?: string;
  address: string;
  port: number;
  allowActions?: boolean;
  reports: string[];
}

export function dashboardCommand(
  fail: (msg: string, code: number) => Error,
  logger: (cmd: Command) => Logger,
  waitForSignal: () => Promise<string>,
): Command {
  return new Command('dashboard')
    .description('Serve a live web dashboard of the fleet, each host and the clusters (read-only unless --allow-actions)')
    .option('--kubeconfig <file>', 'the cluster to show (default: KUBECONFIG)', process.env.KUBECONFIG)
    .option('--ironic-url <url>', "Ironic's API, for provision states and node history (IRONIC_ENDPOINT)", process.env.IRONIC_ENDPOINT)
    .option(
      '--ironic-auth-dir <dir>',
      'directory with Ironic `username` and `password` files (as METAL3_AUTH_ROOT_DIR/ironic)',
      process.env.METAL3_AUTH_ROOT_DIR ? join(process.env.METAL3_AUTH_ROOT_DIR, 'ironic') : undefined,
    )
    .option('--ironic-cacert <file>', 'CA bundle for an HTTPS Ironic (IRONIC_CACERT_FILE)', process.env.IRONIC_CACERT_FILE)
    .option('--ironic-interval <s>', "seconds between reads of Ironic's node list (one request for the whole fleet)", positive, 2)
    .option('--emulator-url <url>', "Ferrite's BMC emulator Redfish URL: lets IPMI-only emulated hosts show their BMC logs")
    .option(
      '--bmc-time-scale <n>',
      "how many times real time the BMCs' clocks run (Ferrite's emulator: its --time-scale), to place their log entries on the timeline",
      positive,
      1,
    )
    .option('--no-bmc', "do not read opened hosts' BMCs (needs no access to their credential Secrets)")
    .option('--namespace <ns>', 'show this namespace only (default: all)')
    .option('--address <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, 8088)
    .option('--allow-actions', 'let the page power, reboot, inspect, pause and provision hosts (the same patches kubectl sends)')
    .option(
      '--reports <dir>',
      'a folder of scenario, benchmark or conformance reports to list (repeatable)',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .action(async (f: Flags, cmd: Command) => {
      if (!f.kubeconfig) throw fail('--kubeconfig (or KUBECONFIG) is required: the dashboard shows that cluster', 2);
      let client: KubeClient;
      try {
        client = KubeClient.fromFile(f.kubeconfig);
      } catch (e) {
        if (e instanceof KubeconfigError) throw fail(e.message, 2);
        throw e;
      }
      let username: string | undefined;
      let password: string | undefined;
      if (f.ironicUrl && f.ironicAuthDir) {
        try {
          const read = (n: string) => readFileSync(join(f.ironicAuthDir as string, n), 'utf8').trim();
          username = read('username');
          password = read('password');
        } catch (e) {
          throw fail(`--ironic-auth-dir ${f.ironicAuthDir}: ${(e as Error).message}`, 2);
        }
      }
      const log = logger(cmd);
      const reports = f.reports.length ? f.reports : ['scenario-reports', 'bench-results'];
      const d = await startDashboard({
        client,
        ironic: f.ironicUrl
          ? {
              endpoint: f.ironicUrl,
              username,
              password,
              caCert: f.ironicCacert ? readFileSync(f.ironicCacert, 'utf8') : undefined,
              timeoutMs: 10_000,
            }
          : undefined,
        ironicIntervalMs: f.ironicInterval * 1000,
        emulatorUrl: f.emulatorUrl,
        bmcTimeScale: f.bmcTimeScale,
        readBmc: f.bmc,
        namespace: f.namespace,
        address: f.address,
        port: f.port,
        allowActions: f.allowActions,
        reportDirs: reports,
        log,
      }).catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') throw fail(`port ${f.port} on ${f.address} is taken: pick another with --port`, 1);
        throw e;
      });
      process.stdout.write(`Ferrite dashboard: ${d.url}${f.allowActions ? ' (actions allowed)' : ' (read-only)'}\nPress Ctrl-C to stop.\n`);
      const sig = await waitForSignal();
      log.info({ signal: sig }, 'shutting down');
      await d.close();
    });
}
