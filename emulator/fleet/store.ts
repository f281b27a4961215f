// Persists the resolved fleet and each machine's state in the data directory, one file per
// machine. Every write goes to a temporary file that is renamed over the old one, so a process
// killed mid-write leaves the previous complete state, never a torn file; with sync 'full' the file
// and its directory are fsynced too, so a power cut does not either. Settings (power, boot, media,
// BIOS, …) are written before the change is acknowledged; console and event logs are batched.

import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive } from '../../lib/dir-lock.js';
import type { MachineState } from '../machine/model.js';
import { FleetError, type ResolvedFleet } from './config.js';

const STATE_VERSION = 1;

/**
 * 'full': fsync the file and its directory (survives a power cut); 'normal': rename only (survives
 * a killed process: the kernel keeps what was written). Two fsyncs per machine change were half the
 * emulator's time while 200 clusters came up, each one blocking every BMC it serves.
 */
export type SyncMode = 'full' | 'normal';

export function writeFileAtomic(path: string, data: string, sync: SyncMode = 'full'): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeFileSync(fd, data);
    if (sync === 'full') fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (sync !== 'full') return;
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
    throw new FleetError(`${what} ${path} is unreadable (${(e as Error).message}); move it away to start that machine fresh`);
  }
}

export class FleetStore {
  readonly fleetPath: string;
  readonly machinesDir: string;
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<string>();
  private source: ((uuid: string) => MachineState | undefined) | null = null;

  constructor(
    readonly dir: string,
    /** told when a batched save fails (it is retried a second later) */
    private readonly onSaveError?: (uuid: string, e: Error) => void,
    private readonly sync: SyncMode = 'full',
  ) {
    this.fleetPath = join(dir, 'fleet.json');
    this.machinesDir = join(dir, 'machines');
  }

  loadFleet(): ResolvedFleet | null {
    return readJson<ResolvedFleet>(this.fleetPath, 'fleet');
  }

  saveFleet(f: ResolvedFleet): void {
    writeFileAtomic(this.fleetPath, `${JSON.stringify(f, null, 2)}\n`, this.sync);
  }

  /** Saved machine states keyed by machine uuid. */
  loadStates(): Record<string, MachineState> {
    const out: Record<string, MachineState> = {};
    if (!existsSync(this.machinesDir)) return out;
    for (const f of readdirSync(this.machinesDir)) {
      if (f.includes('.tmp-')) {
        // a write that never reached its rename (the previous file is still complete) — unless its
        // writer is alive and mid-write: a reader (a scenario's console step) must not pull the
        // file from under a running emulator's rename
        const pid = Number(f.slice(f.lastIndexOf('.tmp-') + 5));
        if (!Number.isInteger(pid) || pid === process.pid || !processAlive(pid)) rmSync(join(this.machinesDir, f), { force: true });
        continue;
      }
      if (!f.endsWith('.json')) continue;
      const s = readJson<{ version: number; state: MachineState }>(join(this.machinesDir, f), 'machine state');
      if (!s) continue;
      if (s.version !== STATE_VERSION)
        throw new FleetError(`machine state ${f} has version ${s.version}; this Ferrite reads ${STATE_VERSION}`);
      out[f.slice(0, -5)] = s.state;
    }
    return out;
  }

  /** Registers where states come from. */
  track(source: (uuid: string) => MachineState | undefined): void {
    this.source = source;
  }

  /** Records that a machine changed: now when `urgent`, else within 100 ms. */
  dirty(uuid: string, urgent: boolean): void {
    if (urgent) {
      this.pending.delete(uuid);
      this.write(uuid);
      return;
    }
    this.pending.add(uuid);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), 100);
    this.timer.unref();
  }

  private write(uuid: string): void {
    const s = this.source?.(uuid);
    if (s) writeFileAtomic(join(this.machinesDir, `${uuid}.json`), JSON.stringify({ version: STATE_VERSION, state: s }), this.sync);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const uuid of [...this.pending]) {
      this.pending.delete(uuid);
      try {
        this.write(uuid);
      } catch (e) {
        // a batched save (console, event log) runs from a timer: failing must not take every BMC
        // down with it — keep the machine pending and try again in a second
        this.onSaveError?.(uuid, e as Error);
        this.pending.add(uuid);
      }
    }
    if (this.pending.size && !this.timer) {
      this.timer = setTimeout(() => this.flush(), 1000);
      this.timer.unref();
    }
  }
}
