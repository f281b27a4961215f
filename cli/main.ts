#!/usr/bin/env node
// The `ferrite` command: parses flags and calls into the provider/ and emulator/ folders.
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import type { Logger } from 'pino';
import { defaultFleet, FleetError, type FleetFile, loadFleetFile, type ResolvedFleet, resolveFleet } from '../emulator/fleet/config.js';
import { type BmcAddresses, destroyFleetDomains, Fleet } from '../emulator/fleet/fleet.js';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { FleetStore, type SyncMode } from '../emulator/fleet/store.js';
import { bindingProblem } from '../emulator/machine/libvirt/hypervisor.js';
import { DirLockedError, lockDir } from '../lib/dir-lock.js';
import { startApiServer } from '../provider/apiserver/server.js';
import { HtpasswdError } from '../provider/ironic/api/auth.js';
import { startIronic } from '../provider/ironic/service.js';
import { conformanceCommand } from './conformance.js';
import { controllersCommand, runControllers } from './controllers.js';
import { generateCrds, installCrds } from './crds.js';
import { dashboardCommand } from './dashboard.js';
import { devCommand } from './dev.js';
import { kubeCommand } from './kube.js';
import { makeLogger } from './logging.js';
import { nonNegativeInt, parseBool, port, positive, positiveInt } from './parse.js';
import { generateRelease } from './release.js';
import { scenarioCommand } from './scenario.js';
import { table } from './table.js';
import { vmCommand } from './vm.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', fileURLToPath(import.meta.url).includes('/dist/') ? '..' : '');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

function lockOrFail(dir: string, what: string): void {
  try {
    lockDir(dir, what);
  } catch (e) {
    if (e instanceof DirLockedError) throw new CliError(e.message);
    throw e;
  }
}

function logger(cmd: Command): Logger {
  const o = cmd.optsWithGlobals() as { logFormat: string; logLevel: string };
  return makeLogger(o.logFormat, o.logLevel);
}

function waitForSignal(): Promise<string> {
  return new Promise((res) => {
    const on = (s: string) => res(s);
    process.once('SIGINT', on);
    process.once('SIGTERM', on);
  });
}

