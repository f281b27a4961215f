// The BareMetalHost reconciler: reads the host, its credentials Secret and its Ironic node,
// lets the state table pick the action, takes one step and writes status (upstream's
// baremetalhost_controller.go order: paused → status/hardware annotations → finalizer →
// credentials → delete/detach → register → state action).
import type { Logger } from 'pino';
import { cloneJson } from '../../lib/clone.js';
import type { BareMetalHost, BareMetalHostStatus, HardwareDetails } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from '../kube/client.js';
import type { ControllerSpec, ReconcileContext, Request, Result } from '../kube/controller.js';
import type { EventRecorder } from '../kube/events.js';
import { addFinalizer, isDeleting, removeFinalizer } from '../kube/finalizers.js';
import { patchObject } from '../kube/patch-helper.js';
import { semanticEqual } from '../kube/semantic.js';
import { type BmcCredentials, bmcAccess } from './bmc-access.js';
import { getOrNull, nowIso } from './companion.js';
import { buildConfigDrive } from './config-data.js';
import { DATA_IMAGE, type DataImage } from './dataimage-controller.js';
import { BmoError } from './errors.js';
import { computeConditions } from './host-conditions.js';
import { ACTIONS, type Guard, type HostState, MAX_DELETE_FAILURES, nextState, ON_DELETE } from './host-state-machine.js';
import { HFC, type HostFirmwareComponents, pendingUpdates } from './hostfirmwarecomponents-controller.js';
import { HFS, type HostFirmwareSettings, pendingSettings } from './hostfirmwaresettings-controller.js';
import { IronicHttpError } from './ironic-client.js';
import { PPI, type PreprovisioningImage } from './preprovisioningimage-controller.js';
import type { AgentImage, IronicNode, IronicProvisioner, ProvResult } from './provisioner.js';

const HUP = { apiVersion: 'metal3.io/v1alpha1', kind: 'HostUpdatePolicy' };
/** on the host's PreprovisioningImage, so it is not deleted while the host may still boot it */
export const PPI_HOST_FINALIZER = 'baremetalhost.metal3.io/preprovisioningImage';
/** how long a host waits for its PreprovisioningImage before it reports that as its error */
const PPI_WAIT_MS = 5 * 60_000;
/** upstream's provisionerNotReadyRetryDelay: the longest a host waits to try Ironic again */
export const PROVISIONER_NOT_READY_RETRY_MS = 30_000;

export const BMH = { apiVersion: 'metal3.io/v1alpha1', kind: 'BareMetalHost' };
export const FINALIZER = 'baremetalhost.metal3.io';
export const A = {
  paused: 'baremetalhost.metal3.io/paused',
  detached: 'baremetalhost.metal3.io/detached',
  status: 'baremetalhost.metal3.io/status',
  reboot: 'reboot.metal3.io',
  inspect: 'inspect.metal3.io',
  hardwareDetails: 'inspect.metal3.io/hardwaredetails',
} as const;

type ErrorType = NonNullable<BareMetalHostStatus['errorType']>;

export interface HostControllerOptions {
  provisioner: IronicProvisioner;
  /** upstream: 2^min(errorCount,9) minutes × (1 − rand·0.5); the base is the minute */
  errorBackoffBaseMs?: number;
  /** requeue of hosts in a steady state (upstream: 60 s) */
  steadyStateMs?: number;
  /** failed provisionings of one image before the host stops retrying it (upstream's --max-provisioning-retries); 0: no limit */
  maxProvisioningRetries?: number;
  maxConcurrentReconciles?: number;
  random?: () => number;
  /** upstream's --build-preprov-image: the agent image comes from the host's PreprovisioningImage */
  buildPreprovImage?: boolean;
}

interface Info {
  host: BareMetalHost;
  log: Logger;
  client: KubeClient;
  recorder: EventRecorder;
  creds?: BmcCredentials;
  credsChanged: boolean;
  node: IronicNode | null;
  /** the host's HostFirmwareSettings, read in the states that may apply them */
  hfs: HostFirmwareSettings | null;
  hfc: HostFirmwareComponents | null;
  events: Array<[type: 'Normal' | 'Warning', reason: string, message: string]>;
}

type Outcome =
  | { kind: 'complete' }
  | { kind: 'continue'; delayMs?: number }
  | { kind: 'failed'; errorType: ErrorType; message: string }
  | { kind: 'delayed' };

const sameJson = (a: unknown, b: unknown) => semanticEqual(a ?? null, b ?? null);

