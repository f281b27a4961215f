// Virtual media checks, as Ironic's redfish-virtual-media boot interface uses it: find a CD slot
// (System first, then Managers), insert the harness's ISO, watch the BMC fetch it from the
// harness's own server, boot it, and eject it again.
import type { CheckContext, Shared } from '../context.js';
import type { GroundTruth } from '../ground-truth.js';
import { errorMessage, is2xx, odataId, type RfResponse } from '../redfish-client.js';
import { type Check, type CheckOutcome, fail, pass, skipped, warn } from '../types.js';
import { cdTarget } from './boot.js';

type Obj = Record<string, unknown>;
type Slot = NonNullable<Shared['mediaSlots']>[number];

/** The slots Ironic would consider, System's first. */
export async function mediaSlots(ctx: CheckContext): Promise<Slot[]> {
  if (ctx.shared.mediaSlots) return ctx.shared.mediaSlots;
  const sys = await ctx.system();
  const collections: string[] = [];
  if (odataId(sys.VirtualMedia)) collections.push(odataId(sys.VirtualMedia));
  for (const m of ((sys.Links as Obj | undefined)?.ManagedBy as Obj[] | undefined) ?? []) {
    const mgr = await ctx.redfish.get(odataId(m));
    const vm = odataId((mgr.body as Obj | undefined)?.VirtualMedia);
    if (mgr.status === 200 && vm) collections.push(vm);
  }
  const slots: Slot[] = [];
  for (const c of collections) {
    const coll = await ctx.redfish.get(c);
    if (coll.status !== 200) continue;
    for (const member of ((coll.body as Obj).Members as Obj[] | undefined) ?? []) {
      const r = await ctx.redfish.get(odataId(member));
      if (r.status !== 200) continue;
      const b = r.body as Obj;
      const actions = (b.Actions ?? {}) as Obj;
      slots.push({
        path: odataId(member),
        id: String(b.Id ?? ''),
        types: (b.MediaTypes as string[] | undefined) ?? [],
        insert: odataId({ '@odata.id': (actions['#VirtualMedia.InsertMedia'] as Obj | undefined)?.target }) || undefined,
        eject: odataId({ '@odata.id': (actions['#VirtualMedia.EjectMedia'] as Obj | undefined)?.target }) || undefined,
      });
    }
    // Ironic stops at the first place that has virtual media
    if (slots.length) break;
  }
  ctx.shared.mediaSlots = slots;
  return slots;
}

export const isCd = (s: Slot) => s.types.includes('CD') || s.types.includes('DVD');
const isUsb = (s: Slot) => s.types.includes('USBStick') || s.types.includes('Floppy');

async function slotState(ctx: CheckContext, s: Slot): Promise<Obj> {
  return ctx.redfish.json(s.path);
}

/**
 * InsertMedia with the minimal body, then the optional parameters only if the error asks (sushy's
 * order); a 5xx is retried every second for up to 30 s, as Ironic retries it (iDRAC right after an eject).
 */
export async function insert(ctx: CheckContext, s: Slot, image: string): Promise<RfResponse> {
  if (!s.insert) throw new Error(`slot ${s.id} has no InsertMedia action`);
  const post = (body: Record<string, unknown>) => (s.insert ? ctx.redfish.request('POST', s.insert, { body }) : Promise.reject());
  let r = await post({ Image: image });
  for (let i = 0; r.status >= 500 && i < 30; i++) {
    ctx.note(`InsertMedia answered ${r.status} (${errorMessage(r)}); retrying as Ironic does`);
    await new Promise((res) => setTimeout(res, 1000));
    r = await post({ Image: image });
  }
  if (!is2xx(r) && /TransferProtocolType|TransferMethod/i.test(errorMessage(r))) {
    ctx.note('InsertMedia asked for transfer parameters; retrying with them as sushy does');
    r = await ctx.redfish.request('POST', s.insert, { body: { Image: image, TransferProtocolType: 'HTTP', TransferMethod: 'Stream' } });
  }
  return r;
}

