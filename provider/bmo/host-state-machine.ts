// BareMetalHost provisioning states as data (upstream's host_state_machine.go): which action
// each state runs, the spec-driven transitions checked before it, the transitions taken when the
// action completes or fails, and where a deleted host goes from each state.
export type HostState =
  | ''
  | 'unmanaged'
  | 'registering'
  | 'match profile'
  | 'inspecting'
  | 'preparing'
  | 'ready'
  | 'available'
  | 'provisioning'
  | 'provisioned'
  | 'externally provisioned'
  | 'deprovisioning'
  | 'powering off before delete'
  | 'deleting';

export type Action =
  | 'none'
  | 'register'
  | 'inspect'
  | 'prepare'
  | 'steady' // available, provisioned, externally provisioned: adopt and manage power
  | 'provision'
  | 'deprovision'
  | 'powerOffForDelete'
  | 'delete';

/** Facts about the host a transition may depend on; computed once per reconcile. */
export type Guard =
  | 'always'
  | 'hasBMCDetails'
  | 'externallyProvisioned'
  | 'notExternallyProvisioned'
  | 'inspectionDisabled'
  | 'inspectRequested'
  | 'prepareNeeded'
  | 'provisionRequested'
  | 'imageChanged'
  /** a failed provisioning's backoff is over (or the spec or credentials changed since) */
  | 'retryDue'
  | 'deleting';

export interface Transition {
  from: HostState;
  /** before: checked ahead of the action; complete/failed: after the action reports so */
  on: 'before' | 'complete' | 'failed';
  when: Guard;
  to: HostState;
}

export const ACTIONS: Record<HostState, Action> = {
  '': 'none',
  unmanaged: 'none',
  registering: 'register',
  'match profile': 'none',
  inspecting: 'inspect',
  preparing: 'prepare',
  ready: 'steady',
  available: 'steady',
  provisioning: 'provision',
  provisioned: 'steady',
  'externally provisioned': 'steady',
  deprovisioning: 'deprovision',
  'powering off before delete': 'powerOffForDelete',
  deleting: 'delete',
};

const t = (from: HostState, on: Transition['on'], when: Guard, to: HostState): Transition => ({ from, on, when, to });

export const TRANSITIONS: Transition[] = [
  t('', 'before', 'hasBMCDetails', 'registering'),
  t('', 'before', 'always', 'unmanaged'),
  t('unmanaged', 'before', 'hasBMCDetails', 'registering'),
  t('registering', 'complete', 'externallyProvisioned', 'externally provisioned'),
  t('registering', 'complete', 'inspectionDisabled', 'preparing'),
  t('registering', 'complete', 'always', 'inspecting'),
  t('match profile', 'before', 'always', 'preparing'),
  t('inspecting', 'complete', 'always', 'preparing'),
  t('preparing', 'complete', 'always', 'available'),
  // the legacy name of available
  t('ready', 'before', 'always', 'available'),
  t('available', 'before', 'externallyProvisioned', 'externally provisioned'),
  t('available', 'before', 'inspectRequested', 'inspecting'),
  t('available', 'before', 'prepareNeeded', 'preparing'),
  t('available', 'before', 'provisionRequested', 'provisioning'),
  t('provisioning', 'before', 'imageChanged', 'deprovisioning'),
  // a failed provisioning stays in provisioning (errorType shown) for its backoff, then is undone and retried
  t('provisioning', 'before', 'retryDue', 'deprovisioning'),
  t('provisioning', 'complete', 'always', 'provisioned'),
  t('provisioned', 'before', 'imageChanged', 'deprovisioning'),
  t('externally provisioned', 'before', 'notExternallyProvisioned', 'provisioned'),
  t('deprovisioning', 'complete', 'deleting', 'powering off before delete'),
  t('deprovisioning', 'complete', 'always', 'available'),
  t('powering off before delete', 'complete', 'always', 'deleting'),
];

/** Where a host with a deletionTimestamp goes from each state (same state = stay and finish). */
export const ON_DELETE: Record<HostState, HostState> = {
  '': 'deleting',
  unmanaged: 'deleting',
  registering: 'deleting',
  'match profile': 'powering off before delete',
  inspecting: 'powering off before delete',
  preparing: 'powering off before delete',
  ready: 'powering off before delete',
  available: 'powering off before delete',
  provisioning: 'deprovisioning',
  provisioned: 'deprovisioning',
  'externally provisioned': 'powering off before delete',
  deprovisioning: 'deprovisioning',
  'powering off before delete': 'powering off before delete',
  deleting: 'deleting',
};

/** Upstream gives up on deprovisioning/powering off a deleted host after this many failures. */
export const MAX_DELETE_FAILURES = 3;

export function nextState(from: HostState, on: Transition['on'], holds: (g: Guard) => boolean): HostState | null {
  for (const tr of TRANSITIONS) if (tr.from === from && tr.on === on && holds(tr.when)) return tr.to;
  return null;
}
