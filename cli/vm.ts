// `ferrite vm check`: is this host ready for the libvirt/QEMU backend (docs/libvirt.md)?
import { resolve } from 'node:path';
import { Command } from 'commander';
import { vmReadiness } from '../emulator/machine/libvirt/readiness.js';

export function vmCommand(fail: (msg: string, code: number) => Error): Command {
  const vm = new Command('vm').description('Real virtual machines behind the BMC emulator (libvirt/QEMU backend)');
  vm.command('check')
    .description("Check this host's readiness for the libvirt backend: QEMU, KVM, libvirtd, iPXE, ISO tools, agent images")
    .option('--libvirt-uri <uri>', 'libvirt connection to check', 'qemu:///system')
    .option('--images <dir>', 'where scripts/build-vm-images.sh put the agent and OS images', '.vm-images')
    .option('--json', 'print the items as JSON')
    .action(async (opts: { libvirtUri: string; images: string; json?: boolean }) => {
      const items = await vmReadiness({ uri: opts.libvirtUri, images: resolve(opts.images) });
      if (opts.json) process.stdout.write(`${JSON.stringify(items, null, 2)}\n`);
      else
        for (const i of items) process.stdout.write(`${i.ok ? 'ok  ' : i.required ? 'FAIL' : 'warn'}  ${i.name.padEnd(20)} ${i.detail}\n`);
      const failed = items.filter((i) => i.required && !i.ok);
      if (failed.length) throw fail(`not ready for the libvirt backend: ${failed.map((i) => i.name).join(', ')}`, 1);
      if (!opts.json) process.stdout.write('ready for the libvirt backend\n');
    });
  return vm;
}
