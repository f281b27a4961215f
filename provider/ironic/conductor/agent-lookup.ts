// The agent's side of the conductor: lookup (which node am I? here is your token) and heartbeats
// (I am alive at this URL), which move deploy and clean steps forward.

import { randomBytes } from 'node:crypto';
import { cloneJson } from '../../../lib/clone.js';
import { IronicError, nodeLocked } from '../errors.js';
import { type Node, now } from '../model.js';
import type { ProvisionState } from '../states.js';
import type { Conductor } from './conductor.js';
import { continueSteps } from './steps.js';

/** GET /v1/lookup: the node whose ports match, in a state that expects an agent. */
export function lookup(c: Conductor, addresses: string[], nodeUuid: string | null): { node: Node; token: string | null } {
  let n: Node | undefined;
  if (nodeUuid) n = c.store.node(nodeUuid.toLowerCase());
  else
    for (const a of addresses) {
      const p = c.store.portByAddress(a.toLowerCase());
      if (p) {
        n = c.store.node(p.node_uuid);
        if (n) break;
      }
    }
  if (!n) throw new IronicError('NotFound', 'Node could not be found.');
  const allowed: ProvisionState[] = [
    'deploying',
    'wait call-back',
    'cleaning',
    'clean wait',
    'inspecting',
    'inspect wait',
    'rescuing',
    'rescue wait',
    'service wait',
  ];
  if (!allowed.includes(n.provision_state)) throw new IronicError('NotFound', 'Node could not be found.');
  if (c.rebootingIntoAgent.has(n.uuid)) throw nodeLocked(n.uuid, n.reservation ?? 'this conductor');
  let token: string | null = null;
  if (!n.driver_internal_info.agent_secret_token) {
    // the token is revealed once; a node already holding one only gets "******"
    const copy = cloneJson(n);
    token = randomBytes(32).toString('base64url');
    copy.driver_internal_info.agent_secret_token = token;
    c.store.putNode(copy);
    n = copy;
  }
  return { node: n, token };
}

/** POST /v1/heartbeat/{node}: records the agent and moves the current step flow forward. */
export function heartbeat(
  c: Conductor,
  ident: string,
  body: { callback_url?: unknown; agent_token?: unknown; agent_version?: unknown; agent_verify_ca?: unknown },
): void {
  const cur = c.find(ident);
  const expected = cur.driver_internal_info.agent_secret_token;
  if (!expected || body.agent_token !== expected) throw new IronicError('NotAuthorized', 'Invalid or missing agent token received.');
  if (typeof body.callback_url !== 'string' || !/^https?:\/\//.test(body.callback_url))
    throw new IronicError('Invalid', 'callback_url must be an http(s) URL');
  const verifyCa = body.agent_verify_ca;
  if (verifyCa !== undefined && verifyCa !== null && (typeof verifyCa !== 'string' || !verifyCa.includes('-----BEGIN CERTIFICATE-----')))
    throw new IronicError('Invalid', 'agent_verify_ca must be a PEM certificate');
  // an agent's certificate is fixed for its life: a different one is another party, not the agent
  const known = cur.driver_internal_info.agent_verify_ca;
  if (typeof known === 'string' && verifyCa && known !== verifyCa)
    throw new IronicError('Invalid', 'Detected change in ramdisk provided TLS certificate; refusing the heartbeat');
  // the agent is alive whatever becomes of this heartbeat (a thousand hosts at once keep every
  // worker busy for minutes; that is not the agent going silent)
  c.agentHeard.set(cur.uuid, Date.now());
  // a heartbeat that moves steps on needs a worker: refused before anything changes (503, the agent
  // beats again), as upstream's heartbeat is when no worker is free
  if (cur.provision_state === 'wait call-back' || cur.provision_state === 'clean wait') c.requireWorker();
  const node = c.acquire(cur.uuid);
  node.driver_internal_info.agent_url = body.callback_url;
  if (typeof verifyCa === 'string') node.driver_internal_info.agent_verify_ca = verifyCa;
  node.driver_internal_info.agent_version = body.agent_version ?? null;
  node.driver_internal_info.agent_last_heartbeat = now();
  const st = node.provision_state;
  if (st !== 'wait call-back' && st !== 'clean wait') {
    c.release(node);
    return;
  }
  const set = c.drivers.forNode(node);
  c.applyEvent(node, 'resume');
  c.save(node);
  c.spawn(node, 'heartbeat', (n) => continueSteps(c, n, set, st === 'wait call-back' ? 'deploy' : 'clean'));
}
