// The real Kubernetes control plane in tests (scripts/install-kube.sh builds it): a fresh etcd +
// kube-apiserver (+ kube-controller-manager) in a temp dir, with Ferrite's CRDs installed, and a
// raw HTTPS requester that speaks to any server through its kubeconfig.
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { installCrdObjects } from '../../cli/crds.js';
import { kubeBinaryProblem, type RealKube, startRealKube } from '../../devenv/real-kube.js';
import { KubeClient } from '../../provider/kube/client.js';
import { cleanup, tempDir } from './apiserver.js';

export async function startTestRealKube(o: { controllerManager?: boolean; crds?: boolean } = {}): Promise<RealKube & { dir: string }> {
  const problem = kubeBinaryProblem();
  if (problem) throw new Error(problem);
  const dir = tempDir('ferrite-real-kube-');
  const k = await startRealKube({ dataDir: dir, controllerManager: o.controllerManager });
  if (o.crds !== false) await installCrdObjects(KubeClient.fromFile(k.kubeconfig));
  const stop = k.stop;
  return Object.assign(k, {
    dir,
    stop: async () => {
      await stop();
      cleanup(dir);
    },
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json?: unknown;
}

/** Raw HTTPS to an API server with a kubeconfig's credentials (token or client certificate). */
export class RawClient {
  private base?: RequestOptions;
  private readonly kc = new KubeConfig();
  readonly server: string;

  constructor(kubeconfig: string) {
    this.kc.loadFromFile(kubeconfig);
    this.server = String(this.kc.getCurrentCluster()?.server).replace(/\/$/, '');
  }

  /** The kubeconfig's TLS material and auth headers, worked out once. */
  private async options(): Promise<RequestOptions> {
    if (!this.base) {
      const o: RequestOptions = {};
      await this.kc.applyToHTTPSOptions(o);
      this.base = o;
    }
    return this.base;
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    o: { contentType?: string; headers?: Record<string, string>; anonymous?: boolean; timeoutMs?: number } = {},
  ): Promise<RawResponse> {
    const base = await this.options();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = {
      ...(o.anonymous ? {} : ((base.headers as Record<string, string>) ?? {})),
      accept: 'application/json',
      // Node frames no body of a DELETE unless its length is given
      ...(payload !== undefined
        ? { 'content-type': o.contentType ?? 'application/json', 'content-length': String(Buffer.byteLength(payload)) }
        : {}),
      ...o.headers,
    };
    const opts: RequestOptions = { ...base, method, headers };
    if (o.anonymous) {
      opts.cert = undefined;
      opts.key = undefined;
      opts.agent = undefined;
    }
    return new Promise((resolve, reject) => {
      const req = httpsRequest(new URL(this.server + path), opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(o.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path}: no answer`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A watch: the events that arrive within `ms` (then the stream is closed), or the error answer. */
  async watch(
    path: string,
    ms: number,
  ): Promise<{ status: number; events: Array<{ type: string; object: Record<string, unknown> }>; json?: unknown }> {
    const base = await this.options();
    const opts: RequestOptions = {
      ...base,
      method: 'GET',
      headers: { ...((base.headers as Record<string, string>) ?? {}), accept: 'application/json' },
    };
    return new Promise((resolve, reject) => {
      const events: Array<{ type: string; object: Record<string, unknown> }> = [];
      const req = httpsRequest(new URL(this.server + path), opts, (res) => {
        let buf = '';
        const status = res.statusCode ?? 0;
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          let i = buf.indexOf('\n');
          while (i >= 0) {
            const line = buf.slice(0, i).trim();
            buf = buf.slice(i + 1);
            if (line) events.push(JSON.parse(line));
            i = buf.indexOf('\n');
          }
        });
        const done = () => {
          let json: unknown;
          try {
            json = buf.trim() ? JSON.parse(buf) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status, events, json });
        };
        res.on('end', done);
        res.on('close', done);
        setTimeout(() => req.destroy(), ms);
      });
      req.on('error', (e) => {
        if ((e as NodeJS.ErrnoException).code === 'ECONNRESET' || e.message === 'socket hang up') return;
        reject(e);
      });
      req.end();
    });
  }
}
