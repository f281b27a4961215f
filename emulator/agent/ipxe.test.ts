import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpxeError, parseCmdline, runIpxe } from './ipxe.js';

function env(files: Record<string, string>) {
  const fetched: string[] = [];
  const echoed: string[] = [];
  return {
    fetched,
    echoed,
    env: {
      mac: '52:54:00:aa:bb:cc',
      uuid: 'u-1',
      signal: new AbortController().signal,
      echo: (l: string) => echoed.push(l),
      fetch: async (u: string) => {
        fetched.push(u);
        const f = files[u];
        return f === undefined ? { ok: false, status: 404, body: Buffer.alloc(0) } : { ok: true, status: 200, body: Buffer.from(f) };
      },
    },
  };
}

test('chains to the per-MAC script and boots the kernel with expanded arguments', async () => {
  const e = env({
    'http://h/boot.ipxe': '#!ipxe\nchain pxelinux.cfg/${mac:hexhyp} || goto none\n:none\nexit\n',
    'http://h/pxelinux.cfg/52-54-00-aa-bb-cc':
      '#!ipxe\nkernel http://img/k ipa-api-url=http://api BOOTIF=${mac}\ninitrd --name ramdisk http://img/r\nboot\n',
    'http://img/k': 'K',
    'http://img/r': 'R',
  });
  const r = await runIpxe('http://h/boot.ipxe', e.env);
  assert.deepEqual(r, {
    kind: 'kernel',
    kernelUrl: 'http://img/k',
    kernelBytes: 1,
    params: 'ipa-api-url=http://api BOOTIF=52:54:00:aa:bb:cc',
    initrds: ['http://img/r'],
  });
});

test('a missing per-MAC script falls through to the label; a missing kernel fails the command', async () => {
  const e = env({ 'http://h/boot.ipxe': '#!ipxe\nchain cfg/${mac:hexhyp} || goto none\n:none\necho nothing for ${mac}\nexit\n' });
  assert.deepEqual(await runIpxe('http://h/boot.ipxe', e.env), { kind: 'exit', reason: 'script exited' });
  assert.deepEqual(e.echoed, ['nothing for 52:54:00:aa:bb:cc']);
  const k = env({ 'http://h/s': '#!ipxe\nkernel http://img/missing\nboot\n' });
  await assert.rejects(runIpxe('http://h/s', k.env), (x: unknown) => x instanceof IpxeError && /command failed: kernel/.test(x.message));
});

test('refuses what is not an iPXE script, and loops', async () => {
  await assert.rejects(runIpxe('http://h/x', env({ 'http://h/x': 'MZ\x90binary' }).env), /not an iPXE script/);
  await assert.rejects(runIpxe('http://h/l', env({ 'http://h/l': '#!ipxe\n:a\ngoto a\n' }).env), /did not finish/);
  const sb = await runIpxe('http://h/s', env({ 'http://h/s': '#!ipxe\nset img live.iso\nsanboot ${img}\n' }).env);
  assert.deepEqual(sb, { kind: 'sanboot', url: 'http://h/live.iso' });
});

test('kernel command lines parse into keys and flags', () => {
  const m = parseCmdline('ipa-api-url=http://a:1 nofb BOOTIF=01-aa vga=normal');
  assert.equal(m.get('ipa-api-url'), 'http://a:1');
  assert.equal(m.get('nofb'), '');
  assert.equal(m.get('BOOTIF'), '01-aa');
});