export function hostController(o: HostControllerOptions): ControllerSpec {
  const prov = o.provisioner;
  const random = o.random ?? Math.random;
  const backoff = (count: number) => Math.round(2 ** Math.min(count, 9) * (o.errorBackoffBaseMs ?? 60_000) * (1 - random() * 0.5));
  const steady = o.steadyStateMs ?? 60_000;
  const maxRetries = o.maxProvisioningRetries ?? 5;
  /**
   * When a failed provisioning may be retried, per host. Kept in memory, as controller-runtime
   * keeps a requeue: a restarted controller retries at once (errorCount, hence the next backoff,
   * survives in status). A spec or credentials change since the failure retries at once too.
   */
  const retryAt = new Map<string, { at: number; generation: number; credentials: string }>();
  /** when a failed undeploy or cleaning, once shown, is started over (per host; in memory like retryAt) */
  const deprovisionRetryAt = new Map<string, number>();
  const hostKey = (h: BareMetalHost) => `${h.metadata.namespace}/${h.metadata.name}`;
  const credentialsVersion = (h: BareMetalHost) => String(h.status?.triedCredentials?.credentialsVersion ?? '');
  /**
   * ms until this attempt's failed provisioning may be retried (≤ 0: now); null when this attempt
   * has not failed (an error carried over from the previous attempt does not count)
   */
  const retryWait = (h: BareMetalHost): number | null => {
    const due = retryAt.get(hostKey(h));
    if (!due) return null;
    return due.generation === h.metadata.generation && due.credentials === credentialsVersion(h) ? due.at - Date.now() : 0;
  };
  const retryLimitReached = (h: BareMetalHost) =>
    maxRetries > 0 && (h.status?.provisioningFailCount ?? 0) >= maxRetries && sameJson(h.status?.lastAttemptedImage, h.spec.image);

  const st = (h: BareMetalHost): BareMetalHostStatus => {
    h.status ??= {};
    return h.status;
  };
  const state = (h: BareMetalHost) => (h.status?.provisioning?.state ?? '') as HostState;
  const setState = (i: Info, s: HostState) => {
    i.log.info({ from: state(i.host), to: s }, 'changing provisioning state');
    const status = st(i.host);
    status.provisioning = { ...(status.provisioning ?? { ID: '' }), state: s };
  };
  /** The host's error goes; its errorCount too, unless a retry is under way (a next failure then waits longer). */
  const clearError = (h: BareMetalHost, keepCount = false) => {
    const s = st(h);
    if (s.errorType || s.operationalStatus === 'error') {
      s.errorType = '';
      s.errorMessage = '';
      s.operationalStatus = 'OK';
    }
    if (!keepCount) s.errorCount = 0;
  };
  const recordFailure = (i: Info, errorType: ErrorType, message: string) => {
    const s = st(i.host);
    s.operationalStatus = 'error';
    s.errorType = errorType;
    s.errorMessage = message;
    s.errorCount = (s.errorCount ?? 0) + 1;
  };
  const history = (h: BareMetalHost, op: 'register' | 'inspect' | 'provision' | 'deprovision', edge: 'start' | 'end') => {
    const s = st(h);
    s.operationHistory ??= {};
    const m = { ...(s.operationHistory[op] ?? {}) };
    if (edge === 'start') {
      m.start = nowIso();
      m.end = null;
    } else m.end = nowIso();
    s.operationHistory[op] = m;
  };

  function guards(i: Info): (g: Guard) => boolean {
    const h = i.host;
    const s = h.status ?? {};
    const inspectAnn = h.metadata.annotations?.[A.inspect];
    return (g) => {
      switch (g) {
        case 'always':
          return true;
        case 'hasBMCDetails':
          return Boolean(h.spec.bmc?.address && h.spec.bmc.credentialsName);
        case 'externallyProvisioned':
          return Boolean(h.spec.externallyProvisioned);
        case 'notExternallyProvisioned':
          return !h.spec.externallyProvisioned;
        case 'inspectionDisabled':
          return inspectionDisabled(h);
        case 'inspectRequested':
          return inspectAnn !== undefined && inspectAnn !== 'disabled';
        case 'prepareNeeded':
          return (
            !sameJson(h.spec.raid, s.provisioning?.raid) ||
            !sameJson(h.spec.rootDeviceHints, s.provisioning?.rootDeviceHints) ||
            (h.spec.bootMode ?? 'UEFI') !== (s.provisioning?.bootMode ?? h.spec.bootMode ?? 'UEFI') ||
            Object.keys(pendingSettings(i.hfs)).length > 0 ||
            pendingUpdates(i.hfc).length > 0
          );
        case 'provisionRequested':
          return Boolean(h.spec.online && (h.spec.image?.url || h.spec.customDeploy?.method) && !retryLimitReached(h));
        case 'imageChanged': {
          const want = h.spec.image?.url ? h.spec.image : undefined;
          const have = state(h) === 'provisioning' ? s.lastAttemptedImage : s.provisioning?.image;
          if (!want?.url && !h.spec.customDeploy?.method) return true;
          if (state(h) === 'provisioning' && !have?.url) return false;
          return (
            (want?.url ?? '') !== (have?.url ?? '') ||
            !sameJson(h.spec.customDeploy, s.provisioning?.customDeploy ?? (state(h) === 'provisioning' ? h.spec.customDeploy : undefined))
          );
        }
        case 'retryDue':
          return s.errorType === 'provisioning error' && (retryWait(h) ?? 1) <= 0;
        case 'deleting':
          return isDeleting(h);
      }
    };
  }

  const fromProv = (r: ProvResult, errorType: ErrorType): Outcome =>
    r.kind === 'done'
      ? { kind: 'complete' }
      : r.kind === 'wait'
        ? { kind: 'continue', delayMs: r.delayMs }
        : { kind: 'failed', errorType, message: r.message };

  /** Upstream's gate on starting inspection, provisioning or deprovisioning; virtual-media hosts are exempt. */
  async function hasCapacity(h: BareMetalHost): Promise<boolean> {
    let exempt = false;
    try {
      exempt = bmcAccess(h.spec.bmc?.address ?? '').isoPreprovisioning;
    } catch {
      // an address that does not parse never got this far; count it
    }
    return exempt || prov.hasCapacity();
  }

  async function refreshNode(i: Info): Promise<IronicNode | null> {
    i.node = await prov.findNode(i.host);
    return i.node;
  }

  const actions: Record<string, (i: Info) => Promise<Outcome>> = {
    none: async () => ({ kind: 'continue' }),

    // ensureRegistered already ran; the host now gets its HostFirmwareSettings (as upstream)
    async register(i) {
      await ensureFirmwareObjects(i);
      return { kind: 'complete' };
    },

    async inspect(i) {
      const h = i.host;
      if (inspectionDisabled(h)) return { kind: 'complete' };
      const since = h.status?.operationHistory?.inspect?.start;
      if (!since || h.status?.operationHistory?.inspect?.end) {
        if (!(await hasCapacity(h))) return { kind: 'delayed' };
        history(h, 'inspect', 'start');
        i.events.push(['Normal', 'InspectionStarted', 'Hardware inspection started']);
        return { kind: 'continue', delayMs: 0 };
      }
      const node = i.node ?? (await refreshNode(i));
      if (!node) return { kind: 'continue' };
      const r = await prov.inspect(node, new Date(since), h.status?.errorType === 'inspection error');
      if (r.restarted && r.result.kind === 'wait') {
        // tried again after the backoff: the error goes, as upstream clears it when it restarts an inspection
        clearError(h, true);
        i.events.push(['Normal', 'InspectionStarted', 'Hardware inspection started again after a failure']);
      }
      if (r.result.kind === 'done' && r.details) {
        await saveHardwareData(i, r.details);
        st(h).hardware = r.details;
        history(h, 'inspect', 'end');
        i.events.push(['Normal', 'InspectionComplete', 'Hardware inspection completed']);
      }
      return fromProv(r.result, 'inspection error');
    },

    async prepare(i) {
      const h = i.host;
      const node = i.node ?? (await refreshNode(i));
      if (!node) return { kind: 'continue' };
      const s = st(h);
      const changed = !sameJson(h.spec.raid, s.provisioning?.raid);
      const updates = pendingUpdates(i.hfc);
      const r = await prov.prepare(h, node, changed, pendingSettings(i.hfs), updates);
      if (r.started && updates.length && i.hfc) {
        // recorded when the flash starts (as upstream): a later prepare must not flash again
        const hfc = i.hfc;
        await patchObject(i.client, hfc, { ...hfc, status: { ...(hfc.status ?? {}), updates: hfc.spec?.updates ?? [] } });
      }
      if (r.started || (r.result.kind === 'done' && changed)) {
        // recorded when cleaning starts, so a crash after this line does not start it twice
        s.provisioning = { ...(s.provisioning ?? { ID: node.uuid }), raid: h.spec.raid };
      }
      if (r.result.kind === 'done') {
        s.provisioning = {
          ...(s.provisioning ?? { ID: node.uuid }),
          raid: h.spec.raid,
          rootDeviceHints: h.spec.rootDeviceHints,
          bootMode: h.spec.bootMode ?? 'UEFI',
        };
      }
      return fromProv(r.result, 'preparation error');
    },

    async steady(i) {
      const h = i.host;
      const node = i.node ?? (await refreshNode(i));
      if (!node) return { kind: 'continue' };
      if (state(h) === 'available' && h.spec.online && retryLimitReached(h)) {
        // the host stays available and says why it does not provision (upstream's message)
        const n = h.status?.provisioningFailCount ?? 0;
        const msg = `provisioning failed ${n} times, retry limit (${maxRetries}) reached; change image or reset provisioningFailCount to retry`;
        if (h.status?.errorMessage !== msg) {
          recordFailure(i, 'provisioning error', msg);
          i.events.push(['Warning', 'ProvisioningError', msg]);
        }
      }
      if (state(h) === 'provisioned' || state(h) === 'externally provisioned') {
        const r = await prov.adopt(node);
        if (r.kind !== 'done') return fromProv(r, 'provisioned registration error');
        if (state(h) === 'externally provisioned' && !sameJson(st(h).provisioning?.image, h.spec.image)) {
          st(h).provisioning = { ...(st(h).provisioning ?? { ID: node.uuid }), image: h.spec.image };
        }
      }
      return managePower(i, node);
    },

    async provision(i) {
      const h = i.host;
      const s = st(h);
      if (!s.operationHistory?.provision?.start || s.operationHistory.provision.end) {
        if (!(await hasCapacity(h))) return { kind: 'delayed' };
        history(h, 'provision', 'start');
        s.lastAttemptedImage = h.spec.image;
        i.events.push([
          'Normal',
          'ProvisioningStarted',
          `Image provisioning started for ${h.spec.image?.url ?? h.spec.customDeploy?.method}`,
        ]);
        return { kind: 'continue', delayMs: 0 };
      }
      const node = i.node ?? (await refreshNode(i));
      if (!node) return { kind: 'continue' };
      let drive: Record<string, unknown>;
      try {
        drive = await buildConfigDrive(i.client, h);
      } catch (e) {
        if (e instanceof BmoError) return { kind: 'failed', errorType: 'provisioning error', message: e.message };
        throw e;
      }
      const r = await prov.provision(h, node, drive, sameJson(s.lastAttemptedImage, h.spec.image));
      if (r.kind === 'done') {
        s.provisioning = { ...(s.provisioning ?? { ID: node.uuid }), image: h.spec.image, customDeploy: h.spec.customDeploy };
        s.provisioningFailCount = 0;
        s.poweredOn = node.power_state === 'power on';
        history(h, 'provision', 'end');
        i.events.push([
          'Normal',
          'ProvisioningComplete',
          `Image provisioning completed for ${h.spec.image?.url ?? h.spec.customDeploy?.method}`,
        ]);
      } else if (r.kind === 'failed' && h.spec.image?.url) {
        // upstream's wording: which image failed, then Ironic's last_error
        const checksum = h.spec.image.checksum ? `, checksum: ${h.spec.image.checksum}` : '';
        return {
          kind: 'failed',
          errorType: 'provisioning error',
          message: `Image provisioning failed (url: ${h.spec.image.url}${checksum}): ${r.message}`,
        };
      }
      return fromProv(r, 'provisioning error');
    },

    async deprovision(i) {
      const h = i.host;
      const s = st(h);
      if (isDeleting(h) && (s.errorCount ?? 0) > MAX_DELETE_FAILURES) return { kind: 'complete' };
      if (!s.operationHistory?.deprovision?.start || s.operationHistory.deprovision.end) {
        if (!(await hasCapacity(h))) return { kind: 'delayed' };
        history(h, 'deprovision', 'start');
        i.events.push(['Normal', 'DeprovisioningStarted', `Image deprovisioning started for ${s.provisioning?.image?.url ?? 'the host'}`]);
        return { kind: 'continue', delayMs: 0 };
      }
      const node = i.node ?? (await refreshNode(i));
      if (!node) return { kind: 'complete' };
      const failure = prov.deprovisionFailure(node);
      if (failure === null) deprovisionRetryAt.delete(hostKey(h));
      else {
        // shown first, for its backoff, then started over
        const due = deprovisionRetryAt.get(hostKey(h));
        if (due === undefined) return { kind: 'failed', errorType: 'provisioning error', message: failure };
        if (due > Date.now()) return { kind: 'continue', delayMs: due - Date.now() };
        deprovisionRetryAt.delete(hostKey(h));
      }
      const r = await prov.deprovision(h, node);
      if (r.kind === 'done') {
        s.provisioning = { ...(s.provisioning ?? { ID: node.uuid }), image: { url: '' }, customDeploy: undefined };
        // the next provisioning of this host starts afresh: an image tried before is not "changed" into
        // (unless this deprovisioning undoes a failure: the retry count belongs to that image)
        if (!(s.errorType === 'provisioning error' && (s.provisioningFailCount ?? 0) > 0)) delete s.lastAttemptedImage;
        history(h, 'deprovision', 'end');
        i.events.push(['Normal', 'DeprovisioningComplete', 'Image deprovisioning completed']);
      }
      return fromProv(r, 'provisioning error');
    },

    async powerOffForDelete(i) {
      if ((i.host.status?.errorCount ?? 0) > MAX_DELETE_FAILURES || !i.creds) return { kind: 'complete' };
      const node = i.node ?? (await refreshNode(i));
      if (!node || node.power_state === 'power off' || node.power_state === null) return { kind: 'complete' };
      return fromProv(await prov.setPower(node, false, (i.host.status?.errorCount ?? 0) > 0), 'power management error');
    },

    async delete(i) {
      const node = i.node ?? (await refreshNode(i).catch(() => null));
      const r = await prov.delete(node);
      return r.kind === 'failed' ? { kind: 'continue', delayMs: 10_000 } : fromProv(r, 'provisioning error');
    },
  };

  async function managePower(i: Info, node: IronicNode): Promise<Outcome> {
    const h = i.host;
    const s = st(h);
    const poweredOn = node.power_state === 'power on';
    if (s.poweredOn !== poweredOn) s.poweredOn = poweredOn;
    const provisioned = state(h) === 'provisioned' || state(h) === 'externally provisioned';
    const reboot = rebootAnnotations(h, !provisioned);
    if (reboot.suffixless && !poweredOn && node.target_power_state === null) {
      // the one-shot reboot is done once the host was seen off
      delete h.metadata.annotations?.[A.reboot];
      reboot.suffixless = false;
    }
    // a provisioned host that is off on its way back on may be serviced first (HostUpdatePolicy)
    if ((provisioned && !poweredOn && h.spec.online) || s.operationalStatus === 'servicing' || s.errorType === 'servicing error') {
      const serviced = await serviceIfNeeded(i, node);
      if (serviced) return serviced;
    }
    const want = Boolean(h.spec.online) && !reboot.suffixless && !reboot.held;
    if (want === poweredOn && node.target_power_state === null) return { kind: 'continue', delayMs: steady };
    if (want === poweredOn) return { kind: 'continue', delayMs: 3000 };
    if (!want && h.spec.disablePowerOff) return { kind: 'continue', delayMs: steady };
    if (want && provisioned) {
      // a DataImage goes into the virtual CD before the host powers on (upstream does it here too)
      const waiting = await attachDataImage(i, node);
      if (waiting) return waiting;
    }
    const hard = reboot.mode === 'hard' || (s.errorCount ?? 0) > 0;
    const r = await prov.setPower(node, want, hard);
    if (r.kind === 'wait') {
      const msg = want ? 'Host powered on' : 'Host powered off';
      if (!i.events.some((e) => e[1] === (want ? 'PowerOn' : 'PowerOff'))) i.events.push(['Normal', want ? 'PowerOn' : 'PowerOff', msg]);
    }
    return fromProv(r, 'power management error');
  }

  /**
   * Servicing (upstream's doServiceIfNeeded): with a HostUpdatePolicy of the host's name saying
   * `onReboot`, pending HostFirmwareSettings and HostFirmwareComponents changes are applied through
   * Ironic's servicing while the host is off; the host shows operationalStatus `servicing` (and
   * `servicing error` on failure, retried with backoff) and powers on once it is done.
   */
  async function serviceIfNeeded(i: Info, node: IronicNode): Promise<Outcome | undefined> {
    const h = i.host;
    const s = st(h);
    const hup = await getOrNull<KubeObject & { spec?: { firmwareSettings?: string; firmwareUpdates?: string } }>(
      i.client,
      HUP,
      h.metadata.namespace,
      h.metadata.name,
    );
    if (hup && !(hup.metadata?.ownerReferences ?? []).some((r) => r.uid === h.metadata.uid)) {
      // the policy belongs to its host (upstream's acquireHostUpdatePolicy)
      const owned = cloneJson(hup);
      owned.metadata = {
        ...owned.metadata,
        ownerReferences: [
          ...(hup.metadata?.ownerReferences ?? []),
          { apiVersion: BMH.apiVersion, kind: BMH.kind, name: h.metadata.name, uid: String(h.metadata.uid) },
        ],
      };
      await patchObject(i.client, hup, owned);
    }
    let bios: Record<string, string> = {};
    let updates: ReturnType<typeof pendingUpdates> = [];
    let hfc: HostFirmwareComponents | null = null;
    let specified = false;
    if (hup?.spec?.firmwareSettings === 'onReboot') {
      const hfs = await getOrNull<HostFirmwareSettings>(i.client, HFS, h.metadata.namespace, h.metadata.name);
      bios = pendingSettings(hfs);
      specified = Object.keys(hfs?.spec?.settings ?? {}).length > 0;
    }
    if (hup?.spec?.firmwareUpdates === 'onReboot') {
      hfc = await getOrNull<HostFirmwareComponents>(i.client, HFC, h.metadata.namespace, h.metadata.name);
      updates = pendingUpdates(hfc);
      specified ||= (hfc?.spec?.updates?.length ?? 0) > 0;
    }
    const changes = Object.keys(bios).length > 0 || updates.length > 0;
    if (!changes && s.operationalStatus !== 'servicing' && s.errorType !== 'servicing error') return undefined;
    if (s.operationalStatus !== 'servicing' && s.errorType !== 'servicing error') {
      // shown before Ironic is asked, as upstream yields here first
      s.operationalStatus = 'servicing';
      i.events.push(['Normal', 'ServicingStarted', 'Applying firmware changes while the host is off']);
      return { kind: 'continue', delayMs: 1 };
    }
    const r = await prov.service(node, {
      bios,
      firmware: updates,
      changes,
      specified,
      restartOnFailure: s.errorType === 'servicing error',
    });
    if (r.result.kind === 'failed') {
      if (s.provisioning) delete s.provisioning.firmware;
      return { kind: 'failed', errorType: 'servicing error', message: r.result.message };
    }
    if (s.errorType) {
      s.errorType = '';
      s.errorMessage = '';
    }
    s.operationalStatus = 'servicing';
    if (r.started && updates.length && hfc) {
      // recorded when the flash starts, as in preparing: it must not start twice
      await patchObject(i.client, hfc, { ...hfc, status: { ...(hfc.status ?? {}), updates: hfc.spec?.updates ?? [] } });
    }
    if (r.result.kind === 'wait') return { kind: 'continue', delayMs: r.result.delayMs };
    s.operationalStatus = 'OK';
    s.errorCount = 0;
    i.events.push(['Normal', 'ServicingComplete', 'Firmware changes applied']);
    return { kind: 'continue', delayMs: 1000 };
  }

  async function attachDataImage(i: Info, node: IronicNode): Promise<Outcome | undefined> {
    const h = i.host;
    const di = await getOrNull<DataImage>(i.client, DATA_IMAGE, h.metadata.namespace, h.metadata.name);
    if (!di?.spec?.url || isDeleting(di)) return undefined;
    const attached = await prov.dataImageAttached(node.uuid);
    if (attached === di.spec.url) return undefined;
    if (attached !== null) await prov.detachDataImage(node.uuid);
    await prov.attachDataImage(node.uuid, di.spec.url);
    i.log.info({ url: di.spec.url }, 'attached DataImage');
    return { kind: 'continue', delayMs: 1000 };
  }

  async function saveHardwareData(i: Info, hw: HardwareDetails): Promise<void> {
    const h = i.host;
    const ref = { apiVersion: 'metal3.io/v1alpha1', kind: 'HardwareData', namespace: h.metadata.namespace, name: h.metadata.name };
    const obj = {
      ...ref,
      metadata: {
        name: h.metadata.name,
        namespace: h.metadata.namespace,
        ownerReferences: [
          { apiVersion: BMH.apiVersion, kind: BMH.kind, name: h.metadata.name, uid: String(h.metadata.uid), controller: true },
        ],
      },
      spec: { hardware: hw },
    };
    try {
      await i.client.delete(ref);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    try {
      await i.client.create(obj as KubeObject);
    } catch (e) {
      if (!isConflict(e)) throw e;
    }
  }

  /** HostFirmwareSettings, and HostFirmwareComponents when the BMC reports firmware, owned by the host. */
  async function ensureFirmwareObjects(i: Info): Promise<void> {
    const h = i.host;
    const meta = {
      name: h.metadata.name,
      namespace: h.metadata.namespace,
      ownerReferences: [{ apiVersion: BMH.apiVersion, kind: BMH.kind, name: h.metadata.name, uid: String(h.metadata.uid) }],
    };
    const create = async (o: KubeObject) => {
      try {
        await i.client.create(o);
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    };
    await create({ ...HFS, metadata: meta, spec: { settings: {} } });
    const id = h.status?.provisioning?.ID;
    const components = id ? await prov.firmwareComponents(id).catch(() => []) : [];
    if (components.length) await create({ ...HFC, metadata: meta, spec: { updates: [] } });
  }

  async function loadCredentials(i: Info): Promise<void> {
    const h = i.host;
    if (!h.spec.bmc?.address) throw new BmoError('EmptyBMCAddress', "Missing BMC connection detail 'Address'");
    if (!h.spec.bmc.credentialsName) throw new BmoError('EmptyBMCSecret', 'The BMC secret reference is empty');
    let secret: KubeObject & { data?: Record<string, string> };
    try {
      secret = await i.client.get('v1', 'Secret', h.metadata.namespace, h.spec.bmc.credentialsName);
    } catch (e) {
      if (isNotFound(e))
        throw new BmoError('BMCSecretMissing', `The BMC secret ${h.metadata.namespace}/${h.spec.bmc.credentialsName} does not exist`);
      throw e;
    }
    const dec = (k: string) =>
      Buffer.from(secret.data?.[k] ?? '', 'base64')
        .toString('utf8')
        .trim();
    const creds = { username: dec('username'), password: dec('password') };
    if (!creds.username)
      throw new BmoError(
        'InvalidCredentials',
        "Validation error with BMC credentials: Missing BMC connection detail 'username' in credentials",
      );
    if (!creds.password)
      throw new BmoError(
        'InvalidCredentials',
        "Validation error with BMC credentials: Missing BMC connection details 'password' in credentials",
      );
    bmcAccess(h.spec.bmc.address); // an unknown scheme is a registration error, not a retry
    const version = String(secret.metadata?.resourceVersion ?? '');
    const s = st(h);
    const ref = { name: h.spec.bmc.credentialsName, namespace: h.metadata.namespace };
    i.credsChanged = s.triedCredentials?.credentialsVersion !== version || s.triedCredentials?.credentials?.name !== ref.name;
    if (i.credsChanged) s.triedCredentials = { credentials: ref, credentialsVersion: version };
    i.creds = creds;
  }

  /**
   * The host's PreprovisioningImage, created or updated to what the host needs (upstream's
   * getPreprovImage): null where the state needs no agent image, 'waiting' until the image is
   * ready for this spec, an error when it cannot be built.
   */
  async function preprovisioningImage(i: Info): Promise<AgentImage | null | 'waiting' | { error: string }> {
    const h = i.host;
    const s = st(h);
    const cur = state(h);
    if (['registering', 'deleting', 'powering off before delete', ''].includes(cur)) return null;
    if ((cur === 'provisioned' || cur === 'externally provisioned') && s.operationalStatus !== 'servicing') return null;
    if (cur === 'deprovisioning' && h.spec.automatedCleaningMode === 'disabled') return null;
    if (cur === 'inspecting' && h.spec.inspectionMode === 'fast') return null;
    const formats = prov.preprovisioningImageFormats(bmcAccess(h.spec.bmc?.address ?? ''));
    if (!formats.length) return { error: 'no acceptable formats for preprovisioning image' };
    const spec = {
      ...(h.spec.preprovisioningNetworkDataName ? { networkDataName: h.spec.preprovisioningNetworkDataName } : {}),
      architecture: h.spec.architecture || h.status?.hardware?.cpu?.arch || '',
      acceptFormats: formats,
    };
    const found = await getOrNull<PreprovisioningImage>(i.client, PPI, h.metadata.namespace, h.metadata.name);
    if (!found) {
      await i.client.create({
        ...PPI,
        metadata: {
          name: h.metadata.name,
          namespace: h.metadata.namespace,
          ...(h.metadata.labels ? { labels: h.metadata.labels } : {}),
          finalizers: [PPI_HOST_FINALIZER],
          ownerReferences: [
            {
              apiVersion: BMH.apiVersion,
              kind: BMH.kind,
              name: h.metadata.name,
              uid: String(h.metadata.uid),
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        spec,
      } as KubeObject);
      return 'waiting';
    }
    const img = found;
    const usable = () =>
      img.status?.imageUrl && img.status.format
        ? {
            format: img.status.format,
            imageUrl: img.status.imageUrl,
            kernelUrl: img.status.kernelUrl,
            extraKernelParams: img.status.extraKernelParams,
          }
        : null;
    if (isDeleting(img)) return img.metadata.finalizers?.includes(PPI_HOST_FINALIZER) ? (usable() ?? 'waiting') : 'waiting';
    const want = cloneJson(img);
    addFinalizer(want, PPI_HOST_FINALIZER);
    // the host's labels are copied onto its image (an empty map is no labels: the server drops it)
    if (Object.keys(h.metadata.labels ?? {}).length) want.metadata.labels = { ...(img.metadata.labels ?? {}), ...h.metadata.labels };
    want.spec = spec;
    if (
      !sameJson(want.metadata.finalizers, img.metadata.finalizers) ||
      !sameJson(want.metadata.labels, img.metadata.labels) ||
      !sameJson(want.spec, img.spec)
    ) {
      await patchObject(i.client, img, want);
      return 'waiting';
    }
    // available: built for this architecture, in a format the host takes, with the current network data
    const st_ = img.status ?? {};
    const error = st_.conditions?.find((c) => c.type === 'Error' && c.status === 'True');
    if (error) return { error: error.message };
    // a host never waits silently: an image nobody builds (no image provider running, or one
    // that never gets there) becomes the host's error after a while
    const ready = st_.conditions?.find((c) => c.type === 'Ready');
    const since = Date.parse(ready?.lastTransitionTime ?? String(img.metadata.creationTimestamp ?? '')) || Date.now();
    const waiting = () =>
      Date.now() - since < PPI_WAIT_MS
        ? ('waiting' as const)
        : {
            error: ready
              ? `PreprovisioningImage ${h.metadata.namespace}/${h.metadata.name} not ready for ${PPI_WAIT_MS / 60_000} minutes: ${ready.message || ready.reason}`
              : `PreprovisioningImage ${h.metadata.namespace}/${h.metadata.name} has no status after ${PPI_WAIT_MS / 60_000} minutes: no image provider answers it (the controllers need --deploy-kernel-url and --deploy-ramdisk-url, or --deploy-iso-url)`,
          };
    if ((st_.architecture ?? '') !== spec.architecture || !st_.format || !formats.includes(st_.format)) return waiting();
    if ((st_.networkData?.name ?? '') !== (spec.networkDataName ?? '')) return waiting();
    if (spec.networkDataName) {
      const secret = await getOrNull<KubeObject>(
        i.client,
        { apiVersion: 'v1', kind: 'Secret' },
        h.metadata.namespace,
        spec.networkDataName,
      );
      if (!secret || st_.networkData?.version !== secret.metadata?.resourceVersion) return waiting();
    }
    return usable() ?? waiting();
  }

  /** Register (or re-register) with Ironic; undefined when registration is done. */
  async function ensureRegistered(i: Info): Promise<Outcome | undefined> {
    const h = i.host;
    const s = st(h);
    const first = !s.goodCredentials?.credentialsVersion;
    if (first && !s.operationHistory?.register?.start) history(h, 'register', 'start');
    let image: AgentImage | undefined;
    if (o.buildPreprovImage) {
      const got = await preprovisioningImage(i);
      if (got === 'waiting') return { kind: 'continue', delayMs: 10_000 };
      if (got && 'error' in got) return { kind: 'failed', errorType: 'registration error', message: got.error };
      image = got ?? undefined;
    }
    const r = await prov.register(h, i.creds as BmcCredentials, i.credsChanged, image);
    if (r.node) i.node = r.node;
    if (r.node && s.provisioning?.ID !== r.node.uuid) s.provisioning = { ...(s.provisioning ?? { ID: '' }), ID: r.node.uuid };
    if (r.result.kind === 'failed') {
      const provisioned = ['provisioned', 'externally provisioned', 'deprovisioning'].includes(state(h));
      return {
        kind: 'failed',
        errorType: provisioned ? 'provisioned registration error' : 'registration error',
        message: r.result.message,
      };
    }
    if (r.result.kind === 'wait') return { kind: 'continue', delayMs: r.result.delayMs };
    if (!sameJson(s.goodCredentials, s.triedCredentials)) {
      s.goodCredentials = s.triedCredentials;
      i.events.push(['Normal', 'Registered', 'Registered new host']);
      if (!s.operationHistory?.register?.end) history(h, 'register', 'end');
    }
    if (s.errorType === 'registration error' || s.errorType === 'provisioned registration error') clearError(h);
    return undefined;
  }

  async function reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined> {
    const found = await getOrNull<BareMetalHost>(ctx.client, BMH, req.namespace, req.name);
    if (!found) {
      retryAt.delete(`${req.namespace}/${req.name}`);
      deprovisionRetryAt.delete(`${req.namespace}/${req.name}`);
      return undefined;
    }
    const host = found;
    const original = cloneJson(host);
    host.metadata.annotations ??= {};
    const ann = host.metadata.annotations;
    if (A.paused in ann) return undefined;
    const i: Info = {
      host,
      log: ctx.log,
      client: ctx.client,
      recorder: ctx.recorder,
      credsChanged: false,
      node: null,
      hfs: null,
      hfc: null,
      events: [],
    };

    const save = async (res: Result | undefined): Promise<Result | undefined> => {
      if (host.status) host.status.conditions = computeConditions(host, i.node);
      if (!sameJson(original.status, host.status)) st(host).lastUpdated = nowIso();
      if (!sameJson(original, host)) {
        try {
          await patchObject(ctx.client, original, host, { fieldManager: 'metal3-baremetal-controller' });
        } catch (e) {
          if (isConflict(e)) return { requeue: true };
          throw e;
        }
      }
      for (const [type, reason, message] of i.events) await ctx.recorder.event(host, type, reason, message);
      return res;
    };

    // a backed-up status (clusterctl move) restores onto a fresh object
    if (ann[A.status] !== undefined) {
      if (!host.status?.lastUpdated) {
        try {
          const restored = JSON.parse(ann[A.status]) as BareMetalHostStatus;
          // the schema requires provisioning.ID; a backup taken before registration has none
          if (restored.provisioning && restored.provisioning.ID === undefined) restored.provisioning.ID = '';
          host.status = restored;
        } catch {
          i.events.push(['Warning', 'InvalidAnnotationValue', `invalid ${A.status} annotation`]);
        }
      }
      delete ann[A.status];
      return save({ requeueAfterMs: 1 });
    }
    if (ann[A.hardwareDetails] !== undefined) {
      if (!host.status?.hardware || inspectionDisabled(host)) {
        try {
          const hw = JSON.parse(ann[A.hardwareDetails]) as HardwareDetails;
          st(host).hardware = hw;
          await saveHardwareData(i, hw);
          i.events.push(['Normal', 'UpdateHardwareDetails', 'Set HardwareDetails from annotation']);
        } catch (e) {
          if (!(e instanceof SyntaxError)) throw e;
          i.events.push(['Warning', 'InvalidAnnotationValue', `invalid ${A.hardwareDetails} annotation: ${e.message}`]);
        }
      }
      delete ann[A.hardwareDetails];
      return save({ requeueAfterMs: 1 });
    }

    if (!isDeleting(host) && addFinalizer(host, FINALIZER)) return save({ requeueAfterMs: 1 });
    if (isDeleting(host) && !host.metadata.finalizers?.includes(FINALIZER)) return undefined;

    let cur = state(host);
    if (isDeleting(host)) {
      const to = A.detached in ann || host.status?.operationalStatus === 'detached' ? 'deleting' : ON_DELETE[cur];
      if (to !== cur) {
        setState(i, to);
        return save({ requeueAfterMs: 1 });
      }
    }

    // credentials (not needed to leave a host unmanaged, or to finish deleting one)
    if ((cur !== '' && cur !== 'unmanaged') || guards(i)('hasBMCDetails')) {
      try {
        await loadCredentials(i);
      } catch (e) {
        if (!(e instanceof BmoError)) throw e;
        if (cur !== 'deleting' && cur !== 'powering off before delete' && !(isDeleting(host) && cur === 'deprovisioning')) {
          if (host.status?.errorMessage !== e.message || host.status?.errorType !== 'registration error') {
            recordFailure(i, 'registration error', e.message);
            i.events.push(['Warning', 'BMCCredentialError', e.message]);
          }
          // a missing Secret may appear later; a malformed one changes only through an update we watch
          return save(e.reason === 'BMCSecretMissing' ? { requeueAfterMs: 10_000 } : undefined);
        }
      }
    }

    // unmanaged: a host with no BMC details is "discovered"
    if (cur === '' && !guards(i)('hasBMCDetails')) {
      setState(i, 'unmanaged');
      st(host).operationalStatus = 'discovered';
      i.events.push(['Normal', 'Discovered', 'Discovered host with unknown BMC details']);
      return save(undefined);
    }

    // detach: the node leaves Ironic, the host keeps its status
    const detach = parseDetached(ann[A.detached]);
    if (detach) {
      const allowed = ['provisioned', 'externally provisioned', 'available', 'ready'].includes(cur) || detach.force;
      if (host.status?.operationalStatus === 'detached') return save(undefined);
      if (allowed) {
        const node = await prov.findNode(host);
        const r = await prov.delete(node);
        if (r.kind === 'done') {
          st(host).operationalStatus = 'detached';
          st(host).errorType = '';
          st(host).errorMessage = '';
          return save(undefined);
        }
        if (r.kind === 'failed') recordFailure(i, 'detach error', r.message);
        return save({ requeueAfterMs: r.kind === 'wait' ? r.delayMs : 10_000 });
      }
    } else if (host.status?.operationalStatus === 'detached') {
      st(host).operationalStatus = 'OK';
      return save({ requeueAfterMs: 1 });
    }

    if (cur === 'available' || cur === 'ready' || cur === 'preparing') {
      i.hfs = await getOrNull<HostFirmwareSettings>(ctx.client, HFS, host.metadata.namespace, host.metadata.name);
      i.hfc = await getOrNull<HostFirmwareComponents>(ctx.client, HFC, host.metadata.namespace, host.metadata.name);
    }

    if (
      cur === 'available' &&
      (host.status?.provisioningFailCount ?? 0) > 0 &&
      !sameJson(host.spec.image, host.status?.lastAttemptedImage)
    ) {
      // a new image (or none) starts over: the failures counted were the old image's
      const s = st(host);
      s.provisioningFailCount = 0;
      delete s.lastAttemptedImage;
      if (s.errorType === 'provisioning error') clearError(host);
    }
    if (cur === 'provisioning' && host.status?.errorType === 'provisioning error' && !isDeleting(host)) {
      // a failed provisioning is shown for its backoff before the retry (retryDue) undoes it
      const wait = retryWait(host) ?? 0;
      if (wait > 0 && !guards(i)('imageChanged')) return save({ requeueAfterMs: wait });
    }

    // pre-action transitions (spec-driven)
    const before = nextState(cur, 'before', guards(i));
    if (before !== null && !(isDeleting(host) && before !== 'deleting')) {
      if (cur === 'available' && before === 'inspecting') delete ann[A.inspect];
      if (before === 'provisioning' || before === 'deprovisioning' || before === 'inspecting') {
        // a fresh operation: its history starts when the action first runs
        const op = before === 'provisioning' ? 'provision' : before === 'deprovisioning' ? 'deprovision' : 'inspect';
        const hist = st(host).operationHistory?.[op];
        if (hist) hist.end = hist.end ?? nowIso();
      }
      if (before === 'registering' && (host.status?.operationalStatus ?? 'discovered') === 'discovered') st(host).operationalStatus = 'OK';
      if (cur === 'provisioning' && before === 'deprovisioning' && host.status?.errorType === 'provisioning error') {
        st(host).provisioningFailCount = (host.status.provisioningFailCount ?? 0) + 1;
        retryAt.delete(hostKey(host));
      }
      setState(i, before);
      return save({ requeueAfterMs: 1 });
    }

    let outcome: Outcome | undefined;
    try {
      const skipRegister = cur === '' || cur === 'unmanaged' || cur === 'deleting' || (isDeleting(host) && !i.creds);
      if (!skipRegister && i.creds) outcome = await ensureRegistered(i);
      outcome ??= await actions[ACTIONS[cur]](i);
    } catch (e) {
      if (e instanceof IronicHttpError && (e.status === 0 || e.status >= 500)) {
        // Ironic is down, restarting or out of workers (503): retry with the queue's backoff,
        // without an error on the host — but never waiting longer than upstream's fixed retry for a
        // provisioner that is not ready (30 s); uncapped, a host refused for a few minutes under
        // load waited up to a quarter hour for its next try
        ctx.log.warn({ err: e.message }, 'provisioner not ready');
        await save(undefined);
        return { requeue: true, maxBackoffMs: PROVISIONER_NOT_READY_RETRY_MS };
      }
      if (e instanceof BmoError || e instanceof IronicHttpError) {
        outcome = { kind: 'failed', errorType: cur === 'registering' ? 'registration error' : errorTypeFor(cur), message: e.message };
      } else throw e;
    }

    switch (outcome.kind) {
      case 'complete': {
        const to = nextState(cur, 'complete', guards(i));
        if (cur === 'deleting') {
          // the PreprovisioningImage may go with its host now (garbage collected as the host's dependent)
          const ppi = await getOrNull<PreprovisioningImage>(ctx.client, PPI, host.metadata.namespace, host.metadata.name);
          if (ppi?.metadata.finalizers?.includes(PPI_HOST_FINALIZER)) {
            const released = cloneJson(ppi);
            removeFinalizer(released, PPI_HOST_FINALIZER);
            await patchObject(ctx.client, ppi, released);
          }
          removeFinalizer(host, FINALIZER);
          i.events.push(['Normal', 'Deleted', 'Host deleted from the provisioner']);
          return save(undefined);
        }
        // a deprovisioning that undoes a failed provisioning keeps its error until a retry succeeds
        const retrying =
          cur === 'deprovisioning' && host.status?.errorType === 'provisioning error' && (host.status.provisioningFailCount ?? 0) > 0;
        if (!retrying) clearError(host);
        if (to) {
          setState(i, to);
          cur = to;
        }
        return save({ requeueAfterMs: to ? 1 : steady });
      }
      case 'continue':
        if (host.status?.operationalStatus === 'delayed') st(host).operationalStatus = 'OK';
        return save({ requeueAfterMs: Math.max(1, outcome.delayMs ?? prov.o.pollMs) });
      case 'delayed':
        st(host).operationalStatus = 'delayed';
        return save({ requeueAfterMs: prov.o.pollMs });
      case 'failed': {
        const again = host.status?.errorMessage === outcome.message && host.status?.errorType === outcome.errorType;
        recordFailure(i, outcome.errorType, outcome.message);
        if (!again) i.events.push(['Warning', eventReasonFor(outcome.errorType), outcome.message]);
        const to = nextState(cur, 'failed', guards(i));
        if (to) setState(i, to);
        const delay = backoff(host.status?.errorCount ?? 1);
        if (cur === 'deprovisioning') deprovisionRetryAt.set(hostKey(host), Date.now() + delay);
        if (cur === 'provisioning' && outcome.errorType === 'provisioning error')
          retryAt.set(hostKey(host), {
            at: Date.now() + delay,
            generation: host.metadata.generation ?? 0,
            credentials: credentialsVersion(host),
          });
        return save({ requeueAfterMs: to ? 1 : delay });
      }
    }
  }

  return {
    name: 'baremetalhost',
    // upstream's source and Event names (reason-<random>)
    eventSource: { component: 'metal3-baremetal-controller', reportingController: 'metal3.io/baremetal-controller', nameByReason: true },
    for: BMH,
    maxConcurrentReconciles: o.maxConcurrentReconciles ?? 20,
    // upstream's updateEventHandler: a status-only write (ours) does not reconcile again; the
    // result's requeue does, so a failure's backoff holds
    updatePredicate: (a, b) =>
      a.metadata?.generation !== b.metadata?.generation ||
      a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp ||
      !semanticEqual(a.metadata?.finalizers ?? [], b.metadata?.finalizers ?? []) ||
      !semanticEqual(a.metadata?.annotations ?? {}, b.metadata?.annotations ?? {}),
    reconcile,
    // a Secret change reaches the hosts that use it (wired by the operator, which knows the cache);
    // a HostFirmwareSettings change reaches its host (same name)
    watches: [HFS, HFC, HUP].map((k) => ({
      ...k,
      map: (o: KubeObject) => [{ namespace: String(o.metadata?.namespace), name: String(o.metadata?.name) }],
    })),
  };
}

export function inspectionDisabled(h: BareMetalHost): boolean {
  return h.spec.inspectionMode === 'disabled' || h.metadata.annotations?.[A.inspect] === 'disabled';
}

function parseDetached(v: string | undefined): { force: boolean; deleteAction: string } | null {
  if (v === undefined) return null;
  try {
    const o = v ? (JSON.parse(v) as { force?: boolean; deleteAction?: string }) : {};
    return { force: Boolean(o.force), deleteAction: o.deleteAction ?? 'delete' };
  } catch {
    return { force: false, deleteAction: 'delete' };
  }
}

/** Reboot annotations: the suffixless one-shot and `reboot.metal3.io/<key>` holds. */
function rebootAnnotations(h: BareMetalHost, needForce: boolean): { suffixless: boolean; held: boolean; mode: 'hard' | 'soft' } {
  const out = { suffixless: false, held: false, mode: 'soft' as 'hard' | 'soft' };
  for (const [k, v] of Object.entries(h.metadata.annotations ?? {})) {
    if (k !== A.reboot && !k.startsWith(`${A.reboot}/`)) continue;
    let args: { mode?: string; force?: boolean } = {};
    try {
      args = v ? JSON.parse(v) : {};
    } catch {
      continue;
    }
    if (needForce && !args.force) continue;
    if (args.mode === 'hard') out.mode = 'hard';
    if (k === A.reboot) out.suffixless = true;
    else out.held = true;
  }
  return out;
}

function errorTypeFor(s: HostState): ErrorType {
  switch (s) {
    case 'inspecting':
      return 'inspection error';
    case 'preparing':
      return 'preparation error';
    case 'provisioning':
    case 'deprovisioning':
      return 'provisioning error';
    case 'available':
    case 'provisioned':
    case 'externally provisioned':
      return 'power management error';
    default:
      return 'registration error';
  }
}

function eventReasonFor(t: ErrorType): string {
  return t === 'registration error' || t === 'provisioned registration error'
    ? 'RegistrationError'
    : t === 'power management error'
      ? 'PowerManagementError'
      : 'ProvisioningError';
}
