// Applies a personality's quirks around the correct core: refusals and rewrites before a handler
// runs, payload edits after it. Each quirk is implemented once here, so a personality is only data.
import type { IncomingHttpHeaders } from 'node:http';
import type { Machine } from '../../machine/machine.js';
import type { RfRequest, RfResult } from '../context.js';
import { V1 } from '../context.js';
import { RedfishError } from '../errors.js';
import type { Quirks } from './quirks.js';

type Obj = Record<string, unknown>;

const RESET = /\/Actions\/ComputerSystem\.Reset$/;
const INSERT = /\/VirtualMedia\/([^/]+)\/Actions\/VirtualMedia\.InsertMedia$/;
const EJECT = /\/VirtualMedia\/([^/]+)\/Actions\/VirtualMedia\.EjectMedia$/;
const MEDIA = /\/VirtualMedia\/([^/]+)$/;
const SYSTEM = /^\/redfish\/v1\/Systems\/[^/]+$/;
const MANAGER = /^\/redfish\/v1\/Managers\/[^/]+$/;
const SESSION = /^\/redfish\/v1\/SessionService\/Sessions\/[^/]+$/;

interface MediaMemory {
  ejectedAt: number;
  image: string | null;
}

export class Overlay {
  private inFlight = 0;
  private readonly conflictsLeft = new WeakMap<Machine, number>();
  private readonly ejected = new WeakMap<Machine, Map<string, MediaMemory>>();

  /** no quirks at all: the generic core, answered without any overlay work on the hot path */
  private readonly idle: boolean;

  constructor(readonly q: Quirks) {
    this.idle = Object.keys(q).length === 0;
  }

  // ---- before routing ----

  /** Header rules stricter than the core's. */
  checkHeaders(h: IncomingHttpHeaders): RedfishError | null {
    if (this.q.odataVersionRejected && h['odata-version'] === '4.0') return new RedfishError(412, { messageId: 'PreconditionFailed' });
    if (this.q.identityEncodingRejected && /\bidentity\b/i.test(String(h['accept-encoding'] ?? '')))
      return new RedfishError(406, { messageId: 'GeneralError', args: ['the requested content encoding is not available'] });
    return null;
  }

  /** Paths the personality does not serve at all. */
  hides(path: string): boolean {
    if (this.q.noSessionService && path.startsWith(`${V1}/SessionService`)) return true;
    if (this.q.noVirtualMedia && path.includes('/VirtualMedia')) return true;
    if (this.q.noUsbSlot && /\/VirtualMedia\/Floppy(\/|$)/.test(path)) return true;
    return false;
  }

  isPublic(path: string, declared: boolean): boolean {
    if (this.q.rootRequiresAuth && (path === V1 || path === '/redfish')) return false;
    return declared;
  }

  /** Admission of a request past the in-flight limit; call release() when it is answered. */
  admit(): boolean {
    if (this.q.maxConcurrent !== undefined && this.inFlight >= this.q.maxConcurrent) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
  }

  async delay(): Promise<void> {
    if (this.q.latencyMs) await new Promise((r) => setTimeout(r, this.q.latencyMs));
  }

  /** A Basic-authenticated call the personality refuses. */
  refusesBasic(h: IncomingHttpHeaders): boolean {
    return this.q.basicAuthDisabled === true && /^basic /i.test(String(h.authorization ?? '')) && !h['x-auth-token'];
  }

  // ---- ETags ----

  get etagsDisabled(): boolean {
    return this.q.noEtag === true;
  }

