// The conductor: owns every change to a node's provision and power state. A request locks the
// node (its `reservation`), moves it through the transition table, and does the slow work on a
// bounded worker pool; the agent's heartbeats drive deploy and clean steps forward from the
// *wait states; periodic tasks sync power state and fail callbacks that never came. On start it
// takes over: reservations are cleared and work that was mid-flight fails the way Ironic's does.

import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { cloneJson } from '../../../lib/clone.js';
import { type TrustedFetch, trustingFetch } from '../../../lib/trusted-fetch.js';
import type { BootEnv, RamdiskPurpose } from '../drivers/boot.js';
import { describe, IronicError, nodeLocked, notFound } from '../errors.js';
import { buildConfigDrive, type ConfigDriveSpec, validateConfigDrive } from '../images/configdrive.js';
import { type HistoryEvent, type Node, now, type Step, UUID_RE } from '../model.js';
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
import { AgentClient } from './agent-client.js';
import { heartbeat, lookup } from './agent-lookup.js';
import { planManualSteps, startCleaning } from './cleaning.js';
import { startDeploy, startTearDown, validateDeploy } from './deployment.js';
import { type DriverSet, Drivers } from './drivers.js';
import { continueInspection, startInspection } from './inspection.js';
import { changePower, syncPowerStates } from './power-sync.js';
import { stripAgent } from './steps.js';
import { checkTimeouts } from './timeouts.js';

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
  /**
   * seconds without a heartbeat after which a wait whose agent had called in fails (the agent is
   * gone); 0 disables; default twice heartbeatTimeout, at least 30 (the agent beats every 0.3–0.6 of it)
   */
  heartbeatDeadline?: number;
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
  workers: 300,
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

/** The optional arguments of PUT /states/provision. */
export interface ProvisionArgs {
  configdrive?: unknown;
  clean_steps?: Step[];
  deploy_steps?: Step[];
  service_steps?: Step[];
  disable_ramdisk?: boolean;
  rescue_password?: string;
}

