// The Cluster API tier's controllers: core (Cluster, Machine, MachineSet, MachineDeployment,
// MachineHealthCheck, ClusterClass and managed topologies) and, apart, the kubeadm bootstrap and control plane providers, so either
// can run beside upstream's counterpart.
import type { Manager } from '../kube/manager.js';
import { clusterController } from './cluster-controller.js';
import { clusterTopologyController } from './cluster-topology-controller.js';
import { clusterClassController } from './clusterclass-controller.js';
import type { ContractResolver } from './common.js';
import { kubeadmConfigController } from './kubeadmconfig-controller.js';
import { kubeadmControlPlaneController } from './kubeadmcontrolplane-controller.js';
import { machineController } from './machine-controller.js';
import { machineDeploymentController } from './machinedeployment-controller.js';
import { machineHealthCheckController } from './machinehealthcheck-controller.js';
import { machineSetController } from './machineset-controller.js';
import type { WorkloadClients } from './workload.js';

export interface CapiShared {
  contracts: ContractResolver;
  workload: WorkloadClients;
}

export function addCapiCoreControllers(manager: Manager, { contracts, workload }: CapiShared): void {
  manager.add(clusterController({ contracts }));
  manager.add(clusterClassController());
  manager.add(clusterTopologyController({ contracts }));
  manager.add(machineController({ contracts, workload }));
  manager.add(machineSetController({ contracts }));
  manager.add(machineDeploymentController());
  manager.add(machineHealthCheckController({ workload }));
}

export function addKubeadmBootstrapControllers(manager: Manager, { workload }: CapiShared): void {
  manager.add(kubeadmConfigController({ workload }));
}

export function addKubeadmControlPlaneControllers(manager: Manager, { contracts, workload }: CapiShared): void {
  manager.add(kubeadmControlPlaneController({ contracts, workload }));
}