/** EjectMedia with no body, then with {} as sushy retries for iLO. */
export async function eject(ctx: CheckContext, s: Slot): Promise<RfResponse> {
  if (!s.eject) throw new Error(`slot ${s.id} has no EjectMedia action`);
  let r = await ctx.redfish.request('POST', s.eject);
  if (r.status === 400 || r.status === 415) {
    ctx.note(`EjectMedia without a body answered ${r.status}; retrying with {} as sushy does`);
    r = await ctx.redfish.request('POST', s.eject, { body: {} });
  }
  return r;
}

/** Runs `fn` on an empty slot and leaves it empty, as Ironic ejects before every insert and after every boot. */
async function clean<T>(ctx: CheckContext, s: Slot, fn: () => Promise<T>): Promise<T> {
  await eject(ctx, s).catch(() => null);
  try {
    return await fn();
  } finally {
    await eject(ctx, s).catch(() => null);
  }
}

/** The CD slot and the harness's server a media check needs, or why the check is skipped. */
async function cdWithServer(ctx: CheckContext): Promise<{ cd: Slot; http: GroundTruth } | CheckOutcome> {
  if (!ctx.http) return skipped('needs the harness HTTP server (--http-address)');
  const cd = (await mediaSlots(ctx)).find(isCd);
  if (!cd) return skipped('no virtual CD slot (C20)');
  if (!cd.insert || !cd.eject) return skipped(`slot ${cd.id} lacks InsertMedia/EjectMedia (C20)`);
  return { cd, http: ctx.http };
}

async function waitInserted(ctx: CheckContext, s: Slot, image: string): Promise<Obj | undefined> {
  return ctx.waitFor(async () => {
    const v = await slotState(ctx, s);
    return v.Inserted === true && v.Image === image ? v : undefined;
  }, ctx.opts.mediaTimeoutMs);
}

