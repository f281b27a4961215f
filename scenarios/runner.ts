// Runs a scenario: brings up the stack on the scenario's fleet (or drives an existing cluster
// with --kubeconfig), serves its files, applies its manifests, runs the steps in order with a
// timeline each, checks the expectations, and reports. The first failing step ends the run.
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { JSONPath } from 'jsonpath-plus';
import { parseAllDocuments, stringify } from 'yaml';
import { freeTcpPort, restartComponent, type StackState, stopStack } from '../devenv/stack.js';
import { applyObject, devUp, ensureNamespace, fleetAddresses } from '../devenv/up.js';
import { destroyFleetDomains } from '../emulator/fleet/fleet.js';
import { FleetStore } from '../emulator/fleet/store.js';
import { Rng } from '../emulator/machine/rng.js';
import { DISK_FAILURE_ACTION, OS_CRASH_ACTION, POWER_CUT_ACTION } from '../emulator/redfish/faults.js';
import { IpmiClient } from '../lib/ipmi/client.js';
import { kinds } from '../provider/api/index.js';
import { isNotFound, KubeClient, type KubeObject } from '../provider/kube/client.js';
import { Informer } from '../provider/kube/informer.js';
import { type Expectation, type LoadedScenario, ScenarioError, type Step, substitute } from './format.js';
import type { ScenarioReport, StepReport, TimelineEvent } from './report.js';

export interface RunOptions {
  /** run against this cluster; the embedded API server otherwise */
  kubeconfig?: string;
  /** without a kubeconfig: start the embedded API server, or a real etcd + kube-apiserver + kube-controller-manager */
  kube?: 'embedded' | 'real';
  /** where the stack keeps state and logs (a temp dir, removed after a pass, by default) */
  dataDir?: string;
  /** leave the stack running after the run */
  keep?: boolean;
  progress?: (line: string) => void;
  /** told the report as it changes (setup done, each step's start, timeline and end) */
  onChange?: (r: ScenarioReport) => void;
  /** SIGKILL (and restart) the controllers this many times, at seeded random moments during the steps */
  chaos?: { kills: number; seed: number; minGapMs?: number; maxGapMs?: number };
  /** what runs the fleet's machines, whatever the scenario's fleet says */
  backend?: 'sim' | 'libvirt';
}

// every kind Ferrite serves, at its storage version, and the core kinds scenarios read; a kind
// name two groups share (IPAddress) means the first one listed — Metal3's, as it always did here
const KNOWN: Record<string, string> = {
  ...Object.fromEntries(
    [...kinds].reverse().map((k) => [k.kind, `${k.group}/${k.versions.find((v) => v.storage)?.name ?? k.versions[0].name}`]),
  ),
  Secret: 'v1',
  ConfigMap: 'v1',
  Namespace: 'v1',
  Event: 'v1',
  Node: 'v1',
  Pod: 'v1',
};
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'CustomResourceDefinition',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

type Tgt = {
  apiVersion?: string;
  kind: string;
  namespace?: string;
  name?: string;
  names?: string[];
  all?: boolean;
  selector?: string;
  cluster?: string;
};

/** The client a target reads with: the management cluster's, or a workload cluster's from its kubeconfig Secret. */
async function clientFor(client: KubeClient, t: Tgt, ns: string): Promise<KubeClient> {
  if (!t.cluster) return client;
  const s = await client
    .get<KubeObject & { data?: Record<string, string> }>('v1', 'Secret', t.namespace ?? ns, `${t.cluster}-kubeconfig`)
    .catch((e: unknown) => {
      if (isNotFound(e)) return null;
      throw e;
    });
  if (!s?.data?.value) throw new ScenarioError(`cluster ${t.cluster} has no kubeconfig Secret ${t.cluster}-kubeconfig yet`);
  return KubeClient.fromString(Buffer.from(s.data.value, 'base64').toString('utf8'));
}

/** kubectl-style JSONPath (`.status.x`, `{.status.x}`) → the value, or undefined. */
export function readField(obj: unknown, field: string): unknown {
  const path = `$${field.replace(/^\{|\}$/g, '').replace(/^\$?\.?/, '.')}`;
  const r = JSONPath({ path, json: obj as object, wrap: true }) as unknown[];
  return r.length === 0 ? undefined : r.length === 1 ? r[0] : r;
}

