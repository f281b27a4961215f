// The provision state machine against facts about upstream Ironic's: the paths BMO drives nodes
// along, refusals, targets and the state groups the API and conductor consult.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  API_VERBS,
  InvalidStateRequested,
  type ProvisionEvent,
  type ProvisionState,
  ProvisionStates as S,
  STABLE_STATES,
  TARGET_STATE,
  TRANSITIONS,
  transition,
} from './states.js';

function walk(from: ProvisionState, events: ProvisionEvent[]): ProvisionState[] {
  const seen: ProvisionState[] = [];
  let s = from;
  for (const e of events) {
    s = transition(s, e, 'n').provisionState;
    seen.push(s);
  }
  return seen;
}

describe('Ironic provision state machine', () => {
  it('follows the enroll → manageable → available → active → available life cycle BMO drives', () => {
    assert.deepEqual(
      walk(S.ENROLL, [
        'manage',
        'done',
        'inspect',
        'wait',
        'done',
        'provide',
        'wait',
        'resume',
        'done',
        'deploy',
        'wait',
        'resume',
        'done',
        'delete',
        'clean',
        'done',
      ]),
      [
        'verifying',
        'manageable',
        'inspecting',
        'inspect wait',
        'manageable',
        'cleaning',
        'clean wait',
        'cleaning',
        'available',
        'deploying',
        'wait call-back',
        'deploying',
        'active',
        'deleting',
        'cleaning',
        'available',
      ],
    );
  });

  it('failed verification returns to enroll; failures have their own states and ways out', () => {
    assert.equal(transition(S.VERIFYING, 'fail').provisionState, 'enroll');
    assert.deepEqual(walk(S.DEPLOYING, ['fail', 'rebuild']), ['deploy failed', 'deploying']);
    assert.deepEqual(walk(S.DEPLOYWAIT, ['abort', 'delete', 'fail', 'delete']), ['deploy failed', 'deleting', 'error', 'deleting']);
    assert.deepEqual(walk(S.CLEANWAIT, ['abort', 'manage']), ['clean failed', 'manageable']);
    assert.deepEqual(walk(S.INSPECTWAIT, ['abort', 'inspect']), ['inspect failed', 'inspecting']);
    assert.deepEqual(walk(S.MANAGEABLE, ['adopt', 'fail', 'adopt', 'done']), ['adopting', 'adopt failed', 'adopting', 'active']);
    assert.deepEqual(walk(S.ACTIVE, ['service', 'hold', 'unhold', 'abort', 'abort']), [
      'servicing',
      'service hold',
      'service wait',
      'service failed',
      'active',
    ]);
  });

  it('refuses what Ironic refuses, with its message', () => {
    assert.throws(
      () => transition(S.AVAILABLE, 'provide', 'node-0'),
      (e: unknown) =>
        e instanceof InvalidStateRequested &&
        e.message === 'The requested action "provide" can not be performed on node "node-0" while it is in state "available".',
    );
    assert.throws(() => transition(S.ENROLL, 'deploy'), InvalidStateRequested);
    assert.throws(() => transition(S.ACTIVE, 'manage'), InvalidStateRequested);
    assert.throws(() => transition(S.CLEANING, 'abort'), InvalidStateRequested, 'only the wait states can be aborted');
  });

  it('transient states carry their target; stable states have none', () => {
    assert.deepEqual(transition(S.AVAILABLE, 'deploy'), { provisionState: 'deploying', targetProvisionState: 'active' });
    assert.deepEqual(transition(S.ACTIVE, 'delete'), { provisionState: 'deleting', targetProvisionState: 'available' });
    assert.equal(transition(S.CLEANING, 'done').targetProvisionState, null);
    for (const s of STABLE_STATES) assert.equal(TARGET_STATE[s], undefined);
    for (const s of Object.keys(TRANSITIONS) as ProvisionState[]) {
      if (!STABLE_STATES.includes(s)) assert.ok(TARGET_STATE[s], `${s} has a target`);
    }
  });

  it('every API verb maps to an event, and every transition lands on a known state', () => {
    assert.equal(API_VERBS.active, 'deploy');
    assert.equal(API_VERBS.undeploy, 'delete');
    assert.equal(API_VERBS.deleted, 'delete');
    for (const row of Object.values(TRANSITIONS))
      for (const to of Object.values(row)) assert.ok(to && to in TRANSITIONS, `${to} is a state`);
    assert.equal(Object.keys(TRANSITIONS).length, 30);
  });
});
