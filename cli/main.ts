#!/usr/bin/env node
// The `ferrite` command: parses flags and calls into the provider/ and emulator/ folders.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { Logger } from 'pino';
import { startApiServer } from '../provider/apiserver/server.js';
import { crdObjects, generateCrds } from './crds.js';
import { makeLogger } from './logging.js';

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

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535');
  return n;
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

  const dev = program.command('dev').description('The one-machine development environment');
  dev
    .command('up')
    .description('Start the embedded API server with all Ferrite CRDs and print how to use it')
    .option('--data-dir <dir>', 'directory for all state and logs', '.ferrite/dev')
    .option('--port <port>', 'API server port (0 picks a free one)', port, 6443)
    .action(async (opts: { dataDir: string; port: number }, cmd: Command) => {
      const log = logger(cmd);
      const srv = await startApiServer({ dataDir: opts.dataDir, port: opts.port, log });
      const installed = await installCrds(srv.core);
      const kc = resolve(srv.kubeconfigPath);
      process.stdout.write(
        [
          `Ferrite dev environment is up (${installed.length} CRDs installed: ${installed.join(', ')})`,
          `  API server:  ${srv.url}`,
          `  kubeconfig:  ${kc}`,
          '',
          'Try:',
          `  export KUBECONFIG=${kc}`,
          '  kubectl get crds',
          '  kubectl get baremetalhosts -A',
          '',
          'Press Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      const sig = await waitForSignal();
      log.info({ signal: sig }, 'shutting down');
      await srv.close();
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
  return program;
}

async function installCrds(core: import('../provider/apiserver/core.js').ApiCore): Promise<string[]> {
  const def = core.registry.get('apiextensions.k8s.io', 'customresourcedefinitions');
  if (!def) throw new CliError('the API server has no CustomResourceDefinition resource');
  const names: string[] = [];
  for (const crd of crdObjects()) {
    const name = String((crd.metadata as { name: string }).name);
    const cur = core.getStored(def, '', name);
    if (cur) {
      await core.update(
        def,
        'v1',
        '',
        name,
        { ...crd, metadata: { ...(crd.metadata as object), resourceVersion: String(cur.rv) } },
        { fieldManager: 'ferrite' },
      );
    } else await core.create(def, 'v1', '', crd, { fieldManager: 'ferrite' });
    names.push(name);
  }
  return names;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildCli();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version are not errors; commander already printed usage problems
      return e.exitCode === 0 ? 0 : 2;
    }
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ferrite: error: ${msg.split('\n')[0]}\n`);
    return e instanceof CliError ? e.exitCode : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv).then((code) => process.exit(code));
}
