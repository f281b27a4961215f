// Helpers for Ironic tests: Ferrite's Ironic on ephemeral loopback ports in a temp dir, an emulator
// fleet attached to its provisioning network, a file server for deploy images, and the real
// `baremetal` CLI (python-ironicclient from .peers/venv).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { BmcAddresses } from '../../emulator/fleet/fleet.js';
import type { Node } from '../../provider/ironic/model.js';
import { type IronicService, type IronicServiceOptions, startIronic } from '../../provider/ironic/service.js';
import { type ExecResult, eventually, ROOT, run, tempDir } from './apiserver.js';

export const BAREMETAL = join(ROOT, '.peers', 'venv', 'bin', 'baremetal');
export const haveBaremetal = existsSync(BAREMETAL);

export async function startTestIronic(opts: Partial<IronicServiceOptions> = {}): Promise<IronicService & { dir: string }> {
  const dir = opts.dataDir ?? tempDir('ferrite-ironic-');
  const svc = await startIronic({
    dataDir: dir,
    port: 0,
    httpPort: 0,
    log: pino({ level: process.env.FERRITE_TEST_LOG ?? 'silent' }),
    ...opts,
    conductor: { heartbeatTimeout: 2, powerSyncInterval: 0, pollMs: 50, bmcRetryDelayMs: 100, ...opts.conductor },
  });
  return Object.assign(svc, { dir });
}

/** Runs `baremetal` against `endpoint`; `auth` switches to http_basic. */
export function baremetal(endpoint: string, args: string[], o: { auth?: [string, string]; timeoutMs?: number } = {}): Promise<ExecResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, OS_ENDPOINT: endpoint, OS_AUTH_TYPE: o.auth ? 'http_basic' : 'none' };
  if (o.auth) {
    env.OS_USERNAME = o.auth[0];
    env.OS_PASSWORD = o.auth[1];
  }
  for (const k of Object.keys(env))
    if (k.startsWith('OS_') && !['OS_ENDPOINT', 'OS_AUTH_TYPE', 'OS_USERNAME', 'OS_PASSWORD'].includes(k)) delete env[k];
  return run(BAREMETAL, args, { env, timeoutMs: o.timeoutMs ?? 120_000 });
}

/** `baremetal node create` arguments for an emulator machine behind the given protocol. */
export function driverArgs(a: BmcAddresses, redfishUrl: string, protocol: 'redfish' | 'redfish-virtual-media' | 'ipmi'): string[] {
  if (protocol === 'ipmi') {
    const port = (a.ipmi ?? '').split(':').pop() ?? '';
    return [
      '--driver',
      'ipmi',
      '--driver-info',
      'ipmi_address=127.0.0.1',
      '--driver-info',
      `ipmi_port=${port}`,
      '--driver-info',
      `ipmi_username=${a.username}`,
      '--driver-info',
      `ipmi_password=${a.password}`,
    ];
  }
  const sys = new URL((a.redfish ?? '').replace(/^redfish\+/, '')).pathname;
  const args = [
    '--driver',
    'redfish',
    '--driver-info',
    `redfish_address=${redfishUrl}`,
    '--driver-info',
    `redfish_system_id=${sys}`,
    '--driver-info',
    `redfish_username=${a.username}`,
    '--driver-info',
    `redfish_password=${a.password}`,
    '--driver-info',
    'redfish_verify_ca=false',
  ];
  if (protocol === 'redfish-virtual-media') args.push('--boot-interface', 'redfish-virtual-media');
  return args;
}

/** Fails with the CLI's output when it did not exit 0. */
export function ok(r: ExecResult, what: string): string {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, unknown>;
}

/** One raw Ironic API request (JSON in, JSON out); `body` as a string is sent verbatim. */
export async function ironicRequest(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> {
  const r = await fetch(`${base}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', 'X-OpenStack-Ironic-API-Version': 'latest', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

/** The faultstring inside Ironic's JSON-in-JSON error body (throws when the body is not one). */
export function faultstring(r: { json: Record<string, unknown>; text?: string }): string {
  if (typeof r.json.error_message !== 'string') throw new Error(`not an Ironic error body: ${r.text ?? JSON.stringify(r.json)}`);
  const inner = JSON.parse(r.json.error_message) as { faultstring: string; faultcode: string };
  if (inner.faultcode !== 'Client' && inner.faultcode !== 'Server') throw new Error(`bad faultcode ${inner.faultcode}`);
  return inner.faultstring;
}

/**
 * Waits until node `name` is unlocked and matches: a list of provision states, or a predicate
 * (e.g. on power_state). Returns the node as stored then.
 */
export function settledNode(svc: IronicService, name: string, want: string[] | ((n: Node) => boolean), timeoutMs = 30_000): Promise<Node> {
  const ok = typeof want === 'function' ? want : (n: Node) => want.includes(n.provision_state);
  return eventually(
    () => {
      const n = svc.store.nodeByName(name);
      return n && !n.reservation && ok(n) ? n : null;
    },
    `node ${name} to settle (${typeof want === 'function' ? 'condition' : want.join(' or ')})`,
    timeoutMs,
  );
}
