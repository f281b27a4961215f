// ipmitool -I lanplus (the binary Ironic's ipmitool driver runs) against the IPMI BMC emulator:
// every command must change or report the simulated machine, and Redfish must see the same.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Machine } from '../emulator/machine/machine.js';
import { cleanup, eventually } from './helpers/apiserver.js';
import { ipmiPort, ipmitool, rf, startTestFleet, type TestFleet } from './helpers/bmc.js';

describe('ipmitool lanplus against the emulator', () => {
  let t: TestFleet;
  let m: Machine;
  let port: number;
  const ipmi = (args: string[], o = {}) => ipmitool(port, args, o);

  before(async () => {
    t = await startTestFleet(1);
    m = t.fleet.machines[0];
    port = ipmiPort(t);
  });
  after(async () => {
    await t.close();
    cleanup(t.dir);
  });

  it('opens sessions with cipher suite 3, 17 and the automatic choice, and reports mc info', async () => {
    for (const cipher of [3, 17, undefined]) {
      const r = await ipmi(['mc', 'info'], { cipher });
      assert.equal(r.code, 0, `cipher ${cipher}: ${r.stderr}`);
      assert.match(r.stdout, /IPMI Version\s+: 2\.0/);
      assert.match(r.stdout, /Firmware Revision\s+: 1\.00/);
    }
  });

  it('power status/on/off/cycle/reset/soft drive the machine', async () => {
    let r = await ipmi(['power', 'status']);
    assert.equal(r.stdout.trim(), 'Chassis Power is off');
    r = await ipmi(['power', 'on']);
    assert.equal(r.code, 0, r.stderr);
    await eventually(() => m.state.power === 'On', 'power on');
    assert.equal((await ipmi(['power', 'status'])).stdout.trim(), 'Chassis Power is on');
    const boots = m.state.bootCount;
    assert.equal((await ipmi(['power', 'reset'])).code, 0);
    await eventually(() => m.state.bootCount > boots, 'reset to re-run firmware');
    await m.settled();
    const before = m.state.bootCount;
    assert.equal((await ipmi(['power', 'cycle'])).code, 0);
    await eventually(() => m.state.bootCount > before && m.state.power === 'On', 'power cycle');
    await m.settled();
    assert.equal((await ipmi(['power', 'soft'])).code, 0);
    await eventually(() => m.state.power === 'Off', 'soft off');
    assert.ok(
      m.state.console.some((l) => l.includes('ACPI: power button pressed')),
      'soft off is a graceful shutdown',
    );
    assert.equal((await ipmi(['power', 'on'])).code, 0);
    await eventually(() => m.state.power === 'On', 'power on again');
    assert.equal((await ipmi(['power', 'off'])).code, 0);
    await eventually(() => m.state.power === 'Off', 'power off');
    assert.equal((await ipmi(['power', 'status'])).stdout.trim(), 'Chassis Power is off');
  });

  it('chassis bootdev pxe|disk|cdrom with options=persistent,efiboot sets the override and bootparam get 5 reads it back', async () => {
    const cases = [
      ['pxe', 'Pxe', /Force PXE/],
      ['disk', 'Hdd', /Force Boot from default Hard-Drive/],
      ['cdrom', 'Cd', /Force Boot from CD\/DVD/],
    ] as const;
    for (const [dev, target, selector] of cases) {
      let r = await ipmi(['chassis', 'bootdev', dev, 'options=persistent,efiboot']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(m.state.boot.overrideTarget, target);
      assert.equal(m.state.boot.overrideEnabled, 'Continuous');
      assert.equal(m.state.boot.overrideMode, 'UEFI');
      r = await ipmi(['chassis', 'bootparam', 'get', '5']);
      assert.match(r.stdout, selector);
      assert.match(r.stdout, /Options apply to all future boots/);
      assert.match(r.stdout, /BIOS EFI boot/);
    }
    // without options: next boot only, legacy (param 3 bit 3 first, so the 60 s valid-bit timeout,
    // 60 ms at this fleet's time scale, cannot clear it between the two commands)
    assert.equal((await ipmi(['raw', '0x00', '0x08', '0x03', '0x08'])).code, 0);
    assert.equal((await ipmi(['chassis', 'bootdev', 'pxe'])).code, 0);
    assert.equal(m.state.boot.overrideEnabled, 'Once');
    assert.equal(m.state.boot.overrideMode, 'Legacy');
    const r = await ipmi(['chassis', 'bootparam', 'get', '5']);
    assert.match(r.stdout, /Options apply to only next boot/);
    assert.match(r.stdout, /BIOS PC Compatible \(legacy\) boot/);
  });

  it("accepts Ironic's raw boot-option commands and the one-time override really applies once", async () => {
    // what ironic's ipmitool driver sends for a UEFI one-time PXE boot
    assert.equal((await ipmi(['raw', '0x00', '0x08', '0x03', '0x08'])).code, 0);
    let r = await ipmi(['raw', '0x00', '0x09', '0x03', '0x00', '0x00']);
    assert.match(r.stdout.trim(), /^01 03 08$/);
    assert.equal((await ipmi(['raw', '0x00', '0x08', '0x05', '0xa0', '0x04', '0x00', '0x00', '0x00'])).code, 0);
    assert.deepEqual([m.state.boot.overrideTarget, m.state.boot.overrideEnabled, m.state.boot.overrideMode], ['Pxe', 'Once', 'UEFI']);
    r = await ipmi(['raw', '0x00', '0x09', '0x05', '0x00', '0x00']);
    assert.match(r.stdout.trim(), /^01 05 a0 04 00 00 00$/);
    // persistent UEFI cdrom, as for virtual media
    assert.equal((await ipmi(['raw', '0x00', '0x08', '0x05', '0xe0', '0x14', '0x00', '0x00', '0x00'])).code, 0);
    assert.deepEqual([m.state.boot.overrideTarget, m.state.boot.overrideEnabled], ['Cd', 'Continuous']);
    // a one-time PXE boot is consumed by the next boot and then reads back as not valid
    assert.equal((await ipmi(['raw', '0x00', '0x08', '0x05', '0xa0', '0x04', '0x00', '0x00', '0x00'])).code, 0);
    assert.equal((await ipmi(['power', 'on'])).code, 0);
    await eventually(
      () => m.state.lastBoot !== null && m.state.bootHistory.length > 0 && m.state.boot.overrideEnabled === 'Disabled',
      'one-time boot consumed',
    );
    await m.settled();
    assert.equal(m.state.bootHistory.at(-1)?.source, 'override-once');
    assert.ok(
      m.state.console.some((l) => l.includes('Start PXE')),
      'firmware tried PXE',
    );
    r = await ipmi(['chassis', 'bootparam', 'get', '5']);
    assert.doesNotMatch(r.stdout, /Boot Flag Valid/);
    // unknown selector and bad parameter are refused with completion codes, not silence
    r = await ipmi(['raw', '0x00', '0x08', '0x05', '0xa0', '0x28', '0x00', '0x00', '0x00']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rsp=0xcc/i);
    r = await ipmi(['raw', '0x00', '0x09', '0x07', '0x00', '0x00']);
    assert.match(r.stderr, /rsp=0x80/i);
    await ipmi(['power', 'off']);
    await eventually(() => m.state.power === 'Off', 'off');
  });

  it('chassis status, identify and an unsupported command', async () => {
    let r = await ipmi(['chassis', 'status']);
    assert.match(r.stdout, /System Power\s+: off/);
    // 5 s of simulated time pass in 5 ms here, so watch the LED change rather than sample it
    const leds: string[] = [];
    const onChange = (part: string) => part === 'led' && leds.push(m.state.indicatorLed);
    m.on('changed', onChange);
    assert.equal((await ipmi(['chassis', 'identify', '5'])).code, 0);
    await eventually(() => m.state.indicatorLed === 'Off', 'identify interval to end');
    m.off('changed', onChange);
    assert.deepEqual(leds, ['Blinking', 'Off']);
    assert.equal((await ipmi(['chassis', 'identify', 'force'])).code, 0);
    assert.equal(m.state.indicatorLed, 'Lit');
    assert.equal((await ipmi(['chassis', 'identify', '0'])).code, 0);
    assert.equal(m.state.indicatorLed, 'Off');
    r = await ipmi(['raw', '0x0a', '0x20']);
    assert.match(r.stderr, /rsp=0xc1/i);
  });

  it('refuses a wrong password and an unknown user', async () => {
    let r = await ipmi(['power', 'status'], { password: 'wrong' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unable to establish IPMI v2/);
    r = await ipmi(['-v', 'power', 'status'], { user: 'mallory' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unauthorized name/i);
    const s = t.fleet.ipmiServer(m);
    assert.ok((s?.stats.authFailures ?? 0) >= 1);
  });

  it('a flood of unauthenticated Open Session Requests does not lock out a console that authenticates', async () => {
    const { createSocket } = await import('node:dgram');
    const { buildV20, PayloadType } = await import('../lib/ipmi/codec.js');
    const socks = Array.from({ length: 8 }, () => createSocket('udp4'));
    await Promise.all(socks.map((x) => new Promise<void>((r) => x.bind(0, '127.0.0.1', () => r()))));
    const open = (i: number) => {
      const b = Buffer.alloc(32);
      b[0] = i & 0xff;
      b[1] = 4;
      b.writeUInt32LE(0x1000 + i, 4);
      Buffer.from([0, 0, 0, 8, 1, 0, 0, 0, 1, 0, 0, 8, 1, 0, 0, 0, 2, 0, 0, 8, 1, 0, 0, 0]).copy(b, 8);
      return buildV20(PayloadType.OpenSessionRequest, 0, 0, b, null, false);
    };
    let sent = 0;
    let flooding = true;
    // 8 sources keep the table full of half-open sessions for as long as ipmitool runs (the rate
    // fills the table many times over without drowning the socket: this is about sessions, not
    // about how many packets a BMC can take)
    const flood = (async () => {
      while (flooding && sent < 20_000) {
        for (const [i, x] of socks.entries()) for (let k = 0; k < 4; k++) x.send(open(sent++ + i), port, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 100));
      const s = t.fleet.ipmiServer(m);
      assert.ok((s?.activeSessions ?? 0) >= 30, `the flood fills the session table (${s?.activeSessions})`);
      for (let i = 0; i < 3; i++) {
        const r = await ipmi(['power', 'status']);
        assert.equal(r.code, 0, `ipmitool during the flood: ${r.stderr}`);
        assert.match(r.stdout, /Chassis Power is (on|off)/);
      }
    } finally {
      flooding = false;
      await flood;
      for (const x of socks) x.close();
    }
  });

  it('exposes Prometheus metrics for both fronts and the machines at /metrics', async () => {
    assert.equal((await rf(t.url, 'GET', '/redfish/v1/')).status, 200);
    const r = await rf(t.url, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.text, /^ferrite_bmc_redfish_requests_total\{method="GET",code="200"\} [1-9]/m);
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(r.text)?.[1] ?? Number.NaN);
    assert.ok(value('ferrite_bmc_ipmi_packets_total{result="answered"}') > 50, r.text);
    assert.ok(value('ferrite_bmc_ipmi_auth_failures_total') >= 1);
    assert.ok(value('ferrite_bmc_machine_boots_total') >= 3);
    assert.equal(value('ferrite_bmc_machines{power_state="Off"}'), 1);
    assert.match(r.text, /ferrite_bmc_redfish_request_duration_seconds_bucket/);
  });

  it('shares state with Redfish: a boot override set over IPMI reads back over Redfish and vice versa', async () => {
    assert.equal((await ipmi(['chassis', 'bootdev', 'disk', 'options=persistent,efiboot'])).code, 0);
    const auth: [string, string] = ['admin', 'password'];
    let r = await rf(t.url, 'GET', `/redfish/v1/Systems/${m.uuid}`, { auth });
    const boot = r.json.Boot as Record<string, unknown>;
    assert.deepEqual(
      [boot.BootSourceOverrideTarget, boot.BootSourceOverrideEnabled, boot.BootSourceOverrideMode],
      ['Hdd', 'Continuous', 'UEFI'],
    );
    r = await rf(t.url, 'PATCH', `/redfish/v1/Systems/${m.uuid}`, {
      auth,
      body: { Boot: { BootSourceOverrideTarget: 'Cd', BootSourceOverrideEnabled: 'Once' } },
    });
    assert.equal(r.status, 200);
    const out = await ipmi(['chassis', 'bootparam', 'get', '5']);
    assert.match(out.stdout, /Force Boot from CD\/DVD/);
    assert.match(out.stdout, /Options apply to only next boot/);
  });
});