  /** If-Match rules: the error to answer, 'skip' to not compare at all, or null to compare as the core does. */
  ifMatch(method: string, h: IncomingHttpHeaders, hasGet: boolean): RedfishError | 'skip' | null {
    const v = h['if-match'];
    if (method === 'PATCH' && hasGet && this.q.ifMatchRequired && !v) return new RedfishError(428, { messageId: 'PreconditionRequired' });
    if (v && this.q.weakEtagRejected && /(^|,)\s*W\//.test(v)) return new RedfishError(412, { messageId: 'PreconditionFailed' });
    if (v && this.q.ifMatchIgnored) return 'skip';
    return null;
  }

  // ---- around a handler ----

  /** Refuses, rewrites rq.body, or answers instead of the core (returns the answer). */
  before(rq: RfRequest): RfResult | undefined {
    if (this.idle) return undefined;
    const q = this.q;
    const { method, path } = rq;
    const body = (rq.body ?? {}) as Obj;
    // onConflicts counts consecutive On requests: anything else in between starts the count again
    if (rq.machine && !(method === 'POST' && RESET.test(path) && body.ResetType === 'On')) this.conflictsLeft.delete(rq.machine);
    if (method === 'DELETE' && SESSION.test(path) && q.sessionDeleteIgnored) return { status: 204 };
    if (method === 'POST' && RESET.test(path)) return this.beforeReset(rq, String(body.ResetType ?? ''));
    if (method === 'PATCH' && SYSTEM.test(path) && body.Boot && typeof body.Boot === 'object') this.beforeBoot(rq, body.Boot as Obj);
    if (method === 'POST' && INSERT.test(path)) {
      const slot = (INSERT.exec(path) as RegExpExecArray)[1];
      if (q.usbSlotRefuses && slot === 'Floppy')
        throw new RedfishError(400, { messageId: 'ActionNotSupported', args: ['VirtualMedia.InsertMedia'] });
      if (q.insertRejectsOptional)
        for (const k of ['Inserted', 'WriteProtected'])
          if (k in body)
            throw new RedfishError(400, { messageId: 'ActionParameterUnknown', args: ['VirtualMedia.InsertMedia', k], property: k });
      const last = this.ejected.get(rq.machine)?.get(slot);
      if (q.insertAfterEject5xxMs !== undefined && last && Date.now() - last.ejectedAt < q.insertAfterEject5xxMs)
        throw new RedfishError(500, { messageId: 'GeneralError', args: ['Virtual media is detaching; retry the operation'] });
      if (q.insertIgnored) return { status: 204 };
      if (q.httpsMediaUnsupported && /^https:/i.test(String(body.Image ?? ''))) return { status: 204 };
    }
    if (method === 'POST' && EJECT.test(path)) {
      const slot = (EJECT.exec(path) as RegExpExecArray)[1];
      if (q.ejectNeedsBody && rq.body === undefined) throw new RedfishError(415, { messageId: 'UnsupportedMediaType' });
      if (q.ejectIgnored) return { status: 204 };
      let image: string | null = null;
      try {
        image = rq.machine.mediaSlot(slot).image;
      } catch {
        // an unknown slot: the core answers 404
      }
      const mem = this.ejected.get(rq.machine) ?? new Map<string, MediaMemory>();
      mem.set(slot, { ejectedAt: Date.now(), image });
      this.ejected.set(rq.machine, mem);
    }
    if (method === 'POST' && path.endsWith('/UpdateService.SimpleUpdate') && q.simpleUpdateNoTask) return { status: 204 };
    if (method === 'PATCH' && MANAGER.test(path) && 'DateTime' in body && (q.dateTimeReadOnly || q.noDateTime)) {
      throw new RedfishError(400, {
        messageId: q.noDateTime ? 'PropertyUnknown' : 'PropertyNotWritable',
        args: ['DateTime'],
        property: 'DateTime',
      });
    }
    return undefined;
  }

  private beforeReset(rq: RfRequest, type: string): RfResult | undefined {
    const q = this.q;
    const m = rq.machine;
    if (q.resetTypes && type && !q.resetTypes.includes(type))
      throw new RedfishError(400, {
        messageId: 'ActionParameterValueNotInList',
        args: [type, 'ResetType', 'ComputerSystem.Reset'],
        property: 'ResetType',
      });
    if (q.idempotentPowerFails && ((type === 'ForceOff' && !m.poweredOn) || (type === 'On' && m.poweredOn)))
      throw new RedfishError(500, { messageId: 'InternalError' });
    if (type === 'On' && q.onConflicts) {
      const left = this.conflictsLeft.get(m) ?? q.onConflicts;
      if (left > 0) {
        this.conflictsLeft.set(m, left - 1);
        throw new RedfishError(409, {
          messageId: 'ActionParameterValueConflict',
          args: ['On', 'ResetType', 'the server is not ready to power on yet'],
        });
      }
      this.conflictsLeft.delete(m);
    }
    if ((type === 'ForceOff' && q.powerOffIgnored) || (type === 'On' && q.powerOnIgnored) || (type === 'ForceRestart' && q.restartIgnored))
      return { status: 204 };
    return undefined;
  }

  private beforeBoot(rq: RfRequest, boot: Obj): void {
    const q = this.q;
    const target = boot.BootSourceOverrideTarget;
    if (q.duringPostBusy && rq.machine.inPost)
      throw new RedfishError(400, {
        messageId: 'GeneralError',
        args: ['UnableToModifyDuringSystemPOST: the system is in POST; retry when POST completes'],
      });
    if (q.noBootMode && 'BootSourceOverrideMode' in boot)
      throw new RedfishError(400, {
        messageId: 'PropertyUnknown',
        args: ['BootSourceOverrideMode'],
        property: 'Boot/BootSourceOverrideMode',
      });
    if (q.fullBootRequest === 'reject') {
      for (const k of ['BootSourceOverrideTarget', 'BootSourceOverrideEnabled', 'BootSourceOverrideMode'])
        if (!(k in boot)) throw new RedfishError(400, { messageId: 'PropertyMissing', args: [k], property: `Boot/${k}` });
    }
    if (q.fullBootRequest === 'ignore' && target !== undefined && !('BootSourceOverrideEnabled' in boot)) {
      // accepted, and silently not honoured: the target stays what it was
      boot.BootSourceOverrideTarget = rq.machine.state.boot.overrideTarget;
      return;
    }
    if (q.bootTargets && typeof target === 'string') {
      if (!q.bootTargets.includes(target))
        throw new RedfishError(400, {
          messageId: 'PropertyValueNotInList',
          args: [target, 'BootSourceOverrideTarget'],
          property: 'Boot/BootSourceOverrideTarget',
        });
      // the vendor's name for the virtual CD
      if (target === 'UsbCd') boot.BootSourceOverrideTarget = 'Cd';
    }
    if (q.bootDeviceResetsMode && 'BootSourceOverrideTarget' in boot && !('BootSourceOverrideMode' in boot))
      boot.BootSourceOverrideMode = 'Legacy';
    if (q.bootModeReadOnly) delete boot.BootSourceOverrideMode;
    const enabled = boot.BootSourceOverrideEnabled;
    if (enabled === 'Continuous' && q.continuousRejected)
      throw new RedfishError(400, {
        messageId: 'PropertyValueNotInList',
        args: ['Continuous', 'BootSourceOverrideEnabled'],
        property: 'Boot/BootSourceOverrideEnabled',
      });
    if (enabled === 'Continuous' && q.continuousCoercedToOnce) boot.BootSourceOverrideEnabled = 'Once';
    if (enabled === 'Once' && q.onceCoercedToContinuous) boot.BootSourceOverrideEnabled = 'Continuous';
  }

  /** Edits what the core answered. */
  after(rq: RfRequest, r: RfResult): RfResult {
    if (this.idle) return r;
    const q = this.q;
    if (r.status === 202 && q.taskNoLocation && r.headers) {
      const { Location: _, ...rest } = r.headers;
      r = { ...r, headers: rest };
    }
    if ((rq.method !== 'GET' && rq.method !== 'HEAD' && rq.method !== 'PATCH') || !r.body || typeof r.body !== 'object') return r;
    const b = structuredClone(r.body) as Obj;
    const path = rq.path;
    const type = String(b['@odata.type'] ?? '')
      .replace(/^#/, '')
      .split('.')[0];
    if (path === V1) {
      if (q.vendor) b.Vendor = q.vendor;
      if (q.noSessionService) {
        delete b.SessionService;
        if (b.Links && typeof b.Links === 'object') delete (b.Links as Obj).Sessions;
      }
    }
    if (type === 'ComputerSystem') this.afterSystem(b);
    if (type === 'Manager') {
      if (q.managerModel) b.Model = q.managerModel;
      if (q.managerFirmware) b.FirmwareVersion = q.managerFirmware;
      if (q.noDateTime) {
        delete b.DateTime;
        delete b.DateTimeLocalOffset;
      }
      if (q.noVirtualMedia) delete b.VirtualMedia;
    }
    if (type === 'VirtualMedia') this.afterMedia(rq, b);
    if (type === 'VirtualMediaCollection' && q.noUsbSlot && Array.isArray(b.Members)) {
      b.Members = (b.Members as Obj[]).filter((x) => !String(x['@odata.id']).endsWith('/Floppy'));
      b['Members@odata.count'] = (b.Members as Obj[]).length;
    }
    if (type === 'VolumeCollection' && q.noOperationApplyTimeSupport) delete b['@Redfish.OperationApplyTimeSupport'];
    for (const p of q.dropProperties?.[type] ?? []) deletePath(b, p);
    if (q.copyrightAnnotation && b['@odata.id']) b['@Redfish.Copyright'] = 'Copyright 2026 Emulated Vendor';
    return { ...r, body: b };
  }

  private afterSystem(b: Obj): void {
    const q = this.q;
    if (q.manufacturer) b.Manufacturer = q.manufacturer;
    const boot = b.Boot as Obj | undefined;
    if (boot) {
      if (q.bootTargets) {
        boot['BootSourceOverrideTarget@Redfish.AllowableValues'] = q.bootTargets;
        if (boot.BootSourceOverrideTarget === 'Cd' && q.bootTargets.includes('UsbCd')) boot.BootSourceOverrideTarget = 'UsbCd';
      }
      if (q.noBootTargetAllowableValues) delete boot['BootSourceOverrideTarget@Redfish.AllowableValues'];
      if (q.noBootMode) {
        delete boot.BootSourceOverrideMode;
        delete boot['BootSourceOverrideMode@Redfish.AllowableValues'];
      }
      if (q.continuousRejected && Array.isArray(boot['BootSourceOverrideEnabled@Redfish.AllowableValues']))
        boot['BootSourceOverrideEnabled@Redfish.AllowableValues'] = (
          boot['BootSourceOverrideEnabled@Redfish.AllowableValues'] as string[]
        ).filter((v) => v !== 'Continuous');
    }
    const reset = (b.Actions as Obj | undefined)?.['#ComputerSystem.Reset'] as Obj | undefined;
    if (reset && q.resetTypes) reset['ResetType@Redfish.AllowableValues'] = q.resetTypes;
    if (q.noVirtualMedia) delete b.VirtualMedia;
  }

  private afterMedia(rq: RfRequest, b: Obj): void {
    const q = this.q;
    const id = String(b.Id ?? MEDIA.exec(rq.path)?.[1] ?? '');
    if (q.cdMediaTypes && id === 'Cd') b.MediaTypes = q.cdMediaTypes;
    const last = this.ejected.get(rq.machine)?.get(id);
    if (q.staleInsertedMs !== undefined && last && b.Inserted === false && Date.now() - last.ejectedAt < q.staleInsertedMs) {
      b.Inserted = true;
      b.Image = last.image;
      b.ConnectedVia = 'URI';
    }
  }

  /** Error answers: the extended-error body, or plain text for a personality that has none. */
  errorBody(body: Obj): { body: unknown; contentType?: string } {
    if (!this.q.plainErrors) return { body };
    const e = (body.error ?? {}) as Obj;
    return { body: `Error: ${String(e.message ?? 'request failed')}\n`, contentType: 'text/plain; charset=utf-8' };
  }

  responseHeaders(h: Record<string, string>): Record<string, string> {
    if (this.q.noWwwAuthenticate && h['WWW-Authenticate']) {
      const { 'WWW-Authenticate': _, ...rest } = h;
      return rest;
    }
    return h;
  }
}

function deletePath(o: Obj, dotted: string): void {
  const parts = dotted.split('.');
  let cur: unknown = o;
  for (const p of parts.slice(0, -1)) {
    if (!cur || typeof cur !== 'object') return;
    cur = (cur as Obj)[p];
  }
  if (cur && typeof cur === 'object') delete (cur as Obj)[parts.at(-1) as string];
}
