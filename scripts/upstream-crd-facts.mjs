#!/usr/bin/env node
// Writes test/fixtures/upstream-bmo-crd-facts.json: for each metal3.io CRD of upstream's Bare Metal
// Operator, every field's path with its type, enum, default, format and whether it is required —
// facts only, no descriptions. test/bmo-crd-compat.test.ts compares Ferrite's generated CRDs with it.
// Refresh from a released version (after `go mod download github.com/metal3-io/baremetal-operator@VERSION`):
//   node scripts/upstream-crd-facts.mjs v0.13.2
// or from a clone of the repository at a commit (upstream's main runs ahead of its releases):
//   node scripts/upstream-crd-facts.mjs --git /path/to/baremetal-operator COMMIT
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

const root = join(import.meta.dirname, '..');
const CRDS = 'config/base/crds/bases';
let source;
let crdFiles; // [name, text]
if (process.argv[2] === '--git') {
  const [repo, rev = 'HEAD'] = process.argv.slice(3);
  const git = (...args) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const commit = git('rev-parse', rev).trim();
  source = `github.com/metal3-io/baremetal-operator@${commit} ${CRDS}`;
  crdFiles = git('ls-tree', '--name-only', `${commit}:${CRDS}`)
    .split('\n')
    .filter((x) => x.startsWith('metal3.io_'))
    .sort()
    .map((f) => [f, git('show', `${commit}:${CRDS}/${f}`)]);
} else {
  const version = process.argv[2] ?? 'v0.13.2';
  const dir = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', `github.com/metal3-io/baremetal-operator@${version}`], {
      encoding: 'utf8',
      cwd: '/tmp',
    }),
  ).Dir;
  source = `github.com/metal3-io/baremetal-operator@${version} ${CRDS}`;
  crdFiles = readdirSync(join(dir, CRDS))
    .filter((x) => x.startsWith('metal3.io_'))
    .sort()
    .map((f) => [f, readFileSync(join(dir, CRDS, f), 'utf8')]);
}

function facts(s, path, required, out) {
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    const p = `${path}.${k}`;
    out[p] = {
      type: v.type ?? null,
      ...(v.enum ? { enum: v.enum } : {}),
      ...(v.default !== undefined ? { default: v.default } : {}),
      ...(v.format ? { format: v.format } : {}),
      ...(required.includes(k) ? { required: true } : {}),
    };
    facts(v, p, v.required ?? [], out);
  }
  if (s.items && typeof s.items === 'object') facts(s.items, `${path}[]`, s.items.required ?? [], out);
}

const out = { source, kinds: {}, columns: {}, shortNames: {} };
for (const [, text] of crdFiles) {
  const crd = YAML.parse(text);
  for (const v of crd.spec.versions) {
    const fields = {};
    facts(v.schema.openAPIV3Schema, '', v.schema.openAPIV3Schema.required ?? [], fields);
    out.kinds[`${crd.spec.names.kind}/${v.name}`] = fields;
    // kubectl get's columns: name, JSONPath, type, priority
    out.columns[`${crd.spec.names.kind}/${v.name}`] = (v.additionalPrinterColumns ?? []).map((c) => [
      c.name,
      c.jsonPath,
      c.type,
      c.priority ?? 0,
    ]);
  }
  out.shortNames[crd.spec.names.kind] = crd.spec.names.shortNames ?? [];
}
const file = join(root, 'test', 'fixtures', 'upstream-bmo-crd-facts.json');
writeFileSync(file, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${file}: ${Object.keys(out.kinds).length} kinds`);
