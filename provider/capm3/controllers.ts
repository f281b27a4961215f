// The CAPM3 tier: Metal3Cluster, Metal3Machine, Metal3Data*, Metal3Remediation, the machine
// template and label sync controllers, on one manager.
import { K } from '../capi/common.js';
import type { WorkloadClients } from '../capi/workload.js';
import type { Manager } from '../kube/manager.js';
import { metal3ClusterController } from './metal3cluster-controller.js';
import { metal3DataClaimController, metal3DataController, metal3DataTemplateController } from './metal3data-controller.js';
import { metal3MachineController } from './metal3machine-controller.js';
import { metal3RemediationController } from './metal3remediation-controller.js';
import { labelSyncController, metal3MachineTemplateController } from './sync-controllers.js';

export { CAPM3_WEBHOOKS } from './validation.js';

export function addCapm3Controllers(manager: Manager, o: { workload: WorkloadClients }): void {
  const { workload } = o;
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