export function buildCli(): Command {
  const program = new Command('ferrite')
    .description('Bare-metal provisioning for Kubernetes: API server, Ironic, BMO, CAPM3 and BMC emulation')
    .version(pkg.version, '-V, --version')
    .option('--log-format <format>', 'log format: json or text', 'json')
    .option('--log-level <level>', 'log level: debug, info, warn, error', 'info')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('apiserver')
    .description('Run the embedded Kubernetes-API-compatible server (HTTPS, bearer token, SQLite-backed)')
    .option('--data-dir <dir>', 'directory for the database, certificates and kubeconfig', '.ferrite/apiserver')
    .option('--address <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, 6443)
    .option('--sync <mode>', 'durability: full (fsync each group commit) or normal (survives process kill only)', 'full')
    .option('--no-crds', "do not install Ferrite's CRDs at start")
    .action(async (opts: { dataDir: string; address: string; port: number; sync: string; crds: boolean }, cmd: Command) => {
      if (opts.sync !== 'full' && opts.sync !== 'normal') throw new CliError(`--sync must be full or normal, not "${opts.sync}"`, 2);
      lockOrFail(opts.dataDir, '`ferrite apiserver`');
      const log = logger(cmd);
      const srv = await startApiServer({
        dataDir: opts.dataDir,
        address: opts.address,
        port: opts.port,
        synchronous: opts.sync,
        log,
      });
      if (opts.crds) await installCrds(srv.core);
      process.stdout.write(`kubeconfig: ${srv.kubeconfigPath}\nserver: ${srv.url}\n`);
      const sig = await waitForSignal();
      log.info({ signal: sig }, 'shutting down');
      await srv.close();
    });

  program.addCommand(devCommand());
  program.addCommand(scenarioCommand((m, code) => new CliError(m, code)));
  program.addCommand(conformanceCommand((m, code) => new CliError(m, code)));
  program.addCommand(vmCommand((m, code) => new CliError(m, code)));
  program.addCommand(kubeCommand((m, code) => new CliError(m, code), waitForSignal));
  program.addCommand(dashboardCommand((m, code) => new CliError(m, code), logger, waitForSignal));

  program
    .command('ironic')
    .description('Run the Ironic-compatible provisioning service (REST API, conductor, HTTP boot root)')
    .option('--data-dir <dir>', 'directory for the database, HTTP root and image cache', '.ferrite/ironic')
    .option('--host <ip>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'API port (0 picks a free one)', port, 6385)
    .option('--http-port <port>', 'HTTP root port for iPXE scripts and boot ISOs (0 picks a free one)', port, 6180)
    .option('--public-url <url>', 'API URL agents and clients use (default: from --host/--port)')
    .option('--http-url <url>', 'HTTP root URL BMCs and iPXE use (default: from --host/--http-port)')
    .option('--htpasswd <file>', 'require HTTP Basic auth with bcrypt users from this htpasswd file')
    .option('--tls-cert <file>', 'serve the API over HTTPS with this PEM certificate')
    .option('--tls-key <file>', 'PEM key for --tls-cert')
    .option('--http-tls', 'serve the HTTP root (iPXE scripts, ISOs, images, config drives) over HTTPS too, with --tls-cert')
    .option('--metrics', "serve Prometheus metrics at the API's /metrics (behind --htpasswd when given)")
    .option(
      '--webserver-verify-ca <file>',
      'PEM CA to trust when downloading deploy images over HTTPS, e.g. from --http-tls (webserver_verify_ca)',
    )
    .option('--sync <mode>', 'durability: normal (survives process kill) or full (also power loss)', 'normal')
    .option('--workers <n>', 'conductor worker pool size (upstream [conductor]workers_pool_size)', positiveInt, 300)
    .option('--heartbeat-timeout <s>', 'agent heartbeat timeout sent at lookup', positiveInt, 300)
    .option(
      '--heartbeat-deadline <s>',
      'seconds of silence after which an agent that had called in counts as gone and its wait fails (0: never; default 2 × heartbeat timeout, ≥ 30)',
      nonNegativeInt,
    )
    .option('--deploy-callback-timeout <s>', "seconds in 'wait call-back' before deploy fails", positiveInt, 1800)
    .option('--clean-callback-timeout <s>', "seconds in 'clean wait' before cleaning fails", positiveInt, 1800)
    .option('--inspect-wait-timeout <s>', "seconds in 'inspect wait' before inspection fails", positiveInt, 1800)
    .option('--power-sync-interval <s>', 'seconds between power state syncs (0 disables)', nonNegativeInt, 60)
    .option('--agent-images <dir>', 'serve the real agent ramdisk from here (agent.kernel, agent.initramfs: scripts/build-vm-images.sh)')
    .action(async (opts: IronicOptions, cmd: Command) => {
      const log = logger(cmd);
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) throw new CliError('--tls-cert and --tls-key go together', 2);
      if (opts.httpTls && !opts.tlsCert) throw new CliError('--http-tls needs --tls-cert and --tls-key', 2);
      if (opts.sync !== 'full' && opts.sync !== 'normal') throw new CliError('--sync must be full or normal', 2);
      lockOrFail(opts.dataDir, '`ferrite ironic`');
      let svc: Awaited<ReturnType<typeof startIronic>>;
      try {
        svc = await startIronic({
          dataDir: opts.dataDir,
          host: opts.host,
          port: opts.port,
          httpPort: opts.httpPort,
          publicUrl: opts.publicUrl,
          httpUrl: opts.httpUrl,
          agentImages: opts.agentImages ? resolve(opts.agentImages) : undefined,
          htpasswdFile: opts.htpasswd,
          tls: opts.tlsCert && opts.tlsKey ? { certFile: opts.tlsCert, keyFile: opts.tlsKey } : undefined,
          httpTls: opts.httpTls,
          metrics: opts.metrics,
          webserverVerifyCa: opts.webserverVerifyCa,
          sync: opts.sync,
          conductor: {
            workers: opts.workers,
            heartbeatTimeout: opts.heartbeatTimeout,
            heartbeatDeadline: opts.heartbeatDeadline,
            deployCallbackTimeout: opts.deployCallbackTimeout,
            cleanCallbackTimeout: opts.cleanCallbackTimeout,
            inspectWaitTimeout: opts.inspectWaitTimeout,
            powerSyncInterval: opts.powerSyncInterval,
          },
          log,
        });
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE')
          throw new CliError(`a port is already in use (${err.message}); pick others with --port / --http-port`);
        if (e instanceof HtpasswdError) throw new CliError(e.message, 2);
        throw e;
      }
      process.stdout.write(
        `Ironic API: ${svc.url}  (X-OpenStack-Ironic-API-Version up to 1.110)\nHTTP root:  ${svc.httpUrl}\nState:      ${resolve(opts.dataDir)}\n` +
          `Try: baremetal --os-endpoint ${svc.url} --os-auth-type ${opts.htpasswd ? 'http_basic' : 'none'} node list\nPress Ctrl-C to stop.\n`,
      );
      const sig = await waitForSignal();
      log.info({ signal: sig }, 'shutting down');
      await svc.close();
    });

  program.addCommand(
    controllersCommand(async (flags, cmd) => {
      const log = logger(cmd);
      try {
        await runControllers(flags, log, waitForSignal());
      } catch (e) {
        throw new CliError((e as Error).message);
      }
    }),
  );

  const bmc = program.command('bmc').description('Emulated BMCs (Redfish and IPMI) fronting simulated machines or libvirt/QEMU VMs');
  bmc
    .command('serve')
    .description('Start the BMCs of a fleet and print their addresses')
    .option('--fleet <file>', 'fleet file (YAML); see docs/bmc-emulator.md')
    .option('--machines <n>', 'a default fleet of N machines (node-0 … node-N-1)', positiveInt)
    .option('--data-dir <dir>', 'where machine state, media and the TLS certificate persist', '.ferrite/bmc')
    .option('--listen-ip <ip>', 'address for all BMCs (SUSHY_EMULATOR_LISTEN_IP)', process.env.SUSHY_EMULATOR_LISTEN_IP)
    .option('--port <port>', 'Redfish port (SUSHY_EMULATOR_LISTEN_PORT; default 8000)', port, envPort('SUSHY_EMULATOR_LISTEN_PORT'))
    .option('--ipmi-base-port <port>', 'first IPMI UDP port; machine i gets base+i (default 6230)', port)
    .option(
      '--ssl-certificate <file>',
      'PEM certificate for Redfish (SUSHY_EMULATOR_SSL_CERT); generated when absent',
      process.env.SUSHY_EMULATOR_SSL_CERT,
    )
    .option('--ssl-key <file>', 'PEM key for --ssl-certificate (SUSHY_EMULATOR_SSL_KEY)', process.env.SUSHY_EMULATOR_SSL_KEY)
    .option('--no-tls', 'serve Redfish over plain HTTP')
    .option('--time-scale <n>', 'simulated seconds per real second (default 1)', positive)
    .option(
      '--pxe-url <url>',
      "attach the machines to a provisioning network whose DHCP offers this iPXE script (e.g. Ironic's http://127.0.0.1:6180/boot.ipxe)",
    )
    .option(
      '--trusted-ca <file>',
      "a PEM CA the machines' firmware (iPXE) and agent ramdisk trust for HTTPS, e.g. Ironic's (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--backend <kind>', 'what runs the machines: sim (in-process) or libvirt (QEMU VMs); overrides the fleet file')
    .option('--libvirt-uri <uri>', 'libvirt connection for --backend libvirt (default qemu:///system)')
    .option('--sync <mode>', 'machine-state writes: full (fsync each; survives power loss) or normal (survives process kill)', 'full')
    .action(async (opts: BmcServeOptions, cmd: Command) => {
      if (opts.sync !== 'full' && opts.sync !== 'normal') throw new CliError(`--sync must be full or normal, not "${opts.sync}"`, 2);
      const log = logger(cmd);
      const resolved = fleetFor(opts);
      if (resolved.backend === 'libvirt') {
        const missing = await bindingProblem();
        if (missing) throw new CliError(missing);
      }
      lockOrFail(opts.dataDir, '`ferrite bmc serve`');
      const trustedCas = (opts.trustedCa ?? []).map((f) => {
        try {
          const pem = readFileSync(f, 'utf8');
          if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no PEM certificate in it');
          return pem;
        } catch (e) {
          throw new CliError(`--trusted-ca ${f}: ${(e as Error).message}`);
        }
      });
      const fleet = new Fleet(resolved, { dataDir: opts.dataDir, log: (o, m) => log.warn(o, m), trustedCas, sync: opts.sync });
      let addrs: BmcAddresses[];
      try {
        addrs = await fleet.start();
      } catch (e) {
        await fleet.close();
        const err = e as NodeJS.ErrnoException;
        if (err.code === 'EADDRINUSE')
          throw new CliError(`a BMC port is already in use (${err.message}); pick others with --port / --ipmi-base-port`);
        if (err.code === 'EACCES') throw new CliError(`not allowed to bind a BMC port (${err.message}); ports below 1024 need root`);
        throw e;
      }
      process.stdout.write(
        `${bmcTable(addrs)}\n${resolved.provisioning?.pxeUrl ? `Provisioning network: DHCP offers ${resolved.provisioning.pxeUrl}\n` : ''}State: ${resolve(opts.dataDir)}   Manifests: ferrite bmc manifests --data-dir ${opts.dataDir}\nPress Ctrl-C to stop.\n`,
      );
      const sig = await waitForSignal();
      log.info({ signal: sig }, 'shutting down');
      await fleet.close();
    });
  bmc
    .command('destroy')
    .description('Remove the libvirt domains (and their disks) a `bmc serve --backend libvirt` created; adopted ones stay')
    .option('--data-dir <dir>', 'the data directory `bmc serve` used', '.ferrite/bmc')
    .option('--libvirt-uri <uri>', 'libvirt connection (default: the one the fleet used)')
    .action(async (opts: { dataDir: string; libvirtUri?: string }) => {
      const saved = new FleetStore(opts.dataDir).loadFleet();
      if (!saved) throw new CliError(`no fleet in ${opts.dataDir}: nothing to destroy`, 2);
      if (saved.backend !== 'libvirt') throw new CliError(`the fleet in ${opts.dataDir} is simulated: there are no domains to destroy`, 2);
      let r: Awaited<ReturnType<typeof destroyFleetDomains>>;
      try {
        r = await destroyFleetDomains(resolve(opts.dataDir), opts.libvirtUri);
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      if (!r) throw new CliError(`the fleet in ${opts.dataDir} is not a libvirt one`, 2);
      process.stdout.write(
        `removed ${r.removed.length} domain(s)${r.removed.length ? `: ${r.removed.join(', ')}` : ''}${r.left.length ? `; left ${r.left.join(', ')} (not created by Ferrite)` : ''}\n`,
      );
    });
  bmc
    .command('manifests')
    .description('Print BareMetalHost and Secret YAML for a fleet (like make-bm-worker)')
    .option('--data-dir <dir>', 'read the fleet a `bmc serve` saved here', '.ferrite/bmc')
    .option('--fleet <file>', 'read a fleet file instead')
    .option('--machines <n>', 'a default fleet of N machines', positiveInt)
    .option('--protocol <p>', 'BMC address kind: redfish, redfish-virtualmedia or ipmi', 'redfish-virtualmedia')
    .option('--namespace <ns>', 'metadata.namespace of the objects')
    .option('--boot-mode <mode>', 'spec.bootMode: UEFI, UEFISecureBoot or legacy')
    .option('--hardwareprofile <name>', 'spec.hardwareProfile')
    .option(
      '--disableCertificateVerification <bool>',
      'spec.bmc.disableCertificateVerification for HTTPS BMCs (default true: the certificate is self-signed)',
      parseBool,
    )
    .option('--consumer <name>', 'spec.consumerRef.name')
    .option('--consumer-namespace <ns>', 'spec.consumerRef.namespace')
    .action((opts: BmcManifestOptions) => {
      if (!['redfish', 'redfish-virtualmedia', 'ipmi'].includes(opts.protocol))
        throw new CliError(`--protocol must be redfish, redfish-virtualmedia or ipmi, not "${opts.protocol}"`, 2);
      if (opts.bootMode && !['UEFI', 'UEFISecureBoot', 'legacy'].includes(opts.bootMode))
        throw new CliError(`invalid boot mode "${opts.bootMode}", use UEFI, UEFISecureBoot or legacy`, 2);
      let resolved: ResolvedFleet;
      if (opts.fleet || opts.machines) resolved = fleetFor({ ...opts, tls: true });
      else {
        const saved = new FleetStore(opts.dataDir).loadFleet();
        if (!saved)
          throw new CliError(
            `no fleet in ${opts.dataDir}: run \`ferrite bmc serve --data-dir ${opts.dataDir}\` first, or pass --fleet or --machines`,
          );
        resolved = saved;
      }
      const fleet = new Fleet(resolved, {});
      process.stdout.write(
        fleetManifests(fleet.addresses(), {
          protocol: opts.protocol as 'redfish',
          namespace: opts.namespace,
          bootMode: opts.bootMode as 'UEFI' | undefined,
          hardwareProfile: opts.hardwareprofile,
          disableCertificateVerification: opts.disableCertificateVerification,
          consumer: opts.consumer,
          consumerNamespace: opts.consumerNamespace,
        }),
      );
    });

  const crds = program.command('crds').description('CustomResourceDefinitions generated from the TypeScript API types');
  crds
    .command('generate')
    .description('Write crds/*.yaml from provider/api (with --check, fail if they are out of date)')
    .option('--out <dir>', 'output directory', join(root, 'crds'))
    .option('--check', 'do not write; exit 1 if any file differs')
    .action((opts: { out: string; check?: boolean }) => {
      const stale = generateCrds(opts.out, opts.check === true);
      if (opts.check && stale.length) {
        throw new CliError(`crds/ is out of date (${stale.join(', ')}): run \`npm run crds\``);
      }
      if (!opts.check) process.stdout.write(stale.length ? `wrote ${stale.join(', ')}\n` : 'crds/ is up to date\n');
    });
  program
    .command('release')
    .description('Release artifacts')
    .command('manifests')
    .description(
      'Write config/ (kustomize), release/ (clusterctl local repository: components, metadata.yaml, cluster-template.yaml) and clusterctl-settings.json from the sources (with --check, fail if they are out of date)',
    )
    .option('--root <dir>', 'checkout to write into (default: the one this ferrite runs from)')
    .option('--version <v>', 'release version', `v${pkg.version}`)
    .option('--check', 'do not write; exit 1 if any file differs')
    .action((opts: { root?: string; version: string; check?: boolean }) => {
      const stale = generateRelease(opts.root ?? root, opts.version, opts.check === true);
      if (opts.check && stale.length) {
        throw new CliError(
          `the release manifests are out of date (${stale.slice(0, 5).join(', ')}${stale.length > 5 ? `, … ${stale.length} files` : ''}): run \`npm run release\``,
        );
      }
      if (!opts.check) process.stdout.write(stale.length ? `wrote ${stale.length} files\n` : 'the release manifests are up to date\n');
    });
  // every command, including those built in their own modules, reports usage errors the same way:
  // through main() (exit 2), never by exiting on its own
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride();
    c.showHelpAfterError('(run with --help for usage)');
    c.configureOutput({
      writeErr: (str) => {
        usagePrinted = true;
        process.stderr.write(str);
      },
    });
  }
  return program;
}

interface IronicOptions {
  dataDir: string;
  agentImages?: string;
  host: string;
  port: number;
  httpPort: number;
  publicUrl?: string;
  httpUrl?: string;
  htpasswd?: string;
  tlsCert?: string;
  tlsKey?: string;
  httpTls?: boolean;
  metrics?: boolean;
  webserverVerifyCa?: string;
  sync: 'full' | 'normal';
  workers: number;
  heartbeatTimeout: number;
  heartbeatDeadline?: number;
  deployCallbackTimeout: number;
  cleanCallbackTimeout: number;
  inspectWaitTimeout: number;
  powerSyncInterval: number;
}

interface BmcServeOptions {
  fleet?: string;
  machines?: number;
  dataDir: string;
  listenIp?: string;
  port?: number;
  ipmiBasePort?: number;
  sslCertificate?: string;
  sslKey?: string;
  tls: boolean;
  timeScale?: number;
  pxeUrl?: string;
  trustedCa?: string[];
  backend?: string;
  libvirtUri?: string;
  sync: SyncMode;
}

interface BmcManifestOptions {
  dataDir: string;
  fleet?: string;
  machines?: number;
  protocol: string;
  namespace?: string;
  bootMode?: string;
  hardwareprofile?: string;
  disableCertificateVerification?: boolean;
  consumer?: string;
  consumerNamespace?: string;
}

function envPort(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`${name}=${v} is not a port number`, 2);
  return n;
}

/** The fleet flags describe: a fleet file, --machines N, or the one saved in the data dir. */
function fleetFor(opts: Partial<BmcServeOptions> & { dataDir: string }): ResolvedFleet {
  if (opts.fleet && opts.machines) throw new CliError('use either --fleet or --machines, not both', 2);
  let file: FleetFile | null = null;
  try {
    if (opts.fleet) file = loadFleetFile(opts.fleet);
    else if (opts.machines) file = defaultFleet(opts.machines);
    let resolved: ResolvedFleet;
    if (file) {
      // a file's machines take base + i unless they name their own ipmiPort
      if (opts.ipmiBasePort) file.ipmi = { ...file.ipmi, basePort: opts.ipmiBasePort };
      resolved = resolveFleet(file);
    } else {
      resolved = new FleetStore(opts.dataDir).loadFleet() ?? resolveFleet(defaultFleet(2));
      if (opts.ipmiBasePort) {
        for (const [i, m] of resolved.machines.entries()) m.ipmiPort = opts.ipmiBasePort + i;
      }
    }
    // the same flags apply to a fleet file and to a saved fleet: where it listens, TLS, speed
    const rf = resolved.redfish;
    if (opts.listenIp) {
      rf.listenIp = opts.listenIp;
      resolved.ipmi.listenIp = opts.listenIp;
    }
    if (opts.port !== undefined) rf.port = opts.port;
    if (opts.tls === false) rf.tls = false;
    if (opts.sslCertificate) rf.sslCertificate = opts.sslCertificate;
    if (opts.sslKey) rf.sslKey = opts.sslKey;
    if (opts.timeScale) resolved.timeScale = opts.timeScale;
    if (opts.backend) {
      if (opts.backend !== 'sim' && opts.backend !== 'libvirt')
        throw new CliError(`--backend must be sim or libvirt, not "${opts.backend}"`, 2);
      resolved.backend = opts.backend;
    }
    if (opts.libvirtUri) resolved.libvirt = { ...resolved.libvirt, uri: opts.libvirtUri };
    if (opts.pxeUrl) {
      if (!/^https?:\/\/[^/]/.test(opts.pxeUrl)) throw new CliError(`--pxe-url must be an http(s) URL, not "${opts.pxeUrl}"`, 2);
      resolved.provisioning = { pxeUrl: opts.pxeUrl };
    }
    if ((resolved.redfish.sslCertificate === undefined) !== (resolved.redfish.sslKey === undefined))
      throw new CliError('--ssl-certificate and --ssl-key go together', 2);
    return resolved;
  } catch (e) {
    if (e instanceof FleetError) throw new CliError(e.message, 2);
    throw e;
  }
}

export function bmcTable(addrs: BmcAddresses[]): string {
  const rows = [['MACHINE', 'REDFISH', 'IPMI', 'USER', 'PASSWORD', 'BOOT MAC']];
  for (const a of addrs) rows.push([a.name, a.redfishVirtualMedia ?? a.redfish ?? '-', a.ipmi ?? '-', a.username, a.password, a.bootMac]);
  return table(rows);
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return resolve(p);
  }
}

/** Set when commander printed a usage error itself (so main() does not print it twice). */
let usagePrinted = false;

export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  usagePrinted = false;
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander printed parse problems, but not an
      // InvalidArgumentError thrown by an action's own checks
      if (e.exitCode === 0) return 0;
      if (!usagePrinted) process.stderr.write(`ferrite: error: ${e.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ferrite: error: ${e instanceof CliError ? msg : msg.split('\n')[0]}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

// run as a program (also through a symlink: npx, npm link, node_modules/.bin), not when imported
if (process.argv[1] && realpathOrSelf(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => process.exit(code));
}
