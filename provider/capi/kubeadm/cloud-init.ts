// The bootstrap data the kubeadm bootstrap provider writes for a machine: cloud-config behind the
// `## template: jinja` header (so cloud-init renders `{{ ds.meta_data.* }}` from the config drive),
// with the user's files, the cluster certificates for control plane nodes, the kubeadm
// configuration at /run/kubeadm, and runcmd = preKubeadmCommands, kubeadm init|join, the success
// sentinel, postKubeadmCommands — the layout of Cluster API's bootstrap/kubeadm/internal/cloudinit.
import YAML from 'yaml';
import type { KubeadmConfigSpec } from '../../api/bootstrap.cluster.x-k8s.io/kubeadm.js';
import { CERT_PATHS, type ClusterCertificates } from './certificates.js';

type Obj = Record<string, unknown>;

export const INIT_CONFIG_PATH = '/run/kubeadm/kubeadm.yaml';
export const JOIN_CONFIG_PATH = '/run/kubeadm/kubeadm-join-config.yaml';
export const SENTINEL = '/run/cluster-api/bootstrap-success.complete';
export const KUBEADM_API = 'kubeadm.k8s.io/v1beta4';

export interface ClusterFacts {
  clusterName: string;
  controlPlaneEndpoint: string;
  kubernetesVersion: string;
  serviceSubnet?: string;
  podSubnet?: string;
  dnsDomain?: string;
}

const strip = (o: Obj): Obj =>
  Object.fromEntries(
    Object.entries(o).filter(
      ([, v]) => v !== undefined && !(typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0),
    ),
  );

/** ClusterConfiguration as kubeadm reads it: the user's, completed from the Cluster. */
export function clusterConfiguration(spec: KubeadmConfigSpec, c: ClusterFacts): Obj {
  const cc = (spec.clusterConfiguration ?? {}) as Obj;
  return strip({
    apiVersion: KUBEADM_API,
    kind: 'ClusterConfiguration',
    ...cc,
    clusterName: c.clusterName,
    controlPlaneEndpoint: (cc.controlPlaneEndpoint as string | undefined) || c.controlPlaneEndpoint,
    kubernetesVersion: c.kubernetesVersion,
    networking: strip({ serviceSubnet: c.serviceSubnet, podSubnet: c.podSubnet, dnsDomain: c.dnsDomain }),
  });
}

export function initConfiguration(spec: KubeadmConfigSpec): Obj {
  return { apiVersion: KUBEADM_API, kind: 'InitConfiguration', ...((spec.initConfiguration ?? {}) as Obj) };
}

export function joinConfiguration(
  spec: KubeadmConfigSpec,
  discovery: { apiServerEndpoint: string; token: string; caCertHashes: string[] },
): Obj {
  const jc = (spec.joinConfiguration ?? {}) as Obj;
  const d = (jc.discovery ?? {}) as Obj;
  const bt = (d.bootstrapToken ?? {}) as Obj;
  return {
    apiVersion: KUBEADM_API,
    kind: 'JoinConfiguration',
    ...jc,
    discovery: {
      ...d,
      bootstrapToken: {
        ...bt,
        apiServerEndpoint: bt.apiServerEndpoint ?? discovery.apiServerEndpoint,
        token: bt.token ?? discovery.token,
        ...(bt.unsafeSkipCAVerification ? {} : { caCertHashes: (bt.caCertHashes as string[] | undefined) ?? discovery.caCertHashes }),
      },
    },
  };
}

function docs(...ds: Obj[]): string {
  return ds.map((d) => `---\n${YAML.stringify(d, { lineWidth: 0 })}`).join('');
}

export interface BootstrapInput {
  spec: KubeadmConfigSpec;
  /** the kubeadm configuration documents and where they go */
  kubeadm: { path: string; documents: Obj[] };
  command: 'init' | 'join';
  /** control plane nodes carry the cluster's certificates */
  certificates?: ClusterCertificates;
  /** file contents the user took from Secrets (path → content) */
  secretFiles?: Record<string, string>;
}

/** The cloud-config document (with its jinja header) for one machine. */
export function cloudConfig(b: BootstrapInput): string {
  const files: Obj[] = [];
  for (const f of b.spec.files ?? []) {
    const content = f.contentFrom ? (b.secretFiles?.[f.path] ?? '') : (f.content ?? '');
    files.push(
      strip({
        path: f.path,
        owner: f.owner ?? 'root:root',
        permissions: f.permissions ?? '0640',
        encoding: f.encoding,
        append: f.append,
        content,
      }),
    );
  }
  if (b.certificates) {
    for (const [kind, crt, key] of CERT_PATHS) {
      const kp = b.certificates[kind];
      files.push({ path: crt, owner: 'root:root', permissions: '0640', content: kp.certPem });
      files.push({ path: key, owner: 'root:root', permissions: '0600', content: kp.keyPem });
    }
  }
  files.push({ path: b.kubeadm.path, owner: 'root:root', permissions: '0640', content: docs(...b.kubeadm.documents) });
  files.push({
    path: '/run/cluster-api/placeholder',
    owner: 'root:root',
    permissions: '0640',
    content:
      'This placeholder file is used to create the /run/cluster-api sub directory in a way that is compatible with both Linux and Windows (mkdir -p /run/cluster-api does not work with Windows)',
  });
  const kubeadm =
    b.command === 'init'
      ? `kubeadm init --config ${INIT_CONFIG_PATH}  && echo success > ${SENTINEL}`
      : `kubeadm join --config ${JOIN_CONFIG_PATH}  && echo success > ${SENTINEL}`;
  const doc: Obj = {
    write_files: files,
    runcmd: [...(b.spec.preKubeadmCommands ?? []), kubeadm, ...(b.spec.postKubeadmCommands ?? [])],
  };
  if (b.spec.bootCommands?.length) doc.bootcmd = b.spec.bootCommands;
  if (b.spec.users?.length) {
    doc.users = b.spec.users.map((u) =>
      strip({
        name: u.name,
        gecos: u.gecos,
        groups: u.groups,
        homedir: u.homeDir,
        inactive: u.inactive,
        shell: u.shell,
        passwd: u.passwd,
        primary_group: u.primaryGroup,
        lock_passwd: u.lockPassword,
        sudo: u.sudo,
        ssh_authorized_keys: u.sshAuthorizedKeys,
      }),
    );
  }
  if (b.spec.ntp?.servers?.length) doc.ntp = { enabled: b.spec.ntp.enabled ?? true, servers: b.spec.ntp.servers };
  if (b.spec.mounts?.length) doc.mounts = b.spec.mounts;
  if (b.spec.diskSetup?.partitions?.length || b.spec.diskSetup?.filesystems?.length) {
    doc.disk_setup = Object.fromEntries((b.spec.diskSetup.partitions ?? []).map((p) => [String(p.device), p]));
    doc.fs_setup = b.spec.diskSetup.filesystems ?? [];
  }
  return `## template: jinja\n#cloud-config\n\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

export { docs as kubeadmDocuments };
