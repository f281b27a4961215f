// Scenario, benchmark and conformance reports in the folders the dashboard was pointed at: a list,
// and one report's JSON to render. Only plain file names inside those folders are served.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export interface RunEntry {
  dir: number;
  file: string;
  kind: 'scenario' | 'benchmark' | 'conformance' | 'html';
  title: string;
  status: string;
  modified: string;
  bytes: number;
}

export class RunsError extends Error {
  constructor(
    readonly reason: 'NotFound' | 'Invalid',
    message: string,
  ) {
    super(message);
    this.name = 'RunsError';
  }
}

const MAX_REPORT = 32 * 1024 * 1024;

export class Runs {
  readonly dirs: string[];

  constructor(dirs: string[]) {
    this.dirs = dirs.map((d) => resolve(d));
  }

  list(): RunEntry[] {
    const out: RunEntry[] = [];
    for (const [i, dir] of this.dirs.entries()) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const file of names) {
        if (!/\.(json|html)$/.test(file)) continue;
        const path = join(dir, file);
        let st: ReturnType<typeof statSync>;
        try {
          st = statSync(path);
        } catch {
          continue;
        }
        if (!st.isFile()) continue;
        out.push({ dir: i, file, ...describe(path, file, st.size), modified: st.mtime.toISOString(), bytes: st.size });
      }
    }
    return out.sort((a, b) => b.modified.localeCompare(a.modified));
  }

  /** The path of a listed report, refusing anything but a plain file name in a known folder. */
  path(dir: number, file: string): string {
    if (!Number.isInteger(dir) || dir < 0 || dir >= this.dirs.length) throw new RunsError('NotFound', `no report folder ${dir}`);
    if (basename(file) !== file || file.startsWith('.') || !/\.(json|html)$/.test(file))
      throw new RunsError('Invalid', `"${file}" is not a report file name`);
    const p = join(this.dirs[dir], file);
    try {
      if (!statSync(p).isFile()) throw new Error();
    } catch {
      throw new RunsError('NotFound', `no report ${file} in ${this.dirs[dir]}`);
    }
    return p;
  }

  read(dir: number, file: string): unknown {
    const p = this.path(dir, file);
    if (!file.endsWith('.json')) throw new RunsError('Invalid', `${file} is not a JSON report`);
    if (statSync(p).size > MAX_REPORT) throw new RunsError('Invalid', `${file} is larger than ${MAX_REPORT / 1024 / 1024} MiB`);
    try {
      return JSON.parse(readFileSync(p, 'utf8'));
    } catch (e) {
      throw new RunsError('Invalid', `${file} is not valid JSON: ${(e as Error).message}`);
    }
  }
}

function describe(path: string, file: string, size: number): Pick<RunEntry, 'kind' | 'title' | 'status'> {
  if (file.endsWith('.html')) return { kind: 'html', title: file, status: '' };
  if (size > MAX_REPORT) return { kind: 'benchmark', title: file, status: 'too large' };
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    if (typeof j.scenario === 'string' && Array.isArray(j.steps))
      return { kind: 'scenario', title: j.scenario, status: String(j.status ?? '') };
    if (Array.isArray(j.checks) || Array.isArray(j.results)) {
      const sm = (j.summary ?? {}) as Record<string, number>;
      return {
        kind: 'conformance',
        title: `${j.profile ?? ''} ${j.target ?? file}`.trim(),
        status: `${sm.pass ?? 0} pass, ${sm.fail ?? 0} fail`,
      };
    }
    return { kind: 'benchmark', title: String(j.name ?? j.benchmark ?? file.replace(/\.json$/, '')), status: '' };
  } catch {
    // half-written or not a report: listed, and opening it says why it cannot be shown
    return { kind: 'benchmark', title: file, status: 'unreadable' };
  }
}
