import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import {
  fromLabelSelectorObject,
  matchesSelectorObject,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  supportedFields,
} from './selectors.js';

describe('label selectors', () => {
  const l = { app: 'web', tier: 'front', 'example.com/role': 'x', replicas: '3' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app!=web', false],
    ['app in (web, db)', true],
    ['app notin (web)', false],
    ['tier,app=web', true],
    ['!tier', false],
    ['missing', false],
    ['!missing', true],
    ['example.com/role=x,app in (web)', true],
    ['app=db', false],
    ['replicas>2', true],
    ['replicas<3', false],
    ['app>1', false],
    ['missing<5', false],
  ];
  for (const [sel, want] of cases) {
    it(`"${sel}" → ${want}`, () => assert.equal(matchLabels(parseLabelSelector(sel), l), want));
  }
  it('rejects malformed selectors with BadRequest', () => {
    for (const bad of ['app in (web', 'a b c', 'Bad Key=1', 'app=va lue', 'replicas>x']) {
      assert.throws(
        () => parseLabelSelector(bad),
        (e: unknown) => e instanceof ApiError && e.code === 400,
        bad,
      );
    }
  });
  it('converts metav1.LabelSelector objects', () => {
    const sel = fromLabelSelectorObject({
      matchLabels: { app: 'web' },
      matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }],
    });
    assert.equal(matchLabels(sel, l), true);
    assert.equal(matchLabels(sel, { app: 'web', tier: 'back' }), false);
  });
  it("accepts apimachinery's selection.Operator spelling (CAPM3 hostSelector) and selects nothing on an unknown operator", () => {
    const m = (operator: string, values?: string[]) =>
      matchesSelectorObject(l, { matchExpressions: [{ key: 'replicas', operator, values }] });
    assert.equal(m('in', ['3']), true);
    assert.equal(m('notin', ['3']), false);
    assert.equal(m('exists'), true);
    assert.equal(m('!'), false);
    assert.equal(m('DoesNotExist'), false);
    assert.equal(m('=', ['3']), true);
    assert.equal(m('==', ['4']), false);
    assert.equal(m('!=', ['4']), true);
    assert.equal(m('gt', ['2']), true);
    assert.equal(m('lt', ['2']), false);
    assert.equal(m('gt', ['two']), false);
    assert.equal(m('Sometimes', ['3']), false);
    assert.equal(matchesSelectorObject(l, undefined), true, 'no selector selects everything');
  });
});

describe('field selectors', () => {
  it('accepts the fields a kind supports and rejects the rest', () => {
    const ev = supportedFields('', 'events');
    assert.deepEqual(parseFieldSelector('involvedObject.name=a,type!=Warning', ev), [
      { field: 'involvedObject.name', op: '=', value: 'a' },
      { field: 'type', op: '!=', value: 'Warning' },
    ]);
    assert.throws(() => parseFieldSelector('spec.foo=1', supportedFields('x.io', 'things')), /field label not supported: spec.foo/);
  });
});
