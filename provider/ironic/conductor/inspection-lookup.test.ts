// Inspection data from an agent whose MACs match no port is matched by BMC address as Ironic does:
// the address's host exactly (10.0.0.1 is not 10.0.0.10), among nodes waiting for inspection;
// two nodes behind one address are refused, not guessed between, unless a port tells them apart;
// a node found by MAC whose BMC address belongs to another node is a conflict.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newNode, newPort } from '../model.js';
import { withConductor } from './test-conductor.js';

it('matches inspection data by exact BMC host among inspecting nodes, and refuses an ambiguous match', async () => {
  // each agent has its own MAC (a matched node gets a port for it)
  let mac = 0;
  const data = (bmc: string, nic = `52:54:00:aa:bb:${(mac++).toString(16).padStart(2, '0')}`) => ({
    inventory: {
      interfaces: [{ name: 'eth0', mac_address: nic }],
      ...(bmc.includes(':') ? { bmc_address: '0.0.0.0', bmc_v6address: bmc } : { bmc_address: bmc }),
      cpu: { count: 2 },
      memory: {},
    },
  });
  await withConductor(async (c, store) => {
    const put = (name: string, driver_info: Record<string, unknown>, provision_state = 'inspect wait') =>
      store.putNode(newNode({ driver: 'fake-hardware', name, provision_state: provision_state as never, driver_info }));
    const ten = put('ten', { redfish_address: 'https://10.0.0.10:8000/redfish/v1/Systems/1' });
    const one = put('one', { ipmi_address: '10.0.0.1', ipmi_port: 623 });
    put('busy', { ipmi_address: '10.0.0.2' }, 'active');
    assert.equal(c.continueInspection(data('10.0.0.1'), null).uuid, one.uuid, '10.0.0.1 is not a prefix match for 10.0.0.10');
    assert.throws(() => c.continueInspection(data('10.0.0.2'), null), { reason: 'NotFound' }, 'a node not inspecting is not a candidate');
    put('twin-a', { redfish_address: 'redfish+https://10.0.0.20/redfish/v1/Systems/1' });
    const twinB = put('twin-b', { redfish_address: 'redfish+https://10.0.0.20/redfish/v1/Systems/2' });
    assert.throws(
      () => c.continueInspection(data('10.0.0.20'), null),
      /2 nodes waiting for inspection .* share the BMC address 10\.0\.0\.20 .* ports must be created/,
    );
    store.putPort(newPort({ address: '52:54:00:cc:00:02', node_uuid: twinB.uuid, pxe_enabled: true }));
    assert.equal(c.continueInspection(data('10.0.0.20', '52:54:00:cc:00:02'), null).uuid, twinB.uuid, 'a port tells the twins apart');
    assert.equal(c.continueInspection(data('10.0.0.10'), null).uuid, ten.uuid);
    const six = put('six', { redfish_address: 'https://[fd00::5]:8000/redfish/v1/Systems/1' });
    const other = put('other', { ipmi_address: '10.0.0.30' });
    store.putPort(newPort({ address: '52:54:00:cc:00:03', node_uuid: other.uuid, pxe_enabled: true }));
    assert.throws(
      () => c.continueInspection(data('fd00::5', '52:54:00:cc:00:03'), null),
      /matches the MAC addresses but not the BMC address fd00::5, which belongs to/,
      "a port on the wrong node is not trusted over the BMC's address",
    );
    assert.equal(c.continueInspection(data('fd00::5'), null).uuid, six.uuid, 'bmc_v6address counts');
    // the emulator's BMCs share an IP: a reported port tells them apart (ipmi_port, 623 by default)
    put('port-a', { ipmi_address: '10.0.0.40', ipmi_port: 6230 });
    const portB = put('port-b', { ipmi_address: '10.0.0.40', ipmi_port: '6231' });
    assert.throws(() => c.continueInspection(data('10.0.0.40'), null), /2 nodes waiting for inspection/);
    assert.equal(c.continueInspection(data('10.0.0.40:6231'), null).uuid, portB.uuid);
    const redfishB = put('rf-b', { redfish_address: 'https://10.0.0.50:8001/redfish/v1/Systems/2' });
    put('rf-a', { redfish_address: 'https://10.0.0.50:8000/redfish/v1/Systems/1' });
    assert.equal(c.continueInspection(data('10.0.0.50:8001'), null).uuid, redfishB.uuid, 'a Redfish URL’s port counts too');
  });
});
