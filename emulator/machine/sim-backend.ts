// The in-process backend: timings come from the injected clock, boot targets run through the
// fleet's boot handlers.
import type { BackendHost, BootAttempt, BootPlan, MachineBackend } from './backend.js';
import { type BootHandlers, bootKind } from './boot-handlers.js';
import type { Clock } from './clock.js';

export class SimBackend implements MachineBackend {
  readonly kind = 'sim';
  constructor(
    private readonly clock: Clock,
    private readonly handlers: BootHandlers,
  ) {}

  async powerOn(host: BackendHost, signal: AbortSignal): Promise<void> {
    await this.clock.sleep(host.spec.timings.powerOn, signal);
  }

  async powerOff(host: BackendHost, graceful: boolean, signal: AbortSignal): Promise<void> {
    if (graceful) host.console('ACPI: power button pressed, shutting down');
    await this.clock.sleep(graceful ? host.spec.timings.gracefulShutdown : host.spec.timings.powerOff, signal);
  }

  async boot(host: BackendHost, plan: BootPlan, signal: AbortSignal): Promise<BootAttempt[]> {
    host.console(`${host.spec.manufacturer} ${host.spec.model} firmware, ${plan.mode} mode: POST`);
    await this.clock.sleep(host.spec.timings.post, signal);
    const attempts: BootAttempt[] = [];
    const bootNic = host.spec.nics.find((n) => n.linkUp) ?? null;
    for (const device of plan.devices) {
      const kind = bootKind(device);
      if (!kind) continue;
      const media = kind === 'media' ? (plan.media.find((m) => (device === 'Cd' ? m.id === 'Cd' : m.id === 'Floppy')) ?? null) : null;
      const outcome = await this.handlers.get(kind)({
        machineName: host.spec.name,
        machineUuid: host.spec.uuid,
        device,
        mode: plan.mode,
        bootMac: bootNic?.mac ?? null,
        media,
        httpBootUri: plan.httpBootUri,
        installedImage: plan.installedImage,
        signal,
        console: (l) => host.console(l),
        os: host.os,
      });
      attempts.push({ device, outcome });
      if (outcome.booted) break;
      host.console(`Boot from ${device} failed: ${outcome.reason}`);
    }
    return attempts;
  }

  async nmi(host: BackendHost): Promise<void> {
    host.console('NMI received: kernel panic - not syncing: NMI IOCK error');
  }

  async close(): Promise<void> {}
}
