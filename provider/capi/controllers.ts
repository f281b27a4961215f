// The Cluster API tier's controllers, added to one manager: core (Cluster, Machine, MachineSet,
// MachineDeployment, MachineHealthCheck), the kubeadm bootstrap and control plane providers, and CAPM3.
import { metal3ClusterController } from '../capm3/metal3cluster-controller.js';
import { metal3DataClaimController, metal3DataController, metal3DataTemplateController } from '../capm3/metal3data-controller.js';
import { metal3MachineController } from '../capm3/metal3machine-controller.js';
import { metal3RemediationController } from '../capm3/metal3remediation-controller.js';
import { labelSyncController, metal3MachineTemplateController } from '../capm3/sync-controllers.js';
import type { KubeClient } from '../kube/client.js';
import type { Manager } from '../kube/manager.js';
import { clusterController } from './cluster-controller.js';
import { ContractResolver, K } from './common.js';
import { kubeadmConfigController } from './kubeadmconfig-controller.js';
import { kubeadmControlPlaneController } from './kubeadmcontrolplane-controller.js';
import { machineController } from './machine-controller.js';
import { machineDeploymentController } from './machinedeployment-controller.js';
import { machineHealthCheckController } from './machinehealthcheck-controller.js';
import { machineSetController } from './machineset-controller.js';
import { WorkloadClients } from './workload.js';

export function addClusterApiControllers(manager: Manager, client: KubeClient): void {
  const contracts = new ContractResolver(client);
  const workload = new WorkloadClients(client);
  manager.add(clusterController({ contracts }));
  manager.add(machineController({ contracts, workload }));
  manager.add(machineSetController({ contracts }));
  manager.add(machineDeploymentController());
  manager.add(machineHealthCheckController({ workload }));
  manager.add(kubeadmConfigController({ workload }));
  manager.add(kubeadmControlPlaneController({ contracts, workload }));
  manager.add(metal3ClusterController());
  const m3ms = manager.informer(K.metal3Machine);
  manager.add(metal3MachineController({ workload, machines: () => m3ms.list() }));
  manager.add(metal3DataTemplateController());
  manager.add(metal3DataClaimController());
  manager.add(metal3DataController());
  manager.add(metal3RemediationController({ workload }));
  manager.add(metal3MachineTemplateController());
  manager.add(labelSyncController({ workload }));
}
