// Entry point of the agent ramdisk (scripts/build-vm-images.sh bundles it with Node into an
// initramfs): reads the kernel command line Ironic wrote, learns from SMBIOS OEM strings where
// Ironic can reach it (the BMC emulator forwards a host port to its 9999), and runs the same
// ironic-python-agent implementation as the simulator over the VM's real disks.
import { existsSync, readFileSync } from 'node:fs';
import { AgentHub } from '../hub.js';
import { SimulatedAgent } from '../ipa.js';
import { parseCmdline } from '../ipxe.js';
import { BlockDeviceOs } from './block-os.js';
import { oemStrings, readHardware } from './hardware.js';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** User-mode networking shows the host's loopback at an alias: URLs naming loopback go there. */
function rewriteLoopback(alias: string): void {
  const real = globalThis.fetch;
  globalThis.fetch = (input: string | URL | Request, init?: RequestInit) => {
    const u = new URL(input instanceof Request ? input.url : String(input));
    if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') {
      u.hostname = alias;
      return real(input instanceof Request ? new Request(u, input) : u, init);
    }
    return real(input, init);
  };
}

async function main(): Promise<void> {
  const cmd = parseCmdline(readFileSync('/proc/cmdline', 'utf8').trim());
  if (!cmd.has('ipa-api-url')) {
    log('ironic-python-agent: no ipa-api-url on the kernel command line: nothing to do');
    return;
  }
  const oem = oemStrings();
  const alias = oem.get('ferrite.host-alias');
  if (alias) rewriteLoopback(alias);
  const spec = readHardware();
  const os = new BlockDeviceOs(spec, log);
  const hub = new AgentHub('0.0.0.0', 9999, oem.get('ferrite.agent-url') ?? null);
  await hub.start();
  const bootIf = cmd.get('BOOTIF');
  const mac = bootIf && !bootIf.includes('$') ? bootIf.replace(/^01-/, '').replace(/-/g, ':') : (spec.nics[0]?.mac ?? null);
  const life = new AbortController();
  const agent: SimulatedAgent = new SimulatedAgent(
    os,
    cmd,
    mac,
    {
      get callbackUrl(): string {
        return hub.url(agent);
      },
      log,
    },
    life.signal,
    {},
    existsSync('/sys/firmware/efi') ? 'uefi' : 'bios',
  );
  hub.register(agent);
  log(`ironic-python-agent: ${spec.disks.length} disk(s), ${spec.nics.length} NIC(s); Ironic at ${cmd.get('ipa-api-url')}`);
  await agent.run();
}

main().catch((e: unknown) => {
  log(`ironic-python-agent: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
});
