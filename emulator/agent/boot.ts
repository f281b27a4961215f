// Boot handlers that give simulated machines a provisioning network and software to run:
// network boots run the iPXE script DHCP would hand out; a kernel whose command line names an
// Ironic API (ipa-api-url) runs the simulated agent; a virtual-media ISO is read for its boot
// configuration; the disk boots whatever the agent installed, which reads its config drive.
import { readFile } from 'node:fs/promises';
import { readIso } from '../../lib/iso9660.js';
import type { BootContext, BootHandlers, BootOutcome } from '../machine/boot-handlers.js';
import type { InstalledOs } from '../os/cloud-init.js';
import type { AgentHub } from './hub.js';
import { SimulatedAgent } from './ipa.js';
import { IpxeError, parseCmdline, runIpxe } from './ipxe.js';

export interface ProvisioningNetwork {
  /** what DHCP would offer as the iPXE script to chain (e.g. Ironic's http://…/boot.ipxe); null = no DHCP on this network */
  pxeUrl(): string | null;
}

export function installAgentBoot(handlers: BootHandlers, net: ProvisioningNetwork, hub: AgentHub, installedOs?: InstalledOs): void {
  const runKernel = async (ctx: BootContext, params: string, what: string): Promise<BootOutcome> => {
    const cmd = parseCmdline(params);
    if (!cmd.has('ipa-api-url')) {
      const home = cmd.get('ferrite.phone_home');
      if (home) {
        // the conformance harness's boot image: its init reports in, which is the harness's proof of the boot
        ctx.console(`Booting ${what}: kernel started, phoning home to ${home}`);
        void hub.fetch(home, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(30_000)]) }).then(
          (r) => r.body?.cancel(),
          (e: unknown) => ctx.console(`phone home failed: ${(e as Error).message}`),
        );
        return { booted: true, what };
      }
      ctx.console(`Booting ${what}: kernel started, no further simulation for this image`);
      return { booted: true, what };
    }
    const tls = (cmd.get('ipa-api-url') ?? '').startsWith('https://');
    await (tls ? hub.startTls() : hub.start());
    const bootIf = cmd.get('BOOTIF');
    const agent: SimulatedAgent = new SimulatedAgent(
      ctx.os,
      cmd,
      bootIf && bootIf !== `\${mac}` ? bootIf.replace(/^01-/, '').replace(/-/g, ':') : ctx.bootMac,
      {
        get callbackUrl(): string {
          return hub.url(agent);
        },
        log: (l) => ctx.console(l),
        fetch: hub.fetch,
        verifyCa: () => hub.certificatePem,
        bmcAddress: hub.bmcAddresses.get(ctx.machineName),
      },
      AbortSignal.any([ctx.signal, hub.lifetime]),
      hub.faults.get(ctx.machineName) ?? {},
      ctx.mode === 'Legacy' ? 'bios' : 'uefi',
    );
    hub.register(agent);
    ctx.signal.addEventListener('abort', () => hub.unregister(agent), { once: true });
    ctx.console(`Booting ${what}: ironic-python-agent ${cmd.get('ipa-api-url')}`);
    void agent.run().catch((e: unknown) => {
      if (!ctx.signal.aborted) ctx.console(`ironic-python-agent exited: ${(e as Error).message}`);
    });
    return { booted: true, what: `ironic-python-agent (${what})` };
  };

  handlers.set('network', async (ctx) => {
    const url = net.pxeUrl();
    const how = ctx.device === 'UefiHttp' ? 'UEFI HTTP' : `PXE (${ctx.mode})`;
    ctx.console(`>>Start ${how} over ${ctx.bootMac ?? 'no NIC'}`);
    if (!ctx.bootMac) return { booted: false, reason: 'no NIC with link' };
    const start = ctx.device === 'UefiHttp' && ctx.httpBootUri ? ctx.httpBootUri : url;
    if (!start) return { booted: false, reason: 'no DHCP offer received: no provisioning network is attached to this machine' };
    try {
      const r = await runIpxe(start, {
        mac: ctx.bootMac,
        uuid: ctx.machineUuid,
        signal: ctx.signal,
        echo: (l) => ctx.console(l),
        fetch: async (u, signal) => {
          const res = await hub.fetch(u, { signal });
          return { ok: res.ok, status: res.status, body: Buffer.from(await res.arrayBuffer()) };
        },
      });
      if (r.kind === 'exit') return { booted: false, reason: `iPXE: ${r.reason}` };
      if (r.kind === 'sanboot') return { booted: true, what: `SAN boot of ${r.url}` };
      return runKernel(ctx, r.params, `kernel ${r.kernelUrl}`);
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      return { booted: false, reason: e instanceof IpxeError ? `iPXE: ${e.message}` : `network boot failed: ${(e as Error).message}` };
    }
  });

  handlers.set('media', async (ctx) => {
    const m = ctx.media;
    if (!m?.inserted || !m.localPath) return { booted: false, reason: `no media in virtual ${ctx.device}` };
    let cfg: string | null = null;
    try {
      const iso = readIso(await readFile(m.localPath));
      cfg = iso.read('boot/grub/grub.cfg')?.toString('utf8') ?? null;
      const linux = cfg?.split('\n').find((l) => l.trim().startsWith('linux'));
      if (linux) {
        const params = linux.trim().split(/\s+/).slice(2).join(' ');
        return runKernel(ctx, params, `virtual media ${m.image}`);
      }
    } catch (e) {
      return { booted: false, reason: `virtual ${ctx.device} ${m.image} is not a bootable ISO: ${(e as Error).message}` };
    }
    ctx.console(`Booting from virtual ${ctx.device}: ${m.image}`);
    return { booted: true, what: `virtual media image ${m.image}` };
  });

  handlers.set('disk', async (ctx) => {
    if (!ctx.installedImage?.bootable) return { booted: false, reason: 'no bootable operating system on the disks' };
    ctx.console(`Booting installed OS (${ctx.installedImage.url})`);
    const cd = ctx.os.configDrive();
    if (cd) {
      try {
        const iso = readIso(cd);
        const meta = JSON.parse(iso.read('openstack/latest/meta_data.json')?.toString('utf8') ?? '{}') as Record<string, unknown>;
        const host = meta.hostname ?? meta['local-hostname'] ?? meta.name ?? ctx.machineName;
        ctx.console(`cloud-init: config drive ${iso.label}: instance ${String(meta.uuid ?? '?')}, hostname ${String(host)}`);
        if (iso.read('openstack/latest/user_data')) ctx.console('cloud-init: user data found');
        if (iso.read('openstack/latest/network_data.json')) ctx.console('cloud-init: network data found');
        if (installedOs) {
          const url = ctx.installedImage.url;
          void installedOs
            .boot({
              machine: ctx.os.spec,
              configDrive: cd,
              imageUrl: url,
              clock: ctx.os.clock,
              signal: ctx.signal,
              console: (l) => ctx.console(l),
            })
            .catch((e: unknown) => {
              if (!ctx.signal.aborted) ctx.console(`cloud-init: ${(e as Error).message}`);
            });
        }
      } catch (e) {
        ctx.console(`cloud-init: cannot read the config drive: ${(e as Error).message}`);
      }
    }
    return { booted: true, what: `installed OS from ${ctx.installedImage.url}` };
  });
}
