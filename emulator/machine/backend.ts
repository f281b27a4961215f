// The seam between the machine model (state, policies, BMC-visible behaviour) and what executes
// it: the in-process simulator now, libvirt/QEMU domains later. The model decides *what* happens
// (which devices to try, in which order); a backend makes it happen and reports back.
import type { BootOutcome, MachineOs } from './boot-handlers.js';
import type { BootMode, BootTarget, MachineSpec, VirtualMediaState } from './model.js';

export interface BootPlan {
  /** devices to try in order; the first that boots wins */
  devices: BootTarget[];
  mode: BootMode;
  httpBootUri: string | null;
  media: VirtualMediaState[];
  installedImage: { url: string; bootable: boolean } | null;
}

export interface BootAttempt {
  device: BootTarget;
  outcome: BootOutcome;
}

export interface BackendHost {
  spec: MachineSpec;
  console(line: string): void;
  os: MachineOs;
  /** the machine turned itself off (guest poweroff, or its VM vanished): the model follows */
  powerLost(why: string, critical: boolean): void;
}

export interface MachineBackend {
  readonly kind: string;
  /** Hardware power-on (until firmware starts). */
  powerOn(host: BackendHost, signal: AbortSignal): Promise<void>;
  /** Power-off; graceful waits for the OS to shut down. */
  powerOff(host: BackendHost, graceful: boolean, signal: AbortSignal): Promise<void>;
  /** Firmware: POST, then try the plan's devices; resolves with every attempt made. */
  boot(host: BackendHost, plan: BootPlan, signal: AbortSignal): Promise<BootAttempt[]>;
  /** Why power cannot be changed now (e.g. the hypervisor is unreachable); power requests then fail with it. */
  unavailable?(): string | null;
  /** Follows a machine from the start (a VM may already run when the emulator starts). */
  attach?(host: BackendHost, poweredOn: boolean): Promise<void>;
  /** Non-maskable interrupt to the running OS. */
  nmi(host: BackendHost): Promise<void>;
  close(): Promise<void>;
}
