// Runs a profile's checks against one BMC and puts back what the disruptive ones changed (power
// state, boot override, virtual media) — after the last check, after a failing one, and when the
// run is interrupted. Exported so the emulator's own tests run the suite too.

import { eject, mediaSlots } from './checks/media.js';
import { CheckContext, type ContextOptions, type IpmiTarget } from './context.js';
import { ConformanceError } from './errors.js';
import { GroundTruth } from './ground-truth.js';
import { ALL_CHECKS, PROFILES, profileForScheme } from './profiles.js';
import type { RedfishTarget } from './redfish-client.js';
import type { CheckResult, Report, Verdict } from './types.js';

export interface ConformanceOptions {
  /** redfish[+http|+https]://host[:port]/redfish/v1/Systems/<id>, redfish-virtualmedia://…, idrac-virtualmedia://…, ilo5-virtualmedia://… or ipmi://host[:port] */
  url: string;
  username: string;
  password: string;
  /** an extra IPMI address for the same machine (C36–C38, C40 beside Redfish) */
  ipmi?: string;
  profile?: string;
  /** run only these check ids (after the profile's selection) */
  only?: string[];
  allowDisruptive?: boolean;
  /** host[:port] the BMC can reach for the harness's HTTP server; none = checks needing it are skipped */
  httpAddress?: string;
  insecure?: boolean;
  pxe?: boolean;
  timeouts?: Partial<Pick<ContextOptions, 'powerTimeoutMs' | 'mediaTimeoutMs' | 'bootTimeoutMs' | 'latencyBudgetMs'>>;
  requestTimeoutMs?: number;
  ipmitool?: string;
  validatorsDir?: string;
  signal?: AbortSignal;
  onStart?(id: string, name: string): void;
  onResult?(r: CheckResult): void;
}

export interface ParsedTarget {
  scheme: string;
  redfish: Omit<RedfishTarget, 'username' | 'password' | 'insecure' | 'timeoutMs'> | null;
  ipmi: Omit<IpmiTarget, 'username' | 'password'> | null;
}

/** Reads a BMC address the way BMO does (scheme → driver, path → system). */
export function parseTarget(url: string): ParsedTarget {
  const m = /^([a-z0-9+-]+):\/\/(\[[^\]]+\]|[^/:]+)(?::(\d+))?(\/.*)?$/i.exec(url);
  if (!m) throw new ConformanceError('BadTarget', `cannot parse BMC address "${url}": expected scheme://host[:port][/path]`);
  const [, schemeRaw, host, port, path] = m;
  const scheme = schemeRaw.toLowerCase();
  if (scheme === 'ipmi') {
    if (path && path !== '/') throw new ConformanceError('BadTarget', `an ipmi:// address has no path (got ${path})`);
    return { scheme, redfish: null, ipmi: { host: host.replace(/^\[|\]$/g, ''), port: Number(port ?? 623) } };
  }
  const known = ['redfish', 'redfish-virtualmedia', 'idrac-virtualmedia', 'ilo5-virtualmedia', 'idrac-redfish', 'ilo5-redfish'];
  const [base, transport] = scheme.split('+');
  if (!known.includes(base))
    throw new ConformanceError(
      'BadTarget',
      `unsupported scheme "${scheme}": use redfish://, redfish-virtualmedia://, idrac-virtualmedia://, ilo5-virtualmedia:// or ipmi://`,
    );
  if (transport && transport !== 'http' && transport !== 'https')
    throw new ConformanceError('BadTarget', `unknown transport "+${transport}" (http or https)`);
  if (!path || !/^\/redfish\/v1\/Systems\/[^/]+\/?$/.test(path))
    throw new ConformanceError(
      'BadTarget',
      `the address must name the system, e.g. ${scheme}://${host}${port ? `:${port}` : ''}/redfish/v1/Systems/1`,
    );
  const proto = transport ?? 'https';
  return {
    scheme: base,
    redfish: { base: `${proto}://${host}${port ? `:${port}` : ''}`, systemPath: path.replace(/\/$/, '') },
    ipmi: null,
  };
}

interface Snapshot {
  power?: string;
  boot?: Record<string, unknown>;
  media: Array<{ path: string; image: string | null; inserted: boolean }>;
  ipmiPower?: 'on' | 'off';
}

