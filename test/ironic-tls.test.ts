// TLS end to end, as metal3's Ironic image offers it: Ironic's API and its HTTP root (iPXE
// scripts, the agent, images, config drives) over HTTPS with a CA the operator, the machines'
// firmware and the agent ramdisk trust, Basic auth between the operator and Ironic, the agent's own
// API over HTTPS verified against the certificate it sends (agent_verify_ca), and /metrics. An agent
// that does not trust Ironic's certificate refuses it, and the host says so within minutes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { fleetManifests } from '../emulator/fleet/manifests.js';
import { httpsGet } from './helpers/apiserver.js';
import { type BmoStack, startBmoStack } from './helpers/bmo.js';

describe('TLS between the operator, Ironic, the firmware and the agent', { concurrency: 1, timeout: 600_000 }, () => {
  const stacks: BmoStack[] = [];
  after(async () => {
    for (const s of stacks) await s.close();
  });

  it('provisions a host with every hop over HTTPS, and the agent API verified by its certificate', { timeout: 300_000 }, async () => {
    const s = await startBmoStack({ machines: 1, pollMs: 200, tls: {}, files: { '/disk.img': Buffer.alloc(1 << 20, 7) } });
    stacks.push(s);
    assert.match(s.ironic.url, /^https:/);
    assert.match(s.ironic.httpUrl, /^https:/);
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    const name = s.fleet.addrs[0].name;
    await s.waitFor(name, (h) => h.status?.provisioning?.state === 'available', 'available', 180_000);
    const sum = (await import('node:crypto'))
      .createHash('sha256')
      .update(Buffer.alloc(1 << 20, 7))
      .digest('hex');
    const p = await s.k([
      'patch',
      'bmh',
      name,
      '--type=merge',
      '-p',
      JSON.stringify({ spec: { image: { url: `${s.files.url}/disk.img`, checksum: sum, checksumType: 'sha256' }, online: true } }),
    ]);
    assert.equal(p.code, 0, p.stderr);
    // the agent is up during deployment: its callback is https and Ironic holds its certificate.
    // Ironic's store is in this process: looked at every few milliseconds, apart from the host's
    // polling, so a deployment quicker than one poll of the host still shows its agent
    let sawHttpsAgent = false;
    const look = setInterval(() => {
      const node = [...s.ironic.store.allNodes()][0];
      const url = node?.driver_internal_info.agent_url;
      if (
        typeof url === 'string' &&
        url.startsWith('https://') &&
        String(node.driver_internal_info.agent_verify_ca).includes('BEGIN CERTIFICATE')
      )
        sawHttpsAgent = true;
    }, 5);
    const h = await s
      .waitFor(name, (x) => x.status?.provisioning?.state === 'provisioned' || Boolean(x.status?.errorType), 'provisioned', 180_000)
      .finally(() => clearInterval(look));
    assert.equal(h.status?.errorType, undefined, JSON.stringify(h.status));
    assert.equal(h.status?.provisioning?.state, 'provisioned');
    assert.ok(sawHttpsAgent, 'the agent called back with an https URL and its certificate');
    // the console shows the iPXE script came over https
    const m = s.fleet.fleet.machine(name);
    assert.ok(
      m?.state.console.some((l) => l.includes('ironic-python-agent https://')),
      'the agent booted with an https Ironic URL',
    );
  });

  it('serves /metrics behind the same Basic auth, over the same TLS', async () => {
    const s = stacks[0];
    const caPem = s.ironicCa ?? '';
    const anon = await httpsGet(`${s.ironic.url}/metrics`, { ca: caPem });
    assert.equal(anon.status, 401);
    const ok = await httpsGet(`${s.ironic.url}/metrics`, { ca: caPem, basic: 'ironic:s3cret' });
    assert.equal(ok.status, 200);
    assert.match(ok.text, /ironic_nodes\{provision_state="active",power_state="power on",maintenance="false"\} 1/);
    assert.match(ok.text, /ironic_api_requests_total\{method="GET",route="\/v1\/nodes",code="200"\} \d+/);
    // the deployment held a worker for a while; nothing was refused a worker
    assert.match(ok.text, /ironic_conductor_tasks_total\{task="deployment"\} [1-9]/);
    const held = /ironic_conductor_task_worker_seconds_total\{task="deployment"\} ([\d.e-]+)/.exec(ok.text);
    assert.ok(held && Number(held[1]) > 0, `seconds a deployment held a worker: ${held?.[1]}`);
    assert.match(ok.text, /ironic_conductor_worker_refusals_total 0\n/);
    // Basic auth guards the API too: a wrong password is refused
    assert.equal((await httpsGet(`${s.ironic.url}/v1/nodes`, { ca: caPem, basic: 'ironic:wrong' })).status, 401);
  });

  it('an agent that does not trust the certificate refuses Ironic, the host shows an inspection error, and is inspected once the agent trusts it', {
    timeout: 300_000,
  }, async () => {
    // the HTTP root stays plain so the firmware can boot the agent: what is refused is the agent's call to Ironic
    const s = await startBmoStack({
      machines: 1,
      pollMs: 200,
      tls: { httpRoot: false, trust: 'wrong', conductor: { inspectWaitTimeout: 20 } },
    });
    stacks.push(s);
    const r = await s.k(['apply', '-f', '-'], fleetManifests(s.fleet.addrs, { protocol: 'redfish-virtualmedia' }));
    assert.equal(r.code, 0, r.stderr);
    const name = s.fleet.addrs[0].name;
    const h = await s
      .waitFor(name, (x) => Boolean(x.status?.errorType), 'an error', 240_000)
      .catch((e: Error) => {
        const node = [...s.ironic.store.allNodes()][0];
        throw new Error(
          `${e.message.slice(0, 300)}\nironic: ${node?.provision_state} ${node?.last_error}\nconsole:\n${(s.fleet.fleet.machine(name)?.state.console ?? []).slice(-15).join('\n')}`,
        );
      });
    assert.equal(h.status?.errorType, 'inspection error', JSON.stringify(h.status));
    const consoleLines = s.fleet.fleet.machine(name)?.state.console ?? [];
    assert.ok(
      consoleLines.some(
        (l) => /lookup failed \(fetch failed: .*(certificate|self.signed)/i.test(l) || /inspection callback failed: .*certificate/i.test(l),
      ),
      `the agent says why:\n${consoleLines.slice(-15).join('\n')}`,
    );
    const node = [...s.ironic.store.allNodes()][0];
    assert.equal(node.driver_internal_info.agent_url, undefined, 'no agent ever reached Ironic');
    // the cause fixed, the next try after the backoff starts the failed inspection again (as
    // upstream's operator does; before, the host kept its error for good) and the host is inspected
    s.fleet.fleet.agents.trust([s.ironicCa ?? '']);
    const ok = await s.waitFor(name, (x) => x.status?.provisioning?.state === 'available', 'available after a retry', 180_000);
    assert.equal(ok.status?.errorType || '', '', JSON.stringify(ok.status));
    assert.equal(ok.status?.errorCount ?? 0, 0);
    assert.ok(ok.status?.hardware?.cpu?.count, 'the hardware was inspected');
  });
});
