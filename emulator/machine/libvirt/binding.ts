// The slice of @unraid/libvirt this backend uses, declared here so the project type-checks and
// builds without the package: it is an optional dependency whose native build needs libvirt-dev.
// The module is loaded by name at run time, only when the libvirt backend is asked for.

/** An opaque domain handle returned by the binding. */
export interface Domain {
  readonly __libvirtDomain?: never;
}

/** virDomainInfo, as the binding returns it (state: virDomainState, 5 = shut off). */
export interface DomainInfo {
  state: number;
  maxMem: number;
  memory: number;
  nrVirtCpu: number;
  cpuTime: number;
}

export interface Hypervisor {
  connectOpen(): Promise<void>;
  connectClose(): Promise<void>;
  connectGetHostname(): Promise<string>;
  domainLookupByName(name: string): Promise<Domain>;
  domainGetInfo(dom: Domain): Promise<DomainInfo>;
  domainGetXMLDesc(dom: Domain, flags?: number): Promise<string>;
  domainDefineXML(xml: string): Promise<Domain>;
  domainCreate(dom: Domain): Promise<void>;
  domainShutdown(dom: Domain): Promise<void>;
  domainDestroy(dom: Domain): Promise<void>;
}

export interface LibvirtBinding {
  Hypervisor: new (opts: { uri: string }) => Hypervisor;
}

/** The package name, kept in a variable so TypeScript does not try to resolve it at build time. */
export const BINDING_MODULE: string = '@unraid/libvirt';

export async function importBinding(): Promise<LibvirtBinding> {
  const mod = (await import(BINDING_MODULE)) as LibvirtBinding & { default?: LibvirtBinding };
  if (typeof mod.Hypervisor === 'function') return mod;
  if (mod.default && typeof mod.default.Hypervisor === 'function') return mod.default;
  throw new Error(`${BINDING_MODULE} loaded but exports no Hypervisor class`);
}
