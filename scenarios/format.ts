// The scenario file format (documented in docs/scenarios.md): a fleet, files to serve, the
// manifests to apply, ordered steps and final expectations. Parsed with `yaml` (keeping node
// positions) and checked with zod, so every error names the file, line and column.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { fleetSchema } from '../emulator/fleet/config.js';

const duration = z
  .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?(ms|s|m)$/, 'must be a duration like 90s, 5m or 500ms')])
  .transform((v) =>
    typeof v === 'number' ? v * 1000 : Number.parseFloat(v) * ({ ms: 1, s: 1000, m: 60_000 }[v.replace(/^[\d.]+/, '')] ?? 1000),
  );

const source = z.union([z.object({ path: z.string() }).strict(), z.object({ inline: z.string() }).strict()]);

const targetShape = {
  apiVersion: z.string().optional(),
  kind: z.string(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  names: z.array(z.string()).min(1).optional(),
  all: z.boolean().optional().describe('every object of the kind in the namespace'),
  selector: z.string().optional().describe('with all: true, only the objects this label selector selects (kubectl -l syntax)'),
  cluster: z.string().optional().describe("read from this Cluster's workload cluster (its <cluster>-kubeconfig Secret)"),
};
const matchShape = {
  field: z.string().describe('kubectl-style JSONPath, e.g. .status.provisioning.state'),
  equals: z.union([z.string(), z.number(), z.boolean(), z.null()]).optional(),
  in: z.array(z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
  matches: z.string().optional().describe('a regular expression the value (as text) must match'),
};
type Shaped = {
  selector?: string;
  name?: string;
  names?: string[];
  all?: boolean;
  equals?: unknown;
  in?: unknown;
  matches?: unknown;
  gone?: boolean;
  field?: string;
};
const oneTarget = (t: Shaped, ctx: z.RefinementCtx) => {
  if ([t.name, t.names, t.all].filter((x) => x !== undefined).length !== 1)
    ctx.addIssue({ code: 'custom', message: 'give exactly one of name, names or all' });
  if (t.selector !== undefined && !t.all) ctx.addIssue({ code: 'custom', message: 'a selector goes with all: true' });
};
const oneMatch = (m: Shaped, ctx: z.RefinementCtx) => {
  if ([m.equals, m.in, m.matches].filter((x) => x !== undefined).length !== 1)
    ctx.addIssue({ code: 'custom', message: 'give exactly one of equals, in or matches' });
};

const target = z.object(targetShape).strict().superRefine(oneTarget);
const matcher = z
  .object({ ...targetShape, ...matchShape })
  .strict()
  .superRefine((v, ctx) => {
    oneTarget(v, ctx);
    oneMatch(v, ctx);
  });

const waitStep = z
  .object({
    ...targetShape,
    ...matchShape,
    field: z.string().optional(),
    timeout: duration.default(300_000),
    gone: z.boolean().optional(),
    count: z.number().int().min(0).optional().describe('with all: true, also wait until exactly this many objects exist'),
  })
  .strict()
  .superRefine((v, ctx) => {
    oneTarget(v, ctx);
    if (v.gone) {
      if (v.field) ctx.addIssue({ code: 'custom', message: 'wait for gone takes no field' });
    } else if (!v.field) ctx.addIssue({ code: 'custom', message: 'wait needs a field (with equals, in or matches) or gone: true' });
    else oneMatch(v, ctx);
  });

export const stepSchema = z
  .object({
    name: z.string().optional(),
    apply: source.optional(),
    delete: z
      .object({ ...targetShape, wait: z.boolean().optional() })
      .strict()
      .superRefine(oneTarget)
      .optional(),
    patch: z
      .object({ ...targetShape, type: z.enum(['merge', 'json']).default('merge'), patch: z.unknown() })
      .strict()
      .superRefine(oneTarget)
      .optional(),
    wait: waitStep.optional(),
    assert: matcher.optional(),
    fault: z
      .object({
        machine: z.string().optional(),
        clusterMachine: z.string().optional().describe('a label selector: the host of the first (by name) Cluster API Machine it selects'),
        type: z
          .enum(['power-cut', 'disk-failure', 'os-crash'])
          .describe('os-crash: what the machine runs (the agent, the OS) dies and it hangs powered on'),
      })
      .strict()
      .refine((f) => Boolean(f.machine) !== Boolean(f.clusterMachine), 'a fault names exactly one of machine or clusterMachine')
      .optional(),
    restart: z
      .object({
        component: z.enum(['apiserver', 'ironic', 'bmc', 'controllers', 'cluster-api']),
        signal: z.enum(['SIGKILL', 'SIGTERM']).default('SIGKILL'),
        downFor: duration.optional().describe('how long the component stays down before it starts again (default: at once)'),
      })
      .strict()
      .optional(),
    sleep: duration.optional(),
    console: z
      .object({
        machine: z.string().describe('a fleet machine'),
        matches: z.string().describe('a regular expression one console line must match'),
        timeout: duration.default(300_000),
      })
      .strict()
      .optional()
      .describe("wait for a line on a machine's console (a VM's serial port, or what a simulated machine prints)"),
  })
  .strict()
  .refine(
    (s) =>
      ['apply', 'delete', 'patch', 'wait', 'assert', 'fault', 'restart', 'sleep', 'console'].filter(
        (k) => (s as Record<string, unknown>)[k] !== undefined,
      ).length === 1,
    'a step does exactly one of apply, delete, patch, wait, assert, fault, restart, sleep or console',
  );

export const expectationSchema = z
  .object({
    ...targetShape,
    ...matchShape,
    sequence: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional()
      .describe('values seen in this order over the run (others may come between)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    oneTarget(v, ctx);
    if (v.sequence === undefined) oneMatch(v, ctx);
  });

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be lower case letters, digits and -'),
    description: z.string().optional(),
    fleet: z.union([z.string(), fleetSchema]).describe('an emulator fleet, inline or a path'),
    settings: z
      .object({
        namespace: z.string().default('default'),
        timeScale: z.number().positive().default(10),
        heartbeatTimeout: z.number().int().positive().default(3),
        pollInterval: z.number().positive().default(1),
        stallTimeout: duration
          .default(240_000)
          .describe(
            'the run fails when a BareMetalHost sits this long in a state that should move on (provisioning, inspecting, …) with no errorType and no change; 0 turns the check off',
          ),
      })
      .strict()
      .default({ namespace: 'default', timeScale: 10, heartbeatTimeout: 3, pollInterval: 1, stallTimeout: 240_000 }),
    vars: z.record(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'variable names are upper case'), z.string()).default({}),
    files: z
      .array(
        z
          .object({
            name: z.string().regex(/^[A-Za-z0-9._-]+$/),
            sizeMiB: z.number().positive().max(1024).optional(),
            content: z.string().optional(),
            path: z
              .string()
              .optional()
              .describe('serve this file (relative to the scenario file; $FERRITE_VM_IMAGES names the VM image folder)'),
          })
          .strict(),
      )
      .default([]),
    manifests: z.array(source).default([]),
    steps: z.array(stepSchema).min(1),
    expect: z.array(expectationSchema).default([]),
  })
  .strict();

