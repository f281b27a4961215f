// Runs the differential corpus against two servers and reports where they answer differently.
import { isDeepStrictEqual } from 'node:util';
import type { RawClient } from '../helpers/real-kube.js';
import type { Answer, Case } from './corpus.js';

export interface Difference {
  id: string;
  area: string;
  request: string;
  embedded: unknown;
  real: unknown;
}

const VOLATILE_META = ['uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'selfLink'];

/** The answer without what legitimately differs between two servers (ids, versions, times). */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(normalize);
  // a generated name's random suffix (the corpus's generateName is "gen-")
  if (typeof v === 'string') return v.replace(/\bgen-[a-z0-9]{5}\b/g, 'gen-*');
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(o)) {
    if (k === 'metadata' && val && typeof val === 'object') {
      const m: Record<string, unknown> = {};
      for (const [mk, mv] of Object.entries(val as Record<string, unknown>)) {
        if (VOLATILE_META.includes(mk)) continue;
        if (mk === 'deletionTimestamp' || mk === 'continue') m[mk] = Boolean(mv);
        else m[mk] = normalize(mv);
      }
      out[k] = m;
    } else if (k === 'details' && val && typeof val === 'object') {
      const { uid: _uid, ...rest } = val as Record<string, unknown>;
      out[k] = normalize(rest);
    } else out[k] = normalize(val);
  }
  return out;
}

function project(c: Case, a: Answer): unknown {
  const base = { status: a.status };
  if (c.compare === 'status-only') return base;
  if (typeof c.compare === 'function') {
    // an error answer is compared whole (code, reason, message), whatever the case projects on success
    if (a.status >= 400) return { ...base, body: normalize(a.json) };
    return { ...base, value: normalize(c.compare(a.json, a)) };
  }
  return { ...base, body: normalize(a.json) };
}

export async function runCorpus(
  cases: Case[],
  servers: { embedded: RawClient; real: RawClient },
): Promise<{ requests: number; differences: Difference[]; answers: Record<string, { embedded: unknown; real: unknown }> }> {
  const prev = { embedded: new Map<string, Answer>(), real: new Map<string, Answer>() };
  const differences: Difference[] = [];
  const answers: Record<string, { embedded: unknown; real: unknown }> = {};
  let requests = 0;
  for (const c of cases) {
    const got: Partial<Record<'embedded' | 'real', Answer>> = {};
    for (const which of ['embedded', 'real'] as const) {
      const srv = servers[which];
      const path = typeof c.path === 'function' ? c.path(prev[which]) : c.path;
      let a: Answer;
      if (c.watchMs) {
        const w = await srv.watch(path, c.watchMs);
        a = { status: w.status, json: w.json, headers: {}, events: w.events };
      } else {
        const r = await srv.request(c.method, path, c.body, { contentType: c.contentType, headers: c.headers, anonymous: c.anonymous });
        a = { status: r.status, json: r.json ?? (r.text ? { text: r.text } : undefined), headers: r.headers };
      }
      requests++;
      prev[which].set(c.id, a);
      got[which] = a;
    }
    const e = project(c, got.embedded as Answer);
    const r = project(c, got.real as Answer);
    answers[c.id] = { embedded: e, real: r };
    if (!isDeepStrictEqual(e, r)) {
      const path = typeof c.path === 'function' ? '(from an earlier answer)' : c.path;
      differences.push({ id: c.id, area: c.area, request: `${c.method} ${path}`, embedded: e, real: r });
    }
  }
  return { requests, differences, answers };
}
