// Power: the power-state API, and the periodic sync that makes the database follow the hardware —
// repeated failures put a node in maintenance, and a machine found off while its agent is awaited
// fails the wait at once (the agent is gone).

import { cloneJson } from '../../../lib/clone.js';
import { describe, IronicError } from '../errors.js';
import type { Node } from '../model.js';
import type { Conductor } from './conductor.js';
import type { DriverSet } from './drivers.js';
import { AGENT_WAITS } from './steps.js';

const POWER_TARGETS = new Set(['power on', 'power off', 'rebooting', 'soft power off', 'soft rebooting']);

export function changePower(c: Conductor, ident: string, target: string, timeout: number | undefined, minor: number): void {
  if (!POWER_TARGETS.has(target)) throw new IronicError('InvalidParameterValue', `Invalid power state target "${target}"`);
  if ((target === 'soft power off' || target === 'soft rebooting') && minor < 27)
    throw new IronicError('NotAcceptable', `Power state ${target} needs API version 1.27`);
  if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1))
    throw new IronicError('Invalid', `Invalid timeout value ${timeout}: it must be a positive integer`);
  c.requireWorker();
  const node = c.acquire(ident);
  let set: DriverSet;
  try {
    set = c.drivers.forNode(node);
    set.power.validate(node);
    if (node.disable_power_off && (target === 'power off' || target === 'soft power off'))
      throw new IronicError('InvalidParameterValue', `Node ${node.uuid} has disable_power_off set: it can be rebooted but not powered off`);
  } catch (e) {
    c.release(node);
    throw e;
  }
  node.target_power_state =
    target === 'rebooting' || target === 'soft rebooting'
      ? 'power on'
      : target === 'soft power off'
        ? 'power off'
        : (target as 'power on' | 'power off');
  node.last_error = null;
  c.save(node);
  c.spawn(node, 'power', async (n) => {
    try {
      if (target === 'rebooting' || target === 'soft rebooting') await set.power.reboot(n, target === 'soft rebooting', timeout);
      else await set.power.setPowerState(n, target as 'power on' | 'power off' | 'soft power off', timeout);
      n.power_state = target === 'power off' || target === 'soft power off' ? 'power off' : 'power on';
    } catch (e) {
      n.last_error = `Failed to change power state to '${target}' by '${target}'. Error: ${describe(e)}`;
      c.history(n, 'ERROR', 'power', n.last_error);
      n.power_state = await set.power.getPowerState(n).catch(() => n.power_state);
    }
    n.target_power_state = null;
    c.save(n);
  });
}

/** Periodic power sync: the database follows the hardware; repeated failures put the node in maintenance. */
export async function syncPowerStates(c: Conductor): Promise<void> {
  for (const n of [...c.store.allNodes()]) {
    if (c.stopped) return;
    if (n.reservation || n.provision_state === 'enroll' || (n.maintenance && n.fault !== 'power failure')) continue;
    if (['deploying', 'cleaning', 'inspecting', 'verifying', 'deleting', 'adopting', 'servicing'].includes(n.provision_state)) continue;
    let set: DriverSet;
    try {
      set = c.drivers.forNode(n);
    } catch {
      continue;
    }
    let state: 'power on' | 'power off' | null = null;
    let err: unknown = null;
    try {
      state = await set.power.getPowerState(n);
    } catch (e) {
      err = e;
    }
    const fresh = c.store.node(n.uuid);
    if (!fresh || fresh.reservation) continue;
    if (state && agentLost(c, fresh, state)) continue;
    // a node is copied only to be changed: a copy of every node on every sync showed in the idle profile
    if (state) {
      c.powerFailures.delete(n.uuid);
      if (fresh.power_state === state && fresh.fault !== 'power failure') continue;
      const node = cloneJson(fresh);
      node.power_state = state;
      if (node.fault === 'power failure') {
        node.maintenance = false;
        node.maintenance_reason = null;
        node.fault = null;
      }
      c.save(node);
    } else {
      const count = (c.powerFailures.get(n.uuid) ?? 0) + 1;
      c.powerFailures.set(n.uuid, count);
      if (count >= c.opts.powerSyncMaxRetries && !fresh.maintenance) {
        const node = cloneJson(fresh);
        const msg = `During sync_power_state, max retries exceeded for node ${node.uuid}, node state ${node.power_state} does not match expected state 'None'. Updating DB state to 'None' Switching node to maintenance mode. Error: ${describe(err)}`;
        node.power_state = null;
        node.maintenance = true;
        node.maintenance_reason = msg;
        node.fault = 'power failure';
        node.last_error = msg;
        c.history(node, 'ERROR', 'power', msg);
        c.save(node);
      }
    }
  }
}

/**
 * A node waiting for its agent (deploy, clean, inspect) whose machine is found powered off on
 * two power syncs in a row cannot be called back: its agent is gone (a power cut, a BMC that
 * restarted and lost the machine). Instead of sitting out the 30-minute callback timeout, the
 * step fails now with a message that says so, and the usual fail path follows. Returns true
 * when the node was failed.
 */
export function agentLost(c: Conductor, n: Node, power: 'power on' | 'power off'): boolean {
  const phase = AGENT_WAITS[n.provision_state];
  if (!phase || power !== 'power off' || n.target_power_state) {
    c.offWhileWaiting.delete(n.uuid);
    return false;
  }
  const seen = (c.offWhileWaiting.get(n.uuid) ?? 0) + 1;
  c.offWhileWaiting.set(n.uuid, seen);
  if (seen < 2 || !c.hasFreeWorker) return false;
  c.offWhileWaiting.delete(n.uuid);
  const last = n.driver_internal_info.agent_last_heartbeat;
  const node = c.acquire(n.uuid);
  node.power_state = 'power off';
  c.fail(
    node,
    phase,
    `The machine was found powered off while ${n.provision_state === 'wait call-back' ? 'waiting for the agent to call back' : `in ${n.provision_state}`}: the agent is gone (power cut or BMC restart?); its last heartbeat was ${typeof last === 'string' ? last : 'never'}`,
  );
  const set = c.drivers.forNode(node);
  c.spawn(node, 'agent lost', async (x) => {
    await c.tearDownAgent(x, set).catch(() => {});
    c.save(x);
  });
  return true;
}
