// The step engine shared by deployment and cleaning: on each heartbeat, the next step of the
// plan runs — agent steps as execute_<kind>_step commands polled until they end, conductor steps
// in place — until the plan is done or a step fails.

import { describe } from '../errors.js';
import type { Node, Step } from '../model.js';
import type { ProvisionState } from '../states.js';
import { type AgentCommand, type AgentRef, errorText } from './agent-client.js';
import { automatedCleanSteps, finishCleaning } from './cleaning.js';
import type { Conductor } from './conductor.js';
import { conductorDeployStep, deployPlan, imageInfo } from './deployment.js';
import type { DriverSet } from './drivers.js';

export type StepKind = 'deploy' | 'clean';

export interface PlannedStep extends Step {
  /** run by the agent (execute_<kind>_step) rather than by the conductor */
  agent: boolean;
}

/** The states in which a running agent is awaited, and the process a lost agent fails. */
export const AGENT_WAITS: Partial<Record<ProvisionState, string>> = {
  'wait call-back': 'deployment',
  'clean wait': 'cleaning',
  'inspect wait': 'inspection',
};

export function stripAgent(s: PlannedStep | Step): Step {
  const { agent: _a, ...rest } = s as PlannedStep;
  return rest;
}

export function lastCommand(list: AgentCommand[], name: string): AgentCommand | undefined {
  for (let i = list.length - 1; i >= 0; i--) if (list[i].command_name === name) return list[i];
  return undefined;
}

/** The node as the agent sees it (no credentials). */
export function agentNodeView(node: Node): Record<string, unknown> {
  return {
    uuid: node.uuid,
    name: node.name,
    properties: node.properties,
    instance_info: { ...node.instance_info, configdrive: node.instance_info.configdrive ? '******' : undefined },
    // the agent's RAID interface builds from it
    target_raid_config: node.target_raid_config,
    driver_internal_info: {},
  };
}

export async function continueSteps(c: Conductor, node: Node, set: DriverSet, kind: StepKind): Promise<void> {
  const dii = node.driver_internal_info;
  const agent: AgentRef = {
    url: String(dii.agent_url),
    token: String(dii.agent_secret_token),
    verifyCa: typeof dii.agent_verify_ca === 'string' ? dii.agent_verify_ca : undefined,
  };
  const failType = kind === 'deploy' ? 'deployment' : 'cleaning';
  try {
    let steps = dii[`${kind}_steps`] as PlannedStep[] | undefined;
    if (!steps) {
      steps = kind === 'deploy' ? deployPlan(node) : await automatedCleanSteps(c, node, agent);
      dii[`${kind}_steps`] = steps;
      dii[`${kind}_step_index`] = 0;
      dii.step_started = false;
    }
    for (;;) {
      const idx = Number(dii[`${kind}_step_index`] ?? 0);
      const step = steps[idx];
      if (!step) {
        if (kind === 'deploy') {
          c.clearSteps(node);
          c.applyEvent(node, 'done');
          c.save(node);
          c.log.info({ node: node.uuid }, 'deployment finished: active');
        } else {
          await c.tearDownAgent(node, set);
          finishCleaning(c, node);
        }
        return;
      }
      node[`${kind}_step`] = stripAgent(step);
      if (step.agent) {
        if (!dii.step_started) {
          const params: Record<string, unknown> = {
            step: stripAgent(step),
            node: agentNodeView(node),
            ports: c.store.portsOf(node.uuid),
          };
          if (kind === 'deploy' && step.step === 'write_image')
            (params.step as Step).args = { image_info: imageInfo(node), configdrive: node.instance_info.configdrive ?? null };
          await c.agent.command(agent, `${kind}.execute_${kind}_step`, params, false);
          dii.step_started = true;
          c.applyEvent(node, 'wait');
          c.save(node);
          return;
        }
        const last = lastCommand(await c.agent.list(agent), `${kind}.execute_${kind}_step`);
        if (!last || last.command_status === 'RUNNING') {
          c.applyEvent(node, 'wait');
          c.save(node);
          return;
        }
        if (last.command_status !== 'SUCCEEDED') {
          const msg = `${kind === 'deploy' ? 'Deploy' : 'Clean'} step ${step.interface}.${step.step} failed on node ${node.uuid}. ${errorText(last.command_error)}`;
          await c.setPower(node, set, 'power off').catch(() => {});
          if (kind === 'clean') await set.boot.cleanUpRamdisk(node, c.bootEnv(node, set)).catch(() => {});
          c.fail(node, failType, msg);
          return;
        }
        // the agent's RAID interface records what it built (Ironic's agent RAID step callbacks)
        if (step.interface === 'raid' && kind === 'clean') {
          const built = (last.command_result as { clean_result?: unknown } | null)?.clean_result;
          if (step.step === 'create_configuration' && built && typeof built === 'object')
            node.raid_config = built as Record<string, unknown>;
          if (step.step === 'delete_configuration') node.raid_config = {};
        }
      } else {
        c.save(node);
        await conductorDeployStep(c, node, set, step, agent);
      }
      dii[`${kind}_step_index`] = idx + 1;
      dii.step_started = false;
      c.save(node);
    }
  } catch (e) {
    await c.setPower(node, set, 'power off').catch(() => {});
    c.fail(node, failType, `${kind === 'deploy' ? 'Deploy' : 'Clean'} step failed on node ${node.uuid}: ${describe(e)}`);
  }
}
