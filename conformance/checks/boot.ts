// Boot override checks: what Ironic's redfish management interface PATCHes, read back as Ironic
// reads it, and — with the harness's iPXE script on the provisioning network — whether the host
// really boots what it was told, once.
import type { CheckContext } from '../context.js';
import { errorMessage, is2xx } from '../redfish-client.js';
import { type Check, fail, pass, skipped, warn } from '../types.js';

type Obj = Record<string, unknown>;

async function boot(ctx: CheckContext): Promise<Obj> {
  return ((await ctx.system()).Boot ?? {}) as Obj;
}

async function patchBoot(ctx: CheckContext, b: Obj) {
  return ctx.patch(ctx.redfish.system, { Boot: b });
}

/** The target Ironic would use for the virtual CD: Cd, or UsbCd where only that is offered (Supermicro). */
export function cdTarget(allowed: string[] | undefined): string | null {
  if (!allowed || allowed.includes('Cd')) return 'Cd';
  return allowed.includes('UsbCd') ? 'UsbCd' : null;
}

export const bootChecks: Check[] = [
  {
    id: 'C13',
    name: 'boot-allowable',
    why: 'sushy validates the boot target against BootSourceOverrideTarget@Redfish.AllowableValues',
    protects: 'sushy set_system_boot_options, ironic redfish management _set_boot_device',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const b = await boot(ctx);
      const allowed = b['BootSourceOverrideTarget@Redfish.AllowableValues'] as string[] | undefined;
      if (!allowed) return warn('no BootSourceOverrideTarget@Redfish.AllowableValues: sushy allows every target and the BMC decides');
      const cd = cdTarget(allowed);
      const missing = ['Pxe', 'Hdd'].filter((t) => !allowed.includes(t));
      if (!cd) missing.push('Cd (or UsbCd)');
      if (missing.length) return fail(`boot targets lack ${missing.join(', ')} (offers ${allowed.join(', ')})`);
      if (cd === 'UsbCd') return warn('the virtual CD is offered as UsbCd, not Cd: Ironic needs the vendor-aware target (sushy maps it)');
      return pass(`boot targets include Pxe, Hdd and Cd (${allowed.length} offered)`);
    },
  },
  {
    id: 'C14',
    name: 'boot-patch-once',
    why: 'a deploy sets a one-time network or CD boot; a BMC that keeps it boots the ramdisk forever',
    protects: 'ironic redfish management _set_boot_device (Once), kubevirtbmc#165-style coercion',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const r = await patchBoot(ctx, { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
      if (!is2xx(r)) return fail(`PATCH {Pxe, Once} answered ${r.status}: ${errorMessage(r)}`);
      const b = await boot(ctx);
      if (b.BootSourceOverrideTarget !== 'Pxe' || b.BootSourceOverrideEnabled !== 'Once')
        return fail(`read back ${String(b.BootSourceOverrideTarget)}/${String(b.BootSourceOverrideEnabled)} after PATCH Pxe/Once`);
      return pass('PATCH {Pxe, Once} reads back Pxe/Once');
    },
  },
  {
    id: 'C15',
    name: 'boot-patch-minimal',
    why: 'Ironic sends only what differs; some BMCs silently ignore a Boot PATCH without Enabled and Mode',
    protects: 'ironic redfish management VENDORS_REQUIRING_FULL_BOOT_REQUEST',
    workaround: 'Ironic sends the full boot triple for vendors it knows (Supermicro, AMI, ASRockRack)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const set = await patchBoot(ctx, { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
      if (!is2xx(set)) return fail(`PATCH {Pxe, Once} answered ${set.status}: ${errorMessage(set)}`);
      const r = await patchBoot(ctx, { BootSourceOverrideTarget: 'Hdd' });
      if (!is2xx(r))
        return fail(`PATCH {Target: Hdd} alone answered ${r.status}: ${errorMessage(r)} — the BMC needs the full boot request`);
      const b = await boot(ctx);
      if (b.BootSourceOverrideTarget !== 'Hdd')
        return fail(`PATCH {Target: Hdd} alone answered ${r.status} but the target stayed ${String(b.BootSourceOverrideTarget)}`);
      return pass('a Boot PATCH with only the target is honoured');
    },
  },
  {
    id: 'C16',
    name: 'boot-continuous',
    why: 'Ironic asks for persistent boot to disk after deploy; it falls back to Once when Continuous is refused',
    protects: 'ironic redfish management _set_boot_device fallback, power restore_boot_device',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const r = await patchBoot(ctx, { BootSourceOverrideTarget: 'Hdd', BootSourceOverrideEnabled: 'Continuous' });
      if (!is2xx(r)) return warn(`Continuous refused (${r.status}: ${errorMessage(r)}); Ironic falls back to Once before every power-on`);
      const b = await boot(ctx);
      if (b.BootSourceOverrideEnabled !== 'Continuous')
        return fail(
          `PATCH Continuous answered ${r.status} but reads back ${String(b.BootSourceOverrideEnabled)}: the fallback never triggers`,
        );
      return pass('PATCH {Hdd, Continuous} reads back Continuous');
    },
  },
  {
    id: 'C17',
    name: 'boot-mode',
    why: 'Ironic sets UEFI or Legacy to match the image; a mode that does not stick boots the wrong loader',
    protects: 'ironic redfish management set_boot_mode, _wait_for_boot_mode',
    workaround: 'without BootSourceOverrideMode Ironic reports UnsupportedDriverExtension and keeps the firmware mode',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const b = await boot(ctx);
      const mode = b.BootSourceOverrideMode;
      if (mode === undefined) return fail('no BootSourceOverrideMode: Ironic cannot set or read the boot mode');
      const other = mode === 'UEFI' ? 'Legacy' : 'UEFI';
      const allowed = b['BootSourceOverrideMode@Redfish.AllowableValues'] as string[] | undefined;
      if (allowed && !allowed.includes(other)) return warn(`only ${allowed.join(', ')} offered: the mode cannot change`);
      const r = await patchBoot(ctx, { BootSourceOverrideMode: other });
      if (!is2xx(r)) return fail(`PATCH Mode ${other} answered ${r.status}: ${errorMessage(r)}`);
      const now = (await boot(ctx)).BootSourceOverrideMode;
      const back = await patchBoot(ctx, { BootSourceOverrideMode: mode });
      if (now !== other) return fail(`PATCH Mode ${other} answered ${r.status} but the mode stayed ${String(now)}`);
      if (!is2xx(back)) return fail(`changing the mode back to ${String(mode)} answered ${back.status}`);
      return pass(`the mode changes ${String(mode)} → ${other} and back`);
    },
  },
  {
    id: 'C18',
    name: 'boot-honoured-pxe',
    why: 'a one-time PXE override must boot the network once and then clear, or the node never reaches its disk',
    protects: 'ironic pxe/ipxe deploy (boot device pxe, Once), BootSourceOverrideEnabled → Disabled',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      if (!ctx.opts.pxe || !ctx.http) return skipped(`needs the provisioning network's DHCP to offer the harness's iPXE script (--pxe)`);
      const off = await ctx.reset('ForceOff', 'Off');
      if (off.error) return fail(`power off first: ${off.error}`);
      const set = await patchBoot(ctx, { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once' });
      if (!is2xx(set)) return fail(`PATCH {Pxe, Once} answered ${set.status}`);
      const t0 = Date.now();
      const on = await ctx.reset('On', 'On', 6);
      if (on.error) return fail(on.error);
      const hit = await ctx.waitFor(
        async () => ctx.http?.hitsSince(t0, (h) => h.path.includes(ctx.http?.phoneHomePath('pxe') ?? '-'))[0],
        ctx.opts.bootTimeoutMs,
      );
      if (!hit) return fail(`no network boot reached the harness within ${ctx.opts.bootTimeoutMs} ms (no phone-home from the iPXE kernel)`);
      ctx.note(`network boot phoned home: ${hit.path} from ${hit.from}`);
      const b = await boot(ctx);
      if (b.BootSourceOverrideEnabled !== 'Disabled')
        return fail(`the host PXE-booted, but the Once override still reads ${String(b.BootSourceOverrideEnabled)}`);
      return pass(`the host PXE-booted the harness's script once (${hit.at - t0} ms) and the override cleared`);
    },
  },
  {
    id: 'C19',
    name: 'etag',
    why: 'sushy sends If-Match with the ETag it read; a BMC that ignores it loses concurrent updates',
    protects: 'sushy connector _etag_handler (weak → strong → none retries)',
    workaround: 'a 428 without If-Match is fine for sushy (it always sends one when it has an ETag)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const sys = ctx.redfish.system;
      const cur = await ctx.redfish.get(sys);
      const etag = cur.headers.etag ?? ((cur.body as Obj)?.['@odata.etag'] as string | undefined);
      if (!etag) return fail('GET System carries no ETag (header or @odata.etag)');
      const target = String(((cur.body as Obj).Boot as Obj | undefined)?.BootSourceOverrideTarget ?? 'None');
      const body = { Boot: { BootSourceOverrideTarget: target === 'Pxe' ? 'Hdd' : 'Pxe', BootSourceOverrideEnabled: 'Once' } };
      const good = await ctx.redfish.request('PATCH', sys, { body, headers: { 'If-Match': etag } });
      if (!is2xx(good)) return fail(`PATCH with the current ETag answered ${good.status}: ${errorMessage(good)}`);
      const stale = await ctx.redfish.request('PATCH', sys, { body, headers: { 'If-Match': etag } });
      const now = await ctx.redfish.get(sys);
      const newTag = now.headers.etag ?? ((now.body as Obj)?.['@odata.etag'] as string | undefined);
      if (newTag === etag) return fail('the ETag did not change after a modification');
      if (stale.status !== 412) return fail(`PATCH with a stale ETag answered ${stale.status}, not 412`);
      const none = await ctx.redfish.request('PATCH', sys, { body });
      if (none.status === 428) return warn('PATCH without If-Match answers 428 Precondition Required (sushy copes; other clients may not)');
      if (!is2xx(none)) return fail(`PATCH without If-Match answered ${none.status}: ${errorMessage(none)}`);
      return pass('ETag present and changes on write; current ETag accepted, stale one refused with 412');
    },
  },
];
