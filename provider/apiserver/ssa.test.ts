import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from './errors.js';
import type { JSONSchemaProps } from './registry.js';
import { apply, fieldSet, fromFieldsV1, recordUpdate, toFieldsV1 } from './ssa.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer' },
        ports: {
          type: 'array',
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: { type: 'object', properties: { name: { type: 'string' }, port: { type: 'integer' } } },
        },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
      },
    },
  },
};

const base = (spec: Record<string, unknown>) => ({ apiVersion: 'x.io/v1', kind: 'T', metadata: { name: 'a' }, spec });
const now = '2026-01-01T00:00:00Z';

describe('server-side apply', () => {
  it('round-trips field sets through FieldsV1', () => {
    const s = fieldSet(base({ replicas: 1, ports: [{ name: 'http', port: 80 }], tags: ['a'] }), schema);
    assert.deepEqual(fromFieldsV1(toFieldsV1(s)), s);
    const f = toFieldsV1(s) as { 'f:spec': Record<string, Record<string, unknown>> };
    assert.ok(f['f:spec']['f:ports']['k:{"name":"http"}']);
    assert.ok(f['f:spec']['f:tags']['v:"a"']);
  });

  it('merges list-map items from different managers and removes only what a manager dropped', () => {
    let o = apply({
      live: undefined,
      applied: base({ ports: [{ name: 'http', port: 80 }] }),
      manager: 'a',
      force: false,
      schema,
      apiVersion: 'x.io/v1',
      now,
    });
    o = apply({
      live: o,
      applied: base({ ports: [{ name: 'https', port: 443 }] }),
      manager: 'b',
      force: false,
      schema,
      apiVersion: 'x.io/v1',
      now,
    });
    assert.deepEqual(
      ((o.spec as { ports: Array<{ name: string }> }).ports ?? []).map((p) => p.name),
      ['http', 'https'],
    );
    // manager a stops applying its port: it is removed, b's stays
    o = apply({ live: o, applied: base({ replicas: 2 }), manager: 'a', force: false, schema, apiVersion: 'x.io/v1', now });
    assert.deepEqual(
      ((o.spec as { ports: Array<{ name: string }> }).ports ?? []).map((p) => p.name),
      ['https'],
    );
  });

  it('reports conflicts unless forced', () => {
    const o = apply({ live: undefined, applied: base({ replicas: 1 }), manager: 'a', force: false, schema, apiVersion: 'x.io/v1', now });
    assert.throws(
      () => apply({ live: o, applied: base({ replicas: 3 }), manager: 'b', force: false, schema, apiVersion: 'x.io/v1', now }),
      (e: unknown) => e instanceof ApiError && e.code === 409 && /conflict with "a"/.test(e.message),
    );
    // same value: shared ownership, no conflict
    apply({ live: o, applied: base({ replicas: 1 }), manager: 'b', force: false, schema, apiVersion: 'x.io/v1', now });
    const forced = apply({ live: o, applied: base({ replicas: 3 }), manager: 'b', force: true, schema, apiVersion: 'x.io/v1', now });
    assert.equal((forced.spec as { replicas: number }).replicas, 3);
  });

  it('records Update ownership of changed fields and takes them from other managers', () => {
    const applied = apply({
      live: undefined,
      applied: base({ replicas: 1, tags: ['a'] }),
      manager: 'a',
      force: false,
      schema,
      apiVersion: 'x.io/v1',
      now,
    });
    const next = structuredClone(applied);
    (next.spec as { replicas: number }).replicas = 5;
    const mf = recordUpdate(applied, next, 'kubectl-edit', schema, 'x.io/v1', now);
    const edit = mf.find((m) => m.manager === 'kubectl-edit');
    const a = mf.find((m) => m.manager === 'a');
    assert.ok(edit && a, 'both managers keep an entry');
    assert.ok((edit?.fieldsV1['f:spec'] as Record<string, unknown> | undefined)?.['f:replicas']);
    assert.equal((a?.fieldsV1['f:spec'] as Record<string, unknown> | undefined)?.['f:replicas'], undefined);
    assert.ok((a?.fieldsV1['f:spec'] as Record<string, unknown> | undefined)?.['f:tags']);
  });
});
