// Persists the resolved fleet and every machine's state in the data directory. Writes go to a
// temporary file that is fsynced and renamed over the old one, so a process killed mid-write
// leaves the previous complete state, never a torn file.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MachineState } from '../machine/model.js';
import { FleetError, type ResolvedFleet } from './config.js';

const STATE_VERSION = 1;

export function writeFileAtomic(path: string, data: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

function readJson<T>(path: string, what: string): T | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new FleetError(`${what} ${path} is unreadable (${(e as Error).message}); move it away to start fresh`);
  }
}

export class FleetStore {
  readonly fleetPath: string;
  readonly statePath: string;
  private timer: NodeJS.Timeout | null = null;
  private snapshot: (() => Record<string, MachineState>) | null = null;

  constructor(readonly dir: string) {
    this.fleetPath = join(dir, 'fleet.json');
    this.statePath = join(dir, 'state.json');
  }

  loadFleet(): ResolvedFleet | null {
    return readJson<ResolvedFleet>(this.fleetPath, 'fleet');
  }

  saveFleet(f: ResolvedFleet): void {
    writeFileAtomic(this.fleetPath, `${JSON.stringify(f, null, 2)}\n`);
  }

  /** Saved machine states keyed by machine uuid. */
  loadStates(): Record<string, MachineState> {
    const s = readJson<{ version: number; machines: Record<string, MachineState> }>(this.statePath, 'machine state');
    if (!s) return {};
    if (s.version !== STATE_VERSION)
      throw new FleetError(`machine state ${this.statePath} has version ${s.version}; this Ferrite reads ${STATE_VERSION}`);
    return s.machines;
  }

  /** Registers where states come from; `dirty()` then schedules a coalesced write. */
  track(snapshot: () => Record<string, MachineState>): void {
    this.snapshot = snapshot;
  }

  dirty(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), 50);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.snapshot) return;
    writeFileAtomic(this.statePath, JSON.stringify({ version: STATE_VERSION, machines: this.snapshot() }));
  }
}
