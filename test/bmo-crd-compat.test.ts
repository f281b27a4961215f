// Ferrite's metal3.io CRDs field by field beside upstream's Bare Metal Operator's: every upstream
// field exists with the same type, enum, default, format and required-ness, and Ferrite has no
// field upstream lacks — except the differences listed below, each with its reason. The upstream
// facts are a snapshot of upstream's main (test/fixtures/upstream-bmo-crd-facts.json, no
// descriptions; its `source` names the commit); refresh it with
// `node scripts/upstream-crd-facts.mjs --git CLONE COMMIT` (or `… VERSION` for a release).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { crdFor } from '../provider/api/crdgen.js';
import { kinds } from '../provider/api/index.js';
import { ROOT } from './helpers/apiserver.js';

interface Fact {
  type: string | null;
  enum?: unknown[];
  default?: unknown;
  format?: string;
  required?: boolean;
}

const snapshot = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'upstream-bmo-crd-facts.json'), 'utf8')) as {
  kinds: Record<string, Record<string, Fact>>;
  columns: Record<string, Array<[string, string, string, number]>>;
  shortNames: Record<string, string[]>;
};

// path → why Ferrite differs (a prefix ending in `.` covers everything under it)
const KNOWN: Record<string, Record<string, string>> = {
  'BareMetalHost/v1alpha1': {
    // kubebuilder writes `enum: [true, false]` for these booleans; a boolean takes nothing else anyway
    '.spec.firmware.sriovEnabled': 'upstream spells the boolean as an enum of true and false',
    '.spec.firmware.virtualizationEnabled': 'as above',
    '.spec.firmware.simultaneousMultithreadingEnabled': 'as above',
    '.status.provisioning.firmware.sriovEnabled': 'as above',
    '.status.provisioning.firmware.virtualizationEnabled': 'as above',
    '.status.provisioning.firmware.simultaneousMultithreadingEnabled': 'as above',
    '.status.errorType':
      "Ferrite's operator clears an error with an empty errorType and records `detach error` (upstream sets it too, though its enum lacks it)",
    '.status.provisioning.state': "Ferrite's CRD names the states the operator uses (upstream takes any string)",
    // Go serializes these status fields even when empty, so upstream's CRD requires them; Ferrite's
    // operator leaves empty ones out, and requiring them would refuse its status writes
    '.status.errorCount': 'required upstream (always serialized by Go), optional here',
    '.status.errorMessage': 'as above',
    '.status.operationalStatus': 'as above',
    '.status.poweredOn': 'as above',
    '.status.provisioning': 'as above',
    '.status.provisioning.image.url': 'as above',
  },
};

function ours(kind: string, version: string): Record<string, Fact> {
  const k = kinds.find((x) => x.group === 'metal3.io' && x.kind === kind);
  if (!k) return {};
  const crd = crdFor(k) as { spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: Record<string, unknown> } }> } };
  const v = crd.spec.versions.find((x) => x.name === version);
  const out: Record<string, Fact> = {};
  const walk = (s: Record<string, unknown>, path: string, required: string[]) => {
    for (const [name, p] of Object.entries((s.properties as Record<string, Record<string, unknown>>) ?? {})) {
      const at = `${path}.${name}`;
      out[at] = {
        type: (p.type as string) ?? null,
        ...(p.enum ? { enum: p.enum as unknown[] } : {}),
        ...(p.default !== undefined ? { default: p.default } : {}),
        ...(p.format ? { format: p.format as string } : {}),
        ...(required.includes(name) ? { required: true } : {}),
      };
      walk(p, at, (p.required as string[]) ?? []);
    }
    const items = s.items as Record<string, unknown> | undefined;
    if (items && typeof items === 'object') walk(items, `${path}[]`, (items.required as string[]) ?? []);
  };
  if (v) walk(v.schema.openAPIV3Schema, '', (v.schema.openAPIV3Schema.required as string[]) ?? []);
  return out;
}

const explained = (kind: string, path: string) =>
  Object.entries(KNOWN[kind] ?? {}).some(([p]) => path === p || (p.endsWith('.') && path.startsWith(p)));

describe("metal3.io CRDs match upstream's field by field", () => {
  for (const [key, up] of Object.entries(snapshot.kinds)) {
    it(key, () => {
      const [kind, version] = key.split('/');
      const mine = ours(kind, version);
      assert.ok(Object.keys(mine).length > 0, `Ferrite serves ${key}`);
      const problems: string[] = [];
      for (const [path, fact] of Object.entries(up)) {
        if (explained(key, path)) continue;
        const m = mine[path];
        if (!m) problems.push(`${path}: missing (upstream ${JSON.stringify(fact)})`);
        else if (!isDeepStrictEqual(m, fact)) problems.push(`${path}: upstream ${JSON.stringify(fact)}, Ferrite ${JSON.stringify(m)}`);
      }
      for (const path of Object.keys(mine)) if (!(path in up) && !explained(key, path)) problems.push(`${path}: not upstream's`);
      assert.deepEqual(problems, []);
    });
  }

  it("kubectl get shows upstream's columns and takes upstream's short names, for every kind", () => {
    const problems: string[] = [];
    for (const [key, up] of Object.entries(snapshot.columns)) {
      const [kind, version] = key.split('/');
      const k = kinds.find((x) => x.group === 'metal3.io' && x.kind === kind);
      const crd = k
        ? (crdFor(k) as { spec: { versions: Array<{ name: string; additionalPrinterColumns?: Array<Record<string, unknown>> }> } })
        : null;
      const mine = (crd?.spec.versions.find((v) => v.name === version)?.additionalPrinterColumns ?? []).map((c) => [
        c.name,
        c.jsonPath,
        c.type,
        c.priority ?? 0,
      ]);
      if (!isDeepStrictEqual(mine, up)) problems.push(`${key}: upstream ${JSON.stringify(up)}, Ferrite ${JSON.stringify(mine)}`);
    }
    for (const [kind, up] of Object.entries(snapshot.shortNames)) {
      const mine = kinds.find((x) => x.group === 'metal3.io' && x.kind === kind)?.shortNames ?? [];
      if (!isDeepStrictEqual(mine, up))
        problems.push(`${kind} short names: upstream ${JSON.stringify(up)}, Ferrite ${JSON.stringify(mine)}`);
    }
    assert.deepEqual(problems, []);
  });

  it('every listed difference still differs', () => {
    const stale: string[] = [];
    for (const [key, paths] of Object.entries(KNOWN)) {
      const [kind, version] = key.split('/');
      const mine = ours(kind, version);
      const up = snapshot.kinds[key] ?? {};
      for (const p of Object.keys(paths)) {
        const hits = [...new Set([...Object.keys(mine), ...Object.keys(up)])].filter(
          (x) => x === p || (p.endsWith('.') && x.startsWith(p)),
        );
        if (!hits.some((x) => !isDeepStrictEqual(mine[x], up[x]))) stale.push(`${key} ${p}`);
      }
    }
    assert.deepEqual(stale, []);
  });
});
