// A lazily opened, self-healing connection to libvirtd through @unraid/libvirt (an optional
// dependency: installs without libvirt still work, and only this backend needs it). Every failure
// to reach the daemon becomes one LibvirtUnavailable error that says what to do.
import { type Domain, type Hypervisor, importBinding, type LibvirtBinding } from './binding.js';

export type LibvirtErrorReason = 'BindingMissing' | 'DaemonUnreachable' | 'DomainMissing' | 'OperationFailed' | 'FirmwareMissing';

export class LibvirtError extends Error {
  constructor(
    readonly reason: LibvirtErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'LibvirtError';
  }
}

let binding: Promise<LibvirtBinding> | null = null;

async function loadBinding(): Promise<LibvirtBinding> {
  binding ??= importBinding().catch((e: unknown) => {
    binding = null;
    throw new LibvirtError(
      'BindingMissing',
      `the libvirt backend needs the native binding @unraid/libvirt, an optional dependency that is not installed or did not build (${(e as Error).message.split('\n')[0]}): run scripts/install-vm.sh (it installs libvirt-dev and builds it)`,
    );
  });
  return binding;
}

/** Null when the binding loads; else the one-line error that says how to install it. */
export async function bindingProblem(): Promise<string | null> {
  try {
    await loadBinding();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** libvirt's "no domain with matching name" (VIR_ERR_NO_DOMAIN) */
export function isNoDomain(e: unknown): boolean {
  return /no domain with matching|Domain not found|not found: no domain/i.test(String((e as Error)?.message ?? e));
}

function isConnectionLost(e: unknown): boolean {
  return /Cannot recv data|Cannot write data|client socket is closed|End of file while reading|not connected|internal error: client/i.test(
    String((e as Error)?.message ?? e),
  );
}

export class LibvirtConnection {
  private hv: Hypervisor | null = null;
  private opening: Promise<Hypervisor> | null = null;

  constructor(readonly uri: string) {}

  private async open(): Promise<Hypervisor> {
    const lib = await loadBinding();
    const hv = new lib.Hypervisor({ uri: this.uri });
    try {
      await hv.connectOpen();
    } catch (e) {
      throw new LibvirtError(
        'DaemonUnreachable',
        `cannot connect to libvirt at ${this.uri}: ${(e as Error).message.split('\n')[0]} — is libvirtd running? (scripts/install-vm.sh starts it)`,
      );
    }
    return hv;
  }

  async get(): Promise<Hypervisor> {
    if (this.hv) return this.hv;
    this.opening ??= this.open().finally(() => {
      this.opening = null;
    });
    this.hv = await this.opening;
    return this.hv;
  }

  /** Runs fn on the connection; a connection that died (libvirtd restarted) is reopened once. */
  async run<T>(fn: (hv: Hypervisor) => Promise<T>): Promise<T> {
    const hv = await this.get();
    try {
      return await fn(hv);
    } catch (e) {
      if (!isConnectionLost(e)) throw e;
      this.hv = null;
      return fn(await this.get());
    }
  }

  async lookup(name: string): Promise<Domain | null> {
    return this.run(async (hv) => {
      try {
        return await hv.domainLookupByName(name);
      } catch (e) {
        if (isNoDomain(e)) return null;
        throw e;
      }
    });
  }

  async close(): Promise<void> {
    const hv = this.hv;
    this.hv = null;
    await hv?.connectClose().catch(() => {});
  }
}
