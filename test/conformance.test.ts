// The conformance harness against the emulator: the correct generic personality passes every
// check (disruptive ones included, with the harness's own HTTP ground truth and ipmitool), and for
// every check there is a personality quirk or fault that makes it fail — and only the checks it
// should (the expected set is asserted exactly).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runConformance } from '../conformance/runner.js';
import type { Report } from '../conformance/types.js';
import { freeTcpPort } from '../devenv/stack.js';
import type { Quirks } from '../emulator/redfish/personalities/quirks.js';
import { cleanup } from './helpers/apiserver.js';
import { havePythonPeers, PYTHON, startTestFleet } from './helpers/bmc.js';

const ALL_BUT_VALIDATORS = Array.from({ length: 40 }, (_, i) => `C${String(i + 1).padStart(2, '0')}`).filter((c) => c !== 'C39');

// How long a check waits for power, media and boot. A check that should pass gets a generous
// ceiling (a loaded CI machine once took over 20 s to show a fetched ISO Inserted); the quirk cases
// whose expected failures ARE timeouts keep 20 s, or each would wait out 45 s several times.
const WAIT_MS = 45_000;
const TIMEOUT_FAILURE_CASES = new Set(['C09', 'C10', 'C12', 'C21', 'C22', 'C23', 'C27', 'C37']);

async function conformance(
  quirks: Quirks | string,
  o: { only?: string[]; latencyBudgetMs?: number; waitMs?: number } = {},
): Promise<Report> {
  const personality = typeof quirks === 'string' ? quirks : 'under-test';
  const t = await startTestFleet(
    {
      timeScale: 20,
      ...(typeof quirks === 'string' ? {} : { personalities: { 'under-test': { quirks } } }),
      machines: [{ name: 'm0', personality }],
    },
    { tls: true },
  );
  try {
    const port = await freeTcpPort();
    t.fleet.setPxeUrl(`http://127.0.0.1:${port}/boot.ipxe`);
    const a = t.addrs[0];
    return await runConformance({
      url: (a.redfishVirtualMedia as string).replace('+https', ''),
      username: a.username,
      password: a.password,
      ipmi: a.ipmi as string,
      profile: 'openbmc',
      only: o.only,
      allowDisruptive: true,
      httpAddress: `127.0.0.1:${port}`,
      insecure: true,
      pxe: true,
      validatorsDir: join(PYTHON, '..'),
      timeouts: {
        powerTimeoutMs: o.waitMs ?? WAIT_MS,
        mediaTimeoutMs: o.waitMs ?? WAIT_MS,
        bootTimeoutMs: o.waitMs ?? WAIT_MS,
        latencyBudgetMs: o.latencyBudgetMs,
      },
    });
  } finally {
    await t.close();
    cleanup(t.dir);
  }
}

const failing = (r: Report) => r.results.filter((x) => x.verdict === 'fail').map((x) => x.id);
// the checks that answered other than expected come first: CI logs keep only the head of a message
const explain = (r: Report, expectedFailing?: string[]) => {
  const line = (x: Report['results'][number]) => `${x.id} ${x.verdict}: ${x.reason}`;
  if (!expectedFailing) return r.results.map(line).join('\n');
  const odd = r.results.filter((x) => (x.verdict === 'fail') !== expectedFailing.includes(x.id));
  return [`unexpected: ${odd.map(line).join(' | ') || 'none'}`, ...r.results.map(line)].join('\n');
};

