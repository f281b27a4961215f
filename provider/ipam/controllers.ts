// The IPAM tier (metal3-io/ip-address-manager): the IPPool reconciler.
import type { Manager } from '../kube/manager.js';
import { CAPI_ADDRESS, IPADDRESS, IPPOOL, ipPoolController } from './ippool-controller.js';

export function addIpamControllers(manager: Manager): void {
  const pools = manager.informer(IPPOOL);
  // a pool's book is its addresses, listed on every reconcile: from a cache, as upstream's
  // controller-runtime client lists them (the pool's own new addresses are read from the server
  // until the watch shows them, so an address is never handed out twice)
  manager.cacheForReads(IPADDRESS);
  manager.cacheForReads(CAPI_ADDRESS);
  manager.add(ipPoolController({ pools: () => pools.list() }));
}