export type Scenario = z.infer<typeof scenarioSchema>;
export type Step = z.infer<typeof stepSchema>;
export type Target = z.infer<typeof target>;
export type Match = z.infer<typeof matcher>;
export type Expectation = z.infer<typeof expectationSchema>;

export class ScenarioError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioError';
  }
}

export interface LoadedScenario {
  scenario: Scenario;
  file: string;
  dir: string;
}

export function loadScenario(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return { scenario: parseScenario(text, file), file: resolve(file), dir: dirname(resolve(file)) };
}

export function parseScenario(text: string, file = 'scenario'): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const p = lc.linePos(offset);
    return `${file}:${p.line}:${p.col}`;
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    throw new ScenarioError(`${at(e.pos[0])}: malformed YAML: ${e.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) throw new ScenarioError(`${file}: a scenario is a YAML mapping with name, fleet and steps`);
  const r = scenarioSchema.safeParse(doc.toJS());
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 5).map((i) => {
    // the deepest node that exists on the issue's path gives the position
    let node: unknown;
    for (let n = i.path.length; n >= 0 && !node; n--) node = doc.getIn(i.path.slice(0, n) as (string | number)[], true);
    const range = (node as { range?: [number, number] } | undefined)?.range;
    const where = i.path.length ? ` (${i.path.join('.')})` : '';
    return `${at(range?.[0])}: ${i.message}${where}`;
  });
  throw new ScenarioError(lines.join('\n'));
}

/** Replaces `${VAR}` (and metal3-dev-env's `${ VAR }`); an unknown variable is an error naming it. */
export function substitute(text: string, vars: Record<string, string>, where: string): string {
  return text.replace(/\$\{ ?([A-Za-z_][A-Za-z0-9_]*) ?\}/g, (_, k: string) => {
    const v = vars[k];
    if (v === undefined) throw new ScenarioError(`${where}: unknown variable \${${k}} (known: ${Object.keys(vars).sort().join(', ')})`);
    return v;
  });
}
