// What the page is sent: small, flat summaries of hosts and cluster trees computed from the watched
// objects, so a 1,000-host fleet fits in one snapshot and a change is one short message.
import type { KubeObject } from '../provider/kube/client.js';

export type Obj = KubeObject & { spec?: Record<string, unknown>; status?: Record<string, unknown> };

/** What the Ironic feed knows of a node, keyed by its name (`namespace~host`, as the operator names it). */
export interface IronicNodeView {
  uuid: string;
  name: string;
  provisionState: string;
  targetProvisionState: string | null;
  powerState: string | null;
  maintenance: boolean;
  lastError: string | null;
}

export interface HostSummary {
  key: string;
  namespace: string;
  name: string;
  /** status.provisioning.state, `unmanaged`/`registering`/… (empty before the operator's first pass) */
  state: string;
  errorType: string;
  errorMessage: string;
  operationalStatus: string;
  poweredOn: boolean;
  online: boolean;
  /** the BMC driver as the address names it: redfish, redfish-virtualmedia, ipmi, idrac-… */
  bmc: string;
  bootMAC: string;
  paused: boolean;
  detached: boolean;
  consumer: string;
  cluster: string;
  image: string;
  hardwareProfile: string;
  ironic: { provisionState: string; powerState: string | null; maintenance: boolean } | null;
}

const PAUSED = 'baremetalhost.metal3.io/paused';
const DETACHED = 'baremetalhost.metal3.io/detached';
export const CLUSTER_NAME_LABEL = 'cluster.x-k8s.io/cluster-name';

export const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

