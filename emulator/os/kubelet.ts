// The kubelet of a simulated node: registers its Node (name, labels from --node-labels,
// --provider-id, kubeadm's control plane label and taint, addresses, node info), mirrors a control
// plane node's static pods (kube-apiserver, kube-controller-manager, kube-scheduler, etcd) into
// kube-system, and until the machine powers off renews its Lease in kube-node-lease every 10 s
// while posting Node status only when it changed or every 5 minutes, as a kubelet with node leases
// does (nodeStatusUpdateFrequency / nodeStatusReportFrequency): the Lease is the cheap heartbeat,
// and an idle node costs one small write per beat. It talks to its cluster's API server through
// any NodeApi: the emulator hands it an in-process client of the server beside it.
import type { NodeApi } from '../../provider/apiserver/local-client.js';
import { isAlreadyExists, isNotFound, type KubeObject } from '../../provider/kube/client.js';

export interface NodeIdentity {
  name: string;
  labels: Record<string, string>;
  providerID?: string;
  taints: Array<{ key: string; value?: string; effect: string }>;
  controlPlane: boolean;
  version: string;
  address?: string;
  hostname: string;
  systemUUID: string;
  cpus: number;
  memoryMiB: number;
}

type NodeObj = KubeObject & { status?: { conditions?: Array<Record<string, string>> } };

/**
 * Kubernetes' own clocks on a simulated node and its control plane. They run in real time, as on
 * real machines: the time scale speeds up the hardware (firmware, disks, reboots), not Kubernetes'
 * heartbeats and failure detection, so an idle Running cluster costs what a real one costs — a
 * Lease write every 10 s — however fast the machines' clock runs (at time scale 100 the beat was a
 * write every real second, which made 1,000 idle clusters saturate two cores).
 */
export interface KubeTimings {
  /** kubelet's node lease renew interval (a quarter of the lease's 40 s) */
  leaseRenewMs: number;
  /** kubelet's nodeStatusReportFrequency: an unchanged status is posted this often */
  statusReportMs: number;
  /** kube-controller-manager's --node-monitor-period */
  nodeMonitorPeriodMs: number;
  /** kube-controller-manager's --node-monitor-grace-period: silent this long, Ready turns Unknown */
  nodeMonitorGraceMs: number;
}

/** Kubernetes' defaults. */
export const KUBE_TIMINGS: KubeTimings = {
  leaseRenewMs: 10_000,
  statusReportMs: 5 * 60_000,
  nodeMonitorPeriodMs: 5_000,
  nodeMonitorGraceMs: 40_000,
};