export const mediaChecks: Check[] = [
  {
    id: 'C20',
    name: 'vmedia-discovery',
    why: 'redfish-virtual-media boots need a slot taking CD or DVD with InsertMedia and EjectMedia',
    protects: 'ironic redfish boot.py _insert_vmedia (System first, then Managers)',
    protocol: 'redfish',
    disruptive: false,
    async run(ctx) {
      const slots = await mediaSlots(ctx);
      if (!slots.length) return fail('no VirtualMedia under the System or its Managers');
      const cd = slots.find(isCd);
      if (!cd) return fail(`no slot takes CD or DVD (slots: ${slots.map((s) => `${s.id} [${s.types.join(', ')}]`).join('; ')})`);
      if (!cd.insert || !cd.eject) return fail(`slot ${cd.id} lacks ${!cd.insert ? 'InsertMedia' : 'EjectMedia'}`);
      const where = cd.path.includes('/Managers/') ? 'under the Manager' : 'under the System';
      return pass(`slot ${cd.id} [${cd.types.join(', ')}] ${where} with InsertMedia and EjectMedia`);
    },
  },
  {
    id: 'C21',
    name: 'vmedia-insert',
    why: 'the deploy ISO is inserted by URL; the BMC must fetch it and report it Inserted',
    protects: 'sushy VirtualMedia.insert_media, ironic redfish boot.py',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const need = await cdWithServer(ctx);
      if ('verdict' in need) return need;
      const { cd, http } = need;
      return clean(ctx, cd, async () => {
        const t0 = Date.now();
        const r = await insert(ctx, cd, http.isoUrl);
        if (!is2xx(r)) return fail(`InsertMedia {Image} answered ${r.status}: ${errorMessage(r)}`);
        const v = await waitInserted(ctx, cd, http.isoUrl);
        const hits = http.hitsSince(t0, (h) => h.path.includes('/conformance-'));
        ctx.note(
          `the harness saw ${hits.length} request(s) for the ISO: ${hits.map((h) => `${h.method}${h.range ? ` ${h.range}` : ''} from ${h.from}`).join('; ')}`,
        );
        if (!v)
          return fail(
            `InsertMedia answered ${r.status} but the slot never showed Inserted with the image within ${ctx.opts.mediaTimeoutMs} ms`,
          );
        if (!hits.length) return fail('the slot reports the image inserted, but the BMC never fetched it from the harness');
        return pass(`inserted: the BMC fetched the ISO (${hits.length} request(s)) and reports Inserted`);
      });
    },
  },
  {
    id: 'C22',
    name: 'vmedia-https',
    why: 'images are often served over HTTPS with a private CA; the BMC must fetch them or say why not',
    protects: 'ironic [redfish]verify_ca / vmedia certificates, BMO disableCertificateVerification',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const need = await cdWithServer(ctx);
      if ('verdict' in need) return need;
      const { cd, http } = need;
      if (!http.httpsUrl) return skipped('the harness HTTPS server is not running');
      return clean(ctx, cd, async () => {
        await ctx.patch(cd.path, { VerifyCertificate: false }).catch(() => null);
        const t0 = Date.now();
        const r = await insert(ctx, cd, http.httpsIsoUrl);
        if (!is2xx(r)) {
          const why = errorMessage(r);
          return why
            ? warn(`InsertMedia of an https:// image was refused with a reason (${r.status}: ${why})`)
            : fail(`InsertMedia of an https:// image answered ${r.status} without a reason`);
        }
        const v = await waitInserted(ctx, cd, http.httpsIsoUrl);
        const hits = http.hitsSince(t0, (h) => h.tls && h.path.includes('/conformance-'));
        if (!v)
          return fail(`InsertMedia of the https:// image answered ${r.status} but it never showed Inserted (${hits.length} HTTPS fetches)`);
        if (!hits.length) return fail('the https:// image shows Inserted but the BMC never fetched it');
        return pass(`the BMC fetched the ISO over HTTPS with a private CA (${hits.length} request(s))`);
      });
    },
  },
  {
    id: 'C23',
    name: 'vmedia-boot',
    why: 'virtual media deploys boot the inserted ISO once via a Cd override',
    protects: 'ironic redfish-virtual-media boot (set boot Cd once, power on)',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const need = await cdWithServer(ctx);
      if ('verdict' in need) return need;
      const { cd, http } = need;
      const off = await ctx.reset('ForceOff', 'Off');
      if (off.error) return fail(`power off first: ${off.error}`);
      return clean(ctx, cd, async () => {
        const ins = await insert(ctx, cd, http.isoUrl);
        if (!is2xx(ins)) return fail(`InsertMedia answered ${ins.status}: ${errorMessage(ins)}`);
        if (!(await waitInserted(ctx, cd, http.isoUrl))) return fail('the ISO never showed Inserted');
        const allowed = ((await ctx.system()).Boot as Obj | undefined)?.['BootSourceOverrideTarget@Redfish.AllowableValues'] as
          | string[]
          | undefined;
        const target = cdTarget(allowed) ?? 'Cd';
        const set = await ctx.patch(ctx.redfish.system, { Boot: { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: 'Once' } });
        if (!is2xx(set)) return fail(`PATCH {${target}, Once} answered ${set.status}: ${errorMessage(set)}`);
        const t0 = Date.now();
        const on = await ctx.reset('On', 'On', 6);
        if (on.error) return fail(on.error);
        const home = await ctx.waitFor(
          async () => http.hitsSince(t0, (h) => h.path.startsWith(http.phoneHomePath('media')))[0],
          ctx.opts.bootTimeoutMs,
        );
        await ctx.reset('ForceOff', 'Off');
        if (!home) return fail(`the host did not boot the ISO within ${ctx.opts.bootTimeoutMs} ms (no phone-home)`);
        return pass(`the host booted the inserted ISO via ${target} Once and phoned home after ${home.at - t0} ms`);
      });
    },
  },
  {
    id: 'C24',
    name: 'vmedia-eject',
    why: 'Ironic ejects after each boot and re-inserts the same URL later; a stale Inserted makes it skip the insert',
    protects: 'ironic redfish boot.py eject + re-insert (iDRAC stale Inserted, 5xx after eject), sushy eject_media {} retry',
    workaround: 'Ironic always ejects before inserting and retries a 5xx InsertMedia every 3 s',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      const need = await cdWithServer(ctx);
      if ('verdict' in need) return need;
      const { cd, http } = need;
      await eject(ctx, cd).catch(() => null);
      const ins = await insert(ctx, cd, http.isoUrl);
      if (!is2xx(ins)) return fail(`InsertMedia answered ${ins.status}: ${errorMessage(ins)}`);
      if (!(await waitInserted(ctx, cd, http.isoUrl))) return fail('the ISO never showed Inserted');
      const t0 = Date.now();
      const r = await eject(ctx, cd);
      if (!is2xx(r)) return fail(`EjectMedia answered ${r.status}: ${errorMessage(r)}`);
      const cleared = await ctx.waitFor(
        async () => ((await slotState(ctx, cd)).Inserted === false ? Date.now() - t0 : undefined),
        ctx.opts.mediaTimeoutMs,
      );
      if (cleared === undefined)
        return fail(`EjectMedia answered ${r.status} but the slot still shows Inserted after ${ctx.opts.mediaTimeoutMs} ms`);
      // re-insert the same URL (insert() retries a 5xx as Ironic does)
      const again = await insert(ctx, cd, http.isoUrl);
      const ok = is2xx(again) && (await waitInserted(ctx, cd, http.isoUrl));
      await eject(ctx, cd);
      if (!ok) return fail(`re-inserting the same URL after eject failed (${again.status}: ${errorMessage(again)})`);
      const fivexx = ctx.evidence.notes.filter((n) => /^InsertMedia answered 5\d\d/.test(n)).length;
      const quirks = [
        cleared > 1000 ? `Inserted stayed true for ${cleared} ms after eject` : '',
        fivexx ? `InsertMedia answered 5xx ${fivexx} time(s) right after an eject` : '',
        ctx.evidence.notes.some((n) => n.includes('retrying with {}')) ? 'EjectMedia needs a {} body' : '',
      ].filter(Boolean);
      if (quirks.length) return warn(`eject and re-insert work, with quirks Ironic copes with: ${quirks.join('; ')}`);
      return pass(`ejected within ${cleared} ms; the same URL re-inserts at once`);
    },
  },
  {
    id: 'C25',
    name: 'vmedia-usb',
    why: 'config drives can be attached as a USB stick or floppy beside the CD',
    protects: 'ironic redfish boot.py config_via_removable',
    protocol: 'redfish',
    disruptive: true,
    async run(ctx) {
      if (!ctx.http) return skipped('needs the harness HTTP server (--http-address)');
      const usb = (await mediaSlots(ctx)).find(isUsb);
      if (!usb) return warn('no USBStick/Floppy slot: config drives cannot go on removable media');
      if (!usb.insert || !usb.eject) return fail(`slot ${usb.id} lacks InsertMedia/EjectMedia`);
      const http = ctx.http;
      return clean(ctx, usb, async () => {
        const r = await insert(ctx, usb, http.isoUrl);
        if (!is2xx(r)) return fail(`InsertMedia into ${usb.id} answered ${r.status}: ${errorMessage(r)}`);
        if (!(await waitInserted(ctx, usb, http.isoUrl))) return fail(`slot ${usb.id} never showed the image Inserted`);
        return pass(`slot ${usb.id} [${usb.types.join(', ')}] takes media`);
      });
    },
  },
];