async function snapshot(ctx: CheckContext): Promise<Snapshot> {
  const s: Snapshot = { media: [] };
  if (ctx.rf) {
    const sys = await ctx.system();
    s.power = String(sys.PowerState ?? '');
    const b = (sys.Boot ?? {}) as Record<string, unknown>;
    s.boot = {
      BootSourceOverrideTarget: b.BootSourceOverrideTarget,
      BootSourceOverrideEnabled: b.BootSourceOverrideEnabled,
      ...(b.BootSourceOverrideMode !== undefined ? { BootSourceOverrideMode: b.BootSourceOverrideMode } : {}),
    };
    for (const slot of await mediaSlots(ctx).catch(() => [])) {
      const v = await ctx.redfish.json(slot.path).catch(() => null);
      if (v) s.media.push({ path: slot.path, image: (v.Image as string | null) ?? null, inserted: v.Inserted === true });
    }
  } else if (ctx.ipmi) {
    const st = await ctx.ipmitool(['power', 'status']).catch(() => null);
    const p = /Chassis Power is (on|off)/i.exec(st?.stdout ?? '')?.[1]?.toLowerCase();
    if (p === 'on' || p === 'off') s.ipmiPower = p;
  }
  return s;
}

async function restore(ctx: CheckContext, s: Snapshot): Promise<string[]> {
  const done: string[] = [];
  if (ctx.rf) {
    for (const m of s.media) {
      const slot = ctx.shared.mediaSlots?.find((x) => x.path === m.path);
      const now = await ctx.redfish.json(m.path).catch(() => null);
      if (!slot || !now) continue;
      if (now.Inserted === true && (!m.inserted || now.Image !== m.image)) {
        await eject(ctx, slot).catch(() => null);
        done.push(`ejected ${slot.id}`);
      }
    }
    if (s.boot) {
      const r = await ctx.patch(ctx.redfish.system, { Boot: s.boot }).catch(() => null);
      done.push(
        r && r.status < 300
          ? `boot override back to ${String(s.boot.BootSourceOverrideTarget)}/${String(s.boot.BootSourceOverrideEnabled)}`
          : 'boot override could not be restored',
      );
    }
    if (s.power === 'On' || s.power === 'Off') {
      const now = await ctx.powerState().catch(() => '');
      if (now !== s.power) {
        const r = await ctx.reset(s.power === 'On' ? 'On' : 'ForceOff', s.power, 6).catch((e: Error) => ({ error: e.message }));
        done.push(r.error ? `power could not be restored to ${s.power}: ${r.error}` : `power back ${s.power}`);
      }
    }
  } else if (ctx.ipmi && s.ipmiPower) {
    await ctx.ipmitool(['power', s.ipmiPower]).catch(() => null);
    done.push(`power back ${s.ipmiPower}`);
  }
  return done;
}

