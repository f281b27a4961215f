// Cleaning: automated (on provide and after tear down) or manual (clean_steps), run by the
// conductor or by the agent it boots; agent steps are driven by heartbeats (steps.ts).

import { describe, IronicError } from '../errors.js';
import type { Node, Step } from '../model.js';
import type { AgentRef } from './agent-client.js';
import type { Conductor } from './conductor.js';
import type { DriverSet } from './drivers.js';
import { agentNodeView, type PlannedStep, stripAgent } from './steps.js';

const AGENT_DEPLOY_INTERFACES = new Set(['direct', 'custom-agent']);

export function automatedCleanEnabled(c: Conductor, node: Node): boolean {
  return node.automated_clean ?? c.opts.automatedClean;
}

export function planManualSteps(
  node: Node,
  set: DriverSet,
  steps: Step[] | undefined,
  what: 'clean_steps' | 'service_steps',
): PlannedStep[] {
  if (!Array.isArray(steps) || steps.length === 0)
    throw new IronicError(
      'InvalidParameterValue',
      `${what} is required and must be a non-empty list when setting the provision state to "${what === 'clean_steps' ? 'clean' : 'service'}".`,
    );
  return steps.map((s) => {
    if (!s || typeof s !== 'object' || typeof s.interface !== 'string' || typeof s.step !== 'string')
      throw new IronicError('InvalidParameterValue', 'Each step must be an object with "interface" and "step".');
    const agent = s.interface === 'deploy' || (s.interface === 'raid' && node.raid_interface === 'agent');
    if (!agent && !set.conductorSteps.has(`${s.interface}.${s.step}`))
      throw new IronicError(
        'InvalidParameterValue',
        `Node ${node.uuid}: the step ${s.interface}.${s.step} is not supported by the ${String(node[`${s.interface}_interface` as keyof Node] ?? s.interface)} ${s.interface} interface.`,
      );
    if (agent && !AGENT_DEPLOY_INTERFACES.has(node.deploy_interface) && node.deploy_interface !== 'ramdisk')
      throw new IronicError(
        'InvalidParameterValue',
        `Node ${node.uuid}: agent steps need an agent-based deploy interface, not ${node.deploy_interface}.`,
      );
    return { ...s, args: s.args ?? {}, agent };
  });
}

export async function startCleaning(
  c: Conductor,
  node: Node,
  set: DriverSet,
  manual: PlannedStep[] | null,
  disableRamdisk: boolean,
): Promise<void> {
  try {
    node.driver_internal_info.cleaning_type = manual ? 'manual' : 'automated';
    if (!manual && (!automatedCleanEnabled(c, node) || node.deploy_interface === 'fake' || node.deploy_interface === 'ramdisk')) {
      // nothing to run: automated cleaning disabled or no agent to run it
      await set.boot.cleanUpRamdisk(node, c.bootEnv(node, set)).catch(() => {});
      finishCleaning(c, node);
      return;
    }
    if (manual && (disableRamdisk || manual.every((s) => !s.agent))) {
      for (const s of manual) {
        node.clean_step = stripAgent(s);
        c.save(node);
        await c.runConductorStep(node, set, s);
      }
      finishCleaning(c, node);
      return;
    }
    if (manual) node.driver_internal_info.clean_steps = manual;
    await c.bootAgent(node, set, 'clean');
    c.applyEvent(node, 'wait');
    c.save(node);
  } catch (e) {
    await c.tearDownAgent(node, set).catch(() => {});
    c.fail(node, 'cleaning', `Failed to prepare node ${node.uuid} for cleaning: ${describe(e)}`);
  }
}

export function finishCleaning(c: Conductor, node: Node): void {
  const manual = node.driver_internal_info.cleaning_type === 'manual';
  c.clearSteps(node);
  c.applyEvent(node, manual ? 'manage' : 'done');
  c.save(node);
  c.log.info({ node: node.uuid, state: node.provision_state }, 'cleaning finished');
}

export async function automatedCleanSteps(c: Conductor, node: Node, agent: AgentRef): Promise<PlannedStep[]> {
  const manual = node.driver_internal_info.clean_steps as PlannedStep[] | undefined;
  if (manual) return manual;
  const r = await c.agent.command(agent, 'clean.get_clean_steps', { node: agentNodeView(node), ports: c.store.portsOf(node.uuid) }, true);
  const byManager = (r.command_result?.clean_steps ?? {}) as Record<string, Step[]>;
  const override: Record<string, number> = {
    erase_devices: c.opts.eraseDevicesPriority,
    erase_devices_metadata: c.opts.eraseDevicesMetadataPriority,
  };
  const all = Object.values(byManager).flat();
  return all
    .map((s) => ({
      ...s,
      priority: s.interface === 'deploy' && s.step in override ? override[s.step] : (s.priority ?? 0),
      args: {},
      agent: true,
    }))
    .filter((s) => (s.priority ?? 0) > 0)
    .sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
}
