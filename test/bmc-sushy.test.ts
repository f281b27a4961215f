// Python's sushy (the Redfish library inside Ironic) drives power, boot override and virtual
// media against the emulator over HTTPS, once with Basic auth and once with a session.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildIso } from '../lib/iso9660.js';
import { cleanup, ROOT } from './helpers/apiserver.js';
import { havePythonPeers, PYTHON, run, startFileServer, startTestFleet, type TestFleet } from './helpers/bmc.js';

describe('sushy against the Redfish emulator', { skip: havePythonPeers ? false : 'run scripts/install-peers.sh first' }, () => {
  let t: TestFleet;
  let files: Awaited<ReturnType<typeof startFileServer>>;
  // a real (if tiny) bootable ISO: firmware reads its boot configuration, as a machine would
  const iso = buildIso('LIVE', [
    { path: 'boot/grub/grub.cfg', data: Buffer.from('menuentry "live" {\n  linux /vmlinuz root=live:CDLABEL=LIVE\n  initrd /initrd\n}\n') },
    { path: 'vmlinuz', data: randomBytes(256 * 1024) },
    { path: 'initrd', data: randomBytes(1024) },
  ]);

  before(async () => {
    t = await startTestFleet(2, { tls: true });
    files = await startFileServer({ '/boot.iso': iso });
  });
  after(async () => {
    await t.close();
    await files.close();
    cleanup(t.dir);
  });

  for (const authKind of ['basic', 'session'] as const) {
    it(`power, boot override and virtual media with ${authKind} auth`, async () => {
      const m = t.fleet.machines[authKind === 'basic' ? 0 : 1];
      const caFile = join(t.dir, 'sushy-ca.crt');
      writeFileSync(caFile, t.ca ?? '');
      const before = m.state.bootHistory.length;
      const r = await run(
        PYTHON,
        [join(ROOT, 'test/peers/sushy/drive.py'), t.url, m.uuid, 'admin', 'password', authKind, `${files.url}/boot.iso`],
        {
          timeoutMs: 120_000,
          env: { ...process.env, PYTHONWARNINGS: 'ignore', REQUESTS_CA_BUNDLE: caFile, CURL_CA_BUNDLE: '' },
        },
      );
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      const steps = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { step: string });
      assert.deepEqual(
        steps.map((s) => s.step),
        [
          'connected',
          ...(authKind === 'session' ? ['session'] : []),
          'system',
          'power-on',
          'power-off',
          'boot-override',
          'vmedia-insert',
          'booted-once',
          'vmedia-eject',
          'done',
        ],
      );
      // the BMC really fetched the image and the machine really booted it, once
      assert.ok(files.requests.includes('GET /boot.iso'));
      const boots = m.state.bootHistory.slice(before);
      const cdBoot = boots.find((b) => b.device === 'Cd');
      assert.ok(cdBoot, `no boot from Cd in ${JSON.stringify(boots)}`);
      assert.equal(cdBoot.source, 'override-once');
      assert.match(cdBoot.outcome, /boot\.iso/);
      assert.equal(m.state.boot.overrideEnabled, 'Disabled');
      assert.equal(m.state.media.find((x) => x.id === 'Cd')?.inserted, false);
      assert.equal(m.state.power, 'Off');
      if (authKind === 'session') assert.ok(t.fleet.redfishServer?.ctx.auth.sessions.size ?? 0 >= 1);
    });
  }
});
