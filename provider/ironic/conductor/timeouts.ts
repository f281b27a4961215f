// Waits that must end: the callback timeouts of Ironic's periodic check, and the heartbeat
// deadline that fails a wait whose agent has gone silent long before them.

import type { Node } from '../model.js';
import type { ProvisionState } from '../states.js';
import type { Conductor } from './conductor.js';
import { AGENT_WAITS } from './steps.js';

/** Seconds of silence after which an agent that had called in counts as gone (0: never). */
export function heartbeatDeadline(c: Conductor): number {
  return c.opts.heartbeatDeadline ?? Math.max(30, 2 * c.opts.heartbeatTimeout);
}

/**
 * Wait states whose callback never came fail after their timeout, as Ironic's periodic check
 * does; a wait whose agent had heartbeated and then went silent past the heartbeat deadline fails
 * first, saying when the agent was last heard from.
 */
export function checkTimeouts(c: Conductor): void {
  const limits: Partial<Record<ProvisionState, [number, string]>> = {
    'wait call-back': [c.opts.deployCallbackTimeout, 'Timeout reached while waiting for callback for node'],
    'clean wait': [
      c.opts.cleanCallbackTimeout,
      'Timeout reached while cleaning the node. Please check if the ramdisk responsible for the cleaning is running on the node.',
    ],
    'inspect wait': [c.opts.inspectWaitTimeout, 'Timeout reached while inspecting the node.'],
  };
  const t = Date.now();
  const deadline = heartbeatDeadline(c) * 1000;
  for (const n of [...c.store.allNodes()]) {
    const phase = AGENT_WAITS[n.provision_state];
    if (!phase || n.reservation || !n.provision_updated_at) continue;
    let msg: string | null = null;
    const lim = limits[n.provision_state];
    if (lim?.[0] && t - Date.parse(n.provision_updated_at) >= lim[0] * 1000)
      msg = n.provision_state === 'wait call-back' ? `${lim[1]} ${n.uuid}` : lim[1];
    else if (deadline > 0) msg = silentAgent(c, n, t, deadline);
    if (!msg) continue;
    // the task that powers the node off needs a worker: with none free (a thousand hosts at once),
    // the node fails next round — a throw here, in a timer, would take the conductor down
    if (!c.hasFreeWorker) return;
    const node = c.acquire(n.uuid);
    const set = c.drivers.forNode(node);
    c.fail(node, phase, msg);
    c.spawn(node, 'timeout', async (x) => {
      await c.tearDownAgent(x, set).catch(() => {});
      c.save(x);
    });
  }
}

/**
 * The agent of this boot (it heartbeated: its URL is known) has not been heard from for longer
 * than the deadline — counted from its last heartbeat (taken, or refused for a busy conductor or
 * a held lock), the node's last step change, or this conductor's start, whichever is latest, so
 * neither a long step, nor load, nor a conductor restart trips it.
 */
function silentAgent(c: Conductor, n: Node, t: number, deadline: number): string | null {
  const d = n.driver_internal_info;
  if (typeof d.agent_url !== 'string' || typeof d.agent_last_heartbeat !== 'string') return null;
  const last = isoTime(d.agent_last_heartbeat);
  if (Number.isNaN(last)) return null;
  const since = Math.max(last, c.agentHeard.get(n.uuid) ?? 0, isoTime(n.provision_updated_at ?? '') || 0, c.startedAt);
  if (t - since < deadline) return null;
  return `The agent of node ${n.uuid} has not sent a heartbeat since ${d.agent_last_heartbeat} (deadline ${deadline / 1000} s) while in ${n.provision_state}: it is gone (the machine crashed, lost power or its network)`;
}

/** Ironic's timestamps carry +00:00; older records (and Ironic's own) may have no zone, meaning UTC. */
function isoTime(v: string): number {
  const t = Date.parse(v);
  return Number.isNaN(t) ? Date.parse(`${v}Z`) : t;
}
