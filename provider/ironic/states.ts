// Ironic's node provision state machine as data: state names, API verbs, the target state each
// transient state works toward, and every (state, event) → state transition, as upstream Ironic
// defines them (ironic/common/states.py and state_machine.py). The conductor only moves nodes
// through `transition()`, so a node can never reach a state Ironic could not.

export const ProvisionStates = {
  ENROLL: 'enroll',
  VERIFYING: 'verifying',
  MANAGEABLE: 'manageable',
  AVAILABLE: 'available',
  ACTIVE: 'active',
  DEPLOYWAIT: 'wait call-back',
  DEPLOYING: 'deploying',
  DEPLOYFAIL: 'deploy failed',
  DEPLOYHOLD: 'deploy hold',
  DELETING: 'deleting',
  CLEANING: 'cleaning',
  CLEANWAIT: 'clean wait',
  CLEANFAIL: 'clean failed',
  CLEANHOLD: 'clean hold',
  ERROR: 'error',
  INSPECTING: 'inspecting',
  INSPECTFAIL: 'inspect failed',
  INSPECTWAIT: 'inspect wait',
  ADOPTING: 'adopting',
  ADOPTFAIL: 'adopt failed',
  RESCUE: 'rescue',
  RESCUEFAIL: 'rescue failed',
  RESCUEWAIT: 'rescue wait',
  RESCUING: 'rescuing',
  UNRESCUEFAIL: 'unrescue failed',
  UNRESCUING: 'unrescuing',
  SERVICING: 'servicing',
  SERVICEWAIT: 'service wait',
  SERVICEFAIL: 'service failed',
  SERVICEHOLD: 'service hold',
} as const;

export type ProvisionState = (typeof ProvisionStates)[keyof typeof ProvisionStates];
const S = ProvisionStates;

export type ProvisionEvent =
  | 'manage'
  | 'provide'
  | 'inspect'
  | 'deploy'
  | 'rebuild'
  | 'delete'
  | 'clean'
  | 'abort'
  | 'adopt'
  | 'rescue'
  | 'unrescue'
  | 'unhold'
  | 'service'
  | 'hold'
  | 'wait'
  | 'resume'
  | 'done'
  | 'fail';

/** `target` values of PUT /v1/nodes/{node}/states/provision and the event each one fires. */
export const API_VERBS: Record<string, ProvisionEvent> = {
  active: 'deploy',
  deploy: 'deploy',
  deleted: 'delete',
  undeploy: 'delete',
  manage: 'manage',
  provide: 'provide',
  inspect: 'inspect',
  abort: 'abort',
  clean: 'clean',
  adopt: 'adopt',
  rescue: 'rescue',
  unrescue: 'unrescue',
  unhold: 'unhold',
  service: 'service',
  rebuild: 'rebuild',
};

export const STABLE_STATES: readonly ProvisionState[] = [S.ENROLL, S.MANAGEABLE, S.AVAILABLE, S.ACTIVE, S.ERROR, S.RESCUE];

/** The state a transient state is working toward (`target_provision_state`); stable states have none. */
export const TARGET_STATE: Partial<Record<ProvisionState, ProvisionState>> = {
  [S.VERIFYING]: S.MANAGEABLE,
  [S.DEPLOYING]: S.ACTIVE,
  [S.DEPLOYWAIT]: S.ACTIVE,
  [S.DEPLOYFAIL]: S.ACTIVE,
  [S.DEPLOYHOLD]: S.ACTIVE,
  [S.CLEANING]: S.AVAILABLE,
  [S.CLEANWAIT]: S.AVAILABLE,
  [S.CLEANFAIL]: S.AVAILABLE,
  [S.CLEANHOLD]: S.AVAILABLE,
  [S.DELETING]: S.AVAILABLE,
  [S.INSPECTING]: S.MANAGEABLE,
  [S.INSPECTFAIL]: S.MANAGEABLE,
  [S.INSPECTWAIT]: S.MANAGEABLE,
  [S.ADOPTING]: S.ACTIVE,
  [S.ADOPTFAIL]: S.ACTIVE,
  [S.RESCUING]: S.RESCUE,
  [S.RESCUEWAIT]: S.RESCUE,
  [S.RESCUEFAIL]: S.RESCUE,
  [S.UNRESCUING]: S.ACTIVE,
  [S.UNRESCUEFAIL]: S.ACTIVE,
  [S.SERVICING]: S.ACTIVE,
  [S.SERVICEWAIT]: S.ACTIVE,
  [S.SERVICEFAIL]: S.ACTIVE,
  [S.SERVICEHOLD]: S.ACTIVE,
};