export const STATIC_PODS = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'etcd'];
const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** kubelet's flags as kubeadm passes them: node-labels and provider-id among kubeletExtraArgs. */
export function parseKubeletArgs(args: Array<{ name?: string; value?: string }> | Record<string, string> | undefined): {
  labels: Record<string, string>;
  providerID?: string;
} {
  const list = Array.isArray(args) ? args : Object.entries(args ?? {}).map(([name, value]) => ({ name, value }));
  const labels: Record<string, string> = {};
  let providerID: string | undefined;
  for (const a of list) {
    if (a.name === 'node-labels') {
      for (const kv of String(a.value ?? '').split(',')) {
        const i = kv.indexOf('=');
        if (i > 0) labels[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
      }
    }
    if (a.name === 'provider-id' && a.value) providerID = a.value;
  }
  return { labels, providerID };
}

function readyConditions(): Array<Record<string, string>> {
  const t = now();
  return [
    {
      type: 'MemoryPressure',
      status: 'False',
      reason: 'KubeletHasSufficientMemory',
      message: 'kubelet has sufficient memory available',
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    },
    {
      type: 'DiskPressure',
      status: 'False',
      reason: 'KubeletHasNoDiskPressure',
      message: 'kubelet has no disk pressure',
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    },
    {
      type: 'PIDPressure',
      status: 'False',
      reason: 'KubeletHasSufficientPID',
      message: 'kubelet has sufficient PID available',
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    },
    {
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'kubelet is posting ready status',
      lastHeartbeatTime: t,
      lastTransitionTime: t,
    },
  ];
}

export class Kubelet {
  constructor(
    private readonly api: NodeApi,
    private readonly node: NodeIdentity,
    private readonly timings: KubeTimings,
    private readonly log: (line: string) => void,
  ) {}

  private nodeObject() {
    const n = this.node;
    const labels = {
      'kubernetes.io/hostname': n.name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'beta.kubernetes.io/arch': 'amd64',
      ...(n.controlPlane
        ? { 'node-role.kubernetes.io/control-plane': '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }
        : {}),
      ...n.labels,
    };
    return {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: n.name, labels, annotations: { 'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/crio/crio.sock' } },
      spec: { ...(n.providerID ? { providerID: n.providerID } : {}), ...(n.taints.length ? { taints: n.taints } : {}) },
      status: {
        conditions: readyConditions(),
        addresses: [...(n.address ? [{ type: 'InternalIP', address: n.address }] : []), { type: 'Hostname', address: n.hostname }],
        capacity: { cpu: String(n.cpus), memory: `${n.memoryMiB * 1024}Ki`, pods: '110' },
        allocatable: { cpu: String(n.cpus), memory: `${n.memoryMiB * 1024}Ki`, pods: '110' },
        nodeInfo: {
          kubeletVersion: n.version,
          kubeProxyVersion: n.version,
          containerRuntimeVersion: 'cri-o://1.33.0',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'Ubuntu 24.04 LTS',
          kernelVersion: '6.8.0-ferrite',
          systemUUID: n.systemUUID,
          machineID: n.systemUUID.replace(/-/g, ''),
          bootID: crypto.randomUUID(),
        },
      },
    };
  }

  /** Registers (or re-registers after a reboot) the Node and the static pods. */
  async register(): Promise<void> {
    this.seenRV = undefined;
    const want = this.nodeObject();
    try {
      await this.api.create(want);
      this.log(`kubelet: registered node ${this.node.name}`);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      // the Node survived a reboot: providerID and labels set by others stay
      await this.api.patch({ apiVersion: 'v1', kind: 'Node', name: this.node.name }, 'merge', {
        metadata: { labels: want.metadata.labels },
      });
      this.log(`kubelet: node ${this.node.name} is back`);
    }
    await this.api.patch(
      { apiVersion: 'v1', kind: 'Node', name: this.node.name },
      'merge',
      { status: want.status },
      { subresource: 'status' },
    );
    this.lastReport = Date.now();
    // the lease starts with the kubelet, so the node lifecycle loop sees every registered node's
    await this.renewLease();
    if (this.node.controlPlane) for (const c of STATIC_PODS) await this.mirrorPod(c);
  }

  private lastReport = 0;
  /** the Node's resourceVersion when this kubelet last saw it Ready (read or written) */
  private seenRV: string | undefined;

  private async mirrorPod(component: string): Promise<void> {
    const name = `${component}-${this.node.name}`;
    const t = now();
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: 'kube-system',
        labels: { component, tier: 'control-plane' },
        annotations: { 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.mirror': name },
      },
      spec: {
        nodeName: this.node.name,
        priorityClassName: 'system-node-critical',
        containers: [
          { name: component, image: `registry.k8s.io/${component === 'etcd' ? 'etcd:3.5.21-0' : `${component}:${this.node.version}`}` },
        ],
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: t }],
        containerStatuses: [{ name: component, ready: true, restartCount: 0, state: { running: { startedAt: t } } }],
        startTime: t,
      },
    };
    try {
      await this.api.create(pod);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
    await this.api.patch(
      { apiVersion: 'v1', kind: 'Pod', namespace: 'kube-system', name },
      'merge',
      { status: pod.status },
      { subresource: 'status' },
    );
  }

  /** Posts status until the signal aborts (the machine powers off or resets). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await sleepReal(this.timings.leaseRenewMs, signal);
      } catch {
        return;
      }
      try {
        await this.renewLease();
        // a difference (a Ready the lifecycle loop turned Unknown) is posted at once, an
        // unchanged status once per report period; a Node no one wrote since the last look is
        // not read again (a kubelet's informer knows that without asking)
        const due = Date.now() - this.lastReport >= this.timings.statusReportMs;
        if (!due && this.seenRV !== undefined && this.api.resourceVersion?.('v1', 'Node', undefined, this.node.name) === this.seenRV)
          continue;
        const cur = await this.api.get<NodeObj>('v1', 'Node', undefined, this.node.name);
        const ready = cur.status?.conditions?.find((c) => c.type === 'Ready');
        if (ready?.status === 'True' && !due) {
          this.seenRV = cur.metadata?.resourceVersion;
          continue;
        }
        const t = now();
        const conditions = (cur.status?.conditions ?? readyConditions()).map((c) =>
          c.type === 'Ready'
            ? {
                ...c,
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet is posting ready status',
                lastHeartbeatTime: t,
                ...(c.status !== 'True' ? { lastTransitionTime: t } : {}),
              }
            : { ...c, lastHeartbeatTime: t },
        );
        const written = await this.api.patch<NodeObj>(
          { apiVersion: 'v1', kind: 'Node', name: this.node.name },
          'merge',
          { status: { conditions } },
          { subresource: 'status' },
        );
        this.seenRV = written.metadata?.resourceVersion;
        this.lastReport = Date.now();
      } catch (e) {
        if (isNotFound(e)) {
          // the Node was deleted (a machine being remediated or removed): a kubelet registers again
          await this.register().catch(() => undefined);
        }
        // an API server that is away (its last control plane node rebooting) is tried next beat
      }
    }
  }

  private async renewLease(): Promise<void> {
    const spec = { holderIdentity: this.node.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace(/Z$/, '000Z') };
    try {
      await this.api.patch(
        { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: 'kube-node-lease', name: this.node.name },
        'merge',
        { spec },
      );
    } catch (e) {
      if (!isNotFound(e)) throw e;
      await this.api.create({
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.node.name, namespace: 'kube-node-lease' },
        spec,
      });
    }
  }
}

function sleepReal(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error('aborted'));
    const t = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
