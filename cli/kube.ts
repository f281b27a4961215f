// `ferrite kube serve`: a real Kubernetes control plane (etcd, kube-apiserver,
// kube-controller-manager from scripts/install-kube.sh) on loopback, in the foreground.
import { Command } from 'commander';
import { startRealKube } from '../devenv/real-kube.js';
import { StackError } from '../devenv/stack.js';
import { DirLockedError, lockDir } from '../lib/dir-lock.js';
import { port } from './parse.js';

export function kubeCommand(fail: (msg: string, code: number) => Error, waitForSignal: () => Promise<string>): Command {
  const kube = new Command('kube').description(
    'A real Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) for Ferrite to run on',
  );
  kube
    .command('serve')
    .description('Run etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 with generated PKI, RBAC and an audit log of writes')
    .option('--data-dir <dir>', 'etcd data, PKI, kubeconfigs, logs and audit log', '.ferrite/kube')
    .option('--port <port>', "kube-apiserver's port (0: a free one, kept across restarts)", port, 0)
    .option(
      '--no-controller-manager',
      'do not run kube-controller-manager (no garbage collection, namespace deletion or service-account tokens)',
    )
    .action(async (opts: { dataDir: string; port: number; controllerManager: boolean }) => {
      try {
        lockDir(opts.dataDir, '`ferrite kube serve`');
      } catch (e) {
        if (e instanceof DirLockedError) throw fail(e.message, 1);
        throw e;
      }
      let k: Awaited<ReturnType<typeof startRealKube>>;
      try {
        k = await startRealKube({
          dataDir: opts.dataDir,
          port: opts.port,
          controllerManager: opts.controllerManager,
          log: (l) => process.stdout.write(`${l}\n`),
        });
      } catch (e) {
        if (e instanceof StackError) throw fail(e.message, 1);
        throw e;
      }
      process.stdout.write(
        `kube-apiserver: ${k.server}\nkubeconfig: ${k.kubeconfig}\naudit log: ${k.auditLog}\nTry: kubectl --kubeconfig ${k.kubeconfig} get namespaces\nKubernetes control plane is up. Press Ctrl-C to stop.\n`,
      );
      const why = await Promise.race([waitForSignal().then((s) => ({ signal: s })), k.exited.then((x) => ({ exited: x }))]);
      await k.stop();
      if ('exited' in why)
        throw fail(
          `${why.exited.name} exited (code ${why.exited.code ?? why.exited.signal}); see ${k.dataDir}/logs/${why.exited.name}.log`,
          1,
        );
    });
  return kube;
}
