// The conductor: owns every change to a node's provision and power state. A request locks the
// node (its `reservation`), moves it through the transition table, and does the slow work on a
// bounded worker pool; the agent's heartbeats drive deploy and clean steps forward from the
// *wait states; periodic tasks sync power state and fail callbacks that never came. On start it
// takes over: reservations are cleared and work that was mid-flight fails the way Ironic's does.

import { randomBytes, randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { type TrustedFetch, trustingFetch } from '../../../lib/trusted-fetch.js';
import type { BootEnv, RamdiskPurpose } from '../drivers/boot.js';
import { describe, IronicError, nodeLocked, notFound } from '../errors.js';
import { buildConfigDrive, type ConfigDriveSpec, validateConfigDrive } from '../images/configdrive.js';
import { type HistoryEvent, type Node, newPort, now, type Step, UUID_RE } from '../model.js';
import {
  API_VERBS,
  InvalidStateRequested,
  nextState,
  type ProvisionEvent,
  type ProvisionState,
  STUCK_STATES_TREATED_AS_FAIL,
  transition,
} from '../states.js';
import type { IronicStore } from '../store.js';
import { AgentClient, type AgentCommand, type AgentRef, errorText } from './agent-client.js';
import { type DriverSet, Drivers } from './drivers.js';

export interface ConductorOptions {
  hostname: string;
  apiUrl: string;
  httpUrl: string;
  httpRoot: string;
  cacheDir: string;
  /** PEM CAs the conductor trusts when it downloads deploy images from a web server ([conductor]webserver_verify_ca) */
  webserverCas?: string[];
  workers: number;
  /** seconds the agent may go between heartbeats (sent to it at lookup) */
  heartbeatTimeout: number;
  deployCallbackTimeout: number;
  cleanCallbackTimeout: number;
  inspectWaitTimeout: number;
  /** seconds between power-state syncs; 0 disables */
  powerSyncInterval: number;
  powerStateChangeTimeout: number;
  /** consecutive failed syncs before a node goes into maintenance with fault "power failure" */
  powerSyncMaxRetries: number;
  automatedClean: boolean;
  /** metal3's choice: only metadata is erased during automated cleaning */
  eraseDevicesPriority: number;
  eraseDevicesMetadataPriority: number;
  bmcRequestTimeoutMs: number;
  /** first delay before retrying a transient BMC error (grows per attempt) */
  bmcRetryDelayMs: number;
  pollMs: number;
  log?: Logger;
}

export const DEFAULT_CONDUCTOR_OPTIONS: Omit<ConductorOptions, 'hostname' | 'apiUrl' | 'httpUrl' | 'httpRoot' | 'cacheDir'> = {
  workers: 100,
  heartbeatTimeout: 300,
  deployCallbackTimeout: 1800,
  cleanCallbackTimeout: 1800,
  inspectWaitTimeout: 1800,
  powerSyncInterval: 60,
  powerStateChangeTimeout: 60,
  powerSyncMaxRetries: 3,
  automatedClean: true,
  eraseDevicesPriority: 0,
  eraseDevicesMetadataPriority: 10,
  bmcRequestTimeoutMs: 10_000,
  bmcRetryDelayMs: 3000,
  pollMs: 500,
};

type StepKind = 'deploy' | 'clean';

/** The optional arguments of PUT /states/provision. */
export interface ProvisionArgs {
  configdrive?: unknown;
  clean_steps?: Step[];
  deploy_steps?: Step[];
  service_steps?: Step[];
  disable_ramdisk?: boolean;
  rescue_password?: string;
}
interface PlannedStep extends Step {
  /** run by the agent (execute_<kind>_step) rather than by the conductor */
  agent: boolean;
}

const AGENT_DEPLOY_INTERFACES = new Set(['direct', 'custom-agent']);
const POWER_TARGETS = new Set(['power on', 'power off', 'rebooting', 'soft power off', 'soft rebooting']);

/** The states in which a running agent is awaited, and the process a lost agent fails. */
const AGENT_WAITS: Partial<Record<ProvisionState, string>> = {
  'wait call-back': 'deployment',
  'clean wait': 'cleaning',
  'inspect wait': 'inspection',
};

export class Conductor {
  readonly opts: ConductorOptions;
  readonly drivers: Drivers;
  private readonly agent = new AgentClient();
  /** deploy-image downloads, trusting the web server's CA */
  private readonly webserverFetch: TrustedFetch;
  private readonly log: Logger;
  private busy = 0;
  private readonly running = new Set<Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private readonly powerFailures = new Map<string, number>();
  /** power syncs in a row that found a node waiting for its agent powered off */
  private readonly offWhileWaiting = new Map<string, number>();
  private stopped = false;

  constructor(
    readonly store: IronicStore,
    opts: ConductorOptions,
  ) {
    this.opts = opts;
    this.log = opts.log ?? pino({ level: 'silent' });
    this.webserverFetch = trustingFetch(opts.webserverCas ?? []);
    this.drivers = new Drivers({
      powerTimeoutS: opts.powerStateChangeTimeout,
      requestTimeoutMs: opts.bmcRequestTimeoutMs,
      pollMs: opts.pollMs,
      retryDelayMs: opts.bmcRetryDelayMs,
    });
  }

  /** Takeover: clears this conductor's stale locks and fails work that was interrupted mid-step. */
  start(): void {
    for (const n of [...this.store.allNodes()]) {
      const node = structuredClone(n);
      let changed = false;
      if (node.reservation) {
        node.reservation = null;
        changed = true;
      }
      if (node.target_power_state) {
        node.target_power_state = null;
        changed = true;
      }
      if (STUCK_STATES_TREATED_AS_FAIL.includes(node.provision_state)) {
        const was = node.provision_state;
        const msg = `Conductor ${this.opts.hostname} was restarted while node ${node.uuid} was in state "${was}"; the operation was aborted.`;
        this.applyEvent(node, 'fail');
        node.last_error = msg;
        this.clearSteps(node);
        this.history(node, 'ERROR', 'provisioning', msg);
        this.log.warn({ node: node.uuid, from: was, to: node.provision_state }, 'takeover: interrupted work failed');
        changed = true;
      }
      if (changed) {
        node.updated_at = now();
        this.store.putNode(node);
      }
    }
    const every = (s: number, fn: () => void) => {
      if (s > 0) this.timers.push(setInterval(fn, s * 1000).unref());
    };
    every(this.opts.powerSyncInterval, () => void this.syncPowerStates());
    every(Math.max(1, Math.min(60, this.opts.heartbeatTimeout / 2)), () => this.checkTimeouts());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await Promise.allSettled([...this.running]);
  }

  // ---- locking and workers ----

  /** Node by UUID or name. */
  find(ident: string): Node {
    const n = UUID_RE.test(ident) ? this.store.node(ident.toLowerCase()) : this.store.nodeByName(ident);
    if (!n) throw notFound(ident);
    return n;
  }

  /** Takes the node's exclusive lock (409 NodeLocked when held) and returns a working copy. */
  acquire(ident: string): Node {
    const cur = this.find(ident);
    if (cur.reservation) throw nodeLocked(cur.uuid, cur.reservation);
    const node = structuredClone(cur);
    node.reservation = this.opts.hostname;
    this.store.putNode(node);
    return node;
  }

  save(node: Node): void {
    node.updated_at = now();
    this.keepLookupToken(node);
    this.store.putNode(node);
  }

  /** Drops the lock; the lock itself is not a change to the node (updated_at stays). */
  release(node: Node): void {
    node.reservation = null;
    this.keepLookupToken(node);
    this.store.putNode(node);
  }

  /**
   * The agent's lookup hands out a token while a task may hold the node (the agent boots before
   * the task saves its `wait` state); the task's copy must not erase it, or every heartbeat of
   * that agent is refused. Tokens are only ever revoked through dropAgent, which clears the
   * stored copy too, so a stored token the task's copy lacks is always a newer one.
   */
  private keepLookupToken(node: Node): void {
    if (node.driver_internal_info.agent_secret_token) return;
    const stored = this.store.node(node.uuid)?.driver_internal_info.agent_secret_token;
    if (stored) node.driver_internal_info.agent_secret_token = stored;
  }

  /** Forgets the running agent (its URL, token and certificate) in the task's copy and in the store at once. */
  private dropAgent(node: Node): void {
    const forget = (d: Record<string, unknown>) => {
      delete d.agent_secret_token;
      delete d.agent_url;
      delete d.agent_verify_ca;
    };
    forget(node.driver_internal_info);
    const live = this.store.node(node.uuid);
    const d = live?.driver_internal_info;
    if (!d?.agent_secret_token && !d?.agent_url && !d?.agent_verify_ca) return;
    const stored = structuredClone(live as Node);
    forget(stored.driver_internal_info);
    this.store.putNode(stored);
  }

  /** Refuses up front when the pool is full, so a refused request changes nothing. */
  private requireWorker(): void {
    if (this.busy >= this.opts.workers)
      throw new IronicError('NoFreeConductorWorker', 'Requested action cannot be performed due to lack of free conductor workers.');
  }

  /** Runs `fn` with the lock held on a worker; the lock is released when it ends, whatever happens. */
  private spawn(node: Node, what: string, fn: (n: Node) => Promise<void>): void {
    if (this.busy >= this.opts.workers) {
      this.release(node);
      throw new IronicError('NoFreeConductorWorker', 'Requested action cannot be performed due to lack of free conductor workers.');
    }
    this.busy++;
    const p = (async () => {
      try {
        await fn(node);
      } catch (e) {
        this.log.error({ node: node.uuid, what, err: describe(e) }, 'task failed unexpectedly');
        node.last_error = `${what} failed: ${describe(e)}`;
      } finally {
        this.busy--;
        if (this.store.node(node.uuid)) this.release(node);
      }
    })();
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /** Runs `fn` under the lock synchronously from the caller's point of view (boot device, validate…). */
  async withLock<T>(ident: string, fn: (n: Node) => Promise<T>): Promise<T> {
    const node = this.acquire(ident);
    try {
      return await fn(node);
    } finally {
      if (this.store.node(node.uuid)) this.release(node);
    }
  }

  get workersBusy(): number {
    return this.busy;
  }

  // ---- state helpers ----

  private applyEvent(node: Node, event: ProvisionEvent, target?: ProvisionState | null): void {
    const c = transition(node.provision_state, event, node.uuid);
    node.provision_state = c.provisionState;
    node.target_provision_state = target !== undefined ? target : c.targetProvisionState;
    node.provision_updated_at = now();
  }

  private history(node: Node, severity: HistoryEvent['severity'], type: string, event: string): void {
    this.store.addHistory({
      uuid: randomUUID(),
      node_uuid: node.uuid,
      created_at: now(),
      severity,
      event_type: type,
      event,
      conductor: this.opts.hostname,
      user: null,
    });
  }

  private clearSteps(node: Node): void {
    node.clean_step = {};
    node.deploy_step = {};
    node.service_step = {};
    for (const k of [
      'deploy_steps',
      'deploy_step_index',
      'clean_steps',
      'clean_step_index',
      'step_started',
      'cleaning_type',
      'user_deploy_steps',
    ])
      delete node.driver_internal_info[k];
  }

  private fail(node: Node, type: string, msg: string): void {
    const from = node.provision_state;
    node.last_error = msg;
    this.history(node, 'ERROR', type, msg);
    // as Ironic: a clean step that fails leaves the node in maintenance with fault "clean failure"
    if (type === 'cleaning' && Object.keys(node.clean_step).length > 0) {
      node.maintenance = true;
      node.maintenance_reason = msg;
      node.fault = 'clean failure';
    }
    this.applyEvent(node, 'fail');
    this.log.warn({ node: node.uuid, from, to: node.provision_state, err: msg }, `${type} failed`);
    this.clearSteps(node);
    this.save(node);
  }

  private bootEnv(node: Node, set: DriverSet): BootEnv {
    return {
      apiUrl: this.opts.apiUrl,
      httpUrl: this.opts.httpUrl,
      httpRoot: this.opts.httpRoot,
      cacheDir: this.opts.cacheDir,
      fetch: this.webserverFetch,
      management: set.management,
      ports: this.store.portsOf(node.uuid),
    };
  }

  private async setPower(node: Node, set: DriverSet, target: 'power on' | 'power off' | 'rebooting'): Promise<void> {
    if (target === 'rebooting') await set.power.reboot(node, false);
    else await set.power.setPowerState(node, target);
    node.power_state = target === 'power off' ? 'power off' : 'power on';
  }

  /** Boots the agent for `purpose`: ramdisk prepared, then a (re)boot into it. */
  private async bootAgent(node: Node, set: DriverSet, purpose: RamdiskPurpose): Promise<void> {
    // a fresh agent gets a fresh token: the old one (and its URL) die with the reboot
    this.dropAgent(node);
    this.save(node);
    await set.boot.prepareRamdisk(node, purpose, this.bootEnv(node, set));
    await this.setPower(node, set, 'rebooting');
  }

  private async tearDownAgent(node: Node, set: DriverSet): Promise<void> {
    await this.setPower(node, set, 'power off');
    await set.boot.cleanUpRamdisk(node, this.bootEnv(node, set));
  }

  // ---- provisioning API ----

  /** PUT /states/provision: validates, transitions, and spawns the work. */
  provision(ident: string, target: string, args: ProvisionArgs, minor: number): void {
    this.requireWorker();
    const node = this.acquire(ident);
    try {
      this.startProvision(node, target, args, minor);
    } catch (e) {
      // nothing started: drop the lock without touching anything else
      if (this.store.node(node.uuid)?.reservation === this.opts.hostname) {
        const fresh = structuredClone(this.store.node(node.uuid) as Node);
        this.release(fresh);
      }
      throw e;
    }
  }

  private startProvision(node: Node, target: string, args: ProvisionArgs, minor: number): void {
    const set = this.drivers.forNode(node);
    const st = node.provision_state;
    // the state machine answers first: a request the current state cannot take is refused before
    // any of its arguments are looked at, as in Ironic
    const event = API_VERBS[target];
    if (event && !nextState(st, event)) throw new InvalidStateRequested(st, target, node.uuid);
    switch (target) {
      case 'manage': {
        if (st === 'enroll') {
          set.power.validate(node);
          set.management.validate(node);
          this.applyEvent(node, 'manage');
          node.last_error = null;
          this.save(node);
          this.spawn(node, 'verify', (n) => this.doVerify(n, set));
          return;
        }
        this.applyEvent(node, 'manage');
        this.release(node);
        return;
      }
      case 'provide': {
        this.applyEvent(node, 'provide');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'cleaning', (n) => this.startCleaning(n, set, null, false));
        return;
      }
      case 'clean': {
        const planned = this.planManualSteps(node, set, args.clean_steps, 'clean_steps');
        this.applyEvent(node, 'clean', 'manageable');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'cleaning', (n) => this.startCleaning(n, set, planned, Boolean(args.disable_ramdisk)));
        return;
      }
      case 'inspect': {
        const iface = node.inspect_interface;
        if (iface === 'no-inspect')
          throw new IronicError(
            'UnsupportedDriverExtension',
            `Driver ${node.driver} does not support inspect (disabled or not implemented).`,
          );
        if (iface === 'agent') set.boot.validate(node);
        this.applyEvent(node, 'inspect');
        node.last_error = null;
        node.inspection_started_at = now();
        node.inspection_finished_at = null;
        this.save(node);
        this.spawn(node, 'inspection', (n) => this.doInspect(n, set));
        return;
      }
      case 'active':
      case 'deploy':
      case 'rebuild': {
        const event: ProvisionEvent = target === 'rebuild' ? 'rebuild' : 'deploy';
        this.validateDeploy(node, set);
        if (args.configdrive !== undefined && args.configdrive !== null) {
          validateConfigDrive(args.configdrive);
          node.instance_info.configdrive =
            typeof args.configdrive === 'string' ? args.configdrive : buildConfigDrive(args.configdrive as ConfigDriveSpec, node);
        }
        const userSteps = (args.deploy_steps ?? []).map((s) => ({ ...s, agent: true }));
        if (node.deploy_interface === 'custom-agent' && userSteps.length === 0 && !node.instance_info.deploy_steps)
          throw new IronicError(
            'InvalidParameterValue',
            'The custom-agent deploy interface needs deploy_steps: it has no steps of its own.',
          );
        this.applyEvent(node, event);
        node.last_error = null;
        node.driver_internal_info.user_deploy_steps = userSteps;
        this.save(node);
        this.spawn(node, 'deployment', (n) => this.startDeploy(n, set, st === 'active' || st === 'deploy failed' || st === 'error'));
        return;
      }
      case 'deleted':
      case 'undeploy': {
        this.applyEvent(node, 'delete');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'tear down', (n) => this.doTearDown(n, set));
        return;
      }
      case 'abort': {
        if (st === 'wait call-back' && minor < 110)
          throw new IronicError(
            'InvalidStateRequested',
            `The requested action "abort" can not be performed on node "${node.uuid}" while it is in state "wait call-back".`,
          );
        this.applyEvent(node, 'abort');
        const msg = `${st === 'clean wait' ? 'Clean' : st === 'inspect wait' ? 'Inspection' : st === 'wait call-back' ? 'Deployment' : 'Operation'} was aborted by request`;
        node.last_error = msg;
        this.history(node, 'INFO', 'provisioning', msg);
        this.clearSteps(node);
        this.save(node);
        // an aborted agent operation leaves the machine powered off with the ramdisk torn down
        this.spawn(node, 'abort', async (n) => {
          try {
            if (st !== 'deploy hold' && st !== 'clean hold') await this.tearDownAgent(n, set);
          } catch (e) {
            n.last_error = `${msg}; tearing down the agent failed: ${describe(e)}`;
          }
          this.save(n);
        });
        return;
      }
      case 'adopt': {
        this.validateDeploy(node, set, true);
        this.applyEvent(node, 'adopt');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'adoption', async (n) => {
          try {
            n.power_state = await set.power.getPowerState(n);
            await set.boot.prepareInstance(n, this.bootEnv(n, set));
            this.applyEvent(n, 'done');
          } catch (e) {
            this.fail(n, 'adoption', `Error while attempting to adopt node ${n.uuid}: ${describe(e)}.`);
            return;
          }
          this.save(n);
        });
        return;
      }
      case 'unhold': {
        this.applyEvent(node, 'unhold');
        this.release(node);
        return;
      }
      case 'service': {
        const planned = this.planManualSteps(node, set, args.service_steps, 'service_steps');
        if (planned.some((s) => s.agent))
          throw new IronicError(
            'InvalidParameterValue',
            'Ferrite runs service steps on the conductor only; agent service steps are not supported.',
          );
        this.applyEvent(node, 'service');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'servicing', async (n) => {
          try {
            for (const s of planned) {
              n.service_step = stripAgent(s);
              this.save(n);
              await this.runConductorStep(n, set, s);
            }
            n.service_step = {};
            this.applyEvent(n, 'done');
          } catch (e) {
            this.fail(n, 'servicing', `Servicing of node ${n.uuid} failed: ${describe(e)}`);
            return;
          }
          this.save(n);
        });
        return;
      }
      case 'rescue':
      case 'unrescue': {
        if (node.rescue_interface !== 'fake')
          throw new IronicError(
            'UnsupportedDriverExtension',
            `Rescue is not supported by the ${node.rescue_interface} rescue interface of node ${node.uuid}.`,
          );
        if (target === 'rescue' && !args.rescue_password)
          throw new IronicError(
            'MissingParameterValue',
            'A non-empty "rescue_password" is required when setting target provision state to rescue.',
          );
        // the fake rescue interface rescues and unrescues at once, as Ironic's does
        this.applyEvent(node, target);
        this.applyEvent(node, 'done');
        node.last_error = null;
        this.release(node);
        return;
      }
      default:
        throw new IronicError('InvalidParameterValue', `Invalid provision state target "${target}".`);
    }
  }

  private validateDeploy(node: Node, set: DriverSet, adopting = false): void {
    set.power.validate(node);
    set.management.validate(node);
    if (node.deploy_interface === 'fake') return;
    if (node.deploy_interface === 'ramdisk') {
      if (!node.instance_info.boot_iso && !node.instance_info.kernel)
        throw new IronicError(
          'MissingParameterValue',
          `Node ${node.uuid} failed to validate deploy image info: the ramdisk deploy interface needs instance_info.boot_iso.`,
        );
      return;
    }
    if (!adopting) set.boot.validate(node);
    const ii = node.instance_info;
    const missing: string[] = [];
    if (!ii.image_source) missing.push('instance_info.image_source');
    const src = String(ii.image_source ?? '');
    if (src && !src.startsWith('file://') && !ii.image_checksum && !(ii.image_os_hash_algo && ii.image_os_hash_value))
      missing.push('instance_info.image_checksum');
    if (missing.length && !adopting)
      throw new IronicError(
        'MissingParameterValue',
        `Node ${node.uuid} failed to validate deploy image info. Some parameters were missing. Missing are: [${missing.map((m) => `'${m}'`).join(', ')}]`,
      );
  }

  // ---- verify ----

  private async doVerify(node: Node, set: DriverSet): Promise<void> {
    try {
      node.power_state = await set.power.getPowerState(node);
      this.applyEvent(node, 'done');
      this.save(node);
      this.log.info({ node: node.uuid }, 'verified: manageable');
    } catch (e) {
      node.power_state = null;
      this.fail(node, 'verify', `Failed to get power state for node ${node.uuid}. Error: ${describe(e)}`);
    }
  }

  // ---- inspection ----

  private async doInspect(node: Node, set: DriverSet): Promise<void> {
    try {
      if (node.inspect_interface === 'fake') {
        node.inspection_finished_at = now();
        this.applyEvent(node, 'done');
        this.save(node);
        return;
      }
      if (node.inspect_interface === 'redfish') {
        const hw = await set.inspect.inspect(node);
        this.applyInventoryProperties(node, hw.properties);
        for (const mac of hw.macs) this.ensurePort(node, mac);
        node.power_state = await set.power.getPowerState(node).catch(() => node.power_state);
        node.inspection_finished_at = now();
        this.applyEvent(node, 'done');
        this.save(node);
        return;
      }
      // agent: boot the ramdisk; the agent posts its inventory to /v1/continue_inspection
      await this.bootAgent(node, set, 'inspect');
      this.applyEvent(node, 'wait');
      this.save(node);
    } catch (e) {
      await this.tearDownAgent(node, set).catch(() => {});
      this.fail(node, 'inspection', `Failed to inspect hardware. Reason: ${describe(e)}`);
    }
  }

  private applyInventoryProperties(node: Node, p: { cpus?: number; memory_mb?: number; local_gb?: number; cpu_arch?: string }): void {
    for (const [k, v] of Object.entries(p)) if (v !== undefined) node.properties[k] = v;
  }

  private ensurePort(node: Node, mac: string, pxe = true): void {
    const m = mac.toLowerCase();
    const existing = this.store.portByAddress(m);
    if (existing) return;
    this.store.putPort(newPort({ address: m, node_uuid: node.uuid, pxe_enabled: pxe }));
  }

  /** POST /v1/continue_inspection from the agent: finds the node by MAC or BMC address and completes inspection. */
  continueInspection(body: Record<string, unknown>, nodeUuid: string | null): { uuid: string; node: Node } {
    const inv = body.inventory as Record<string, unknown> | undefined;
    if (!inv || typeof inv !== 'object') throw new IronicError('Invalid', 'Inventory is required for inspection data');
    const ifaces = (inv.interfaces ?? []) as Array<Record<string, unknown>>;
    if (!Array.isArray(ifaces) || ifaces.length === 0)
      throw new IronicError('Invalid', 'At least one interface is required in the inventory');
    const macs = ifaces.map((i) => String(i.mac_address ?? '').toLowerCase()).filter(Boolean);
    let n: Node | undefined;
    if (nodeUuid) n = this.store.node(nodeUuid);
    if (!n)
      for (const mac of macs) {
        const p = this.store.portByAddress(mac);
        if (p) {
          n = this.store.node(p.node_uuid);
          break;
        }
      }
    if (!n && typeof inv.bmc_address === 'string' && !['', '0.0.0.0'].includes(inv.bmc_address)) {
      // by BMC address as Ironic's lookup does: the address's host exactly (never a substring:
      // 10.0.0.1 is not 10.0.0.10), among the nodes waiting for inspection data; two is ambiguous
      const want = String(inv.bmc_address).toLowerCase();
      const hits = [...this.store.allNodes()].filter(
        (x) => ['inspect wait', 'inspecting'].includes(x.provision_state) && bmcHosts(x).includes(want),
      );
      if (hits.length > 1)
        throw new IronicError(
          'Conflict',
          `The inspection data matches ${hits.length} nodes by BMC address ${want} (${hits.map((x) => x.uuid).join(', ')}) and none by MAC: refusing to guess`,
        );
      n = hits[0];
    }
    if (!n) throw new IronicError('NotFound', `No node matched the inspection data (MACs ${macs.join(', ')})`);
    if (n.provision_state !== 'inspect wait' && n.provision_state !== 'inspecting')
      throw new IronicError('InvalidState', `Node ${n.uuid} is in state "${n.provision_state}", not waiting for inspection data`);
    const node = this.acquire(n.uuid);
    const set = this.drivers.forNode(node);
    const pluginData: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) if (k !== 'inventory') pluginData[k] = v;
    pluginData.all_interfaces = Object.fromEntries(
      ifaces.map((i) => [
        String(i.name),
        { ...i, pxe_enabled: i.mac_address === (inv.boot as { pxe_interface?: string } | undefined)?.pxe_interface },
      ]),
    );
    node.inventory = { inventory: inv, plugin_data: pluginData };
    const cpu = inv.cpu as { count?: number; architecture?: string } | undefined;
    const mem = inv.memory as { physical_mb?: number } | undefined;
    const disks = ((inv.disks ?? []) as Array<{ size?: number }>).map((d) => Number(d.size ?? 0)).filter((s) => s > 4 * 2 ** 30);
    this.applyInventoryProperties(node, {
      cpus: cpu?.count,
      cpu_arch: cpu?.architecture,
      memory_mb: mem?.physical_mb,
      local_gb: disks.length ? Math.floor(Math.min(...disks) / 2 ** 30) - 1 : undefined,
    });
    // Ironic's default ports hook: a port for the interface the machine PXE-booted from
    const pxeMac = String((inv.boot as { pxe_interface?: string } | undefined)?.pxe_interface ?? macs[0]).toLowerCase();
    for (const mac of macs) if (mac === pxeMac) this.ensurePort(node, mac);
    this.save(node);
    this.spawn(node, 'inspection', async (x) => {
      try {
        await this.tearDownAgent(x, set);
        x.inspection_finished_at = now();
        this.applyEvent(x, 'done');
        this.save(x);
      } catch (e) {
        this.fail(x, 'inspection', `Failed to finish inspection: ${describe(e)}`);
      }
    });
    return { uuid: node.uuid, node };
  }

  // ---- cleaning ----

  private automatedCleanEnabled(node: Node): boolean {
    return node.automated_clean ?? this.opts.automatedClean;
  }

  private planManualSteps(node: Node, set: DriverSet, steps: Step[] | undefined, what: 'clean_steps' | 'service_steps'): PlannedStep[] {
    if (!Array.isArray(steps) || steps.length === 0)
      throw new IronicError(
        'InvalidParameterValue',
        `${what} is required and must be a non-empty list when setting the provision state to "${what === 'clean_steps' ? 'clean' : 'service'}".`,
      );
    return steps.map((s) => {
      if (!s || typeof s !== 'object' || typeof s.interface !== 'string' || typeof s.step !== 'string')
        throw new IronicError('InvalidParameterValue', 'Each step must be an object with "interface" and "step".');
      const agent = s.interface === 'deploy' || (s.interface === 'raid' && node.raid_interface === 'agent');
      if (!agent && !set.conductorSteps.has(`${s.interface}.${s.step}`))
        throw new IronicError(
          'InvalidParameterValue',
          `Node ${node.uuid}: the step ${s.interface}.${s.step} is not supported by the ${String(node[`${s.interface}_interface` as keyof Node] ?? s.interface)} ${s.interface} interface.`,
        );
      if (agent && !AGENT_DEPLOY_INTERFACES.has(node.deploy_interface) && node.deploy_interface !== 'ramdisk')
        throw new IronicError(
          'InvalidParameterValue',
          `Node ${node.uuid}: agent steps need an agent-based deploy interface, not ${node.deploy_interface}.`,
        );
      return { ...s, args: s.args ?? {}, agent };
    });
  }

  private async startCleaning(node: Node, set: DriverSet, manual: PlannedStep[] | null, disableRamdisk: boolean): Promise<void> {
    try {
      node.driver_internal_info.cleaning_type = manual ? 'manual' : 'automated';
      if (!manual && (!this.automatedCleanEnabled(node) || node.deploy_interface === 'fake' || node.deploy_interface === 'ramdisk')) {
        // nothing to run: automated cleaning disabled or no agent to run it
        await set.boot.cleanUpRamdisk(node, this.bootEnv(node, set)).catch(() => {});
        this.finishCleaning(node);
        return;
      }
      if (manual && (disableRamdisk || manual.every((s) => !s.agent))) {
        for (const s of manual) {
          node.clean_step = stripAgent(s);
          this.save(node);
          await this.runConductorStep(node, set, s);
        }
        this.finishCleaning(node);
        return;
      }
      if (manual) node.driver_internal_info.clean_steps = manual;
      await this.bootAgent(node, set, 'clean');
      this.applyEvent(node, 'wait');
      this.save(node);
    } catch (e) {
      await this.tearDownAgent(node, set).catch(() => {});
      this.fail(node, 'cleaning', `Failed to prepare node ${node.uuid} for cleaning: ${describe(e)}`);
    }
  }

  private finishCleaning(node: Node): void {
    const manual = node.driver_internal_info.cleaning_type === 'manual';
    this.clearSteps(node);
    this.applyEvent(node, manual ? 'manage' : 'done');
    this.save(node);
    this.log.info({ node: node.uuid, state: node.provision_state }, 'cleaning finished');
  }

  private async runConductorStep(node: Node, set: DriverSet, s: Step): Promise<void> {
    const fn = set.conductorSteps.get(`${s.interface}.${s.step}`);
    if (!fn) throw new IronicError('InvalidParameterValue', `Unknown step ${s.interface}.${s.step}`);
    await fn(node, s.args ?? {});
  }

  // ---- deployment ----

  private async startDeploy(node: Node, set: DriverSet, rebuild: boolean): Promise<void> {
    try {
      if (rebuild) {
        await this.setPower(node, set, 'power off');
        await set.boot.cleanUpInstance(node, this.bootEnv(node, set));
      }
      if (node.deploy_interface === 'fake') {
        node.power_state = 'power on';
        this.applyEvent(node, 'done');
        this.save(node);
        return;
      }
      if (node.deploy_interface === 'ramdisk') {
        await this.deployRamdisk(node, set);
        return;
      }
      await this.bootAgent(node, set, 'deploy');
      this.applyEvent(node, 'wait');
      this.save(node);
    } catch (e) {
      await this.setPower(node, set, 'power off').catch(() => {});
      this.fail(node, 'deployment', `Deploy step deploy.deploy failed on node ${node.uuid}. ${describe(e)}`);
    }
  }

  /** The ramdisk deploy interface (live ISO): the node boots instance_info.boot_iso and is active. */
  private async deployRamdisk(node: Node, set: DriverSet): Promise<void> {
    const iso = String(node.instance_info.boot_iso ?? '');
    if (!set.management.insertMedia)
      throw new IronicError('UnsupportedDriverExtension', 'the ramdisk deploy needs virtual media (redfish)');
    await this.setPower(node, set, 'power off');
    await set.management.insertMedia(node, iso);
    await set.management.setBootDevice(node, 'cdrom', true);
    await this.setPower(node, set, 'power on');
    this.applyEvent(node, 'done');
    this.save(node);
  }

  private deployPlan(node: Node): PlannedStep[] {
    const user = ((node.driver_internal_info.user_deploy_steps as PlannedStep[] | undefined) ?? []).map((s) => ({
      ...s,
      priority: s.priority ?? 80,
      agent: true,
    }));
    const own: PlannedStep[] =
      node.deploy_interface === 'custom-agent' ? [] : [{ interface: 'deploy', step: 'write_image', priority: 80, args: {}, agent: true }];
    const tail: PlannedStep[] = [
      { interface: 'deploy', step: 'prepare_instance_boot', priority: 60, args: {}, agent: false },
      { interface: 'deploy', step: 'tear_down_agent', priority: 40, args: {}, agent: false },
      { interface: 'deploy', step: 'boot_instance', priority: 20, args: {}, agent: false },
    ];
    return [...own, ...user, ...tail].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }

  private imageInfo(node: Node): Record<string, unknown> {
    const ii = node.instance_info;
    const src = String(ii.image_source ?? '');
    return {
      id: src.split('/').pop() ?? src,
      urls: [src],
      checksum: ii.image_checksum ?? null,
      os_hash_algo: ii.image_os_hash_algo ?? null,
      os_hash_value: ii.image_os_hash_value ?? null,
      disk_format: ii.image_disk_format ?? null,
      container_format: 'bare',
      stream_raw_images: true,
      image_type: 'whole-disk-image',
      node_uuid: node.uuid,
      root_device: ii.root_device ?? node.properties.root_device ?? null,
    };
  }

  // ---- agent API ----

  /** GET /v1/lookup: the node whose ports match, in a state that expects an agent. */
  lookup(addresses: string[], nodeUuid: string | null): { node: Node; token: string | null } {
    let n: Node | undefined;
    if (nodeUuid) n = this.store.node(nodeUuid.toLowerCase());
    else
      for (const a of addresses) {
        const p = this.store.portByAddress(a.toLowerCase());
        if (p) {
          n = this.store.node(p.node_uuid);
          if (n) break;
        }
      }
    if (!n) throw new IronicError('NotFound', 'Node could not be found.');
    const allowed: ProvisionState[] = [
      'deploying',
      'wait call-back',
      'cleaning',
      'clean wait',
      'inspecting',
      'inspect wait',
      'rescuing',
      'rescue wait',
      'service wait',
    ];
    if (!allowed.includes(n.provision_state)) throw new IronicError('NotFound', 'Node could not be found.');
    let token: string | null = null;
    if (!n.driver_internal_info.agent_secret_token) {
      // the token is revealed once; a node already holding one only gets "******"
      const copy = structuredClone(n);
      token = randomBytes(32).toString('base64url');
      copy.driver_internal_info.agent_secret_token = token;
      this.store.putNode(copy);
      n = copy;
    }
    return { node: n, token };
  }

  /** POST /v1/heartbeat/{node}: records the agent and moves the current step flow forward. */
  heartbeat(
    ident: string,
    body: { callback_url?: unknown; agent_token?: unknown; agent_version?: unknown; agent_verify_ca?: unknown },
  ): void {
    const cur = this.find(ident);
    const expected = cur.driver_internal_info.agent_secret_token;
    if (!expected || body.agent_token !== expected) throw new IronicError('NotAuthorized', 'Invalid or missing agent token received.');
    if (typeof body.callback_url !== 'string' || !/^https?:\/\//.test(body.callback_url))
      throw new IronicError('Invalid', 'callback_url must be an http(s) URL');
    const verifyCa = body.agent_verify_ca;
    if (verifyCa !== undefined && verifyCa !== null && (typeof verifyCa !== 'string' || !verifyCa.includes('-----BEGIN CERTIFICATE-----')))
      throw new IronicError('Invalid', 'agent_verify_ca must be a PEM certificate');
    // an agent's certificate is fixed for its life: a different one is another party, not the agent
    const known = cur.driver_internal_info.agent_verify_ca;
    if (typeof known === 'string' && verifyCa && known !== verifyCa)
      throw new IronicError('Invalid', 'Detected change in ramdisk provided TLS certificate; refusing the heartbeat');
    const node = this.acquire(cur.uuid);
    node.driver_internal_info.agent_url = body.callback_url;
    if (typeof verifyCa === 'string') node.driver_internal_info.agent_verify_ca = verifyCa;
    node.driver_internal_info.agent_version = body.agent_version ?? null;
    node.driver_internal_info.agent_last_heartbeat = now();
    const st = node.provision_state;
    if (st !== 'wait call-back' && st !== 'clean wait') {
      this.release(node);
      return;
    }
    const set = this.drivers.forNode(node);
    this.applyEvent(node, 'resume');
    this.save(node);
    this.spawn(node, 'heartbeat', (n) => this.continueSteps(n, set, st === 'wait call-back' ? 'deploy' : 'clean'));
  }

  private async continueSteps(node: Node, set: DriverSet, kind: StepKind): Promise<void> {
    const dii = node.driver_internal_info;
    const agent: AgentRef = {
      url: String(dii.agent_url),
      token: String(dii.agent_secret_token),
      verifyCa: typeof dii.agent_verify_ca === 'string' ? dii.agent_verify_ca : undefined,
    };
    const failType = kind === 'deploy' ? 'deployment' : 'cleaning';
    try {
      let steps = dii[`${kind}_steps`] as PlannedStep[] | undefined;
      if (!steps) {
        steps = kind === 'deploy' ? this.deployPlan(node) : await this.automatedCleanSteps(node, agent);
        dii[`${kind}_steps`] = steps;
        dii[`${kind}_step_index`] = 0;
        dii.step_started = false;
      }
      for (;;) {
        const idx = Number(dii[`${kind}_step_index`] ?? 0);
        const step = steps[idx];
        if (!step) {
          if (kind === 'deploy') {
            this.clearSteps(node);
            this.applyEvent(node, 'done');
            this.save(node);
            this.log.info({ node: node.uuid }, 'deployment finished: active');
          } else {
            await this.tearDownAgent(node, set);
            this.finishCleaning(node);
          }
          return;
        }
        node[`${kind}_step`] = stripAgent(step);
        if (step.agent) {
          if (!dii.step_started) {
            const params: Record<string, unknown> = {
              step: stripAgent(step),
              node: agentNodeView(node),
              ports: this.store.portsOf(node.uuid),
            };
            if (kind === 'deploy' && step.step === 'write_image')
              (params.step as Step).args = { image_info: this.imageInfo(node), configdrive: node.instance_info.configdrive ?? null };
            await this.agent.command(agent, `${kind}.execute_${kind}_step`, params, false);
            dii.step_started = true;
            this.applyEvent(node, 'wait');
            this.save(node);
            return;
          }
          const last = lastCommand(await this.agent.list(agent), `${kind}.execute_${kind}_step`);
          if (!last || last.command_status === 'RUNNING') {
            this.applyEvent(node, 'wait');
            this.save(node);
            return;
          }
          if (last.command_status !== 'SUCCEEDED') {
            const msg = `${kind === 'deploy' ? 'Deploy' : 'Clean'} step ${step.interface}.${step.step} failed on node ${node.uuid}. ${errorText(last.command_error)}`;
            await this.setPower(node, set, 'power off').catch(() => {});
            if (kind === 'clean') await set.boot.cleanUpRamdisk(node, this.bootEnv(node, set)).catch(() => {});
            this.fail(node, failType, msg);
            return;
          }
        } else {
          this.save(node);
          await this.conductorDeployStep(node, set, step, agent);
        }
        dii[`${kind}_step_index`] = idx + 1;
        dii.step_started = false;
        this.save(node);
      }
    } catch (e) {
      await this.setPower(node, set, 'power off').catch(() => {});
      this.fail(node, failType, `${kind === 'deploy' ? 'Deploy' : 'Clean'} step failed on node ${node.uuid}: ${describe(e)}`);
    }
  }

  private async automatedCleanSteps(node: Node, agent: AgentRef): Promise<PlannedStep[]> {
    const manual = node.driver_internal_info.clean_steps as PlannedStep[] | undefined;
    if (manual) return manual;
    const r = await this.agent.command(
      agent,
      'clean.get_clean_steps',
      { node: agentNodeView(node), ports: this.store.portsOf(node.uuid) },
      true,
    );
    const byManager = (r.command_result?.clean_steps ?? {}) as Record<string, Step[]>;
    const override: Record<string, number> = {
      erase_devices: this.opts.eraseDevicesPriority,
      erase_devices_metadata: this.opts.eraseDevicesMetadataPriority,
    };
    const all = Object.values(byManager).flat();
    return all
      .map((s) => ({
        ...s,
        priority: s.interface === 'deploy' && s.step in override ? override[s.step] : (s.priority ?? 0),
        args: {},
        agent: true,
      }))
      .filter((s) => (s.priority ?? 0) > 0)
      .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
  }

  private async conductorDeployStep(node: Node, set: DriverSet, step: PlannedStep, agent: AgentRef): Promise<void> {
    switch (step.step) {
      case 'prepare_instance_boot':
        await this.agent
          .command(
            agent,
            'image.install_bootloader',
            { root_uuid: null, efi_system_part_uuid: null, target_boot_mode: node.boot_mode ?? 'uefi' },
            true,
          )
          .catch((e) => {
            throw new IronicError('AgentError', `Failed to install a bootloader: ${describe(e)}`);
          });
        await set.boot.prepareInstance(node, this.bootEnv(node, set));
        return;
      case 'tear_down_agent':
        // ask the agent to power off (it syncs and shuts down), then make sure through the BMC
        await this.agent.command(agent, 'standby.power_off', {}, false).catch(() => null);
        await set.power.setPowerState(node, 'power off');
        node.power_state = 'power off';
        this.dropAgent(node);
        return;
      case 'boot_instance':
        await this.setPower(node, set, 'power on');
        return;
      default:
        await this.runConductorStep(node, set, step);
    }
  }

  // ---- tear down ----

  private async doTearDown(node: Node, set: DriverSet): Promise<void> {
    try {
      if (node.deploy_interface !== 'fake') {
        await this.setPower(node, set, 'power off');
        await set.boot.cleanUpInstance(node, this.bootEnv(node, set));
        if (node.deploy_interface === 'ramdisk') await set.management.ejectMedia?.(node);
      }
      node.instance_info = {};
      node.instance_uuid = null;
      this.clearSteps(node);
      this.dropAgent(node);
      delete node.driver_internal_info.user_deploy_steps;
      this.applyEvent(node, 'clean');
      this.save(node);
    } catch (e) {
      this.fail(node, 'tear down', `Failed to tear down node ${node.uuid}: ${describe(e)}`);
      return;
    }
    await this.startCleaning(node, set, null, false);
  }

  // ---- power ----

  changePower(ident: string, target: string, timeout: number | undefined, minor: number): void {
    if (!POWER_TARGETS.has(target)) throw new IronicError('InvalidParameterValue', `Invalid power state target "${target}"`);
    if ((target === 'soft power off' || target === 'soft rebooting') && minor < 27)
      throw new IronicError('NotAcceptable', `Power state ${target} needs API version 1.27`);
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1))
      throw new IronicError('Invalid', `Invalid timeout value ${timeout}: it must be a positive integer`);
    this.requireWorker();
    const node = this.acquire(ident);
    let set: DriverSet;
    try {
      set = this.drivers.forNode(node);
      set.power.validate(node);
      if (node.disable_power_off && (target === 'power off' || target === 'soft power off'))
        throw new IronicError(
          'InvalidParameterValue',
          `Node ${node.uuid} has disable_power_off set: it can be rebooted but not powered off`,
        );
    } catch (e) {
      this.release(node);
      throw e;
    }
    node.target_power_state =
      target === 'rebooting' || target === 'soft rebooting'
        ? 'power on'
        : target === 'soft power off'
          ? 'power off'
          : (target as 'power on' | 'power off');
    node.last_error = null;
    this.save(node);
    this.spawn(node, 'power', async (n) => {
      try {
        if (target === 'rebooting' || target === 'soft rebooting') await set.power.reboot(n, target === 'soft rebooting', timeout);
        else await set.power.setPowerState(n, target as 'power on' | 'power off' | 'soft power off', timeout);
        n.power_state = target === 'power off' || target === 'soft power off' ? 'power off' : 'power on';
      } catch (e) {
        n.last_error = `Failed to change power state to '${target}' by '${target}'. Error: ${describe(e)}`;
        this.history(n, 'ERROR', 'power', n.last_error);
        n.power_state = await set.power.getPowerState(n).catch(() => n.power_state);
      }
      n.target_power_state = null;
      this.save(n);
    });
  }

  /** Periodic power sync: the database follows the hardware; repeated failures put the node in maintenance. */
  async syncPowerStates(): Promise<void> {
    for (const n of [...this.store.allNodes()]) {
      if (this.stopped) return;
      if (n.reservation || n.provision_state === 'enroll' || (n.maintenance && n.fault !== 'power failure')) continue;
      if (['deploying', 'cleaning', 'inspecting', 'verifying', 'deleting', 'adopting', 'servicing'].includes(n.provision_state)) continue;
      let set: DriverSet;
      try {
        set = this.drivers.forNode(n);
      } catch {
        continue;
      }
      let state: 'power on' | 'power off' | null = null;
      let err: unknown = null;
      try {
        state = await set.power.getPowerState(n);
      } catch (e) {
        err = e;
      }
      const fresh = this.store.node(n.uuid);
      if (!fresh || fresh.reservation) continue;
      if (state && this.agentLost(fresh, state)) continue;
      const node = structuredClone(fresh);
      if (state) {
        this.powerFailures.delete(n.uuid);
        let changed = node.power_state !== state;
        node.power_state = state;
        if (node.fault === 'power failure') {
          node.maintenance = false;
          node.maintenance_reason = null;
          node.fault = null;
          changed = true;
        }
        if (changed) this.save(node);
      } else {
        const count = (this.powerFailures.get(n.uuid) ?? 0) + 1;
        this.powerFailures.set(n.uuid, count);
        if (count >= this.opts.powerSyncMaxRetries && !node.maintenance) {
          const msg = `During sync_power_state, max retries exceeded for node ${node.uuid}, node state ${node.power_state} does not match expected state 'None'. Updating DB state to 'None' Switching node to maintenance mode. Error: ${describe(err)}`;
          node.power_state = null;
          node.maintenance = true;
          node.maintenance_reason = msg;
          node.fault = 'power failure';
          node.last_error = msg;
          this.history(node, 'ERROR', 'power', msg);
          this.save(node);
        }
      }
    }
  }

  /**
   * A node waiting for its agent (deploy, clean, inspect) whose machine is found powered off on
   * two power syncs in a row cannot be called back: its agent is gone (a power cut, a BMC that
   * restarted and lost the machine). Instead of sitting out the 30-minute callback timeout, the
   * step fails now with a message that says so, and the usual fail path follows. Returns true
   * when the node was failed.
   */
  private agentLost(n: Node, power: 'power on' | 'power off'): boolean {
    const phase = AGENT_WAITS[n.provision_state];
    if (!phase || power !== 'power off' || n.target_power_state) {
      this.offWhileWaiting.delete(n.uuid);
      return false;
    }
    const seen = (this.offWhileWaiting.get(n.uuid) ?? 0) + 1;
    this.offWhileWaiting.set(n.uuid, seen);
    if (seen < 2) return false;
    this.offWhileWaiting.delete(n.uuid);
    const last = n.driver_internal_info.agent_last_heartbeat;
    const node = this.acquire(n.uuid);
    node.power_state = 'power off';
    this.fail(
      node,
      phase,
      `The machine was found powered off while ${n.provision_state === 'wait call-back' ? 'waiting for the agent to call back' : `in ${n.provision_state}`}: the agent is gone (power cut or BMC restart?); its last heartbeat was ${typeof last === 'string' ? last : 'never'}`,
    );
    const set = this.drivers.forNode(node);
    this.spawn(node, 'agent lost', async (x) => {
      await this.tearDownAgent(x, set).catch(() => {});
      this.save(x);
    });
    return true;
  }

  /** Wait states whose callback never came fail after their timeout, as Ironic's periodic check does. */
  checkTimeouts(): void {
    const limits: Partial<Record<ProvisionState, [number, string, string]>> = {
      'wait call-back': [this.opts.deployCallbackTimeout, 'deployment', 'Timeout reached while waiting for callback for node'],
      'clean wait': [
        this.opts.cleanCallbackTimeout,
        'cleaning',
        'Timeout reached while cleaning the node. Please check if the ramdisk responsible for the cleaning is running on the node.',
      ],
      'inspect wait': [this.opts.inspectWaitTimeout, 'inspection', 'Timeout reached while inspecting the node.'],
    };
    const t = Date.now();
    for (const n of [...this.store.allNodes()]) {
      const lim = limits[n.provision_state];
      if (!lim?.[0] || n.reservation || !n.provision_updated_at) continue;
      if (t - Date.parse(n.provision_updated_at) < lim[0] * 1000) continue;
      const node = this.acquire(n.uuid);
      const set = this.drivers.forNode(node);
      const msg = n.provision_state === 'wait call-back' ? `${lim[2]} ${n.uuid}` : lim[2];
      this.fail(node, lim[1], msg);
      this.spawn(node, 'timeout', async (x) => {
        await this.tearDownAgent(x, set).catch(() => {});
        this.save(x);
      });
    }
  }

  // ---- deletion ----

  destroy(ident: string): void {
    const n = this.find(ident);
    if (n.reservation) throw nodeLocked(n.uuid, n.reservation);
    if (n.protected) throw new IronicError('InvalidState', `Node ${n.uuid} is protected and cannot be undeployed, rebuilt or deleted`);
    const allowed = ['manageable', 'enroll', 'adopt failed', 'available'].includes(n.provision_state);
    if (!allowed && !n.maintenance)
      throw new IronicError(
        'InvalidState',
        `Can not delete node "${n.uuid}" while it is in provision state "${n.provision_state}". Valid provision states to perform deletion are: ["adopt failed", "available", "enroll", "manageable"], or set the node into maintenance mode`,
      );
    if (n.instance_uuid && !n.maintenance)
      throw new IronicError('NodeAssociated', `Node ${n.uuid} is associated with instance ${n.instance_uuid}.`);
    this.store.deleteNode(n.uuid);
    this.powerFailures.delete(n.uuid);
  }
}

/** The host part of every BMC address in a node's driver_info (ipmi_address, redfish_address, …). */
function bmcHosts(n: Node): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(n.driver_info)) {
    if (!k.endsWith('_address') || typeof v !== 'string' || !v) continue;
    let host = v;
    try {
      host = new URL(v.includes('://') ? v : `x://${v}`).hostname;
    } catch {
      // not a URL: the value is the host
    }
    out.push(host.replace(/^\[|\]$/g, '').toLowerCase());
  }
  return out;
}

function stripAgent(s: PlannedStep | Step): Step {
  const { agent: _a, ...rest } = s as PlannedStep;
  return rest;
}

function lastCommand(list: AgentCommand[], name: string): AgentCommand | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (list[i].command_name === name) return list[i];
  return undefined;
}

/** The node as the agent sees it (no credentials). */
function agentNodeView(node: Node): Record<string, unknown> {
  return {
    uuid: node.uuid,
    name: node.name,
    properties: node.properties,
    instance_info: { ...node.instance_info, configdrive: node.instance_info.configdrive ? '******' : undefined },
    driver_internal_info: {},
  };
}
