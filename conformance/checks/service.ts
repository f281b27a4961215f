// Service-level checks: discovery, headers, authentication and sessions, error format, and how
// the service holds up under the load a conductor and an operator put on it together.
import type { CheckContext } from '../context.js';
import { errorMessage, is2xx, odataId } from '../redfish-client.js';
import { type Check, fail, pass, skipped, warn } from '../types.js';

type Obj = Record<string, unknown>;

async function sessionsUri(ctx: CheckContext): Promise<string | null> {
  let r = await ctx.redfish.get('/redfish/v1/', { auth: { kind: 'none' } });
  // a root behind authentication is C01's finding; the session checks still look with credentials
  if (r.status === 401) r = await ctx.redfish.get('/redfish/v1/');
  const root = r.body as Obj | undefined;
  const fromLinks = odataId((root?.Links as Obj | undefined)?.Sessions);
  if (fromLinks) return fromLinks;
  return root?.SessionService ? '/redfish/v1/SessionService/Sessions' : null;
}

async function login(ctx: CheckContext, uri: string): Promise<{ status: number; token?: string; location?: string; error?: string }> {
  const r = await ctx.redfish.request('POST', uri, {
    body: { UserName: ctx.redfish.target.username, Password: ctx.redfish.target.password },
    auth: { kind: 'none' },
  });
  if (!is2xx(r)) return { status: r.status, error: errorMessage(r) };
  const location = r.headers.location ?? odataId(r.body);
  return { status: r.status, token: r.headers['x-auth-token'], location: location || undefined };
}

