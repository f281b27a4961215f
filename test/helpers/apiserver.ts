// Test harness: a real API server on 127.0.0.1 in a temp dir, plus the real kubectl and raw
// HTTPS access with the server's own CA and token.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../../provider/apiserver/server.js';
import type { KubeClient } from '../../provider/kube/client.js';

export const ROOT = process.env.FERRITE_ROOT ?? join(import.meta.dirname, '..', '..');

export function tempDir(prefix = 'ferrite-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export async function startTestServer(opts: Partial<ApiServerOptions> = {}): Promise<ApiServer & { dir: string }> {
  const dir = opts.dataDir ?? tempDir();
  const srv = await startApiServer({ dataDir: dir, port: 0, log: pino({ level: 'silent' }), ...opts });
  return Object.assign(srv, { dir });
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; a non-zero exit is a result, not an error. */
export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 60_000, env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export function kubectl(kubeconfig: string, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(kubeconfig, '..', 'kubectl-cache'), ...args], {
    timeoutMs: opts.timeoutMs ?? 30_000,
    env: { ...process.env, KUBECONFIG: kubeconfig },
    input: opts.input,
  });
}

/** Starts a long-running kubectl (e.g. `get -w`) and collects its output until stopped. */
export function kubectlStream(kubeconfig: string, args: string[]) {
  const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(kubeconfig, '..', 'kubectl-cache'), ...args]);
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  return {
    get output() {
      return out;
    },
    async waitFor(re: RegExp, timeoutMs = 15_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      child.kill('SIGTERM');
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => Record<string, unknown>;
}

export function http(
  srv: { url: string; caPem: string; token: string },
  method: string,
  path: string,
  body?: unknown,
  opts: { contentType?: string; token?: string | null; accept?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, srv.url);
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const token = opts.token === undefined ? srv.token : opts.token;
    if (token) headers.authorization = `Bearer ${token}`;
    const req = request(u, { method, headers, ca: srv.caPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json: () => JSON.parse(text) });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/**
 * One HTTPS GET: verified against `ca` when given (else not verified), with a bearer token or Basic
 * credentials ("user:password"); a connection error is status 0 with its message as the text.
 */
export function httpsGet(url: string, o: { ca?: string; token?: string; basic?: string } = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.basic) headers.authorization = `Basic ${Buffer.from(o.basic).toString('base64')}`;
  return new Promise((resolve) => {
    const req = request(url, { headers, ...(o.ca ? { ca: o.ca } : { rejectUnauthorized: false }) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', (e) => resolve({ status: 0, text: e.message }));
    req.end();
  });
}

/** Polls fn until it returns something truthy (a falsy answer or a throw is "not yet"), which it resolves with. */
export async function eventually<T>(
  fn: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  what: string,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * The samples of one metric in Prometheus' text format, with their labels (label values without
 * escapes, as every metric here has). Hand-read: the benches and tests need a few lines of it.
 */
export function metricSamples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    const m = /^[^{ ]+(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

/** An API server's apiserver_request_total summed by "VERB resource" (watches as WATCH). */
export async function requestCounts(client: KubeClient): Promise<Record<string, number>> {
  // a text body comes back as { message } from the JSON client
  const text = String((await client.raw('GET', '/metrics')).message ?? '');
  const out: Record<string, number> = {};
  for (const { labels, value } of metricSamples(text, 'apiserver_request_total')) {
    const k = `${labels.verb ?? '?'} ${labels.resource ?? '?'}`;
    out[k] = (out[k] ?? 0) + value;
  }
  return out;
}
