// Ferrite's Ironic with upstream's ironic-python-agent (PyPI): IPA's own Ironic client looks the
// node up by MAC during a deploy, gets the agent token and heartbeats with it, as the agent on a
// real rack does; Ironic records the callback URL. (The simulated and in-VM agents are Ferrite's
// implementation of the same protocol; this pins the Ironic side to upstream's client.)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, run } from './helpers/apiserver.js';
import { ironicRequest, settledNode, startTestIronic } from './helpers/ironic.js';

const PY = join(ROOT, '.peers', 'venv', 'bin', 'python');
const haveIpa = existsSync(PY) && (await run(PY, ['-c', 'import ironic_python_agent'], { timeoutMs: 60_000 })).code === 0;
const api = (base: string, method: string, path: string, body?: unknown) =>
  ironicRequest(base, method, path, body, { 'X-OpenStack-Ironic-API-Version': '1.90' });

describe("upstream ironic-python-agent's client against Ferrite's Ironic", {
  skip: haveIpa ? false : 'ironic-python-agent is not in .peers/venv (scripts/install-peers.sh)',
}, () => {
  let ironic: Awaited<ReturnType<typeof startTestIronic>>;
  before(async () => {
    ironic = await startTestIronic({ conductor: { heartbeatTimeout: 30, deployCallbackTimeout: 120 } });
  });
  after(async () => {
    await ironic?.close();
  });

  it('looks the node up by MAC, receives the agent token and heartbeats with it', async () => {
    const mac = '52:54:00:aa:bb:01';
    const n = await api(ironic.url, 'POST', '/v1/nodes', {
      name: 'ipa-peer',
      driver: 'fake-hardware',
      deploy_interface: 'direct',
      // cleaning would wait for an agent too: this test is about the deploy's lookup and heartbeat
      automated_clean: false,
      instance_info: { image_source: 'http://127.0.0.1:9/img.raw', image_checksum: 'a'.repeat(64) },
    });
    assert.equal(n.status, 201, n.text);
    const uuid = String(n.json.uuid);
    assert.equal((await api(ironic.url, 'POST', '/v1/ports', { node_uuid: uuid, address: mac })).status, 201);
    for (const target of ['manage', 'provide']) {
      await api(ironic.url, 'PUT', `/v1/nodes/${uuid}/states/provision`, { target });
      await settledNode(ironic, 'ipa-peer', (x) => !x.target_provision_state);
    }
    await api(ironic.url, 'PUT', `/v1/nodes/${uuid}/states/provision`, { target: 'active' });
    await settledNode(ironic, 'ipa-peer', ['wait call-back']);
    const r = await run(PY, [join(ROOT, 'test', 'peers', 'ipa_client.py'), ironic.url, mac, '9999'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    assert.equal(out.uuid, uuid);
    assert.equal(out.token, true, 'lookup handed the agent a token');
    assert.equal(out.heartbeat_timeout, 30);
    const node = ironic.store.nodeByName('ipa-peer');
    assert.equal(node?.driver_internal_info.agent_url, 'http://127.0.0.1:9999');
  });
});