describe('conformance harness against the emulator', () => {
  it('the generic personality passes every check, disruptive ones included, and is restored afterwards', async () => {
    const r = await conformance('generic', havePythonPeers ? {} : { only: ALL_BUT_VALIDATORS });
    const notPassed = r.results.filter((x) => x.verdict !== 'pass');
    assert.deepEqual(
      notPassed.map((x) => `${x.id}: ${x.reason}`),
      [],
      explain(r),
    );
    assert.equal(r.results.length, havePythonPeers ? 40 : 39);
    assert.ok(
      r.restored?.some((x) => x.startsWith('boot override back')),
      `restored: ${r.restored?.join('; ')}`,
    );
    const c21 = r.results.find((x) => x.id === 'C21');
    assert.ok(
      c21?.evidence.exchanges.some((x) => x.url.endsWith('/Actions/VirtualMedia.InsertMedia')),
      'evidence keeps the requests',
    );
    assert.ok(
      c21?.evidence.notes.some((n) => /the harness saw [1-9]/.test(n)),
      'the BMC fetch was observed by the harness',
    );
  });

  // each case: the quirk, and exactly the checks it must fail
  const cases: Array<[string, Quirks, string[], { latencyBudgetMs?: number }?]> = [
    ['C01', { rootRequiresAuth: true }, ['C01']],
    ['C03', { noWwwAuthenticate: true }, ['C03']],
    ['C04', { noSessionService: true }, ['C04']],
    ['C05', { sessionDeleteIgnored: true }, ['C05']],
    ['C06', { maxSessions: 2 }, ['C06']],
    ['C07', { dropProperties: { ComputerSystem: ['UUID'] } }, ['C07']],
    ['C08', { resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'Nmi'] }, ['C08', 'C12']],
    // a BMC that cannot power off (on) fails every check that has to
    ['C09', { powerOffIgnored: true }, ['C09', 'C10', 'C11', 'C12', 'C18', 'C23', 'C27', 'C40']],
    // more 409s in a row than Ironic's six retries
    ['C10', { onConflicts: 10 }, ['C09', 'C10', 'C11', 'C12', 'C18', 'C23', 'C27']],
    ['C11', { idempotentPowerFails: true }, ['C11']],
    ['C12', { restartIgnored: true }, ['C12']],
    ['C13', { bootTargets: ['None', 'Pxe', 'Hdd', 'BiosSetup'] }, ['C13', 'C23']],
    ['C14', { onceCoercedToContinuous: true }, ['C14', 'C18']],
    ['C15', { fullBootRequest: 'ignore' }, ['C15']],
    ['C16', { continuousCoercedToOnce: true }, ['C16']],
    ['C17', { bootModeReadOnly: true }, ['C17']],
    ['C18', { onceNotCleared: true }, ['C18']],
    ['C19', { ifMatchIgnored: true }, ['C19']],
    ['C20', { noVirtualMedia: true }, ['C20']],
    ['C21', { insertIgnored: true }, ['C21', 'C22', 'C23', 'C24', 'C25']],
    ['C22', { httpsMediaUnsupported: true }, ['C22']],
    ['C23', { mediaNotBootable: true }, ['C23']],
    // media that never leaves blocks the next insert into that slot
    ['C24', { ejectIgnored: true }, ['C23', 'C24']],
    ['C25', { usbSlotRefuses: true }, ['C25']],
    ['C26', { dropProperties: { ComputerSystem: ['MemorySummary'] } }, ['C26']],
    ['C27', { biosNeverApplied: true }, ['C27']],
    ['C28', { secureBootNeverApplied: true }, ['C28']],
    ['C29', { noOperationApplyTimeSupport: true }, ['C29']],
    ['C30', { simpleUpdateNoTask: true }, ['C30']],
    ['C31', { taskNoLocation: true }, ['C29', 'C30', 'C31']],
    ['C32', { plainErrors: true }, ['C32']],
    // requests must overlap for the limit to bite: each is answered 30 ms late
    ['C33', { maxConcurrent: 3, latencyMs: 30 }, ['C33']],
    ['C34', { latencyMs: 40 }, ['C34'], { latencyBudgetMs: 30 }],
    ['C35', { noDateTime: true }, ['C35']],
    ['C36', { ipmiCipherSuites: [17], ipmiAdvertisedSuites: [3] }, ['C36', 'C37', 'C38', 'C40']],
    ['C37', { ipmiPowerIgnored: true }, ['C37', 'C40']],
    ['C38', { ipmiBootAlwaysPersistent: true }, ['C38']],
    ['C40', { ipmiSeparateState: true }, ['C40']],
  ];
  it('Ironic copes with up to six 409s on power on (iDRAC10): C10 passes', async () => {
    const r = await conformance({ onConflicts: 3 }, { only: ['C10'] });
    assert.equal(r.results[0].verdict, 'pass', explain(r));
    assert.match(r.results[0].reason, /after 409 retries/);
  });

  // each case has its own emulator and ports, and spends most of its time waiting out the clock
  // (C09 alone waits ~3 minutes for power that never changes): two at a time halve the file
  describe('one quirk per case', { concurrency: 2 }, () => {
    for (const [id, quirks, expected, extra] of cases) {
      it(`${id} fails on ${JSON.stringify(quirks)} — and only ${expected.join(', ')} do`, async () => {
        const r = await conformance(quirks, {
          only: ALL_BUT_VALIDATORS,
          waitMs: TIMEOUT_FAILURE_CASES.has(id) ? 20_000 : WAIT_MS,
          ...extra,
        });
        assert.deepEqual(failing(r).sort(), [...expected].sort(), explain(r, expected));
      });
    }
  });

  // the catalog personalities reproduce their vendor's quirks as the harness sees them
  const vendors: Array<[string, Record<string, string>]> = [
    ['idrac', { C24: 'warn' }],
    ['idrac10', { C10: 'pass', C08: 'pass' }],
    ['ilo', { C24: 'warn' }],
    ['ilo-gen9', { C17: 'fail' }],
    ['supermicro', { C13: 'warn', C15: 'fail', C23: 'pass' }],
    ['lenovo', { C19: 'warn' }],
    ['ami', { C15: 'fail' }],
    ['cisco', { C20: 'pass', C25: 'fail' }],
    ['openbmc', { C36: 'warn' }],
    ['sushy-tools', { C04: 'fail', C14: 'fail', C30: 'fail' }],
    ['virtualbmc', { C37: 'warn', C38: 'fail' }],
  ];
  for (const [name, want] of vendors) {
    it(`the ${name} personality shows its quirks: ${Object.entries(want)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`, async () => {
      const r = await conformance(name, { only: Object.keys(want) });
      const got = Object.fromEntries(r.results.map((x) => [x.id, x.verdict]));
      assert.deepEqual(got, want, explain(r));
    });
  }

  it('C02 fails when the BMC refuses OData-Version: 4.0 — and then nothing sushy sends can work', async () => {
    const r = await conformance({ odataVersionRejected: true }, { only: ['C01', 'C02', 'C07', 'C36'] });
    assert.deepEqual(failing(r).sort(), ['C01', 'C02', 'C07'], explain(r));
  });

  it('C39 imports the DMTF validators and fails on what they fail', {
    skip: havePythonPeers ? false : 'run scripts/install-peers.sh first',
  }, async () => {
    const r = await conformance({ copyrightAnnotation: true }, { only: ['C39'] });
    assert.deepEqual(failing(r), ['C39'], explain(r));
    assert.match(r.results[0].reason, /Redfish-Service-Validator: \d+ pass, \d+ warn, [1-9]\d* fail/);
    assert.ok(r.validators?.some((v) => v.name === 'Redfish-Protocol-Validator'));
  });
});
