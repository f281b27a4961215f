// The Ironic provisioner: each method looks at the node's current Ironic state and takes at most
// one step toward the goal (upstream's pkg/provisioner/ironic does the same), so it is safe to
// call on every reconcile and after any crash. Results tell the state machine whether the goal
// is reached, whether to poll again, or that the operation failed with Ironic's own message.
import type { BareMetalHost, BareMetalHostImage, HardwareDetails } from '../api/metal3.io/v1alpha1/baremetalhost.js';
import { type BmcAccess, type BmcCredentials, bmcAccess } from './bmc-access.js';
import { BmoError } from './errors.js';
import { hardwareDetailsFrom } from './hardware-details.js';
import { type IronicClient, IronicHttpError, isIronicStatus, type Json } from './ironic-client.js';

export type ProvResult =
  | { kind: 'done' }
  /** work is under way (or was just started): look again after delayMs */
  | { kind: 'wait'; delayMs: number }
  | { kind: 'failed'; message: string };

/** The agent image a PreprovisioningImage names. */
export interface AgentImage {
  format: 'iso' | 'initrd';
  imageUrl: string;
  kernelUrl?: string;
  extraKernelParams?: string;
}

const DEPLOY_KEYS = ['deploy_iso', 'deploy_kernel', 'deploy_ramdisk', 'kernel_append_params'];

export interface ProvisionerOptions {
  client: IronicClient;
  deployKernelUrl?: string;
  deployRamdiskUrl?: string;
  /** DEPLOY_ISO_URL: the agent as an ISO, booted over virtual media where the BMC can (driver_info/deploy_iso) */
  deployIsoUrl?: string;
  /** how often to look at a node that is busy (upstream: 10 s) */
  pollMs: number;
  /** PROVISIONING_LIMIT: hosts inspecting/cleaning/deploying at once (virtual-media hosts exempt) */
  provisioningLimit: number;
}

export interface IronicNode {
  uuid: string;
  name: string | null;
  provision_state: string;
  target_provision_state: string | null;
  power_state: string | null;
  target_power_state: string | null;
  last_error: string | null;
  maintenance: boolean;
  maintenance_reason: string | null;
  fault: string | null;
  instance_uuid: string | null;
  instance_info: Json;
  driver_info: Json;
  properties: Json;
  automated_clean: boolean | null;
  boot_interface: string;
  inspect_interface: string;
  deploy_interface: string;
  raid_interface?: string;
  inspection_finished_at: string | null;
  reservation: string | null;
  /** ≥ 1.109: the BMC's view of the hardware (OK, Warning, Critical) */
  health?: string | null;
}

const done: ProvResult = { kind: 'done' };
const failed = (message: string): ProvResult => ({ kind: 'failed', message });

export interface SettingSchema {
  attribute_type?: string;
  allowable_values?: string[];
  lower_bound?: number;
  upper_bound?: number;
  min_length?: number;
  max_length?: number;
  read_only?: boolean;
  unique?: boolean;
}

export const nodeName = (h: BareMetalHost) => `${h.metadata.namespace}~${h.metadata.name}`;

/** Busy states counted against the provisioning limit (upstream HasCapacity). */
const BUSY = new Set(['cleaning', 'clean wait', 'inspecting', 'inspect wait', 'deploying', 'wait call-back', 'deleting']);

export class IronicProvisioner {
  constructor(readonly o: ProvisionerOptions) {}

  private get c(): IronicClient {
    return this.o.client;
  }

  private wait(ms = this.o.pollMs): ProvResult {
    return { kind: 'wait', delayMs: ms };
  }

  /** Upstream's readiness probe: Ironic answers and has at least one driver. */
  async ready(): Promise<boolean> {
    const r = await this.c.request<{ drivers?: unknown[] }>('GET', '/v1/drivers');
    return (r.drivers?.length ?? 0) > 0;
  }

  async findNode(h: BareMetalHost): Promise<IronicNode | null> {
    const ids = [h.status?.provisioning?.ID, nodeName(h), h.metadata.name].filter((x): x is string => Boolean(x));
    for (const id of ids) {
      try {
        return await this.c.request<IronicNode>('GET', `/v1/nodes/${encodeURIComponent(id)}`);
      } catch (e) {
        if (!isIronicStatus(e, 404)) throw e;
      }
    }
    if (h.spec.bootMACAddress) {
      const r = await this.c.request<{ ports: Array<{ node_uuid: string }> }>(
        'GET',
        `/v1/ports?address=${encodeURIComponent(h.spec.bootMACAddress.toLowerCase())}&fields=node_uuid,uuid,address`,
      );
      const p = r.ports[0];
      if (p) return this.c.request<IronicNode>('GET', `/v1/nodes/${p.node_uuid}`);
    }
    return null;
  }

