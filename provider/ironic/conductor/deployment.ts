// Deployment and tear down: validation, booting the agent (or the ramdisk/live ISO), the deploy
// plan whose agent steps heartbeats drive (steps.ts), the conductor's own deploy steps, and
// undeploy followed by automated cleaning.

import { describe, IronicError } from '../errors.js';
import type { Node } from '../model.js';
import type { AgentRef } from './agent-client.js';
import { startCleaning } from './cleaning.js';
import type { Conductor } from './conductor.js';
import type { DriverSet } from './drivers.js';
import type { PlannedStep } from './steps.js';

export function validateDeploy(node: Node, set: DriverSet, adopting = false): void {
  set.power.validate(node);
  set.management.validate(node);
  if (node.deploy_interface === 'fake') return;
  if (node.deploy_interface === 'ramdisk') {
    if (!node.instance_info.boot_iso && !node.instance_info.kernel)
      throw new IronicError(
        'MissingParameterValue',
        `Node ${node.uuid} failed to validate deploy image info: the ramdisk deploy interface needs instance_info.boot_iso.`,
      );
    return;
  }
  if (!adopting) set.boot.validate(node);
  const ii = node.instance_info;
  const missing: string[] = [];
  if (!ii.image_source) missing.push('instance_info.image_source');
  const src = String(ii.image_source ?? '');
  if (src && !src.startsWith('file://') && !ii.image_checksum && !(ii.image_os_hash_algo && ii.image_os_hash_value))
    missing.push('instance_info.image_checksum');
  if (missing.length && !adopting)
    throw new IronicError(
      'MissingParameterValue',
      `Node ${node.uuid} failed to validate deploy image info. Some parameters were missing. Missing are: [${missing.map((m) => `'${m}'`).join(', ')}]`,
    );
}

export async function startDeploy(c: Conductor, node: Node, set: DriverSet, rebuild: boolean): Promise<void> {
  try {
    if (rebuild) {
      await c.setPower(node, set, 'power off');
      await set.boot.cleanUpInstance(node, c.bootEnv(node, set));
    }
    if (node.deploy_interface === 'fake') {
      node.power_state = 'power on';
      c.applyEvent(node, 'done');
      c.save(node);
      return;
    }
    if (node.deploy_interface === 'ramdisk') {
      await deployRamdisk(c, node, set);
      return;
    }
    await c.bootAgent(node, set, 'deploy');
    c.applyEvent(node, 'wait');
    c.save(node);
  } catch (e) {
    await c.setPower(node, set, 'power off').catch(() => {});
    c.fail(node, 'deployment', `Deploy step deploy.deploy failed on node ${node.uuid}. ${describe(e)}`);
  }
}

/** The ramdisk deploy interface (live ISO): the node boots instance_info.boot_iso and is active. */
export async function deployRamdisk(c: Conductor, node: Node, set: DriverSet): Promise<void> {
  const iso = String(node.instance_info.boot_iso ?? '');
  if (!set.management.insertMedia) throw new IronicError('UnsupportedDriverExtension', 'the ramdisk deploy needs virtual media (redfish)');
  await c.setPower(node, set, 'power off');
  await set.management.insertMedia(node, iso);
  await set.management.setBootDevice(node, 'cdrom', true);
  await c.setPower(node, set, 'power on');
  c.applyEvent(node, 'done');
  c.save(node);
}

export function deployPlan(node: Node): PlannedStep[] {
  const user = ((node.driver_internal_info.user_deploy_steps as PlannedStep[] | undefined) ?? []).map((s) => ({
    ...s,
    priority: s.priority ?? 80,
    agent: true,
  }));
  const own: PlannedStep[] =
    node.deploy_interface === 'custom-agent' ? [] : [{ interface: 'deploy', step: 'write_image', priority: 80, args: {}, agent: true }];
  const tail: PlannedStep[] = [
    { interface: 'deploy', step: 'prepare_instance_boot', priority: 60, args: {}, agent: false },
    { interface: 'deploy', step: 'tear_down_agent', priority: 40, args: {}, agent: false },
    { interface: 'deploy', step: 'boot_instance', priority: 20, args: {}, agent: false },
  ];
  return [...own, ...user, ...tail].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0));
}

export function imageInfo(node: Node): Record<string, unknown> {
  const ii = node.instance_info;
  const src = String(ii.image_source ?? '');
  return {
    id: src.split('/').pop() ?? src,
    urls: [src],
    checksum: ii.image_checksum ?? null,
    os_hash_algo: ii.image_os_hash_algo ?? null,
    os_hash_value: ii.image_os_hash_value ?? null,
    disk_format: ii.image_disk_format ?? null,
    container_format: 'bare',
    stream_raw_images: true,
    image_type: 'whole-disk-image',
    node_uuid: node.uuid,
    root_device: ii.root_device ?? node.properties.root_device ?? null,
  };
}

export async function conductorDeployStep(c: Conductor, node: Node, set: DriverSet, step: PlannedStep, agent: AgentRef): Promise<void> {
  switch (step.step) {
    case 'prepare_instance_boot':
      await c.agent
        .command(
          agent,
          'image.install_bootloader',
          { root_uuid: null, efi_system_part_uuid: null, target_boot_mode: node.boot_mode ?? 'uefi' },
          true,
        )
        .catch((e) => {
          throw new IronicError('AgentError', `Failed to install a bootloader: ${describe(e)}`);
        });
      await set.boot.prepareInstance(node, c.bootEnv(node, set));
      return;
    case 'tear_down_agent':
      // ask the agent to power off (it syncs and shuts down), then make sure through the BMC
      await c.agent.command(agent, 'standby.power_off', {}, false).catch(() => null);
      await set.power.setPowerState(node, 'power off');
      node.power_state = 'power off';
      c.dropAgent(node);
      return;
    case 'boot_instance':
      await c.setPower(node, set, 'power on');
      return;
    default:
      await c.runConductorStep(node, set, step);
  }
}

export async function startTearDown(c: Conductor, node: Node, set: DriverSet): Promise<void> {
  try {
    if (node.deploy_interface !== 'fake') {
      await c.setPower(node, set, 'power off');
      await set.boot.cleanUpInstance(node, c.bootEnv(node, set));
      if (node.deploy_interface === 'ramdisk') await set.management.ejectMedia?.(node);
    }
    node.instance_info = {};
    node.instance_uuid = null;
    c.clearSteps(node);
    c.dropAgent(node);
    delete node.driver_internal_info.user_deploy_steps;
    c.applyEvent(node, 'clean');
    c.save(node);
  } catch (e) {
    c.fail(node, 'tear down', `Failed to tear down node ${node.uuid}: ${describe(e)}`);
    return;
  }
  await startCleaning(c, node, set, null, false);
}