type Row = Partial<Record<ProvisionEvent, ProvisionState>>;

/** state → event → next state */
export const TRANSITIONS: Record<ProvisionState, Row> = {
  [S.ENROLL]: { manage: S.VERIFYING },
  [S.VERIFYING]: { done: S.MANAGEABLE, fail: S.ENROLL },
  [S.MANAGEABLE]: { provide: S.CLEANING, clean: S.CLEANING, inspect: S.INSPECTING, adopt: S.ADOPTING },
  [S.AVAILABLE]: { deploy: S.DEPLOYING, manage: S.MANAGEABLE },
  [S.DEPLOYING]: { fail: S.DEPLOYFAIL, wait: S.DEPLOYWAIT, hold: S.DEPLOYHOLD, done: S.ACTIVE },
  [S.DEPLOYWAIT]: { hold: S.DEPLOYHOLD, resume: S.DEPLOYING, fail: S.DEPLOYFAIL, abort: S.DEPLOYFAIL, delete: S.DELETING },
  [S.DEPLOYHOLD]: { unhold: S.DEPLOYWAIT, abort: S.DEPLOYFAIL },
  [S.DEPLOYFAIL]: { rebuild: S.DEPLOYING, deploy: S.DEPLOYING, delete: S.DELETING },
  [S.ACTIVE]: { rebuild: S.DEPLOYING, delete: S.DELETING, rescue: S.RESCUING, service: S.SERVICING },
  [S.DELETING]: { fail: S.ERROR, clean: S.CLEANING },
  [S.CLEANING]: { done: S.AVAILABLE, fail: S.CLEANFAIL, wait: S.CLEANWAIT, hold: S.CLEANHOLD, manage: S.MANAGEABLE },
  [S.CLEANWAIT]: { fail: S.CLEANFAIL, abort: S.CLEANFAIL, hold: S.CLEANHOLD, resume: S.CLEANING },
  [S.CLEANHOLD]: { abort: S.CLEANFAIL, unhold: S.CLEANWAIT },
  [S.CLEANFAIL]: { manage: S.MANAGEABLE },
  [S.ERROR]: { rebuild: S.DEPLOYING, delete: S.DELETING },
  [S.INSPECTING]: { done: S.MANAGEABLE, fail: S.INSPECTFAIL, wait: S.INSPECTWAIT },
  [S.INSPECTWAIT]: { done: S.MANAGEABLE, fail: S.INSPECTFAIL, abort: S.INSPECTFAIL, resume: S.INSPECTING },
  [S.INSPECTFAIL]: { manage: S.MANAGEABLE, inspect: S.INSPECTING },
  [S.ADOPTING]: { done: S.ACTIVE, fail: S.ADOPTFAIL },
  [S.ADOPTFAIL]: { adopt: S.ADOPTING, manage: S.MANAGEABLE },
  [S.RESCUING]: { done: S.RESCUE, wait: S.RESCUEWAIT, fail: S.RESCUEFAIL },
  [S.RESCUEWAIT]: { resume: S.RESCUING, fail: S.RESCUEFAIL, abort: S.RESCUEFAIL, delete: S.DELETING },
  [S.RESCUE]: { rescue: S.RESCUING, delete: S.DELETING, unrescue: S.UNRESCUING },
  [S.RESCUEFAIL]: { rescue: S.RESCUING, unrescue: S.UNRESCUING, delete: S.DELETING },
  [S.UNRESCUING]: { done: S.ACTIVE, fail: S.UNRESCUEFAIL },
  [S.UNRESCUEFAIL]: { rescue: S.RESCUING, unrescue: S.UNRESCUING, delete: S.DELETING },
  [S.SERVICING]: { done: S.ACTIVE, fail: S.SERVICEFAIL, wait: S.SERVICEWAIT, hold: S.SERVICEHOLD },
  [S.SERVICEWAIT]: { hold: S.SERVICEHOLD, resume: S.SERVICING, fail: S.SERVICEFAIL, abort: S.SERVICEFAIL, delete: S.DELETING },
  [S.SERVICEHOLD]: { service: S.SERVICING, unhold: S.SERVICEWAIT, fail: S.SERVICEFAIL, abort: S.SERVICEFAIL },
  [S.SERVICEFAIL]: {
    service: S.SERVICING,
    rescue: S.RESCUING,
    wait: S.SERVICEWAIT,
    hold: S.SERVICEHOLD,
    delete: S.DELETING,
    abort: S.ACTIVE,
  },
};

