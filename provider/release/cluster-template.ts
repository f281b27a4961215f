// The release's cluster-template.yaml: a Metal3 workload cluster (kubeadm control plane + a
// MachineDeployment of workers) with clusterctl's variables, for `clusterctl generate cluster`.
// The image and the endpoint come from variables; any available host may be claimed.
import type { KubeObject } from '../kube/client.js';

const nodeRegistration = {
  name: '{{ ds.meta_data.name }}',
  kubeletExtraArgs: [
    { name: 'node-labels', value: 'metal3.io/uuid={{ ds.meta_data.uuid }}' },
    { name: 'provider-id', value: 'metal3://{{ ds.meta_data.providerid }}' },
  ],
};
const image = {
  url: '${IMAGE_URL}',
  checksum: '${IMAGE_CHECKSUM}',
  checksumType: '${IMAGE_CHECKSUM_TYPE:=sha256}',
  format: '${IMAGE_FORMAT:=raw}',
};
const meta = (name: string) => ({ name, namespace: '${NAMESPACE}' });
const dataTemplate = (name: string): KubeObject => ({
  apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
  kind: 'Metal3DataTemplate',
  metadata: meta(name),
  spec: {
    clusterName: '${CLUSTER_NAME}',
    metaData: {
      objectNames: [
        { key: 'name', object: 'machine' },
        { key: 'local-hostname', object: 'machine' },
        { key: 'local_hostname', object: 'machine' },
      ],
    },
  },
});
const machineTemplate = (name: string, data: string): KubeObject => ({
  apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
  kind: 'Metal3MachineTemplate',
  metadata: meta(name),
  spec: {
    template: {
      spec: {
        image: { url: image.url, checksum: image.checksum, checksumType: image.checksumType, diskFormat: image.format },
        dataTemplate: { name: data },
      },
    },
  },
});

/** Variables the template uses, with what they mean (docs/deploy.md lists them from here). */
export const TEMPLATE_VARIABLES: Record<string, string> = {
  CLUSTER_NAME: 'the cluster (clusterctl sets it from the command line)',
  NAMESPACE: 'its namespace (clusterctl: --target-namespace)',
  KUBERNETES_VERSION: 'Kubernetes version of the nodes (clusterctl: --kubernetes-version)',
  CONTROL_PLANE_MACHINE_COUNT: 'control plane machines (clusterctl: --control-plane-machine-count, default 1)',
  WORKER_MACHINE_COUNT: 'worker machines (clusterctl: --worker-machine-count, default 0)',
  CLUSTER_APIENDPOINT_HOST: "the workload cluster's API endpoint address",
  CLUSTER_APIENDPOINT_PORT: 'its port (default 6443)',
  IMAGE_URL: 'node image URL the hosts are provisioned with',
  IMAGE_CHECKSUM: "the image's checksum (or a URL of a checksum file)",
  IMAGE_CHECKSUM_TYPE: 'sha256 (default), sha512 or md5',
  IMAGE_FORMAT: 'raw (default), qcow2, iso or live-iso',
  POD_CIDR: 'pod network (default 192.168.0.0/18)',
  SERVICE_CIDR: 'service network (default 10.96.0.0/12)',
};

export function clusterTemplate(): KubeObject[] {
  return [
    {
      apiVersion: 'cluster.x-k8s.io/v1beta2',
      kind: 'Cluster',
      metadata: meta('${CLUSTER_NAME}'),
      spec: {
        clusterNetwork: {
          pods: { cidrBlocks: ['${POD_CIDR:=192.168.0.0/18}'] },
          services: { cidrBlocks: ['${SERVICE_CIDR:=10.96.0.0/12}'] },
        },
        infrastructureRef: { apiGroup: 'infrastructure.cluster.x-k8s.io', kind: 'Metal3Cluster', name: '${CLUSTER_NAME}' },
        controlPlaneRef: { apiGroup: 'controlplane.cluster.x-k8s.io', kind: 'KubeadmControlPlane', name: '${CLUSTER_NAME}' },
      },
    },
    {
      apiVersion: 'infrastructure.cluster.x-k8s.io/v1beta2',
      kind: 'Metal3Cluster',
      metadata: meta('${CLUSTER_NAME}'),
      spec: {
        controlPlaneEndpoint: { host: '${CLUSTER_APIENDPOINT_HOST}', port: '${CLUSTER_APIENDPOINT_PORT:=6443}' },
        cloudProviderEnabled: false,
      },
    },
    {
      apiVersion: 'controlplane.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmControlPlane',
      metadata: meta('${CLUSTER_NAME}'),
      spec: {
        replicas: '${CONTROL_PLANE_MACHINE_COUNT:=1}',
        version: '${KUBERNETES_VERSION}',
        machineTemplate: {
          spec: {
            infrastructureRef: {
              apiGroup: 'infrastructure.cluster.x-k8s.io',
              kind: 'Metal3MachineTemplate',
              name: '${CLUSTER_NAME}-controlplane',
            },
          },
        },
        kubeadmConfigSpec: {
          initConfiguration: { nodeRegistration },
          joinConfiguration: { controlPlane: {}, nodeRegistration },
        },
      },
    },
    machineTemplate('${CLUSTER_NAME}-controlplane', '${CLUSTER_NAME}-controlplane-template'),
    dataTemplate('${CLUSTER_NAME}-controlplane-template'),
    {
      apiVersion: 'cluster.x-k8s.io/v1beta2',
      kind: 'MachineDeployment',
      metadata: { ...meta('${CLUSTER_NAME}-workers'), labels: { 'cluster.x-k8s.io/cluster-name': '${CLUSTER_NAME}' } },
      spec: {
        clusterName: '${CLUSTER_NAME}',
        replicas: '${WORKER_MACHINE_COUNT:=0}',
        selector: { matchLabels: { 'cluster.x-k8s.io/cluster-name': '${CLUSTER_NAME}' } },
        template: {
          metadata: { labels: { 'cluster.x-k8s.io/cluster-name': '${CLUSTER_NAME}' } },
          spec: {
            clusterName: '${CLUSTER_NAME}',
            version: '${KUBERNETES_VERSION}',
            bootstrap: {
              configRef: { apiGroup: 'bootstrap.cluster.x-k8s.io', kind: 'KubeadmConfigTemplate', name: '${CLUSTER_NAME}-workers' },
            },
            infrastructureRef: {
              apiGroup: 'infrastructure.cluster.x-k8s.io',
              kind: 'Metal3MachineTemplate',
              name: '${CLUSTER_NAME}-workers',
            },
          },
        },
      },
    },
    machineTemplate('${CLUSTER_NAME}-workers', '${CLUSTER_NAME}-workers-template'),
    dataTemplate('${CLUSTER_NAME}-workers-template'),
    {
      apiVersion: 'bootstrap.cluster.x-k8s.io/v1beta2',
      kind: 'KubeadmConfigTemplate',
      metadata: meta('${CLUSTER_NAME}-workers'),
      spec: { template: { spec: { joinConfiguration: { nodeRegistration } } } },
    },
  ];
}