export const serviceChecks: Check[] = [
  {
    id: 'C01',
    name: 'root-unauth',
    why: 'sushy reads the service root before it authenticates; a root behind auth breaks the first call',
    protects: 'sushy Sushy.__init__ (service root), Redfish-Protocol-Validator root-no-auth',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const r = await ctx.redfish.get('/redfish/v1/', { auth: { kind: 'none' } });
      if (r.status === 401 || r.status === 403) return fail(`GET /redfish/v1/ without credentials answered ${r.status}`);
      if (r.status !== 200 || typeof r.body !== 'object') return fail(`GET /redfish/v1/ answered ${r.status}, not a JSON service root`);
      if (!odataId((r.body as Obj).Systems)) return fail('the service root has no Systems link');
      return pass('the service root answers without credentials and links Systems');
    },
  },
  {
    id: 'C02',
    name: 'odata-headers',
    why: 'sushy sends OData-Version: 4.0, Accept-Encoding: identity and Connection: close on every request',
    protects: 'sushy connector (headers, Gen10 Plus identity retry)',
    workaround: 'a 406 on identity is retried without it by sushy; any other refusal breaks every call',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const headers: Array<[string, string]> = [
        ['OData-Version', '4.0'],
        ['Accept-Encoding', 'identity'],
        ['Connection', 'close'],
      ];
      const problems: string[] = [];
      let identity406 = false;
      for (const [k, v] of headers) {
        const r = await ctx.redfish.get(ctx.redfish.system, { bare: true, headers: { [k]: v } });
        if (r.status === 406 && k === 'Accept-Encoding') identity406 = true;
        else if (r.status !== 200) problems.push(`${k}: ${v} → ${r.status}`);
      }
      if (problems.length) return fail(`requests with sushy's headers were refused: ${problems.join('; ')}`);
      if (identity406) return warn('Accept-Encoding: identity answered 406; sushy retries without it');
      return pass("each of sushy's headers is accepted");
    },
  },
  {
    id: 'C03',
    name: 'basic-auth',
    why: "Ironic's auth_type auto falls back to HTTP Basic when sessions fail; basic is the floor",
    protects: 'ironic redfish utils (auth_type basic/auto), sushy BasicAuth',
    workaround: 'set [redfish]auth_type=session if only sessions work',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const ok = await ctx.redfish.get(ctx.redfish.system);
      const bad = await ctx.redfish.get(ctx.redfish.system, {
        auth: { kind: 'none' },
        headers: { Authorization: `Basic ${Buffer.from(`${ctx.redfish.target.username}:not-the-password`).toString('base64')}` },
      });
      if (ok.status !== 200) return fail(`GET System with Basic credentials answered ${ok.status}: ${errorMessage(ok)}`);
      if (bad.status !== 401) return fail(`a wrong password answered ${bad.status}, not 401`);
      if (!bad.headers['www-authenticate']) return fail('the 401 carries no WWW-Authenticate header');
      return pass('Basic works; a wrong password gets 401 with WWW-Authenticate');
    },
  },
  {
    id: 'C04',
    name: 'session-create',
    why: 'Ironic prefers sessions (auth_type auto); without them every request re-authenticates',
    protects: 'sushy SessionAuth, Redfish-Protocol-Validator session create',
    workaround: 'set [redfish]auth_type=basic',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const uri = await sessionsUri(ctx);
      if (!uri) return fail('the service root offers no SessionService and no Links.Sessions');
      const s = await login(ctx, uri);
      if (s.error !== undefined) return fail(`POST ${uri} answered ${s.status}: ${s.error}`);
      if (s.status !== 201) return fail(`POST ${uri} answered ${s.status}, not 201 Created`);
      if (!s.token) return fail('the session answer has no X-Auth-Token');
      if (!s.location) return fail('the session answer has neither Location nor @odata.id');
      const use = await ctx.redfish.get(ctx.redfish.system, { auth: { kind: 'session', token: s.token } });
      await ctx.redfish.request('DELETE', s.location, { auth: { kind: 'session', token: s.token } });
      if (use.status !== 200) return fail(`the new session's token answered ${use.status}`);
      return pass(`a session is created at ${uri} (201, X-Auth-Token, Location) and its token works`);
    },
  },
  {
    id: 'C05',
    name: 'session-reauth',
    why: 'sushy re-authenticates once on 401; a deleted session must stop working and a new login must succeed',
    protects: 'sushy connector _op (re-authentication on 401)',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const uri = await sessionsUri(ctx);
      if (!uri) return skipped('no SessionService (C04)');
      const a = await login(ctx, uri);
      if (!a.token || !a.location) return skipped(`no usable session (POST answered ${a.status})`);
      const del = await ctx.redfish.request('DELETE', a.location, { auth: { kind: 'session', token: a.token } });
      if (!is2xx(del)) return fail(`DELETE of the session answered ${del.status}`);
      const stale = await ctx.redfish.get(ctx.redfish.system, { auth: { kind: 'session', token: a.token } });
      if (stale.status !== 401) return fail(`a deleted session's token still answers ${stale.status} (expected 401)`);
      const b = await login(ctx, uri);
      if (!b.token) return fail(`logging in again after the 401 answered ${b.status}: ${b.error ?? ''}`);
      if (b.location) await ctx.redfish.request('DELETE', b.location, { auth: { kind: 'session', token: b.token } });
      return pass('a deleted session gets 401 and a new login succeeds');
    },
  },
  {
    id: 'C06',
    name: 'session-limit',
    why: 'the operator, Ironic conductors and humans hold sessions at once; a tiny limit locks provisioning out',
    protects: 'ironic redfish connection cache, BMO',
    workaround: 'set [redfish]auth_type=basic so no session is held',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const uri = await sessionsUri(ctx);
      if (!uri) return skipped('no SessionService (C04)');
      const held: Array<{ token: string; location: string }> = [];
      let refused = '';
      try {
        for (let i = 0; i < 8; i++) {
          const s = await login(ctx, uri);
          if (!s.token || !s.location) {
            refused = `session ${i + 1} answered ${s.status}${s.error ? `: ${s.error}` : ''}`;
            break;
          }
          held.push({ token: s.token, location: s.location });
        }
      } finally {
        for (const s of held)
          await ctx.redfish.request('DELETE', s.location, { auth: { kind: 'session', token: s.token } }).catch(() => {});
      }
      if (held.length < 4) return fail(`only ${held.length} concurrent sessions (${refused}); at least 4 are needed`);
      if (refused) return warn(`${held.length} concurrent sessions, then ${refused}`);
      return pass(`${held.length} concurrent sessions opened and closed`);
    },
  },
  {
    id: 'C07',
    name: 'system-discovery',
    why: 'Ironic finds the node by its System and reads Id, UUID, PowerState, Boot and its manager',
    protects: 'OpenStackIronicProfile (Mandatory ComputerSystem properties), ironic redfish utils get_system',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const coll = await ctx.redfish.json('/redfish/v1/Systems');
      const members = ((coll.Members as Obj[] | undefined) ?? []).map(odataId);
      if (!members.length) return fail('the Systems collection is empty');
      const sys = await ctx.system();
      const id = odataId(sys);
      if (!members.includes(id) && !members.includes(ctx.redfish.system))
        return fail(`${ctx.redfish.system} is not a member of the Systems collection`);
      const missing = ['Id', 'UUID', 'PowerState', 'Boot'].filter((k) => sys[k] === undefined || sys[k] === null);
      if (!((sys.Links as Obj | undefined)?.ManagedBy as unknown[] | undefined)?.length) missing.push('Links.ManagedBy');
      if (missing.length) return fail(`the System lacks ${missing.join(', ')}`);
      return pass(`System ${String(sys.Id)} (UUID ${String(sys.UUID)}) has what Ironic reads`);
    },
  },
  {
    id: 'C08',
    name: 'reset-allowable',
    why: "Ironic's power interface sends On, ForceOff and ForceRestart (GracefulShutdown/Restart for soft power)",
    protects: 'ironic redfish power.py reset type map',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const sys = await ctx.system();
      const reset = ((sys.Actions as Obj | undefined)?.['#ComputerSystem.Reset'] ?? null) as Obj | null;
      if (!reset?.target) return fail('the System has no #ComputerSystem.Reset action target');
      const allowed = reset['ResetType@Redfish.AllowableValues'] as string[] | undefined;
      if (!allowed) return warn('no ResetType@Redfish.AllowableValues: what the BMC accepts is unknown until tried');
      const missing = ['On', 'ForceOff', 'ForceRestart'].filter((t) => !allowed.includes(t));
      if (missing.length) return fail(`ResetType lacks ${missing.join(', ')} (offers ${allowed.join(', ')})`);
      const soft = ['GracefulShutdown', 'GracefulRestart'].filter((t) => !allowed.includes(t));
      if (soft.length) return warn(`no ${soft.join(', ')}: soft power actions will fail`);
      return pass(`ResetType offers ${allowed.join(', ')}`);
    },
  },
  {
    id: 'C32',
    name: 'error-format',
    why: 'sushy reads error.code and @Message.ExtendedInfo[].MessageId to decide retries and fallbacks',
    protects: 'sushy exceptions (is_transfer_protocol_required and friends)',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const r = await ctx.redfish.request('PATCH', ctx.redfish.system, { body: { FerriteConformanceNoSuchProperty: 1 } });
      if (is2xx(r)) return warn(`an unknown property was accepted (${r.status}); the error format could not be seen`);
      const e = (r.body as Obj | undefined)?.error as Obj | undefined;
      if (!e || typeof e !== 'object')
        return fail(`the ${r.status} answer is not a Redfish error body (${String(r.headers['content-type'] ?? 'no content type')})`);
      const info = e['@Message.ExtendedInfo'] as Obj[] | undefined;
      if (typeof e.code !== 'string') return fail('error.code is missing');
      if (!info?.length || typeof info[0].MessageId !== 'string') return fail('error.@Message.ExtendedInfo[].MessageId is missing');
      return pass(`${r.status} with error.code ${String(e.code)} and MessageId ${String(info[0].MessageId)}`);
    },
  },
  {
    id: 'C34',
    name: 'latency',
    why: 'sushy waits 30 s to connect and 60 s to read; slow answers stall power syncs for every node',
    protects: 'ironic [redfish] connection/read timeouts, conductor power sync',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const times: number[] = [];
      for (let i = 0; i < 10; i++) times.push((await ctx.redfish.get(ctx.redfish.system)).ms);
      times.sort((a, b) => a - b);
      const p95 = times[Math.ceil(times.length * 0.95) - 1];
      ctx.note(`GET System latencies (ms): ${times.join(', ')}`);
      if (p95 > ctx.opts.latencyBudgetMs) return fail(`p95 of GET System is ${p95} ms, over the ${ctx.opts.latencyBudgetMs} ms budget`);
      return pass(`p95 of GET System is ${p95} ms (median ${times[5]} ms)`);
    },
  },
];