export async function runConformance(o: ConformanceOptions): Promise<Report> {
  const target = parseTarget(o.url);
  const profileName = o.profile ?? profileForScheme(target.scheme);
  const profile = PROFILES[profileName];
  if (!profile) throw new ConformanceError('BadProfile', `unknown profile "${profileName}"; known: ${Object.keys(PROFILES).join(', ')}`);
  const ipmiAddr = o.ipmi ? parseTarget(o.ipmi).ipmi : target.ipmi;
  if (o.ipmi && !ipmiAddr) throw new ConformanceError('BadTarget', `--ipmi must be an ipmi:// address (got ${o.ipmi})`);
  const started = new Date();
  const abort = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, abort.signal]) : abort.signal;
  let http: GroundTruth | null = null;
  if (o.httpAddress) {
    http = new GroundTruth(o.httpAddress);
    await http.start(true).catch((e: Error) => {
      throw new ConformanceError('HttpServer', `cannot serve on --http-address ${o.httpAddress}: ${e.message}`);
    });
  }
  const ctx = new CheckContext(
    target.redfish
      ? {
          ...target.redfish,
          username: o.username,
          password: o.password,
          insecure: o.insecure ?? false,
          timeoutMs: o.requestTimeoutMs ?? 60_000,
        }
      : null,
    ipmiAddr ? { ...ipmiAddr, username: o.username, password: o.password } : null,
    http,
    {
      allowDisruptive: o.allowDisruptive ?? false,
      powerTimeoutMs: o.timeouts?.powerTimeoutMs ?? 60_000,
      mediaTimeoutMs: o.timeouts?.mediaTimeoutMs ?? 30_000,
      bootTimeoutMs: o.timeouts?.bootTimeoutMs ?? 300_000,
      latencyBudgetMs: o.timeouts?.latencyBudgetMs ?? 5000,
      pxe: o.pxe ?? false,
      ipmitool: o.ipmitool ?? 'ipmitool',
      validatorsDir: o.validatorsDir,
    },
    signal,
  );
  // the target must answer at all before anything is judged
  if (ctx.rf) {
    await ctx.redfish.get('/redfish/v1/', { auth: { kind: 'none' } }).catch((e: Error) => {
      throw new ConformanceError('Unreachable', `the BMC at ${ctx.redfish.target.base} does not answer: ${e.message}`);
    });
    const who = await ctx.redfish.get(ctx.redfish.system);
    if (who.status === 401 || who.status === 403)
      throw new ConformanceError('BadCredentials', `the BMC refused the credentials for ${o.username} (${who.status})`);
    if (who.status === 404) throw new ConformanceError('NoSuchSystem', `the BMC has no ${ctx.redfish.system}`);
  }
  const selected = ALL_CHECKS.filter((c) => profile.checks.includes(c.id) && (!o.only || o.only.includes(c.id)));
  const results: CheckResult[] = [];
  let snap: Snapshot | null = null;
  let interrupted = false;
  let restored: string[] | undefined;
  try {
    for (const c of selected) {
      if (signal.aborted) interrupted = true;
      const base = { id: c.id, name: c.name, why: c.why, protects: c.protects, workaround: c.workaround, disruptive: c.disruptive };
      ctx.evidence = { exchanges: [], notes: [] };
      let outcome: { verdict: Verdict; reason: string };
      const t0 = Date.now();
      o.onStart?.(c.id, c.name);
      if (interrupted) outcome = { verdict: 'skipped', reason: 'the run was interrupted' };
      else if (c.protocol === 'redfish' && !ctx.rf) outcome = { verdict: 'skipped', reason: 'no Redfish target' };
      else if (c.protocol === 'ipmi' && !ctx.ipmi) outcome = { verdict: 'skipped', reason: 'no IPMI target (--ipmi)' };
      else if (c.disruptive && !ctx.opts.allowDisruptive)
        outcome = { verdict: 'skipped', reason: 'disruptive: run with --allow-disruptive' };
      else {
        try {
          if (c.disruptive && !snap) snap = await snapshot(ctx);
          outcome = await c.run(ctx);
        } catch (e) {
          if (signal.aborted) {
            interrupted = true;
            outcome = { verdict: 'skipped', reason: 'interrupted while running' };
          } else outcome = { verdict: 'fail', reason: `the check could not complete: ${(e as Error).message}` };
        }
      }
      const tol = profile.tolerated?.[c.id];
      if (outcome.verdict === 'fail' && tol)
        outcome = { verdict: 'warn', reason: `${outcome.reason} — tolerated for ${profile.name}: ${tol}` };
      const r: CheckResult = { ...base, ...outcome, durationMs: Date.now() - t0, evidence: ctx.evidence };
      results.push(r);
      o.onResult?.(r);
    }
  } finally {
    // the restore's own requests are not the last check's evidence, and an interrupt does not stop it
    ctx.evidence = { exchanges: [], notes: [] };
    ctx.signal = new AbortController().signal;
    if (snap) restored = await restore(ctx, snap);
    await http?.close();
  }
  const summary: Record<Verdict, number> = { pass: 0, fail: 0, warn: 0, skipped: 0 };
  for (const r of results) summary[r.verdict]++;
  return {
    tool: 'ferrite conformance',
    version: '1',
    target: o.url,
    profile: profile.name,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    disruptive: ctx.opts.allowDisruptive,
    summary,
    results,
    ...(ctx.validators.length ? { validators: ctx.validators } : {}),
    ...(restored ? { restored } : {}),
    ...(interrupted ? { interrupted: true } : {}),
  };
}
