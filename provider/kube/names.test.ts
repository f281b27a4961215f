// apimachinery's name and label rules as kube-apiserver v1.37 words them (the differential corpus
// in test/real-kube.test.ts holds the embedded server's answers to the real one's).
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { dns1123SubdomainProblems, labelValueProblems, qualifiedNameProblems } from './names.js';

it('label keys: an optional DNS subdomain prefix, a name part of 63 bytes at most', () => {
  assert.deepEqual(qualifiedNameProblems('app'), []);
  assert.deepEqual(qualifiedNameProblems('cluster.x-k8s.io/cluster-name'), []);
  assert.match(qualifiedNameProblems('bad key!')[0], /^name part must consist of alphanumeric characters/);
  assert.deepEqual(qualifiedNameProblems('/app'), ['prefix part must be non-empty']);
  assert.match(qualifiedNameProblems('Example.COM/app')[0], /^prefix part a lowercase RFC 1123 subdomain/);
  assert.deepEqual(qualifiedNameProblems(`k${'x'.repeat(63)}`), ['name part must be no more than 63 bytes']);
  assert.match(
    qualifiedNameProblems('a/b/c', 'label key')[0],
    /^a valid label key must consist .* with an optional DNS subdomain prefix and '\/'/,
  );
  assert.match(qualifiedNameProblems('a/b/c')[0], /^a qualified name must consist/);
});

it('label values may be empty; names are DNS subdomains', () => {
  assert.deepEqual(labelValueProblems(''), []);
  assert.deepEqual(labelValueProblems('v1.2_3-x'), []);
  assert.match(labelValueProblems('-x')[0], /^a valid label must be an empty string or consist/);
  assert.deepEqual(labelValueProblems('é'.repeat(32)).slice(0, 1), ['must be no more than 63 bytes'], 'bytes, not characters');
  assert.deepEqual(dns1123SubdomainProblems('node-0.example'), []);
  assert.deepEqual(dns1123SubdomainProblems('n'.repeat(254)), ['must be no more than 253 characters']);
});
