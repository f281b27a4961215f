// The IPAM tier (metal3-io/ip-address-manager): the IPPool reconciler.
import type { Manager } from '../kube/manager.js';
import { IPPOOL, ipPoolController } from './ippool-controller.js';

export function addIpamControllers(manager: Manager): void {
  const pools = manager.informer(IPPOOL);
  manager.add(ipPoolController({ pools: () => pools.list() }));
}
