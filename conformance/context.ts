// What a check runs with: the target's clients, the harness's own HTTP server for ground truth,
// helpers that do what Ironic/sushy do (ETag-aware PATCH, power waits), and the evidence sink.
import { execFile } from 'node:child_process';
import type { GroundTruth } from './ground-truth.js';
import { errorMessage, is2xx, RedfishClient, type RfResponse } from './redfish-client.js';
import type { Evidence, Exchange } from './types.js';

export interface IpmiTarget {
  host: string;
  port: number;
  username: string;
  password: string;
}

export interface ContextOptions {
  allowDisruptive: boolean;
  /** how long a power transition may take (Ironic: power_state_change_timeout) */
  powerTimeoutMs: number;
  /** how long media may take to show Inserted, a boot to phone home */
  mediaTimeoutMs: number;
  bootTimeoutMs: number;
  /** p95 budget for GET System (C34) */
  latencyBudgetMs: number;
  /** the provisioning network's DHCP offers the harness's boot.ipxe (C18) */
  pxe: boolean;
  ipmitool: string;
  /** where rf_service_validator / rf_protocol_validator live, when not on PATH */
  validatorsDir?: string;
}

/** What one check learned that a later one builds on. */
export interface Shared {
  system?: Record<string, unknown>;
  mediaSlots?: Array<{ path: string; id: string; types: string[]; insert?: string; eject?: string }>;
  cdTarget?: string;
}

export class CheckContext {
  evidence: Evidence = { exchanges: [], notes: [] };
  readonly shared: Shared = {};
  /** the DMTF validators' counts, when C39 ran them */
  validators: Array<{ name: string; pass: number; warn: number; fail: number; notTested: number; report?: string }> = [];
  readonly rf: RedfishClient | null;

  constructor(
    rf: ConstructorParameters<typeof RedfishClient>[0] | null,
    readonly ipmi: IpmiTarget | null,
    readonly http: GroundTruth | null,
    readonly opts: ContextOptions,
    /** aborted on interrupt; the restore runs under a fresh one */
    public signal: AbortSignal,
  ) {
    this.rf = rf ? new RedfishClient(rf, (x: Exchange) => this.evidence.exchanges.push(x)) : null;
  }

  note(s: string): void {
    this.evidence.notes.push(s);
  }

  /** The Redfish client; checks of the redfish protocol only run when there is one. */
  get redfish(): RedfishClient {
    if (!this.rf) throw new Error('no Redfish target');
    return this.rf;
  }

  async system(): Promise<Record<string, unknown>> {
    const s = await this.redfish.json(this.redfish.system);
    this.shared.system = s;
    return s;
  }

  /** PATCH as sushy does: with the resource's ETag in If-Match when it has one. */
  async patch(path: string, body: unknown): Promise<RfResponse> {
    const cur = await this.redfish.get(path);
    const etag = cur.headers.etag ?? (cur.body as Record<string, unknown> | undefined)?.['@odata.etag'];
    return this.redfish.request('PATCH', path, { body, headers: etag ? { 'If-Match': String(etag) } : {} });
  }

  async powerState(): Promise<string> {
    return String((await this.system()).PowerState ?? '');
  }

  /** Polls until `fn` returns a value (not undefined) or the time is up (returns undefined). */
  async waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs: number, pollMs = 250): Promise<T | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.signal.throwIfAborted();
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) return undefined;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /** Posts a Reset and waits for the power state it leads to; the error text, or null. */
  async reset(type: string, expect: 'On' | 'Off', retries409 = 0): Promise<{ status: number; ms: number; error: string | null }> {
    const t0 = Date.now();
    let r: RfResponse;
    for (let attempt = 0; ; attempt++) {
      r = await this.redfish.request('POST', `${this.redfish.system}/Actions/ComputerSystem.Reset`, { body: { ResetType: type } });
      // Ironic retries a 409 on On (iDRAC10) a few times
      if (r.status === 409 && attempt < retries409) {
        this.note(`Reset ${type} answered 409 (attempt ${attempt + 1}); retrying as Ironic does`);
        await new Promise((res) => setTimeout(res, 1000));
        continue;
      }
      break;
    }
    if (!is2xx(r)) return { status: r.status, ms: Date.now() - t0, error: `Reset ${type} answered ${r.status}: ${errorMessage(r)}` };
    const seen = await this.waitFor(async () => ((await this.powerState()) === expect ? true : undefined), this.opts.powerTimeoutMs);
    if (!seen)
      return { status: r.status, ms: Date.now() - t0, error: `PowerState did not become ${expect} within ${this.opts.powerTimeoutMs} ms` };
    return { status: r.status, ms: Date.now() - t0, error: null };
  }

  /** Runs ipmitool against the IPMI target as Ironic does; resolves with its exit code and output. */
  ipmitool(args: string[], cipherSuite?: number): Promise<{ code: number; stdout: string; stderr: string }> {
    const t = this.ipmi;
    if (!t) throw new Error('no IPMI target');
    const argv = [
      '-I',
      'lanplus',
      '-H',
      t.host,
      '-p',
      String(t.port),
      '-U',
      t.username,
      '-P',
      t.password,
      '-L',
      'ADMINISTRATOR',
      '-R',
      '1',
      '-N',
      '1',
    ];
    if (cipherSuite !== undefined) argv.push('-C', String(cipherSuite));
    argv.push(...args);
    return new Promise((resolve) => {
      execFile(this.opts.ipmitool, argv, { timeout: 30_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? Number((err as { code: number }).code) : 1) : 0;
        this.note(
          `$ ipmitool ${argv.map((a, i) => (argv[i - 1] === '-P' ? '<redacted>' : a)).join(' ')} → exit ${code}${stdout.trim() ? `\n${stdout.trim()}` : ''}${stderr.trim() ? `\n${stderr.trim()}` : ''}`,
        );
        resolve({ code, stdout, stderr });
      });
    });
  }
}
