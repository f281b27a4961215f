// For the conductor's unit tests: a conductor on a fresh SQLite store in a temp dir, with no
// periodic power sync (tests call syncPowerStates themselves), and a poll-until helper.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Node, newNode } from '../model.js';
import { IronicStore } from '../store.js';
import { Conductor, type ConductorOptions, DEFAULT_CONDUCTOR_OPTIONS } from './conductor.js';

/** Runs `fn` with a started conductor and its store; stops and removes both afterwards. */
export async function withConductor(
  fn: (c: Conductor, store: IronicStore) => Promise<void>,
  opts: Partial<ConductorOptions> = {},
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferrite-conductor-'));
  const store = new IronicStore({ path: join(dir, 'ironic.sqlite') });
  const c = new Conductor(store, {
    ...DEFAULT_CONDUCTOR_OPTIONS,
    powerSyncInterval: 0,
    hostname: 'c1',
    apiUrl: 'http://127.0.0.1:1',
    httpUrl: 'http://127.0.0.1:1',
    httpRoot: join(dir, 'http'),
    cacheDir: join(dir, 'cache'),
    ...opts,
  });
  try {
    c.start();
    await fn(c, store);
  } finally {
    await c.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Stores a fake-hardware node with the direct deploy interface, waiting in `provision_state` (as an agent's wait would). */
export function putWaitingNode(store: IronicStore, name: string, provision_state: string, fields: Partial<Node> = {}): Node {
  const n = newNode({ driver: 'fake-hardware', name, deploy_interface: 'direct', provision_state: provision_state as never, ...fields });
  store.putNode(n);
  return n;
}

/** Polls `fn` every 10 ms for up to 3 s. */
export async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Keeps a conductor worker busy: a power change on a new node `name` whose BMC call hangs until
 * the returned function is called (with one worker, the pool is then full).
 */
export function holdWorker(c: Conductor, store: IronicStore, name = 'busy'): () => void {
  let release = () => {};
  const held = new Promise<void>((r) => {
    release = r;
  });
  c.drivers.fake.setPowerState = async (n, target) => {
    await held;
    n.power_state = target === 'power on' ? 'power on' : 'power off';
  };
  const busy = store.putNode(newNode({ driver: 'fake-hardware', name, provision_state: 'manageable' }));
  c.changePower(busy.uuid, 'power on', undefined, 90);
  return release;
}