function matches(found: unknown, m: { equals?: unknown; in?: unknown[]; matches?: string }): boolean {
  const v = found ?? null;
  if (m.equals !== undefined) return m.equals === null ? v === null : v === m.equals || String(v) === String(m.equals);
  if (m.in) return m.in.some((x) => x === v || (x !== null && v !== null && String(x) === String(v)));
  if (m.matches !== undefined) return new RegExp(m.matches).test(typeof v === 'string' ? v : JSON.stringify(v ?? null));
  return false;
}

const describeMatch = (m: { field?: string; equals?: unknown; in?: unknown[]; matches?: string }) =>
  `${m.field} ${m.equals !== undefined ? `= ${JSON.stringify(m.equals)}` : m.in ? `in ${JSON.stringify(m.in)}` : `~ /${m.matches}/`}`;

export async function runScenario(loaded: LoadedScenario, o: RunOptions = {}): Promise<ScenarioReport> {
  const sc = loaded.scenario;
  const t0 = Date.now();
  const at = () => Date.now() - t0;
  const say = o.progress ?? (() => {});
  const report: ScenarioReport = {
    scenario: sc.name,
    file: loaded.file,
    status: 'running',
    startedAt: new Date(t0).toISOString(),
    durationMs: 0,
    setup: { durationMs: 0 },
    steps: sc.steps.map((s, i) => ({ index: i, name: s.name ?? stepTitle(s), kind: stepKind(s), status: 'skipped', timeline: [] })),
    expectations: sc.expect.map((e) => ({ description: describeExpectation(e), status: 'skipped' })),
    observed: [],
  };
  // the live copy for whoever watches (at most one write per 500 ms: timelines grow fast)
  let lastChange = 0;
  const changed = (force = true) => {
    if (!o.onChange || (!force && Date.now() - lastChange < 500)) return;
    lastChange = Date.now();
    try {
      o.onChange(report);
    } catch {
      // the live copy is for watchers only: the run goes on, and the final report is written (or fails loudly) at the end
    }
  };
  const tempDir = o.dataDir ? undefined : mkdtempSync(join(tmpdir(), `ferrite-scenario-${sc.name}-`));
  const dataDir = resolve(o.dataDir ?? (tempDir as string));
  const ns = sc.settings.namespace;
  let state: StackState | undefined;
  let files: { url: string; close(): Promise<void> } | undefined;
  const watchers: Informer[] = [];
  const chaosStop = new AbortController();
  let chaosLoop: Promise<void> = Promise.resolve();
  let vars: Record<string, string> = {};
  try {
    // ---- setup
    const fleetFile = typeof sc.fleet === 'string' ? resolve(loaded.dir, sc.fleet) : join(dataDir, 'fleet.yaml');
    if (typeof sc.fleet !== 'string') {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(fleetFile, stringify(sc.fleet));
    }
    const served = new Map<string, Buffer>();
    for (const f of sc.files)
      served.set(
        f.name,
        f.path !== undefined
          ? readServedFile(f.path, loaded.dir)
          : f.content !== undefined
            ? Buffer.from(f.content)
            : fileContent(f.name, f.sizeMiB ?? 1),
      );
    files = await serveFiles(served);
    say(`setting up: stack in ${dataDir}`);
    const up = await devUp({
      dataDir,
      fleetFile,
      hosts: 0,
      kubeconfig: o.kubeconfig,
      kube: o.kube,
      apiPort: 0,
      namespace: ns,
      protocol: 'redfish-virtualmedia',
      timeScale: sc.settings.timeScale,
      heartbeatTimeout: sc.settings.heartbeatTimeout,
      pollInterval: sc.settings.pollInterval,
      waitTimeoutMs: 0,
      registerHosts: false,
      // whoever watches a scenario opens `ferrite dashboard --reports` on its live report
      dashboard: false,
      ...(o.backend ? { backend: o.backend } : {}),
      progress: (l) => say(`  ${l}`),
    });
    state = up.state;
    const client = KubeClient.fromFile(state.kubeconfig);
    await ensureNamespace(client, ns);
    // a loopback port nothing listens on: a workload cluster's control plane endpoint
    const freePort = process.env.FREE_PORT ?? String(await freeTcpPort());
    vars = buildVars(sc.vars, state, files.url, served, freePort);

    // watch every field a sequence expectation follows, from the start
    for (const e of sc.expect) {
      if (!e.sequence) continue;
      const inf = new Informer(client, e.apiVersion ?? KNOWN[e.kind] ?? 'v1', e.kind);
      const last = new Map<string, string>();
      const record = (obj: KubeObject) => {
        const key = `${e.kind}/${obj.metadata?.namespace}/${obj.metadata?.name}`;
        const v = readField(obj, e.field as string);
        const j = JSON.stringify(v ?? null);
        if (last.get(key) === j) return;
        last.set(key, j);
        report.observed.push({ at: at(), object: key, field: e.field as string, value: v ?? null });
      };
      inf.on('add', record).on('update', record);
      await inf.start();
      watchers.push(inf);
    }

    const stall = await watchStalls(client, sc.settings.stallTimeout);
    watchers.push(stall.informer);

    for (const [i, m] of sc.manifests.entries()) await applySource(client, m, loaded.dir, vars, ns, `manifests[${i}]`);
    report.setup.durationMs = at();
    changed();

    // ---- chaos: the controllers die at seeded random moments and come back, as a crash loop would
    let currentStep = 0;
    if (o.chaos && o.chaos.kills > 0) {
      const rng = new Rng(o.chaos.seed);
      const min = o.chaos.minGapMs ?? 10_000;
      const max = o.chaos.maxGapMs ?? 45_000;
      const st = state;
      report.chaos = [];
      chaosLoop = (async () => {
        for (let n = 1; n <= (o.chaos?.kills ?? 0) && !chaosStop.signal.aborted; n++) {
          try {
            await sleep(min + rng.next() * (max - min), undefined, { signal: chaosStop.signal });
          } catch {
            return;
          }
          // both controller processes (the Bare Metal Operator's and Cluster API's) die together
          for (const c of ['controllers', 'cluster-api'] as const) if (st.components[c]) await restartComponent(st, c, 'SIGKILL');
          report.chaos?.push({ at: at(), step: currentStep, what: `SIGKILL controllers and cluster-api (${n}/${o.chaos?.kills})` });
          say(`  chaos: SIGKILL controllers and cluster-api (${n}/${o.chaos?.kills}), restarted`);
        }
      })();
    }

    // ---- steps
    for (const [i, step] of sc.steps.entries()) {
      const r = report.steps[i];
      currentStep = i;
      r.startedAt = at();
      r.status = 'running';
      changed();
      const tl = (what: string) => {
        r.timeline.push({ at: at(), what });
        changed(false);
      };
      try {
        const resolved = substituteAll(step, vars, `steps[${i}]`);
        r.name = step.name ?? stepTitle(resolved);
        say(`[${i + 1}/${sc.steps.length}] ${r.name}`);
        const abort = new AbortController();
        try {
          await Promise.race([
            runStep(resolved, { client, state, vars, ns, dir: loaded.dir, tl, where: `steps[${i}]`, signal: abort.signal }),
            stall.failed,
          ]);
        } finally {
          abort.abort();
        }
        r.status = 'passed';
      } catch (e) {
        r.status = 'failed';
        r.error = (e as Error).message;
        say(`  failed: ${r.error.split('\n')[0]}`);
      }
      r.durationMs = at() - r.startedAt;
      changed();
      if (r.status === 'failed') break;
    }

    // ---- expectations
    if (report.steps.every((s) => s.status === 'passed')) {
      for (const [i, e] of sc.expect.entries()) {
        const x = report.expectations[i];
        try {
          x.description = describeExpectation(substituteAll(e, vars, `expect[${i}]`));
          await checkExpectation(client, substituteAll(e, vars, `expect[${i}]`), ns, report.observed);
          x.status = 'passed';
        } catch (err) {
          x.status = 'failed';
          x.error = (err as Error).message;
        }
      }
    }
    report.status =
      report.steps.every((s) => s.status === 'passed') && report.expectations.every((e) => e.status === 'passed') ? 'passed' : 'failed';
  } catch (e) {
    report.setup.error = e instanceof ScenarioError ? e.message : `${(e as Error).message}`;
    report.setup.durationMs = at();
    report.status = 'failed';
  } finally {
    chaosStop.abort();
    await chaosLoop;
    for (const w of watchers) w.stop();
    await files?.close();
    if (state && !o.keep) {
      await stopStack(state);
      // a libvirt fleet's domains outlive the emulator: a finished run removes the ones it created
      await destroyFleetDomains(join(state.dataDir, 'bmc'));
    }
    report.durationMs = at();
    // a failed run keeps its logs for whoever reads the report
    if (tempDir && !o.keep && report.status === 'passed') rmSync(tempDir, { recursive: true, force: true });
  }
  return report;
}