/** Transient states in which PATCH of a node is still allowed. */
export const UPDATE_ALLOWED_STATES: readonly ProvisionState[] = [
  S.DEPLOYFAIL,
  S.INSPECTING,
  S.INSPECTFAIL,
  S.INSPECTWAIT,
  S.CLEANFAIL,
  S.ERROR,
  S.VERIFYING,
  S.ADOPTFAIL,
  S.RESCUEFAIL,
  S.UNRESCUEFAIL,
  S.SERVICEHOLD,
  S.SERVICEFAIL,
];

/** States in which a node may be deleted (plus any state in maintenance, and available by default). */
export const DELETE_ALLOWED_STATES: readonly ProvisionState[] = [S.MANAGEABLE, S.ENROLL, S.ADOPTFAIL];

/** Work in these states cannot resume after a conductor dies: they fail on takeover. */
export const STUCK_STATES_TREATED_AS_FAIL: readonly ProvisionState[] = [
  S.DEPLOYING,
  S.CLEANING,
  S.VERIFYING,
  S.INSPECTING,
  S.ADOPTING,
  S.RESCUING,
  S.UNRESCUING,
  S.DELETING,
  S.SERVICING,
];

/** States in which the agent's lookup is answered. */
export const LOOKUP_ALLOWED_STATES: readonly ProvisionState[] = [
  S.DEPLOYING,
  S.DEPLOYWAIT,
  S.CLEANING,
  S.CLEANWAIT,
  S.INSPECTING,
  S.INSPECTWAIT,
  S.RESCUING,
  S.RESCUEWAIT,
  S.SERVICEWAIT,
];

export const FAILURE_STATES: readonly ProvisionState[] = [
  S.DEPLOYFAIL,
  S.CLEANFAIL,
  S.INSPECTFAIL,
  S.RESCUEFAIL,
  S.UNRESCUEFAIL,
  S.ADOPTFAIL,
  S.SERVICEFAIL,
];

export class InvalidStateRequested extends Error {
  readonly reason = 'InvalidStateRequested';
  constructor(
    readonly state: ProvisionState,
    readonly event: string,
    node: string,
  ) {
    super(`The requested action "${event}" can not be performed on node "${node}" while it is in state "${state}".`);
  }
}

export function isProvisionState(s: string): s is ProvisionState {
  return s in TRANSITIONS;
}

/** The state `event` leads to from `state`, or null when Ironic does not allow it. */
export function nextState(state: ProvisionState, event: ProvisionEvent): ProvisionState | null {
  return TRANSITIONS[state]?.[event] ?? null;
}

export interface StateChange {
  provisionState: ProvisionState;
  targetProvisionState: ProvisionState | null;
}

/** Applies `event`; throws InvalidStateRequested (Ironic answers 400) when it is not allowed. */
export function transition(state: ProvisionState, event: ProvisionEvent, node = ''): StateChange {
  const next = nextState(state, event);
  if (!next) throw new InvalidStateRequested(state, event, node);
  return { provisionState: next, targetProvisionState: TARGET_STATE[next] ?? null };
}