  private async provState(n: IronicNode, target: string, extra: Json = {}): Promise<ProvResult> {
    return (await this.requestState(n, target, extra)) ?? this.wait();
  }

  /** Asks Ironic for a provision state change: null when it took it, else what the host should do instead. */
  private async requestState(n: IronicNode, target: string, extra: Json = {}): Promise<ProvResult | null> {
    try {
      await this.c.request('PUT', `/v1/nodes/${n.uuid}/states/provision`, { target, ...extra });
      return null;
    } catch (e) {
      // 409: the node is locked by a conductor task; look again shortly (upstream's "busy" retry)
      if (isIronicStatus(e, 409)) return this.wait(Math.min(this.o.pollMs, 3000));
      if (isIronicStatus(e, 400)) return failed(e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  private async patch(n: IronicNode, ops: Array<{ op: 'add' | 'remove'; path: string; value?: unknown }>): Promise<IronicNode | null> {
    if (!ops.length) return n;
    try {
      return await this.c.request<IronicNode>('PATCH', `/v1/nodes/${n.uuid}`, ops);
    } catch (e) {
      if (isIronicStatus(e, 409)) return null;
      throw e;
    }
  }

  /**
   * The agent image for the node, as upstream's setDeployImage chooses it: the ISO where the BMC
   * boots ISOs over virtual media and DEPLOY_ISO_URL is set (OpenStack Ironic without an ESP image
   * cannot build one itself), else the kernel and ramdisk.
   */
  private deployImage(access: BmcAccess, image?: AgentImage): Record<string, string> {
    if (image) {
      // from the host's PreprovisioningImage (upstream's setDeployImage)
      const params: Record<string, string> = image.extraKernelParams
        ? { kernel_append_params: `%default% ${image.extraKernelParams}` }
        : {};
      if (image.format === 'iso' && access.isoPreprovisioning) return { deploy_iso: image.imageUrl, ...params };
      if (image.format === 'initrd' && image.kernelUrl)
        return { deploy_kernel: image.kernelUrl, deploy_ramdisk: image.imageUrl, ...params };
    }
    if (this.o.deployIsoUrl && access.isoPreprovisioning) return { deploy_iso: this.o.deployIsoUrl };
    return {
      ...(this.o.deployKernelUrl ? { deploy_kernel: this.o.deployKernelUrl } : {}),
      ...(this.o.deployRamdiskUrl ? { deploy_ramdisk: this.o.deployRamdiskUrl } : {}),
    };
  }

  /** What a host's PreprovisioningImage may be (upstream's PreprovisioningImageFormats): an ISO where the BMC boots one, an initrd where a kernel is configured. */
  preprovisioningImageFormats(access: BmcAccess): Array<'iso' | 'initrd'> {
    return [...(access.isoPreprovisioning ? (['iso'] as const) : []), ...(this.o.deployKernelUrl ? (['initrd'] as const) : [])];
  }

  /**
   * Creates or updates the node so Ironic can manage the host; `credsChanged` rewrites
   * driver_info (a fixed Secret) and retries a verification that failed.
   */
  async register(
    h: BareMetalHost,
    creds: BmcCredentials,
    credsChanged: boolean,
    image?: AgentImage,
  ): Promise<{ result: ProvResult; node?: IronicNode; access?: BmcAccess }> {
    const access = bmcAccess(h.spec.bmc?.address ?? '');
    const deploy = this.deployImage(access, image);
    const driverInfo: Record<string, string | boolean> = {
      ...access.driverInfo(creds, h.spec.bmc?.disableCertificateVerification),
      ...deploy,
    };
    let node = await this.findNode(h);
    if (!node) {
      const body: Json = {
        name: nodeName(h),
        driver: access.driver,
        driver_info: driverInfo,
        boot_interface: access.boot,
        inspect_interface: h.spec.inspectionMode === 'fast' && access.inspect ? access.inspect : 'agent',
        properties: { capabilities: capabilities(h, ''), ...(h.spec.architecture ? { cpu_arch: h.spec.architecture } : {}) },
        ...(access.management ? { management_interface: access.management } : {}),
        ...(access.power ? { power_interface: access.power } : {}),
        ...(access.raid !== 'no-raid' ? { raid_interface: access.raid } : { raid_interface: 'no-raid' }),
        ...(access.bios ? { bios_interface: access.bios } : {}),
        ...(access.firmware ? { firmware_interface: access.firmware } : {}),
        ...(access.vendor ? { vendor_interface: access.vendor } : {}),
        ...(h.spec.disablePowerOff ? { disable_power_off: true } : {}),
        ...(h.spec.customDeploy?.method
          ? { deploy_interface: 'custom-agent' }
          : h.spec.image?.format === 'live-iso'
            ? { deploy_interface: 'ramdisk' }
            : {}),
      };
      try {
        node = await this.c.request<IronicNode>('POST', '/v1/nodes', body);
      } catch (e) {
        if (isIronicStatus(e, 409)) return { result: this.wait(3000), access };
        if (isIronicStatus(e, 400)) return { result: failed(`Failed to create node: ${(e as Error).message}`), access };
        throw e;
      }
    } else if (
      credsChanged ||
      node.driver_info[addressKey(access)] !== driverInfo[addressKey(access)] ||
      DEPLOY_KEYS.some((k) => (node?.driver_info[k] ?? undefined) !== (deploy[k] ?? undefined))
    ) {
      const patched = await this.patch(node, [{ op: 'add', path: '/driver_info', value: driverInfo }]);
      if (!patched) return { result: this.wait(3000), node, access };
      node = patched;
    }
    if (
      h.spec.bootMACAddress &&
      ['enroll', 'manageable', 'available', 'active', 'inspect failed', 'clean failed', 'deploy failed', 'error'].includes(
        node.provision_state,
      )
    ) {
      await this.ensurePort(node, h.spec.bootMACAddress);
    }
    switch (node.provision_state) {
      case 'enroll':
        if (node.last_error && !credsChanged && node.target_provision_state === null)
          return { result: failed(node.last_error), node, access };
        return { result: await this.provState(node, 'manage'), node, access };
      case 'verifying':
        return { result: this.wait(), node, access };
      default: {
        const ops: Array<{ op: 'add' | 'remove'; path: string; value?: unknown }> = [];
        const automated = h.spec.automatedCleaningMode !== 'disabled';
        if (node.automated_clean !== automated) ops.push({ op: 'add', path: '/automated_clean', value: automated });
        const caps = capabilities(h, String(node.properties.capabilities ?? ''));
        if (caps !== node.properties.capabilities) ops.push({ op: 'add', path: '/properties/capabilities', value: caps });
        if (ops.length && STABLE.has(node.provision_state)) {
          const patched = await this.patch(node, ops);
          if (!patched) return { result: this.wait(3000), node, access };
          node = patched;
        }
        return { result: done, node, access };
      }
    }
  }

  private async ensurePort(node: IronicNode, mac: string): Promise<void> {
    const address = mac.toLowerCase();
    const r = await this.c.request<{ ports: Array<{ node_uuid: string }> }>(
      'GET',
      `/v1/ports?address=${encodeURIComponent(address)}&fields=node_uuid,uuid,address`,
    );
    if (r.ports.some((p) => p.node_uuid === node.uuid)) return;
    if (r.ports.length) {
      throw new BmoError('IronicError', `MAC address ${mac} conflicts with existing node ${r.ports[0].node_uuid}`);
    }
    try {
      await this.c.request('POST', '/v1/ports', { node_uuid: node.uuid, address, pxe_enabled: true });
    } catch (e) {
      if (!isIronicStatus(e, 409)) throw e;
    }
  }

  /**
   * In-band (agent) or out-of-band (redfish) inspection; `since` = when this inspection was asked
   * for. With `restartOnFailure` (the host already shows this inspection's error: its backoff is
   * over) a failed inspection is started again, as upstream's InspectHardware does; `restarted`
   * says it was.
   */
  async inspect(
    node: IronicNode,
    since: Date,
    restartOnFailure = false,
  ): Promise<{ result: ProvResult; details?: HardwareDetails; restarted?: boolean }> {
    switch (node.provision_state) {
      case 'available':
        return { result: await this.provState(node, 'manage') };
      case 'inspecting':
      case 'inspect wait':
        return { result: this.wait(node.inspect_interface === 'redfish' ? Math.min(this.o.pollMs, 3000) : this.o.pollMs) };
      case 'inspect failed':
        // Ironic keeps target_provision_state "manageable" on a failed inspection: it is final, not
        // in progress (waiting on it left the host in `inspecting` for good) — until the host's
        // backoff is over and it is tried again (Ironic takes `inspect` from `inspect failed`)
        if (restartOnFailure) {
          // a busy node (409) has not restarted: the host keeps its error until Ironic takes it
          const refused = await this.requestState(node, 'inspect');
          return refused ? { result: refused } : { result: this.wait(), restarted: true };
        }
        return { result: failed(node.last_error || 'Inspection failed') };
      case 'manageable': {
        const finished = node.inspection_finished_at ? parseIronicTime(node.inspection_finished_at) : null;
        if (!finished || finished.getTime() < since.getTime() - 1000) return { result: await this.provState(node, 'inspect') };
        try {
          const inv = await this.c.request<{ inventory?: Json; plugin_data?: Json }>('GET', `/v1/nodes/${node.uuid}/inventory`);
          return { result: done, details: hardwareDetailsFrom(inv) };
        } catch (e) {
          // out-of-band inspection stores no agent inventory: report what the node properties say
          if (isIronicStatus(e, 404)) return { result: done, details: detailsFromProperties(node) };
          throw e;
        }
      }
      default:
        return { result: this.wait() };
    }
  }

  /** BIOS settings that differ from what Ironic reads now, and firmware updates, as Ironic steps. */
  private async firmwareSteps(
    node: IronicNode,
    bios: Record<string, string>,
    firmware: Array<{ component: string; url: string }>,
  ): Promise<Json[]> {
    const steps: Json[] = [];
    if (Object.keys(bios).length) {
      const current = (await this.firmwareSettings(node.uuid)).settings;
      const changes = Object.entries(bios)
        .filter(([k, v]) => current[k] !== v)
        .map(([name, value]) => ({ name, value }));
      if (changes.length) steps.push({ interface: 'bios', step: 'apply_configuration', args: { settings: changes } });
    }
    if (firmware.length) steps.push({ interface: 'firmware', step: 'update', args: { settings: firmware } });
    return steps;
  }

  /**
   * Servicing a provisioned host (upstream's Service): firmware settings and updates applied while
   * it is off for a reboot, through Ironic's `service` with service steps. `changes` = the host has
   * pending changes, `specified` = it has any firmware spec at all (a servicing whose spec went
   * away is aborted), `restartOnFailure` = a failed servicing is started over.
   */
  async service(
    node: IronicNode,
    o: {
      bios: Record<string, string>;
      firmware: Array<{ component: string; url: string }>;
      changes: boolean;
      specified: boolean;
      restartOnFailure: boolean;
    },
  ): Promise<{ result: ProvResult; started: boolean }> {
    const start = async (changes: boolean): Promise<{ result: ProvResult; started: boolean }> => {
      if (!changes) return { result: done, started: false };
      const steps = await this.firmwareSteps(node, o.bios, o.firmware);
      if (!steps.length) return { result: done, started: true };
      const r = await this.provState(node, 'service', { service_steps: steps });
      return { result: r, started: r.kind === 'wait' };
    };
    switch (node.provision_state) {
      case 'service failed':
        if (!o.specified) return { result: await this.provState(node, 'abort'), started: false };
        if (!o.restartOnFailure) return { result: failed(node.last_error ?? 'servicing failed'), started: false };
        if (node.maintenance) {
          await this.c.request('DELETE', `/v1/nodes/${node.uuid}/maintenance`);
          return { result: this.wait(), started: false };
        }
        return start(true);
      case 'active':
        return start(o.changes);
      case 'servicing':
        return { result: this.wait(Math.max(this.o.pollMs, 5000)), started: false };
      case 'service wait':
        if (!o.specified) return { result: await this.provState(node, 'abort'), started: false };
        return { result: this.wait(Math.max(this.o.pollMs, 5000)), started: false };
      default:
        return { result: failed(`have unexpected ironic node state ${node.provision_state}`), started: false };
    }
  }

  /**
   * Manual cleaning for RAID and BIOS settings; `start` = the RAID spec changed since the last
   * prepare, `bios` = the settings HostFirmwareSettings asks for. Only BIOS values that differ from
   * what Ironic reads now are applied, so a repeated prepare is a no-op.
   */
  async prepare(
    h: BareMetalHost,
    node: IronicNode,
    startRaid: boolean,
    bios: Record<string, string> = {},
    firmware: Array<{ component: string; url: string }> = [],
  ): Promise<{ result: ProvResult; started: boolean }> {
    const fw = ['manageable', 'available'].includes(node.provision_state) ? await this.firmwareSteps(node, bios, firmware) : [];
    const steps = [...(startRaid ? raidCleanSteps(h) : []), ...fw];
    const start = steps.length > 0;
    switch (node.provision_state) {
      case 'available':
        if (!start) return { result: done, started: false };
        return { result: await this.provState(node, 'manage'), started: false };
      case 'manageable': {
        if (!start) return { result: done, started: false };
        if (startRaid && steps.some((x) => x.interface === 'raid')) {
          const sw = h.spec.raid?.softwareRAIDVolumes;
          if (sw?.length && sw[0].level !== '1')
            return { result: failed('the level in first volume of software raid must be RAID1'), started: false };
          // software RAID is built by the agent; hardware RAID by the BMC's interface (upstream's CheckRAIDInterface)
          const want = sw !== undefined && sw !== null ? 'agent' : bmcAccess(h.spec.bmc?.address ?? '').raid;
          if (node.raid_interface !== want) {
            const patched = await this.patch(node, [{ op: 'add', path: '/raid_interface', value: want }]);
            if (!patched) return { result: this.wait(Math.min(this.o.pollMs, 3000)), started: false };
          }
          await this.c.request('PUT', `/v1/nodes/${node.uuid}/states/raid`, { logical_disks: logicalDisks(h) });
        }
        const r = await this.provState(node, 'clean', { clean_steps: steps });
        return { result: r, started: r.kind === 'wait' };
      }
      case 'cleaning':
      case 'clean wait':
        return { result: this.wait(), started: false };
      case 'clean failed':
        // a changed RAID spec retries; otherwise the failure is reported (and backed off)
        if (startRaid) {
          if (node.maintenance) await this.c.request('DELETE', `/v1/nodes/${node.uuid}/maintenance`);
          return { result: await this.provState(node, 'manage'), started: false };
        }
        return { result: failed(node.last_error ?? 'cleaning failed'), started: false };
      default:
        return { result: this.wait(), started: false };
    }
  }

  async provision(h: BareMetalHost, node: IronicNode, configDrive: Json | undefined, sameImageAsFailed: boolean): Promise<ProvResult> {
    const image = h.spec.image;
    switch (node.provision_state) {
      case 'manageable':
        return this.provState(node, 'provide');
      case 'cleaning':
      case 'clean wait':
      case 'deploying':
      case 'wait call-back':
      case 'deleting':
        return this.wait();
      case 'clean failed':
        return failed(node.last_error ?? 'cleaning failed');
      case 'deploy failed':
        if (sameImageAsFailed) return failed(node.last_error ?? 'deploy failed');
        return this.startDeploy(h, node, image, configDrive);
      case 'available':
        return this.startDeploy(h, node, image, configDrive);
      case 'active':
        return done;
      default:
        return this.wait();
    }
  }

  private async startDeploy(
    h: BareMetalHost,
    node: IronicNode,
    image: BareMetalHostImage | undefined,
    configDrive: Json | undefined,
  ): Promise<ProvResult> {
    const ops: Array<{ op: 'add' | 'remove'; path: string; value?: unknown }> = [
      { op: 'add', path: '/instance_info', value: instanceInfo(h) },
      { op: 'add', path: '/instance_uuid', value: h.metadata.uid },
    ];
    const liveIso = image?.format === 'live-iso';
    const wantDeploy = h.spec.customDeploy?.method ? 'custom-agent' : liveIso ? 'ramdisk' : 'direct';
    if (node.deploy_interface !== wantDeploy) ops.push({ op: 'add', path: '/deploy_interface', value: wantDeploy });
    const patched = await this.patch(node, ops);
    if (!patched) return this.wait(3000);
    const v = await this.c.request<Record<string, { result?: boolean | null; reason?: string | null }>>(
      'GET',
      `/v1/nodes/${node.uuid}/validate`,
    );
    for (const iface of ['boot', 'deploy'] as const) {
      if (v[iface] && v[iface].result === false) return failed(`Validation failed: ${iface}: ${v[iface].reason ?? 'unknown reason'}`);
    }
    const extra: Json = {};
    if (!liveIso && configDrive) extra.configdrive = configDrive;
    if (h.spec.customDeploy?.method)
      extra.deploy_steps = [{ interface: 'deploy', step: h.spec.customDeploy.method, args: {}, priority: 80 }];
    return this.provState(patched, 'active', extra);
  }

  /** What a node that failed its undeploy or cleaning reports (upstream's wording), or null. */
  deprovisionFailure(node: IronicNode): string | null {
    if (node.provision_state === 'clean failed') return `Cleaning failed: ${node.last_error ?? ''}`;
    if (node.provision_state === 'error') return node.last_error || 'Deprovisioning failed';
    return null;
  }

  /**
   * Undeploys and cleans; a node that failed either is started over (the caller first shows the
   * failure for a backoff: upstream's restartOnFailure).
   */
  async deprovision(h: BareMetalHost, node: IronicNode): Promise<ProvResult> {
    switch (node.provision_state) {
      case 'active':
      case 'deploy failed':
      case 'wait call-back':
      case 'error': {
        const automated = h.spec.automatedCleaningMode !== 'disabled';
        if (node.automated_clean !== automated) {
          const p = await this.patch(node, [{ op: 'add', path: '/automated_clean', value: automated }]);
          if (!p) return this.wait(3000);
        }
        return this.provState(node, 'deleted');
      }
      case 'clean failed':
        if (node.maintenance) await this.c.request('DELETE', `/v1/nodes/${node.uuid}/maintenance`);
        return this.provState(node, 'manage');
      case 'manageable':
        return this.provState(node, 'provide');
      case 'available':
        return done;
      default:
        return this.wait();
    }
  }

  /** Brings a node that runs a workload under management without touching the disk. */
  async adopt(node: IronicNode): Promise<ProvResult> {
    switch (node.provision_state) {
      case 'manageable':
        return this.provState(node, 'adopt');
      case 'adopt failed':
        return this.provState(node, 'adopt');
      case 'adopting':
        return this.wait();
      case 'active':
        if (node.maintenance && !node.fault) await this.c.request('DELETE', `/v1/nodes/${node.uuid}/maintenance`);
        return done;
      default:
        return done;
    }
  }

  /** One step toward the wanted power state; soft power-off falls back to hard when refused. */
  async setPower(node: IronicNode, on: boolean, hard: boolean, reboot = false): Promise<ProvResult> {
    if (node.target_power_state) return this.wait(Math.min(this.o.pollMs, 3000));
    const want = on ? 'power on' : 'power off';
    if (!reboot && node.power_state === want) return done;
    const body: Json = reboot
      ? { target: 'rebooting' }
      : on
        ? { target: 'power on' }
        : hard
          ? { target: 'power off' }
          : { target: 'soft power off', timeout: 180 };
    try {
      await this.c.request('PUT', `/v1/nodes/${node.uuid}/states/power`, body);
    } catch (e) {
      if (isIronicStatus(e, 409)) return this.wait(3000);
      if (isIronicStatus(e, 400) && body.target === 'soft power off') return this.setPower(node, false, true);
      if (isIronicStatus(e, 400)) return failed((e as Error).message);
      throw e;
    }
    return this.wait(Math.min(this.o.pollMs, 3000));
  }

  /** Removes the node from Ironic; busy nodes are waited for, others forced via maintenance. */
  async delete(node: IronicNode | null): Promise<ProvResult> {
    if (!node) return done;
    if (['cleaning', 'deploying', 'inspecting', 'verifying', 'deleting', 'adopting'].includes(node.provision_state) && !node.maintenance)
      return this.wait();
    if (['available', 'manageable', 'enroll', 'adopt failed'].includes(node.provision_state)) {
      if (node.instance_uuid) {
        const p = await this.patch(node, [{ op: 'remove', path: '/instance_uuid' }]);
        if (!p) return this.wait(3000);
      }
    } else if (!node.maintenance) {
      try {
        await this.c.request('PUT', `/v1/nodes/${node.uuid}/maintenance`, { reason: 'forcing deletion in baremetal-operator' });
      } catch (e) {
        if (isIronicStatus(e, 409)) return this.wait(3000);
        throw e;
      }
      return this.wait(0);
    }
    try {
      await this.c.request('DELETE', `/v1/nodes/${node.uuid}`);
    } catch (e) {
      if (isIronicStatus(e, 404)) return done;
      if (isIronicStatus(e, 409)) return this.wait(3000);
      throw e;
    }
    return done;
  }

  /** The node's BIOS settings and their registry (GET …/bios?detail=true), as HostFirmwareSettings wants them. */
  async firmwareSettings(nodeId: string): Promise<{ settings: Record<string, string>; schema: Record<string, SettingSchema> }> {
    const r = await this.c.request<{ bios: Array<Record<string, unknown>> }>('GET', `/v1/nodes/${nodeId}/bios?detail=true`);
    const settings: Record<string, string> = {};
    const schema: Record<string, SettingSchema> = {};
    for (const b of r.bios ?? []) {
      const name = String(b.name);
      settings[name] = b.value === null || b.value === undefined ? '' : String(b.value);
      const entry: SettingSchema = {};
      for (const k of [
        'attribute_type',
        'allowable_values',
        'lower_bound',
        'upper_bound',
        'min_length',
        'max_length',
        'read_only',
        'unique',
      ] as const) {
        if (b[k] !== null && b[k] !== undefined) (entry as Record<string, unknown>)[k] = b[k];
      }
      schema[name] = entry;
    }
    return { settings, schema };
  }

  /** Firmware versions Ironic read from the BMC, the components upstream keeps (bios, bmc, nic:*). */
  async firmwareComponents(nodeId: string) {
    const r = await this.c.request<{ firmware?: Array<Record<string, string | null>> }>('GET', `/v1/nodes/${nodeId}/firmware`);
    return (r.firmware ?? [])
      .filter((f) => f.component === 'bios' || f.component === 'bmc' || String(f.component).startsWith('nic:'))
      .map((f) => ({
        component: String(f.component),
        initialVersion: String(f.initial_version ?? ''),
        ...(f.current_version ? { currentVersion: f.current_version } : {}),
        ...(f.last_version_flashed ? { lastVersionFlashed: f.last_version_flashed } : {}),
        ...(f.updated_at ? { updatedAt: f.updated_at } : {}),
      }));
  }

  /** The image in the node's virtual CD, if one is inserted (≥ 1.93). */
  async dataImageAttached(nodeId: string): Promise<string | null> {
    const r = await this.c.request<{ vmedia?: Array<{ image?: string | null; inserted?: boolean }> }>('GET', `/v1/nodes/${nodeId}/vmedia`);
    const m = (r.vmedia ?? []).find((x) => x.inserted);
    return m ? (m.image ?? '') : null;
  }

  async attachDataImage(nodeId: string, url: string): Promise<void> {
    await this.c.request('POST', `/v1/nodes/${nodeId}/vmedia`, { device_type: 'cdrom', image_url: url });
  }

  async detachDataImage(nodeId: string): Promise<void> {
    await this.c.request('DELETE', `/v1/nodes/${nodeId}/vmedia?device_types=cdrom`);
  }

  /** A Redfish event subscription on the node's BMC, through Ironic's vendor passthru; returns its BMC id. */
  async addEventSubscription(
    nodeId: string,
    destination: string,
    context: string,
    headers: Array<Record<string, string>>,
  ): Promise<string> {
    const r = await this.c.request<{ Id?: string; id?: string }>('POST', `/v1/nodes/${nodeId}/vendor_passthru?method=create_subscription`, {
      Destination: destination,
      ...(context ? { Context: context } : {}),
      ...(headers.length ? { HttpHeaders: headers } : {}),
    });
    const id = r.Id ?? r.id;
    if (!id) throw new IronicHttpError(0, 'Ironic created the subscription but returned no Id', 'POST', 'vendor_passthru');
    return String(id);
  }

  async removeEventSubscription(nodeId: string, id: string): Promise<void> {
    try {
      await this.c.request('DELETE', `/v1/nodes/${nodeId}/vendor_passthru?method=delete_subscription`, { id });
    } catch (e) {
      // already gone on the BMC (or the node is): nothing left to remove
      if (!isIronicStatus(e, 404)) throw e;
    }
  }

  /** False when PROVISIONING_LIMIT hosts already inspect, clean or deploy over a provisioning network. */
  async hasCapacity(): Promise<boolean> {
    let busy = 0;
    let path: string | null = '/v1/nodes?fields=uuid,name,provision_state,boot_interface&limit=1000';
    while (path) {
      const r: { nodes: IronicNode[]; next?: string } = await this.c.request('GET', path);
      for (const n of r.nodes) if (BUSY.has(n.provision_state) && !n.boot_interface.includes('virtual-media')) busy++;
      path = r.next ? new URL(r.next).pathname + new URL(r.next).search : null;
    }
    return busy < this.o.provisioningLimit;
  }
}

const STABLE = new Set([
  'manageable',
  'available',
  'active',
  'enroll',
  'inspect failed',
  'clean failed',
  'deploy failed',
  'error',
  'adopt failed',
]);

function addressKey(a: BmcAccess): string {
  return a.family === 'ipmi' ? 'ipmi_address' : 'redfish_address';
}

/** properties.capabilities with boot_mode (and secure_boot) set, other capabilities kept. */
export function capabilities(h: BareMetalHost, current: string): string {
  const kept = current.split(',').filter((c) => c && !c.startsWith('boot_mode:') && !c.startsWith('secure_boot:'));
  const mode = h.spec.bootMode ?? 'UEFI';
  const own =
    mode === 'legacy' ? ['boot_mode:bios'] : mode === 'UEFISecureBoot' ? ['boot_mode:uefi', 'secure_boot:true'] : ['boot_mode:uefi'];
  return [...own, ...kept].join(',');
}

export function instanceInfo(h: BareMetalHost): Json {
  const img = h.spec.image;
  const info: Json = {};
  if (img) {
    if (img.format === 'live-iso') info.boot_iso = img.url;
    else {
      info.image_source = img.url;
      if (img.format) info.image_disk_format = img.format;
      if (img.checksum) {
        if (!img.checksumType || img.checksumType === 'auto') info.image_checksum = img.checksum;
        else {
          info.image_os_hash_algo = img.checksumType;
          info.image_os_hash_value = img.checksum;
        }
      }
    }
  }
  const hints = rootDeviceHints(h);
  if (hints) info.root_device = hints;
  if (h.spec.bootMode === 'UEFISecureBoot') info.capabilities = { secure_boot: 'true' };
  return info;
}

function rootDeviceHints(h: BareMetalHost): Json | undefined {
  const r = h.spec.rootDeviceHints;
  if (!r) return undefined;
  const out = hintMap(r);
  return Object.keys(out).length ? out : undefined;
}

/** Root device hints in Ironic's operator syntax (a software RAID member disk is chosen the same way). */
function hintMap(r: NonNullable<BareMetalHost['spec']['rootDeviceHints']>): Json {
  const out: Json = {};
  if (r.deviceName) out[r.deviceName.startsWith('/dev/disk/by-path/') ? 'by_path' : 'name'] = `s== ${r.deviceName}`;
  if (r.hctl) out.hctl = `s== ${r.hctl}`;
  if (r.model) out.model = `<in> ${r.model}`;
  if (r.vendor) out.vendor = `<in> ${r.vendor}`;
  if (r.serialNumber) out.serial = `s== ${r.serialNumber}`;
  if (r.minSizeGigabytes) out.size = `>= ${r.minSizeGigabytes}`;
  if (r.wwn) out.wwn = `s== ${r.wwn}`;
  if (r.wwnWithExtension) out.wwn_with_extension = `s== ${r.wwnWithExtension}`;
  if (r.wwnVendorExtension) out.wwn_vendor_extension = `s== ${r.wwnVendorExtension}`;
  if (r.rotational !== undefined) out.rotational = r.rotational ? 'true' : 'false';
  return out;
}

function logicalDisks(h: BareMetalHost): Json[] {
  const raid = h.spec.raid;
  if (raid?.hardwareRAIDVolumes?.length) {
    return raid.hardwareRAIDVolumes.map((v, i) => ({
      size_gb: v.sizeGibibytes ?? 'MAX',
      raid_level: v.level,
      ...(v.name ? { volume_name: v.name } : {}),
      is_root_volume: i === 0 && !h.spec.rootDeviceHints,
      ...(v.rotational !== undefined ? { disk_type: v.rotational ? 'hdd' : 'ssd' } : {}),
      ...(v.numberOfPhysicalDisks ? { number_of_physical_disks: v.numberOfPhysicalDisks } : {}),
      ...(v.controller ? { controller: v.controller } : {}),
      ...(v.physicalDisks?.length ? { physical_disks: v.physicalDisks } : {}),
    }));
  }
  // the root volume is the one marked so; without a mark the first, unless root device hints choose
  const marked = raid?.softwareRAIDVolumes?.some((v) => v.rootVolume);
  return (raid?.softwareRAIDVolumes ?? []).map((v, i) => ({
    size_gb: v.sizeGibibytes ?? 'MAX',
    raid_level: v.level,
    controller: 'software',
    is_root_volume: marked ? Boolean(v.rootVolume) : i === 0 && !h.spec.rootDeviceHints,
    ...(v.physicalDisks?.length ? { physical_disks: v.physicalDisks.map(hintMap) } : {}),
  }));
}

function raidCleanSteps(h: BareMetalHost): Json[] {
  const raid = h.spec.raid;
  if (!raid || (!raid.hardwareRAIDVolumes?.length && !raid.softwareRAIDVolumes?.length)) {
    // an emptied RAID spec still clears what an earlier prepare built
    return raid && (raid.hardwareRAIDVolumes !== undefined || raid.softwareRAIDVolumes !== undefined)
      ? [{ interface: 'raid', step: 'delete_configuration' }]
      : [];
  }
  // software RAID: the agent also wipes the old md superblocks before building (upstream's steps)
  if (raid.softwareRAIDVolumes?.length)
    return [
      { interface: 'raid', step: 'delete_configuration' },
      { interface: 'deploy', step: 'erase_devices_metadata' },
      { interface: 'raid', step: 'create_configuration' },
    ];
  return [
    { interface: 'raid', step: 'delete_configuration' },
    { interface: 'raid', step: 'create_configuration' },
  ];
}

function detailsFromProperties(node: IronicNode): HardwareDetails {
  const p = node.properties as { cpus?: number; memory_mb?: number; cpu_arch?: string; local_gb?: number };
  return {
    cpu: { arch: p.cpu_arch, count: p.cpus },
    ramMebibytes: p.memory_mb ?? 0,
    storage: p.local_gb ? [{ name: 'root', sizeBytes: p.local_gb * 2 ** 30, rotational: false, type: 'SSD' }] : [],
    nics: [],
  } as HardwareDetails;
}

/** Ironic timestamps may lack a zone (older releases): they are UTC. */
export function parseIronicTime(s: string): Date {
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
}

export { IronicHttpError };