interface StepCtx {
  client: KubeClient;
  state: StackState;
  vars: Record<string, string>;
  ns: string;
  dir: string;
  tl: (what: string) => void;
  where: string;
  /** the step was given up (a stalled host failed the run): stop polling */
  signal: AbortSignal;
}

async function runStep(step: Step, c: StepCtx): Promise<void> {
  if (step.console) return void (await waitConsole(c.state, step.console, c.tl));
  if (step.apply) return void (await applySource(c.client, step.apply, c.dir, c.vars, c.ns, c.where, c.tl));
  if (step.sleep) return void (await sleep(step.sleep));
  if (step.restart) {
    c.tl(`${step.restart.signal} ${step.restart.component}`);
    await restartComponent(c.state, step.restart.component, step.restart.signal, step.restart.downFor ?? 0, (w) => c.tl(w));
    c.tl(`${step.restart.component} healthy again`);
    return;
  }
  if (step.fault) {
    let machine = step.fault.machine;
    if (step.fault.clusterMachine) {
      // the emulated machine behind a Cluster API Machine: Machine → Metal3Machine → its BareMetalHost
      const ms = (
        await c.client.list<KubeObject & { spec?: { infrastructureRef?: { name?: string } } }>(
          KNOWN.Machine,
          'Machine',
          c.ns,
          `labelSelector=${encodeURIComponent(step.fault.clusterMachine)}`,
        )
      ).items
        .filter((m) => !m.metadata?.deletionTimestamp)
        .sort((x, y) => String(x.metadata?.name).localeCompare(String(y.metadata?.name)));
      if (!ms.length) throw new ScenarioError(`no Machine matches ${step.fault.clusterMachine}`);
      const m3m = await c.client.get(KNOWN.Metal3Machine, 'Metal3Machine', c.ns, String(ms[0].spec?.infrastructureRef?.name));
      const host = m3m.metadata?.annotations?.['metal3.io/BareMetalHost'];
      if (!host) throw new ScenarioError(`Machine ${ms[0].metadata?.name} has no host yet`);
      machine = host.slice(host.indexOf('/') + 1);
      c.tl(`Machine ${ms[0].metadata?.name} runs on ${machine}`);
    }
    return powerCut(c.state, String(machine), c.tl, step.fault.type);
  }
  if (step.patch) {
    const p = step.patch;
    const patch = p.patch;
    for (const ref of await resolveTargets(c.client, p, c.ns)) {
      await c.client.patch(ref, p.type, patch);
      c.tl(`patched ${ref.kind}/${ref.name}`);
    }
    return;
  }
  if (step.delete) {
    const d = step.delete;
    const dc = await clientFor(c.client, d, c.ns);
    const refs = await resolveTargets(dc, d, c.ns);
    for (const ref of refs) {
      try {
        await dc.delete(ref);
        c.tl(`deleted ${ref.kind}/${ref.name}`);
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    if (d.wait) await waitGone(dc, refs, 300_000, c.tl);
    return;
  }
  if (step.assert) {
    const ac = await clientFor(c.client, step.assert, c.ns);
    for (const ref of await resolveTargets(ac, step.assert, c.ns)) {
      const obj = await ac.get(ref.apiVersion, ref.kind, ref.namespace, ref.name);
      const v = readField(obj, step.assert.field);
      if (!matches(v, step.assert))
        throw new ScenarioError(`${ref.kind}/${ref.name}: expected ${describeMatch(step.assert)}, got ${JSON.stringify(v ?? null)}`);
    }
    return;
  }
  if (step.wait) {
    const w = step.wait;
    const end = Date.now() + w.timeout;
    const seen = new Map<string, string>();
    let lastError = '';
    for (;;) {
      // a workload cluster that does not answer yet, or `all` objects still being created, are waited for
      let done = false;
      try {
        const wc = await clientFor(c.client, w, c.ns);
        const refs = await resolveTargets(wc, w, c.ns);
        if (w.gone) return await waitGone(wc, refs, Math.max(1, end - Date.now()), c.tl);
        let pending = 0;
        for (const ref of refs) {
          let v: unknown;
          try {
            v = readField(await wc.get(ref.apiVersion, ref.kind, ref.namespace, ref.name), w.field as string);
          } catch (e) {
            if (!isNotFound(e)) throw e;
            v = undefined;
          }
          const j = JSON.stringify(v ?? null);
          if (seen.get(ref.name) !== j) c.tl(`${ref.kind}/${ref.name} ${w.field} = ${j}`);
          seen.set(ref.name, j);
          if (!matches(v, w)) pending++;
        }
        const enough = w.count === undefined ? refs.length > 0 : refs.length === w.count;
        if (!enough && (w.count !== undefined || !w.all))
          lastError = `${refs.length} ${w.kind} objects${w.count !== undefined ? `, want ${w.count}` : ''}`;
        if (!enough && w.all && w.count === undefined) lastError = `no ${w.kind} in namespace ${w.namespace ?? c.ns} yet`;
        done = enough && pending === 0;
        if (done) return;
        if (enough)
          lastError = [...seen]
            .filter(([n]) => refs.some((r) => r.name === n))
            .map(([n, v]) => `${n} (${v})`)
            .join(', ');
      } catch (e) {
        if (!(e instanceof ScenarioError) && !(e instanceof Error && /ECONNREFUSED|no answer/.test(e.message))) throw e;
        lastError = (e as Error).message;
      }
      if (Date.now() > end) {
        throw new ScenarioError(
          `timed out after ${w.timeout / 1000}s waiting for ${describeMatch(w)}; ${lastError ? `still: ${lastError}` : ''}`,
        );
      }
      if (c.signal.aborted) return;
      await sleep(250);
    }
  }
}

/** BareMetalHost states a host must move on from, by itself or with an errorType saying why not. */
const MOVING_STATES = new Set([
  'registering',
  'match profile',
  'inspecting',
  'preparing',
  'provisioning',
  'deprovisioning',
  'powering off before delete',
  'deleting',
]);

/**
 * The run's watchdog for silent hangs: a BareMetalHost that sits in a moving state with no
 * errorType and no change to its state, error or power for `boundMs` fails the run, naming it.
 * (A host may be slow; it must never be silently stuck.) A paused host is left alone.
 */
async function watchStalls(client: KubeClient, boundMs: number): Promise<{ informer: Informer; failed: Promise<never> }> {
  const informer = new Informer(client, KNOWN.BareMetalHost, 'BareMetalHost');
  const last = new Map<string, { sig: string; since: number }>();
  type Bmh = KubeObject & {
    status?: {
      provisioning?: { state?: string };
      errorType?: string;
      errorCount?: number;
      operationalStatus?: string;
      poweredOn?: boolean;
    };
  };
  const key = (o: KubeObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const record = (o: Bmh) => {
    const s = o.status ?? {};
    const sig = JSON.stringify([s.provisioning?.state, s.errorType, s.errorCount, s.operationalStatus, s.poweredOn]);
    if (last.get(key(o))?.sig !== sig) last.set(key(o), { sig, since: Date.now() });
  };
  informer
    .on('add', record)
    .on('update', record)
    .on('delete', (o) => last.delete(key(o)));
  await informer.start();
  const failed = new Promise<never>((_, reject) => {
    if (boundMs <= 0) return;
    const t = setInterval(() => {
      if (informer.isStopped) return clearInterval(t);
      for (const o of informer.list() as Bmh[]) {
        const st = o.status?.provisioning?.state ?? '';
        const seen = last.get(key(o));
        if (!seen || !MOVING_STATES.has(st) || o.status?.errorType || 'baremetalhost.metal3.io/paused' in (o.metadata?.annotations ?? {}))
          continue;
        const ms = Date.now() - seen.since;
        if (ms < boundMs) continue;
        clearInterval(t);
        reject(
          new ScenarioError(
            `BareMetalHost ${key(o)} sat in "${st}" for ${Math.round(ms / 1000)}s with no errorType and no change (operationalStatus ${o.status?.operationalStatus ?? 'unset'}): a silent hang`,
          ),
        );
        return;
      }
    }, 2000);
    t.unref();
  });
  // nobody may be racing it when it fires (between steps): that is not an unhandled rejection
  failed.catch(() => {});
  return { informer, failed };
}

async function waitGone(
  client: KubeClient,
  refs: Array<{ apiVersion: string; kind: string; namespace?: string; name: string }>,
  timeoutMs: number,
  tl: (w: string) => void,
) {
  const end = Date.now() + timeoutMs;
  const left = new Set(refs.map((r) => r.name));
  while (left.size) {
    for (const r of refs) {
      if (!left.has(r.name)) continue;
      try {
        await client.get(r.apiVersion, r.kind, r.namespace, r.name);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        left.delete(r.name);
        tl(`${r.kind}/${r.name} gone`);
      }
    }
    if (!left.size) return;
    if (Date.now() > end) throw new ScenarioError(`timed out after ${timeoutMs / 1000}s waiting for ${[...left].join(', ')} to be deleted`);
    await sleep(250);
  }
}

async function resolveTargets(client: KubeClient, t: Tgt, ns: string) {
  const apiVersion = t.apiVersion ?? KNOWN[t.kind];
  if (!apiVersion) throw new ScenarioError(`kind ${t.kind} needs an apiVersion`);
  const namespace = CLUSTER_SCOPED.has(t.kind) ? undefined : (t.namespace ?? ns);
  let names = t.names ?? (t.name ? [t.name] : []);
  if (t.all) {
    const q = t.selector ? `labelSelector=${encodeURIComponent(t.selector)}` : undefined;
    names = (await client.list(apiVersion, t.kind, namespace, q)).items.map((o) => String(o.metadata?.name));
  }
  return names.map((name) => ({ apiVersion, kind: t.kind, namespace, name }));
}

async function applySource(
  client: KubeClient,
  src: { path: string } | { inline: string },
  dir: string,
  vars: Record<string, string>,
  ns: string,
  where: string,
  tl?: (w: string) => void,
) {
  const label = 'path' in src ? src.path : `${where} (inline)`;
  let text: string;
  try {
    text = 'path' in src ? readFileSync(resolve(dir, src.path), 'utf8') : src.inline;
  } catch (e) {
    throw new ScenarioError(`${where}: cannot read ${label}: ${(e as Error).message}`);
  }
  const docs = parseAllDocuments(substitute(text, vars, label));
  for (const d of docs) {
    if (d.errors.length) throw new ScenarioError(`${label}: malformed YAML: ${d.errors[0].message.split('\n')[0]}`);
    const o = d.toJS() as KubeObject | null;
    if (!o) continue;
    if (!o.kind || !o.apiVersion || !o.metadata?.name)
      throw new ScenarioError(`${label}: every manifest needs apiVersion, kind and metadata.name`);
    if (!CLUSTER_SCOPED.has(String(o.kind)) && !o.metadata.namespace) o.metadata.namespace = ns;
    await applyObject(client, o);
    tl?.(`applied ${o.kind}/${o.metadata.name}`);
  }
}

/** ${VAR} in every string of a step or expectation (inline manifests are substituted when applied). */
function substituteAll<T>(v: T, vars: Record<string, string>, where: string): T {
  if (typeof v === 'string') return substitute(v, vars, where) as T;
  if (Array.isArray(v)) return v.map((x) => substituteAll(x, vars, where)) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === 'inline' ? x : substituteAll(x, vars, where);
    return out as T;
  }
  return v;
}

function buildVars(
  own: Record<string, string>,
  s: StackState,
  filesUrl: string,
  served: Map<string, Buffer>,
  freePort: string,
): Record<string, string> {
  const v: Record<string, string> = { NAMESPACE: '', IRONIC_URL: s.ironicUrl, FILES_URL: filesUrl, FREE_PORT: freePort };
  v.NAMESPACE = s.namespace;
  const key = (n: string) => n.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  for (const [name, buf] of served) {
    v[`${key(name)}_URL`] = `${filesUrl}/${name}`;
    v[`${key(name)}_SHA256`] = createHash('sha256').update(buf).digest('hex');
  }
  for (const a of fleetAddresses(s).addrs) {
    const k = key(a.name);
    v[`${k}_REDFISH`] = a.redfish ?? '';
    v[`${k}_REDFISH_VIRTUALMEDIA`] = a.redfishVirtualMedia ?? '';
    v[`${k}_IPMI`] = a.ipmi ?? '';
    v[`${k}_USERNAME`] = a.username;
    v[`${k}_PASSWORD`] = a.password;
    v[`${k}_USERNAME_B64`] = Buffer.from(a.username).toString('base64');
    v[`${k}_PASSWORD_B64`] = Buffer.from(a.password).toString('base64');
    v[`${k}_BOOT_MAC`] = a.bootMac;
  }
  // the scenario's own values last, each overridable from the environment
  // (a value may use the built-in variables: IMAGE_URL: ${DISK_IMG_URL})
  for (const [k, x] of Object.entries(own)) v[k] = substitute(process.env[k] ?? x, v, `vars.${k}`);
  return v;
}

/** Deterministic content for a generated file (its checksum is stable across runs). */
function readServedFile(path: string, dir: string): Buffer {
  const p = resolve(dir, path.replace(/^\$FERRITE_VM_IMAGES\b/, process.env.FERRITE_VM_IMAGES ?? join(dir, '..', '.vm-images')));
  try {
    return readFileSync(p);
  } catch (e) {
    throw new ScenarioError(
      `files: cannot read ${p} (${(e as Error).message})${/vm-images/.test(p) ? ': build it with scripts/build-vm-images.sh' : ''}`,
    );
  }
}

function fileContent(name: string, sizeMiB: number): Buffer {
  const seed = createHash('sha256').update(name).digest();
  const b = Buffer.alloc(Math.round(sizeMiB * 1024 * 1024));
  for (let i = 0; i < b.length; i += seed.length) seed.copy(b, i);
  // a generated disk image is shaped like one: an MBR whose one partition holds the rest, so an
  // agent writing it to a real disk (libvirt VMs) can add its config drive partition, as IPA does
  if (/\.(img|raw)$/.test(name) && b.length >= 2 * 1024 * 1024) {
    b.fill(0, 0, 1024 * 1024);
    const e = 446;
    b[e + 4] = 0x83;
    b.writeUInt32LE(2048, e + 8);
    b.writeUInt32LE(Math.floor(b.length / 512) - 2048, e + 12);
    b.writeUInt16LE(0xaa55, 510);
  }
  return b;
}

function serveFiles(files: Map<string, Buffer>): Promise<{ url: string; close(): Promise<void> }> {
  const srv = http.createServer((req, res) => {
    const f = files.get(decodeURIComponent((req.url ?? '/').split('?')[0].slice(1)));
    if (!f) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Length': f.length, 'Content-Type': 'application/octet-stream' });
    res.end(req.method === 'HEAD' ? undefined : f);
  });
  return new Promise((r) =>
    srv.listen(0, '127.0.0.1', () =>
      r({
        url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
        close: () =>
          new Promise<void>((c) => {
            srv.close(() => c());
            srv.closeAllConnections();
          }),
      }),
    ),
  );
}

/** The BMC emulator persists each machine's console with its state: read it from there, whatever the BMC protocol. */
async function waitConsole(
  s: StackState,
  w: { machine: string; matches: string; timeout: number },
  tl: (w: string) => void,
): Promise<void> {
  let re: RegExp;
  try {
    re = new RegExp(w.matches);
  } catch (e) {
    throw new ScenarioError(`console.matches: not a regular expression: ${(e as Error).message}`);
  }
  const store = new FleetStore(join(s.dataDir, 'bmc'));
  const uuid = store.loadFleet()?.machines.find((m) => m.spec.name === w.machine)?.spec.uuid;
  if (!uuid) throw new ScenarioError(`no machine named ${w.machine} in the fleet`);
  const until = Date.now() + w.timeout;
  let last: string[] = [];
  for (;;) {
    last = store.loadStates()[uuid]?.console ?? [];
    const hit = last.find((l) => re.test(l));
    if (hit) {
      tl(`${w.machine}: ${hit.slice(25)}`);
      return;
    }
    if (Date.now() > until)
      throw new ScenarioError(
        `${w.machine}'s console printed nothing matching /${w.matches}/ in ${w.timeout / 1000}s; last lines:\n${last.slice(-15).join('\n')}`,
      );
    await sleep(1000);
  }
}

/**
 * A fault on a machine, through the emulator's OEM actions on its Redfish system: a power cut, a
 * failed boot disk, an OS crash. A machine with only an IPMI BMC can only have its power cut,
 * with Chassis Control "power down" (the BMC has no gentler or harsher way).
 */
async function powerCut(
  s: StackState,
  machine: string,
  tl: (w: string) => void,
  type: 'power-cut' | 'disk-failure' | 'os-crash' = 'power-cut',
): Promise<void> {
  const a = fleetAddresses(s).addrs.find((x) => x.name === machine);
  if (!a) throw new ScenarioError(`no machine named ${machine} in the fleet`);
  if (type !== 'power-cut' && !a.redfish && !a.redfishVirtualMedia)
    throw new ScenarioError(`${type} needs a Redfish BMC; ${machine} has none`);
  if (!a.redfish && !a.redfishVirtualMedia && a.ipmi) {
    const u = new URL(a.ipmi);
    const c = new IpmiClient({ host: u.hostname, port: Number(u.port || 623), username: a.username, password: a.password });
    try {
      await c.open();
      await c.command(0x00, 0x02, [0x00]);
    } finally {
      await c.close();
    }
    tl(`power cut on ${machine} (IPMI chassis power down)`);
    return;
  }
  // the system's own Redfish URL, without the BMO scheme prefix (redfish+https:// → https://)
  const action = { 'power-cut': POWER_CUT_ACTION, 'disk-failure': DISK_FAILURE_ACTION, 'os-crash': OS_CRASH_ACTION }[type];
  const url = `${String(a.redfish ?? a.redfishVirtualMedia).replace(/^[a-z-]+\+/, '')}/Actions/Oem/${action}`;
  const status = await new Promise<number>((res, rej) => {
    const req = (url.startsWith('https:') ? httpsRequest : http.request)(
      url,
      {
        method: 'POST',
        rejectUnauthorized: false,
        headers: {
          Authorization: `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`,
          'Content-Type': 'application/json',
        },
      },
      (r) => {
        r.resume();
        res(r.statusCode ?? 0);
      },
    );
    req.on('error', rej);
    req.end('{}');
  });
  if (status >= 300) throw new ScenarioError(`${type} on ${machine} refused by its BMC: HTTP ${status}`);
  tl(`${type} on ${machine}`);
}

async function checkExpectation(client: KubeClient, e: Expectation, ns: string, observed: ScenarioReport['observed']): Promise<void> {
  if (e.sequence) {
    const objs = e.all
      ? [...new Set(observed.filter((x) => x.field === e.field && x.object.startsWith(`${e.kind}/`)).map((x) => x.object))]
      : (e.names ?? [e.name as string]).map((n) => `${e.kind}/${e.namespace ?? ns}/${n}`);
    if (!objs.length) throw new ScenarioError(`no ${e.kind} was observed`);
    for (const o of objs) {
      const values = observed.filter((x) => x.object === o && x.field === e.field).map((x) => x.value);
      let i = 0;
      for (const v of values) if (i < e.sequence.length && String(v) === String(e.sequence[i])) i++;
      if (i < e.sequence.length) {
        throw new ScenarioError(
          `${o}: ${e.field} did not go through ${e.sequence.join(' → ')}; observed ${values.map((v) => JSON.stringify(v)).join(' → ')}`,
        );
      }
    }
    return;
  }
  for (const ref of await resolveTargets(client, e, ns)) {
    const v = readField(await client.get(ref.apiVersion, ref.kind, ref.namespace, ref.name), e.field as string);
    if (!matches(v, e)) throw new ScenarioError(`${ref.kind}/${ref.name}: expected ${describeMatch(e)}, got ${JSON.stringify(v ?? null)}`);
  }
}

function stepKind(s: Step): string {
  return (
    ['apply', 'delete', 'patch', 'wait', 'assert', 'fault', 'restart', 'sleep', 'console'].find(
      (k) => (s as Record<string, unknown>)[k] !== undefined,
    ) ?? 'step'
  );
}

function stepTitle(s: Step): string {
  const who = (t: Tgt) => `${t.kind} ${t.all ? (t.selector ? `(${t.selector})` : '(all)') : t.names ? t.names.join(',') : t.name}`;
  if (s.apply) return `apply ${'path' in s.apply ? s.apply.path : 'inline manifests'}`;
  if (s.delete) return `delete ${who(s.delete)}`;
  if (s.patch) return `patch ${who(s.patch)}`;
  if (s.wait) return `wait for ${who(s.wait)} ${s.wait.gone ? 'to be gone' : describeMatch(s.wait)}`;
  if (s.assert) return `assert ${who(s.assert)} ${describeMatch(s.assert)}`;
  if (s.fault) return `${s.fault.type} on ${s.fault.machine}`;
  if (s.restart) return `${s.restart.signal} ${s.restart.component} and start it again`;
  if (s.console) return `wait for ${s.console.machine}'s console to print /${s.console.matches}/`;
  return `sleep ${(s.sleep ?? 0) / 1000}s`;
}

function describeExpectation(e: Expectation): string {
  const who = `${e.kind} ${e.all ? '(all)' : e.names ? e.names.join(',') : e.name}`;
  return e.sequence ? `${who} ${e.field} went ${e.sequence.join(' → ')}` : `${who} ${describeMatch(e)}`;
}

export type { StepReport, TimelineEvent };
