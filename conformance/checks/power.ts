// Power checks: the transitions Ironic's redfish power interface asks for, and whether the
// PowerState the BMC reports follows within Ironic's patience.
import type { CheckContext } from '../context.js';
import { errorMessage, is2xx } from '../redfish-client.js';
import { type Check, fail, pass, warn } from '../types.js';

async function ensure(ctx: CheckContext, want: 'On' | 'Off'): Promise<string | null> {
  if ((await ctx.powerState()) === want) return null;
  const r = await ctx.reset(want === 'On' ? 'On' : 'ForceOff', want, 6);
  return r.error;
}

export const powerChecks: Check[] = [
  {
    id: 'C09',
    name: 'power-off',
    why: 'every deploy, clean and delete powers the node off and waits for PowerState Off',
    protects: 'ironic redfish power.py set_power_state, [conductor]power_state_change_timeout',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const pre = await ensure(ctx, 'On');
      if (pre) return fail(`could not power the system on first: ${pre}`);
      const r = await ctx.reset('ForceOff', 'Off');
      if (r.error) return fail(r.error);
      return pass(`ForceOff answered ${r.status}; PowerState Off after ${r.ms} ms`);
    },
  },
  {
    id: 'C10',
    name: 'power-on',
    why: 'Ironic powers nodes on with ResetType On and retries a transient 409 (iDRAC10) six times',
    protects: 'ironic redfish power.py (On, 409 ActionParameterValueConflict retries)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const pre = await ensure(ctx, 'Off');
      if (pre) return fail(`could not power the system off first: ${pre}`);
      const r = await ctx.reset('On', 'On', 6);
      if (r.error) return fail(r.error);
      const retried = ctx.evidence.notes.some((n) => n.includes('answered 409'));
      return pass(`On ${retried ? 'succeeded after 409 retries, ' : ''}answered ${r.status}; PowerState On after ${r.ms} ms`);
    },
  },
  {
    id: 'C11',
    name: 'power-idempotent',
    why: 'Ironic may repeat a power request; the BMC must accept it or refuse it with 400/409 while already there',
    protects: 'ironic redfish power.py (400/409 tolerated when already in the target state)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const seen: string[] = [];
      for (const [type, state] of [
        ['On', 'On'],
        ['ForceOff', 'Off'],
      ] as const) {
        const pre = await ensure(ctx, state);
        if (pre) return fail(`could not reach ${state} first: ${pre}`);
        const r = await ctx.redfish.request('POST', `${ctx.redfish.system}/Actions/ComputerSystem.Reset`, { body: { ResetType: type } });
        if (!is2xx(r) && r.status !== 400 && r.status !== 409)
          return fail(`${type} while already ${state} answered ${r.status}: ${errorMessage(r)}`);
        if ((await ctx.powerState()) !== state) return fail(`${type} while already ${state} changed PowerState`);
        seen.push(`${type} while ${state} → ${r.status}`);
      }
      return pass(seen.join('; '));
    },
  },
  {
    id: 'C12',
    name: 'reboot-sequence',
    why: 'Ironic reboots as ForceOff, wait for Off, On; ForceRestart is used for soft paths and must restart the host',
    protects: 'ironic redfish power.py reboot()',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const pre = await ensure(ctx, 'On');
      if (pre) return fail(`could not power the system on first: ${pre}`);
      const t0 = Date.now();
      const off = await ctx.reset('ForceOff', 'Off');
      if (off.error) return fail(`reboot (ForceOff): ${off.error}`);
      const on = await ctx.reset('On', 'On', 6);
      if (on.error) return fail(`reboot (On): ${on.error}`);
      const ironicMs = Date.now() - t0;
      const before = (await ctx.system()).LastResetTime as string | undefined;
      const restart = await ctx.redfish.request('POST', `${ctx.redfish.system}/Actions/ComputerSystem.Reset`, {
        body: { ResetType: 'ForceRestart' },
      });
      if (!is2xx(restart)) return fail(`ForceRestart answered ${restart.status}: ${errorMessage(restart)}`);
      if (before === undefined) {
        const back = await ctx.waitFor(async () => ((await ctx.powerState()) === 'On' ? true : undefined), ctx.opts.powerTimeoutMs);
        if (!back) return fail('after ForceRestart the system did not come back On');
        return warn(`Ironic's reboot took ${ironicMs} ms; no LastResetTime, so whether ForceRestart really restarted cannot be seen`);
      }
      const changed = await ctx.waitFor(async () => {
        const s = await ctx.system();
        return s.PowerState === 'On' && s.LastResetTime !== before ? String(s.LastResetTime) : undefined;
      }, ctx.opts.powerTimeoutMs);
      if (!changed) return fail(`ForceRestart answered ${restart.status} but LastResetTime stayed ${before}: the host did not restart`);
      return pass(`Ironic's reboot (ForceOff, On) took ${ironicMs} ms; ForceRestart restarted the host (LastResetTime ${changed})`);
    },
  },
  {
    id: 'C33',
    name: 'concurrency',
    why: 'the conductor polls power every 120 s for every node while deploys PATCH and reset; a BMC must answer both',
    protects: 'ironic conductor power sync, BMO status polling',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const reset = ctx.redfish.request('POST', `${ctx.redfish.system}/Actions/ComputerSystem.Reset`, {
        body: { ResetType: (await ctx.powerState()) === 'On' ? 'ForceOff' : 'On' },
      });
      const gets = Array.from({ length: 10 }, () => ctx.redfish.get(ctx.redfish.system).catch((e: Error) => e));
      const all = await Promise.all([reset.catch((e: Error) => e), ...gets]);
      const bad = all.filter((r) => r instanceof Error || r.status >= 500 || r.status === 0);
      if (bad.length)
        return fail(
          `${bad.length} of ${all.length} concurrent requests failed: ${bad.map((r) => (r instanceof Error ? r.message : `HTTP ${r.status}`)).join('; ')}`,
        );
      return pass(`a Reset and 10 parallel GETs all answered (slowest ${Math.max(...all.map((r) => (r instanceof Error ? 0 : r.ms)))} ms)`);
    },
  },
];
