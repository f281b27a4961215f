// IPMI checks, run through ipmitool exactly as Ironic's ipmitool driver runs it (lanplus,
// ADMINISTRATOR, the raw boot-flag commands), plus Redfish ↔ IPMI parity for mixed fleets.
import type { CheckContext } from '../context.js';
import { type Check, fail, pass, skipped, warn } from '../types.js';

async function available(ctx: CheckContext): Promise<string | null> {
  if (!ctx.ipmi) return 'no IPMI target (--ipmi or an ipmi:// URL)';
  const probe = await ctx.ipmitool(['-V']).catch(() => ({ code: 127 }));
  if (probe.code === 127) return `ipmitool is not installed (${ctx.opts.ipmitool})`;
  return null;
}

const powerIs = (out: string) => /Chassis Power is (on|off)/i.exec(out)?.[1]?.toLowerCase();

async function waitPower(ctx: CheckContext, want: 'on' | 'off'): Promise<boolean> {
  const ok = await ctx.waitFor(
    async () => (powerIs((await ctx.ipmitool(['power', 'status'])).stdout) === want ? true : undefined),
    ctx.opts.powerTimeoutMs,
    500,
  );
  return ok === true;
}

export const ipmiChecks: Check[] = [
  {
    id: 'C36',
    name: 'ipmi-session',
    why: 'Ironic runs ipmitool -I lanplus with the default or a configured cipher suite; a session must open',
    protects: 'ironic ipmitool.py (cipher_suite_versions fallback), ipmitool ≥1.8.19 suite auto-selection',
    workaround: 'set [ipmi]cipher_suite_versions (or driver_info ipmi_cipher_suite) to a suite the BMC supports',
    protocol: 'ipmi',
    disruptive: false,
    async run(ctx) {
      const missing = await available(ctx);
      if (missing) return skipped(missing);
      const res: Record<string, boolean> = {};
      for (const [label, cs] of [
        ['auto', undefined],
        ['3', 3],
        ['17', 17],
      ] as const)
        res[label] = (await ctx.ipmitool(['mc', 'info'], cs)).code === 0;
      const works = Object.entries(res)
        .filter(([, v]) => v)
        .map(([k]) => k);
      if (!res.auto && !res['3'] && !res['17']) return fail('no session opened with -C 3, -C 17 or the default');
      if (!res.auto)
        return fail(`ipmitool's default suite choice fails (works with -C ${works.join(', -C ')}): configure ipmi_cipher_suite`);
      if (!res['3'] || !res['17'])
        return warn(
          `sessions open with: ${works.join(', ')}; not with ${['3', '17']
            .filter((x) => !res[x])
            .map((x) => `-C ${x}`)
            .join(', ')}`,
        );
      return pass('sessions open with the default suite, -C 3 and -C 17');
    },
  },
  {
    id: 'C37',
    name: 'ipmi-power',
    why: 'Ironic parses `power status` and waits for on/off after `power on|off|soft|reset`',
    protects: 'ironic ipmitool.py _set_and_wait, _power_status',
    protocol: 'ipmi',
    disruptive: true,
    async run(ctx) {
      const missing = await available(ctx);
      if (missing) return skipped(missing);
      const st = await ctx.ipmitool(['power', 'status']);
      if (st.code !== 0 || !powerIs(st.stdout)) return fail(`power status is not parseable: ${st.stdout.trim() || st.stderr.trim()}`);
      if ((await ctx.ipmitool(['power', 'on'])).code !== 0 || !(await waitPower(ctx, 'on')))
        return fail('power on did not lead to "Chassis Power is on"');
      if ((await ctx.ipmitool(['power', 'off'])).code !== 0 || !(await waitPower(ctx, 'off')))
        return fail('power off did not lead to "Chassis Power is off"');
      if ((await ctx.ipmitool(['power', 'on'])).code !== 0 || !(await waitPower(ctx, 'on'))) return fail('power on (again) failed');
      if ((await ctx.ipmitool(['power', 'reset'])).code !== 0) return fail('power reset was refused');
      const cycle = await ctx.ipmitool(['power', 'cycle']);
      if (!(await waitPower(ctx, 'on'))) return fail('after reset/cycle the host did not come back on');
      if (cycle.code !== 0)
        return warn(`status, on, off and reset work; power cycle is refused (${cycle.stderr.trim() || cycle.stdout.trim()})`);
      return pass('status, on, off, reset and cycle all work');
    },
  },
  {
    id: 'C38',
    name: 'ipmi-bootdev',
    why: 'Ironic sets boot flags with raw 0x00 0x08 (UEFI) or chassis bootdev, then reads `chassis bootparam get 5`',
    protects: 'ironic ipmitool.py set_boot_device / get_boot_device',
    protocol: 'ipmi',
    disruptive: true,
    async run(ctx) {
      const missing = await available(ctx);
      if (missing) return skipped(missing);
      const steps: Array<[string[], string]> = [
        [['raw', '0x00', '0x08', '0x03', '0x08'], 'clear the 60 s boot-flag timeout'],
        [['raw', '0x00', '0x08', '0x05', '0xa0', '0x04', '0x00', '0x00', '0x00'], 'UEFI PXE once'],
      ];
      // a host still booting from an earlier check may consume a once-only flag before it is read
      // back (a real boot does the same): set it again, at most twice, before calling it lost
      let once = '';
      for (let attempt = 0; attempt < 3 && !/Force PXE/i.test(once); attempt++) {
        for (const [args, what] of steps) {
          const r = await ctx.ipmitool(args);
          if (r.code !== 0) return fail(`${what} (${args.join(' ')}) failed: ${r.stderr.trim()}`);
        }
        once = (await ctx.ipmitool(['chassis', 'bootparam', 'get', '5'])).stdout;
      }
      if (!/Force PXE/i.test(once)) return fail(`after UEFI PXE once, bootparam 5 reads: ${once.trim().split('\n').slice(-4).join(' | ')}`);
      if (!/Options apply to only next boot/i.test(once)) return fail('a once-only PXE boot reads back as persistent');
      const p = await ctx.ipmitool(['chassis', 'bootdev', 'disk', 'options=persistent']);
      if (p.code !== 0) return fail(`chassis bootdev disk options=persistent failed: ${p.stderr.trim()}`);
      const pers = (await ctx.ipmitool(['chassis', 'bootparam', 'get', '5'])).stdout;
      if (!/Force Boot from default Hard-Drive/i.test(pers) || !/Options apply to all future boots/i.test(pers))
        return fail(`persistent disk boot reads back: ${pers.trim().split('\n').slice(-4).join(' | ')}`);
      return pass('UEFI PXE once and persistent disk boot are set and read back as Ironic parses them');
    },
  },
  {
    id: 'C40',
    name: 'redfish-ipmi-parity',
    why: 'in a mixed fleet one node may be driven by Redfish and watched over IPMI; both must see one machine',
    protects: 'mixed redfish/ipmi fleets, BMO power state sync',
    protocol: 'ipmi',
    disruptive: true,
    async run(ctx) {
      const missing = await available(ctx);
      if (missing) return skipped(missing);
      if (!ctx.rf) return skipped('needs a Redfish target too (--ipmi with a redfish:// URL)');
      const off = await ctx.reset('ForceOff', 'Off');
      if (off.error) return fail(`Redfish ForceOff: ${off.error}`);
      const a = powerIs((await ctx.ipmitool(['power', 'status'])).stdout);
      if (a !== 'off') return fail(`Redfish says Off, IPMI says ${a ?? 'nothing parseable'}`);
      if ((await ctx.ipmitool(['power', 'on'])).code !== 0) return fail('IPMI power on failed');
      const seen = await ctx.waitFor(async () => ((await ctx.powerState()) === 'On' ? true : undefined), ctx.opts.powerTimeoutMs);
      if (!seen) return fail('IPMI powered the host on but Redfish PowerState never became On');
      await ctx.ipmitool(['chassis', 'bootdev', 'pxe']);
      const b = ((await ctx.system()).Boot ?? {}) as Record<string, unknown>;
      if (b.BootSourceOverrideTarget !== 'Pxe')
        return warn(`power agrees; an IPMI bootdev pxe reads over Redfish as ${String(b.BootSourceOverrideTarget)}`);
      return pass('power and boot device set over one interface are seen over the other');
    },
  },
];
