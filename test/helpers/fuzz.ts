// A seeded HTTP fuzzer for the API surfaces: requests built from a surface's paths, fields and
// content types, mutated (hostile identifiers and query strings, prototype keys, deep or huge
// JSON, JSON patches on odd paths, garbage bytes, wrong charsets), sent a few at a time. The same
// seed gives the same requests, so a failure replays. Written here because the fuzzers on npm
// target functions or grammars, not a REST surface with its own vocabulary.
import http from 'node:http';
import https from 'node:https';
import { Rng } from '../../emulator/machine/rng.js';

export interface Surface {
  /** paths; `{id}` and `{ns}` are filled with hostile or plausible identifiers */
  paths: string[];
  /** field names the surface knows, used for bodies and query keys */
  fields: string[];
  /** a plausible object for a path (to reach validation past the parser), or undefined */
  object?: (path: string, rng: Rng) => Record<string, unknown> | undefined;
  contentTypes: string[];
  /** headers every request carries (credentials, API version) */
  headers: Record<string, string>;
  /** headers some requests carry, with hostile values */
  headerFields?: Record<string, string[]>;
}

export interface FuzzCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzOutcome {
  c: FuzzCase;
  status: number;
  ms: number;
  text: string;
  error?: string;
}

const IDS = [
  'node-0',
  'default',
  '',
  '..',
  '%2e%2e',
  '%00',
  '%ff%fe',
  'a'.repeat(300),
  '__proto__',
  'constructor',
  '00000000-0000-0000-0000-000000000000',
  'ÜNÏCÖDÉ',
  '%F0%9F%92%A9',
  'a b',
  'a/b',
  '~1',
  '-1',
  '1e309',
  'null',
];
const HOSTILE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', 'a'.repeat(200), '\u0000', '$ref'];
const QUERY_KEYS = [
  'limit',
  'marker',
  'fields',
  'detail',
  'fieldSelector',
  'labelSelector',
  'resourceVersion',
  'continue',
  'dryRun',
  'fieldManager',
  'method',
  'constructor',
  '__proto__',
  'sort_key',
  'sort_dir',
  'address',
  'node_uuid',
  'propagationPolicy',
  'fieldValidation',
  'force',
];

