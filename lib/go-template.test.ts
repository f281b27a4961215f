import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTemplate, renderTemplate } from './go-template.js';

const data = {
  builtin: { cluster: { name: 'c1', namespace: 'metal3' }, controlPlane: { version: 'v1.34.1', replicas: 3 } },
  image: { url: 'http://img/ubuntu.qcow2', checksum: 'abc' },
  flag: true,
  n: 2,
  list: ['a', 'b'],
  empty: '',
};

test('field chains, pipelines and builtins render as Go renders them', () => {
  assert.equal(renderTemplate('{{ .builtin.cluster.name }}-cp', data), 'c1-cp');
  assert.equal(renderTemplate('{{ .builtin.controlPlane.version | quote }}', data), '"v1.34.1"');
  assert.equal(renderTemplate('{{ printf "%s-%d" .builtin.cluster.name .n }}', data), 'c1-2');
  assert.equal(renderTemplate('{{ if eq .builtin.cluster.name "c1" }}yes{{ else }}no{{ end }}', data), 'yes');
  assert.equal(renderTemplate('{{ if .empty }}a{{ else if .flag }}b{{ else }}c{{ end }}', data), 'b');
  assert.equal(renderTemplate('{{- range $i, $v := .list }}[{{ $i }}={{ $v }}]{{ end -}}', data), '[0=a][1=b]');
  assert.equal(renderTemplate('{{ with .image }}{{ .url }}{{ end }}', data), 'http://img/ubuntu.qcow2');
  assert.equal(renderTemplate('{{ $x := .n }}{{ add $x 3 }}', data), '5');
  assert.equal(renderTemplate('{{ (index .list 1) | upper }}', data), 'B');
  assert.equal(renderTemplate('a  {{- /* note */ -}}  b', data), 'ab');
  assert.equal(renderTemplate('{{ .missing }}', data), '<no value>');
  assert.equal(renderTemplate('{{ default "x" .empty }}', data), 'x');
  assert.equal(renderTemplate('{{ and .flag (gt .n 1) }}', data), 'true');
  assert.equal(renderTemplate('{{ with .missing }}x{{ else }}none{{ end }}', data), 'none');
  assert.equal(renderTemplate('{{ range .empty }}x{{ else }}no items{{ end }}', data), 'no items');
});

test('errors as Go reports them', () => {
  assert.match(checkTemplate('{{ nosuchfn .x }}') ?? '', /function "nosuchfn" not defined/);
  assert.match(checkTemplate('{{ if .x }}') ?? '', /unexpected EOF/);
  assert.match(checkTemplate('{{ .x ') ?? '', /unclosed action/);
  assert.equal(checkTemplate('{{ .builtin.cluster.name }}'), undefined);
  assert.throws(() => renderTemplate('{{ .nope }}', data, { missingKeyError: true }), /map has no entry for key "nope"/);
});