/** The BMC driver an address names: the part before `://`, without a `+https` transport. */
export function bmcKind(address: string): string {
  const m = /^([a-z0-9-]+)(?:\+[a-z]+)?:\/\//i.exec(address);
  return m ? m[1].toLowerCase() : address.includes(':') ? 'ipmi' : 'unknown';
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function hostSummary(h: Obj, clusterOf: (consumerKey: string) => string, ironic?: IronicNodeView): HostSummary {
  const spec = (h.spec ?? {}) as {
    online?: boolean;
    bmc?: { address?: string };
    bootMACAddress?: string;
    consumerRef?: { kind?: string; name?: string; namespace?: string };
    image?: { url?: string };
  };
  const st = (h.status ?? {}) as {
    provisioning?: { state?: string };
    errorType?: string;
    errorMessage?: string;
    operationalStatus?: string;
    poweredOn?: boolean;
    hardwareProfile?: string;
  };
  const ann = h.metadata?.annotations ?? {};
  const ns = String(h.metadata?.namespace ?? '');
  const c = spec.consumerRef;
  const consumerKey = c?.name ? `${c.namespace ?? ns}/${c.name}` : '';
  return {
    key: keyOf(h),
    namespace: ns,
    name: String(h.metadata?.name ?? ''),
    state: str(st.provisioning?.state),
    errorType: str(st.errorType),
    errorMessage: str(st.errorMessage),
    operationalStatus: str(st.operationalStatus),
    poweredOn: st.poweredOn === true,
    online: spec.online === true,
    bmc: bmcKind(str(spec.bmc?.address)),
    bootMAC: str(spec.bootMACAddress).toLowerCase(),
    paused: PAUSED in ann,
    detached: DETACHED in ann,
    consumer: c?.name ? `${c.kind ?? ''}/${c.name}` : '',
    cluster: c?.kind === 'Metal3Machine' ? clusterOf(consumerKey) : '',
    image: str(spec.image?.url),
    hardwareProfile: str(st.hardwareProfile),
    ironic: ironic ? { provisionState: ironic.provisionState, powerState: ironic.powerState, maintenance: ironic.maintenance } : null,
  };
}

// ---- clusters

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export interface MachineView {
  name: string;
  phase: string;
  version: string;
  controlPlane: boolean;
  deployment: string;
  machineSet: string;
  metal3Machine: string;
  host: string;
  hostState: string;
  node: string;
  nodeReady: string;
  conditions: Condition[];
}

export interface ClusterTree {
  key: string;
  namespace: string;
  name: string;
  phase: string;
  version: string;
  topologyClass: string;
  conditions: Condition[];
  controlPlane: {
    kind: string;
    name: string;
    replicas: number | null;
    ready: number | null;
    upToDate: number | null;
    version: string;
    conditions: Condition[];
  } | null;
  deployments: Array<{
    name: string;
    replicas: number | null;
    ready: number | null;
    upToDate: number | null;
    phase: string;
    machineSets: Array<{ name: string; replicas: number | null; ready: number | null }>;
  }>;
  machines: MachineView[];
}

export interface ClusterSources {
  clusters: Obj[];
  controlPlanes: Obj[];
  deployments: Obj[];
  machineSets: Obj[];
  machines: Obj[];
  metal3Machines: Obj[];
  hosts: (key: string) => Obj | undefined;
}

const conds = (o: Obj): Condition[] =>
  ((o.status?.conditions ?? []) as Condition[]).map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const labelsOf = (o: Obj) => o.metadata?.labels ?? {};
const inCluster = (o: Obj, ns: string, name: string) =>
  o.metadata?.namespace === ns && (labelsOf(o)[CLUSTER_NAME_LABEL] === name || o.spec?.clusterName === name);
const ownerNamed = (o: Obj, kind: string) => o.metadata?.ownerReferences?.find((r) => r.kind === kind)?.name ?? '';

/** Each Cluster with its control plane, MachineDeployments and every Machine → Metal3Machine → host → Node. */
export function clusterTrees(s: ClusterSources): ClusterTree[] {
  const m3mByName = new Map(s.metal3Machines.map((m) => [keyOf(m), m]));
  return s.clusters
    .map((c) => {
      const ns = String(c.metadata?.namespace ?? '');
      const name = String(c.metadata?.name ?? '');
      const cpRef = (c.spec?.controlPlaneRef ?? null) as { kind?: string; name?: string } | null;
      const cp = cpRef?.name ? s.controlPlanes.find((k) => k.metadata?.namespace === ns && k.metadata?.name === cpRef.name) : undefined;
      const topo = (c.spec?.topology ?? null) as { classRef?: { name?: string }; class?: string; version?: string } | null;
      const machines = s.machines
        .filter((m) => inCluster(m, ns, name))
        .map((m): MachineView => {
          const infra = (m.spec?.infrastructureRef ?? {}) as { name?: string };
          const m3m = infra.name ? m3mByName.get(`${ns}/${infra.name}`) : undefined;
          const hostKey = hostOfMetal3Machine(m3m);
          const host = hostKey ? s.hosts(hostKey) : undefined;
          const cs = conds(m);
          const nodeReady = cs.find((x) => x.type === 'NodeReady') ?? cs.find((x) => x.type === 'NodeHealthy');
          const labels = labelsOf(m);
          return {
            name: String(m.metadata?.name ?? ''),
            phase: str(m.status?.phase),
            version: str(m.spec?.version),
            controlPlane: 'cluster.x-k8s.io/control-plane' in labels,
            deployment: labels['cluster.x-k8s.io/deployment-name'] ?? '',
            machineSet: ownerNamed(m, 'MachineSet'),
            metal3Machine: infra.name ?? '',
            host: hostKey,
            hostState: host ? str((host.status?.provisioning as { state?: string } | undefined)?.state) : '',
            node: str((m.status?.nodeRef as { name?: string } | undefined)?.name),
            nodeReady: nodeReady?.status ?? '',
            conditions: cs,
          };
        })
        .sort((a, b) => Number(b.controlPlane) - Number(a.controlPlane) || a.name.localeCompare(b.name));
      const deployments = s.deployments
        .filter((d) => inCluster(d, ns, name))
        .map((d) => {
          const dn = String(d.metadata?.name ?? '');
          return {
            name: dn,
            replicas: num(d.spec?.replicas),
            ready: num(d.status?.readyReplicas),
            upToDate: num(d.status?.upToDateReplicas ?? d.status?.updatedReplicas),
            phase: str(d.status?.phase),
            machineSets: s.machineSets
              .filter((ms) => ms.metadata?.namespace === ns && ownerNamed(ms, 'MachineDeployment') === dn)
              .map((ms) => ({
                name: String(ms.metadata?.name ?? ''),
                replicas: num(ms.spec?.replicas),
                ready: num(ms.status?.readyReplicas),
              }))
              .sort((a, b) => a.name.localeCompare(b.name)),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name));
      return {
        key: `${ns}/${name}`,
        namespace: ns,
        name,
        phase: str(c.status?.phase),
        version: str(topo?.version),
        topologyClass: str(topo?.classRef?.name ?? topo?.class),
        conditions: conds(c),
        controlPlane: cp
          ? {
              kind: String(cp.kind ?? cpRef?.kind ?? ''),
              name: String(cp.metadata?.name ?? ''),
              replicas: num(cp.spec?.replicas),
              ready: num(cp.status?.readyReplicas),
              upToDate: num(cp.status?.upToDateReplicas ?? cp.status?.updatedReplicas),
              version: str(cp.status?.version ?? cp.spec?.version),
              conditions: conds(cp),
            }
          : null,
        deployments,
        machines,
      };
    })
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** The host a Metal3Machine holds: its `metal3.io/BareMetalHost` annotation (`namespace/name`), as CAPM3 writes it. */
export function hostOfMetal3Machine(m3m: Obj | undefined): string {
  const a = m3m?.metadata?.annotations?.['metal3.io/BareMetalHost'] ?? '';
  return a.includes('/') ? a : '';
}