export function fuzzCases(surface: Surface, seed: number, n: number): FuzzCase[] {
  const rng = new Rng(seed);
  const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length - 1)];
  const str = (): string => {
    switch (rng.int(0, 9)) {
      case 0:
        return 'x'.repeat(rng.int(0, 70_000));
      case 1:
        return rng.bytes(rng.int(0, 40)).toString('latin1');
      case 2:
        return '\u0000\uffff\ud800';
      case 3:
        return pick([
          '../../etc/passwd',
          '%s%n',
          '${jndi:x}',
          '{{7*7}}',
          "' OR 1=1 --",
          '<script>',
          'ipmi://[::1]:99999',
          'redfish+https://',
        ]);
      case 4:
        return pick(IDS);
      default:
        return pick(surface.fields);
    }
  };
  const value = (depth: number): unknown => {
    switch (rng.int(0, depth > 4 ? 6 : 9)) {
      case 0:
        return null;
      case 1:
        return pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, -0]);
      case 2:
        return rng.next() < 0.5;
      case 3:
      case 4:
      case 5:
        return str();
      case 6:
        return pick([[], {}, [null], '']);
      case 7:
        return Array.from({ length: rng.int(0, 5) }, () => value(depth + 1));
      default:
        return object(depth + 1);
    }
  };
  const object = (depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (let i = rng.int(0, 6); i > 0; i--) {
      const k = rng.next() < 0.15 ? pick(HOSTILE_KEYS) : pick(surface.fields);
      // defineProperty: a "__proto__" key must be an own key in the JSON, not the prototype
      Object.defineProperty(o, k, { value: value(depth), enumerable: true, writable: true, configurable: true });
    }
    return o;
  };
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
  const body = (path: string): Buffer | undefined => {
    switch (rng.int(0, 11)) {
      case 0:
        return undefined;
      case 1:
        return rng.bytes(rng.int(0, 600));
      case 2:
        return Buffer.from(deep(rng.int(900, 5000)));
      case 3:
        return Buffer.from(JSON.stringify(object(0)).slice(0, -rng.int(1, 5)));
      case 4:
        return Buffer.from(
          JSON.stringify(
            Array.from({ length: rng.int(0, 4) }, () => ({
              op: pick(['add', 'remove', 'replace', 'move', 'copy', 'test', 'bogus']),
              path: pick([
                '/__proto__/x',
                '/constructor/prototype/x',
                '/spec',
                '/-',
                '',
                '/metadata/labels/~1',
                '/a/b/c',
                '/spec/0',
                `/${pick(surface.fields)}`,
              ]),
              from: pick(['/spec', '/__proto__', '']),
              value: value(1),
            })),
          ),
        );
      case 5:
        return Buffer.from(`a: [${'{'.repeat(rng.int(1, 200))}\n- :\n\t&x *x`);
      case 6:
        return Buffer.from(JSON.stringify(value(0)));
      default: {
        const base = surface.object?.(path, rng) ?? {};
        const extra = object(1);
        return Buffer.from(JSON.stringify({ ...base, ...extra }));
      }
    }
  };
  const out: FuzzCase[] = [];
  for (let i = 0; i < n; i++) {
    let path = pick(surface.paths)
      .replaceAll('{id}', () => encodeURIComponent(pick(IDS)).replace(/%25/g, '%'))
      .replaceAll('{ns}', () => pick(['default', 'default', 'kube-system', 'nope', '..', '%00']));
    if (rng.next() < 0.4) {
      const q = new URLSearchParams();
      for (let j = rng.int(1, 4); j > 0; j--) q.append(rng.next() < 0.8 ? pick(QUERY_KEYS) : pick(surface.fields), str().slice(0, 300));
      path += `?${q}`;
    }
    const method = pick(['GET', 'GET', 'POST', 'POST', 'PUT', 'PATCH', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
    const headers: Record<string, string> = { ...surface.headers };
    const b = method === 'GET' || method === 'HEAD' ? (rng.next() < 0.1 ? body(path) : undefined) : body(path);
    if (b) {
      headers['content-type'] =
        rng.next() < 0.1
          ? pick(['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', ''])
          : pick(surface.contentTypes);
    }
    for (const [h, vs] of Object.entries(surface.headerFields ?? {})) if (rng.next() < 0.2) headers[h] = pick(vs);
    out.push({ method, path, headers, body: b });
  }
  return out;
}

/** Sends every case (`parallel` at a time); each outcome has its status and time. */
export async function sendAll(base: string, cases: FuzzCase[], o: { ca?: string; parallel?: number } = {}): Promise<FuzzOutcome[]> {
  const u = new URL(base);
  const agent =
    u.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, maxSockets: o.parallel ?? 8, ca: o.ca })
      : new http.Agent({ keepAlive: true, maxSockets: o.parallel ?? 8 });
  const one = (c: FuzzCase) =>
    new Promise<FuzzOutcome>((resolve) => {
      const t = performance.now();
      const lib = u.protocol === 'https:' ? https : http;
      const headers: Record<string, string | number> = { ...c.headers };
      if (c.body) headers['content-length'] = c.body.length;
      const req = lib.request(
        { host: u.hostname, port: u.port, method: c.method, path: c.path, headers, agent, timeout: 10_000 },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.length < 20 && chunks.push(d));
          res.on('end', () =>
            resolve({ c, status: res.statusCode ?? 0, ms: performance.now() - t, text: Buffer.concat(chunks).toString().slice(0, 400) }),
          );
          res.on('error', (e) => resolve({ c, status: 0, ms: performance.now() - t, text: '', error: e.message }));
        },
      );
      req.on('timeout', () => req.destroy(new Error('no answer in 10 s')));
      req.on('error', (e) => resolve({ c, status: 0, ms: performance.now() - t, text: '', error: e.message }));
      req.end(c.body);
    });
  const out: FuzzOutcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: o.parallel ?? 8 }, async () => {
      while (next < cases.length) {
        const c = cases[next++];
        out.push(await one(c));
      }
    }),
  );
  agent.destroy();
  return out;
}

/** What a run found that it must not: crashes (no answer), 5xx outside `allowed`, answers over 5 s. */
export function problems(outcomes: FuzzOutcome[], allowed: (o: FuzzOutcome) => boolean = () => false): string[] {
  const bad: string[] = [];
  for (const o of outcomes) {
    const what = `${o.c.method} ${o.c.path.slice(0, 200)} [${o.c.headers['content-type'] ?? ''}] body ${o.c.body ? JSON.stringify(o.c.body.subarray(0, 200).toString('latin1')) : '-'}`;
    if (o.error) bad.push(`no answer (${o.error}): ${what}`);
    else if (o.status >= 500 && !allowed(o)) bad.push(`${o.status} ${o.text.slice(0, 200)}: ${what}`);
    else if (o.ms > 5000) bad.push(`${Math.round(o.ms)} ms: ${what}`);
  }
  return bad;
}