export class Conductor {
  readonly opts: ConductorOptions;
  readonly drivers: Drivers;
  readonly agent = new AgentClient();
  /** deploy-image downloads, trusting the web server's CA */
  readonly webserverFetch: TrustedFetch;
  readonly log: Logger;
  busy = 0;
  readonly running = new Set<Promise<void>>();
  /** per task kind ('deployment', 'heartbeat', …): tasks run and seconds they held a worker */
  readonly taskStats = new Map<string, { count: number; seconds: number }>();
  /** requests and periodic tasks refused because every worker was busy */
  refusals = 0;
  timers: NodeJS.Timeout[] = [];
  readonly powerFailures = new Map<string, number>();
  /** power syncs in a row that found a node waiting for its agent powered off */
  readonly offWhileWaiting = new Map<string, number>();
  stopped = false;
  /** when this conductor took over: no agent can have called in before, so deadlines count from here at the earliest */
  startedAt = Date.now();
  /**
   * When each node's agent last called in with its token, taken or not: a heartbeat refused for a
   * busy conductor (503) or a held lock (409) still proves the agent alive to the heartbeat deadline.
   */
  readonly agentHeard = new Map<string, number>();

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
    this.startedAt = Date.now();
    for (const n of [...this.store.allNodes()]) {
      const node = cloneJson(n);
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
    // a periodic task that fails is logged and runs again next period: nothing thrown in a timer
    // may take the conductor (and every node's task) down
    const every = (s: number, what: string, fn: () => Promise<void> | void) => {
      if (s <= 0) return;
      const run = async () => {
        try {
          await fn();
        } catch (e) {
          this.log.error({ err: describe(e) }, `periodic ${what} failed; it runs again next period`);
        }
      };
      this.timers.push(setInterval(() => void run(), s * 1000).unref());
    };
    every(this.opts.powerSyncInterval, 'power sync', () => syncPowerStates(this));
    every(Math.max(1, Math.min(60, this.opts.heartbeatTimeout / 2)), 'timeout check', () => checkTimeouts(this));
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

  /**
   * Runs `fn`, trying again while it meets a held node lock, as Ironic's task manager does before
   * answering NodeLocked: node_locked_retry_attempts (3) tries, node_locked_retry_interval (1 s)
   * apart. For agent calls whose sender gives up on a 409 (IPA's inspection callback).
   */
  async whenUnlocked<T>(fn: () => T, attempts = 3, intervalMs = 1000): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return fn();
      } catch (e) {
        if (!(e instanceof IronicError && e.reason === 'NodeLocked') || i >= attempts || this.stopped) throw e;
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    }
  }

  /** Takes the node's exclusive lock (409 NodeLocked when held) and returns a working copy. */
  acquire(ident: string): Node {
    const cur = this.find(ident);
    if (cur.reservation) throw nodeLocked(cur.uuid, cur.reservation);
    const node = cloneJson(cur);
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
  keepLookupToken(node: Node): void {
    if (node.driver_internal_info.agent_secret_token) return;
    const stored = this.store.node(node.uuid)?.driver_internal_info.agent_secret_token;
    if (stored) node.driver_internal_info.agent_secret_token = stored;
  }

  /** Forgets the running agent (its URL, token and certificate) in the task's copy and in the store at once. */
  dropAgent(node: Node): void {
    const forget = (d: Record<string, unknown>) => {
      delete d.agent_secret_token;
      delete d.agent_url;
      delete d.agent_verify_ca;
    };
    forget(node.driver_internal_info);
    const live = this.store.node(node.uuid);
    const d = live?.driver_internal_info;
    if (!d?.agent_secret_token && !d?.agent_url && !d?.agent_verify_ca) return;
    const stored = cloneJson(live as Node);
    forget(stored.driver_internal_info);
    this.store.putNode(stored);
  }

  /** Whether a task could start now: periodic work leaves a node for its next round when not. */
  get hasFreeWorker(): boolean {
    return this.busy < this.opts.workers;
  }

  /** Refuses up front when the pool is full, so a refused request changes nothing. */
  requireWorker(): void {
    if (this.busy >= this.opts.workers) {
      this.refusals++;
      throw new IronicError('NoFreeConductorWorker', 'Requested action cannot be performed due to lack of free conductor workers.');
    }
  }

  /** Runs `fn` with the lock held on a worker; the lock is released when it ends, whatever happens. */
  spawn(node: Node, what: string, fn: (n: Node) => Promise<void>): void {
    if (this.busy >= this.opts.workers) {
      this.refusals++;
      this.release(node);
      throw new IronicError('NoFreeConductorWorker', 'Requested action cannot be performed due to lack of free conductor workers.');
    }
    this.busy++;
    const started = performance.now();
    const p = (async () => {
      try {
        await fn(node);
      } catch (e) {
        this.log.error({ node: node.uuid, what, err: describe(e) }, 'task failed unexpectedly');
        node.last_error = `${what} failed: ${describe(e)}`;
      } finally {
        this.busy--;
        const st = this.taskStats.get(what) ?? { count: 0, seconds: 0 };
        st.count++;
        st.seconds += (performance.now() - started) / 1000;
        this.taskStats.set(what, st);
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

  applyEvent(node: Node, event: ProvisionEvent, target?: ProvisionState | null): void {
    const c = transition(node.provision_state, event, node.uuid);
    node.provision_state = c.provisionState;
    node.target_provision_state = target !== undefined ? target : c.targetProvisionState;
    node.provision_updated_at = now();
  }

  history(node: Node, severity: HistoryEvent['severity'], type: string, event: string): void {
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

  clearSteps(node: Node): void {
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

  fail(node: Node, type: string, msg: string): void {
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

  bootEnv(node: Node, set: DriverSet): BootEnv {
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

  async setPower(node: Node, set: DriverSet, target: 'power on' | 'power off' | 'rebooting'): Promise<void> {
    if (target === 'rebooting') await set.power.reboot(node, false);
    else await set.power.setPowerState(node, target);
    node.power_state = target === 'power off' ? 'power off' : 'power on';
  }

  /** Boots the agent for `purpose`: ramdisk prepared, then a (re)boot into it. */
  async bootAgent(node: Node, set: DriverSet, purpose: RamdiskPurpose): Promise<void> {
    // a fresh agent gets a fresh token: the old one (and its URL) die with the reboot
    this.dropAgent(node);
    this.save(node);
    await set.boot.prepareRamdisk(node, purpose, this.bootEnv(node, set));
    // an agent still running while the ramdisk was prepared (one that booted on its own, e.g. for
    // unmanaged inspection) may have looked up and taken the token meanwhile: it dies with the
    // reboot, and so does its token. Until the BMC has taken the reboot, lookups are refused as
    // NodeLocked (upstream's lookup needs the node's lock, which the rebooting task holds): else
    // the old agent could take the new agent's token in the last moments of its life, and the
    // agent the reboot starts would find none to take and never heartbeat. Agents retry a
    // refused lookup, the new one included.
    this.rebootingIntoAgent.add(node.uuid);
    try {
      this.dropAgent(node);
      this.save(node);
      await this.setPower(node, set, 'rebooting');
    } finally {
      this.rebootingIntoAgent.delete(node.uuid);
    }
  }

  /** Nodes whose task is rebooting them into a fresh agent: no lookup may take a token meanwhile. */
  readonly rebootingIntoAgent = new Set<string>();

  async tearDownAgent(node: Node, set: DriverSet): Promise<void> {
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
        const fresh = cloneJson(this.store.node(node.uuid) as Node);
        this.release(fresh);
      }
      throw e;
    }
  }

  startProvision(node: Node, target: string, args: ProvisionArgs, minor: number): void {
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
        this.spawn(node, 'cleaning', (n) => startCleaning(this, n, set, null, false));
        return;
      }
      case 'clean': {
        const planned = planManualSteps(node, set, args.clean_steps, 'clean_steps');
        this.applyEvent(node, 'clean', 'manageable');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'cleaning', (n) => startCleaning(this, n, set, planned, Boolean(args.disable_ramdisk)));
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
        this.spawn(node, 'inspection', (n) => startInspection(this, n, set));
        return;
      }
      case 'active':
      case 'deploy':
      case 'rebuild': {
        const event: ProvisionEvent = target === 'rebuild' ? 'rebuild' : 'deploy';
        validateDeploy(node, set);
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
        this.spawn(node, 'deployment', (n) => startDeploy(this, n, set, st === 'active' || st === 'deploy failed' || st === 'error'));
        return;
      }
      case 'deleted':
      case 'undeploy': {
        this.applyEvent(node, 'delete');
        node.last_error = null;
        this.save(node);
        this.spawn(node, 'tear down', (n) => startTearDown(this, n, set));
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
        validateDeploy(node, set, true);
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
        const planned = planManualSteps(node, set, args.service_steps, 'service_steps');
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

  // ---- verify ----

  async doVerify(node: Node, set: DriverSet): Promise<void> {
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

  // ---- cleaning ----

  async runConductorStep(node: Node, set: DriverSet, s: Step): Promise<void> {
    const fn = set.conductorSteps.get(`${s.interface}.${s.step}`);
    if (!fn) throw new IronicError('InvalidParameterValue', `Unknown step ${s.interface}.${s.step}`);
    await fn(node, s.args ?? {});
  }

  // ---- deployment ----

  // ---- agent API ----

  // ---- tear down ----

  // ---- power ----

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

  // ---- entry points of the process modules ----

  /** POST /v1/continue_inspection from the agent: finds the node by MAC or BMC address and completes inspection. */
  continueInspection(body: Record<string, unknown>, nodeUuid: string | null): { uuid: string; node: Node } {
    return continueInspection(this, body, nodeUuid);
  }

  /** GET /v1/lookup: the node whose ports match, in a state that expects an agent. */
  lookup(addresses: string[], nodeUuid: string | null): { node: Node; token: string | null } {
    return lookup(this, addresses, nodeUuid);
  }

  /** POST /v1/heartbeat/{node}: records the agent and moves the current step flow forward. */
  heartbeat(
    ident: string,
    body: { callback_url?: unknown; agent_token?: unknown; agent_version?: unknown; agent_verify_ca?: unknown },
  ): void {
    heartbeat(this, ident, body);
  }

  changePower(ident: string, target: string, timeout: number | undefined, minor: number): void {
    changePower(this, ident, target, timeout, minor);
  }

  /** Periodic power sync: the database follows the hardware; repeated failures put the node in maintenance. */
  async syncPowerStates(): Promise<void> {
    return syncPowerStates(this);
  }

  /** Wait states whose callback never came fail after their timeout, as Ironic's periodic check does. */
  checkTimeouts(): void {
    checkTimeouts(this);
  }
}
