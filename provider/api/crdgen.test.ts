// Every generated CRD schema is structural, as kube-apiserver requires before it accepts a CRD
// (apiextensions' structural-schema rules): one string `type` per node, nullability spelled
// `nullable: true`, and junctors (anyOf/allOf/oneOf/not) that only restate validation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crdFor, toStructural } from './crdgen.js';
import { kinds } from './index.js';

type Node = Record<string, unknown>;

const JUNCTORS = ['anyOf', 'allOf', 'oneOf', 'not'] as const;
// inside a junctor a schema may not declare these (they would make the structure ambiguous)
const FORBIDDEN_IN_JUNCTOR = ['type', 'description', 'default', 'additionalProperties', 'nullable', 'x-kubernetes-preserve-unknown-fields'];

function problems(s: Node, path: string, inJunctor: boolean, out: string[]): void {
  if ('type' in s && typeof s.type !== 'string') out.push(`${path}: type must be a single string, is ${JSON.stringify(s.type)}`);
  if (inJunctor) for (const k of FORBIDDEN_IN_JUNCTOR) if (k in s) out.push(`${path}: ${k} inside anyOf/allOf/oneOf/not`);
  if (!inJunctor && !('type' in s) && !s['x-kubernetes-int-or-string'] && !s['x-kubernetes-preserve-unknown-fields'])
    out.push(`${path}: no type (only int-or-string and preserve-unknown-fields may omit it)`);
  if (s.properties && s.type !== undefined && s.type !== 'object') out.push(`${path}: properties on a ${String(s.type)}`);
  if (s.items && s.type !== undefined && s.type !== 'array') out.push(`${path}: items on a ${String(s.type)}`);
  if (s.properties && s.additionalProperties) out.push(`${path}: properties and additionalProperties together`);
  for (const [k, v] of Object.entries((s.properties as Record<string, Node>) ?? {})) problems(v, `${path}.${k}`, inJunctor, out);
  if (s.items && typeof s.items === 'object') problems(s.items as Node, `${path}[]`, inJunctor, out);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    problems(s.additionalProperties as Node, `${path}{}`, inJunctor, out);
  for (const j of JUNCTORS) {
    const v = s[j];
    for (const [i, b] of (Array.isArray(v) ? v : v ? [v] : []).entries()) problems(b as Node, `${path}.${j}[${i}]`, true, out);
  }
}

describe('generated CRDs are structural', () => {
  for (const k of kinds) {
    it(`${k.plural}.${k.group}`, () => {
      const crd = crdFor(k) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Node } }> } };
      const out: string[] = [];
      for (const v of crd.spec.versions) problems(v.schema.openAPIV3Schema, `${v.name}`, false, out);
      assert.deepEqual(out, []);
    });
  }

  it('a nullable scalar becomes nullable: true, and a real type union is refused', () => {
    assert.deepEqual(toStructural({ type: ['string', 'null'] }), { type: 'string', nullable: true });
    assert.deepEqual(toStructural({ anyOf: [{ type: 'integer' }, { type: 'null' }] }), { type: 'integer', nullable: true });
    assert.throws(() => toStructural({ type: ['string', 'integer'] }), /several types/);
  });
});

describe('kubectl explain has something to say', () => {
  // every field of a metal3.io kind has a description (metadata aside: kubectl explains ObjectMeta itself)
  for (const k of kinds.filter((x) => x.group === 'metal3.io')) {
    it(`${k.plural}.${k.group}: every field described`, () => {
      const crd = crdFor(k) as { spec: { versions: Array<{ schema: { openAPIV3Schema: Node } }> } };
      const missing: string[] = [];
      let total = 0;
      const walk = (s: Node, path: string) => {
        for (const [name, p] of Object.entries((s.properties as Record<string, Node> | undefined) ?? {})) {
          if (path === '' && name === 'metadata') continue;
          total++;
          if (!p.description) missing.push(`${path}.${name}`);
          walk(p, `${path}.${name}`);
        }
        if (s.items && typeof s.items === 'object') walk(s.items as Node, `${path}[]`);
        if (s.additionalProperties && typeof s.additionalProperties === 'object') walk(s.additionalProperties as Node, `${path}{}`);
      };
      walk(crd.spec.versions[0].schema.openAPIV3Schema, '');
      assert.ok(total > 0);
      assert.deepEqual(missing, [], `${total - missing.length} of ${total} fields described`);
    });
  }
});
