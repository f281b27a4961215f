// The report in its four forms: a terminal table (live), JSON, JUnit XML for CI systems, and one
// self-contained HTML file a person can read offline.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult, Exchange, Report, Verdict } from './types.js';

const MARK: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', warn: 'WARN', skipped: 'SKIP' };

/** One terminal line per check, as results arrive. */
export function terminalLine(r: CheckResult, color: boolean): string {
  const c = color ? { pass: '\x1b[32m', fail: '\x1b[31m', warn: '\x1b[33m', skipped: '\x1b[90m' }[r.verdict] : '';
  const reset = color ? '\x1b[0m' : '';
  return `${r.id}  ${r.name.padEnd(20)} ${c}${MARK[r.verdict]}${reset}  ${r.reason}`;
}

export function terminalSummary(rep: Report): string {
  const s = rep.summary;
  const lines = [
    `${rep.results.length} checks (${rep.profile}): ${s.pass} passed, ${s.fail} failed, ${s.warn} warned, ${s.skipped} skipped`,
  ];
  if (rep.restored?.length) lines.push(`restored: ${rep.restored.join('; ')}`);
  if (rep.interrupted) lines.push('the run was interrupted');
  return lines.join('\n');
}

const xml = (s: string) =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);

export function junit(rep: Report): string {
  const cases = rep.results.map((r) => {
    const head = `  <testcase classname="conformance.${xml(rep.profile)}" name="${xml(`${r.id} ${r.name}`)}" time="${(r.durationMs / 1000).toFixed(3)}">`;
    const out = `    <system-out>${xml(`${r.reason}\nwhy: ${r.why}\nprotects: ${r.protects}\n${r.evidence.notes.join('\n')}`)}</system-out>`;
    if (r.verdict === 'fail')
      return `${head}\n    <failure message="${xml(r.reason)}">${xml(r.workaround ?? '')}</failure>\n${out}\n  </testcase>`;
    if (r.verdict === 'skipped') return `${head}\n    <skipped message="${xml(r.reason)}"/>\n  </testcase>`;
    return `${head}\n${out}\n  </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${xml(`ferrite conformance ${rep.target}`)}" tests="${rep.results.length}" failures="${rep.summary.fail}" skipped="${rep.summary.skipped}" timestamp="${rep.startedAt}">\n${cases.join('\n')}\n</testsuite>\n`;
}

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);

function exchangeHtml(x: Exchange): string {
  const body = (b: unknown) => (b === undefined ? '' : esc(typeof b === 'string' ? b : JSON.stringify(b, null, 2)).slice(0, 20_000));
  const headers = (h: Record<string, string>) =>
    Object.entries(h)
      .map(([k, v]) => `${esc(k)}: ${esc(v)}`)
      .join('\n');
  return `<details class="x"><summary><code>${esc(x.method)} ${esc(x.url)}</code> → <b>${x.status ?? esc(x.error ?? 'no answer')}</b> <span class="ms">${x.ms} ms</span></summary>
<pre>${headers(x.requestHeaders)}${x.requestBody !== undefined ? `\n\n${body(x.requestBody)}` : ''}</pre>
<pre>${headers(x.responseHeaders)}${x.responseBody !== undefined ? `\n\n${body(x.responseBody)}` : ''}</pre></details>`;
}

export function html(rep: Report): string {
  const s = rep.summary;
  const rows = rep.results
    .map(
      (
        r,
      ) => `<tr class="${r.verdict}" id="${esc(r.id)}"><td>${esc(r.id)}</td><td>${esc(r.name)}${r.disruptive ? ' <span class="tag">disruptive</span>' : ''}</td>
<td><span class="v ${r.verdict}">${MARK[r.verdict]}</span></td><td>${esc(r.reason)}</td></tr>
<tr class="detail"><td></td><td colspan="3"><p><b>Why it matters:</b> ${esc(r.why)}</p><p><b>Protects:</b> ${esc(r.protects)}</p>${
        r.workaround ? `<p><b>Workaround:</b> ${esc(r.workaround)}</p>` : ''
      }${r.evidence.notes.length ? `<pre class="notes">${esc(r.evidence.notes.join('\n'))}</pre>` : ''}${
        r.evidence.exchanges.length
          ? `<details><summary>${r.evidence.exchanges.length} request(s)</summary>${r.evidence.exchanges.map(exchangeHtml).join('\n')}</details>`
          : ''
      }</td></tr>`,
    )
    .join('\n');
  const failed = rep.results.filter((r) => r.verdict === 'fail');
  const validators = (rep.validators ?? [])
    .map((v) => `<li>${esc(v.name)}: ${v.pass} pass, ${v.warn} warn, ${v.fail} fail, ${v.notTested} not tested</li>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>BMC conformance: ${esc(rep.target)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#1d1d1f;padding:0 1em}
h1{font-size:1.5em;margin-bottom:.2em} .meta{color:#555}
.cards{display:flex;gap:1em;margin:1em 0}.card{padding:.6em 1.2em;border-radius:8px;background:#f3f3f5;font-size:1.2em}
.card b{display:block;font-size:1.6em}
table{border-collapse:collapse;width:100%}td{padding:.35em .5em;vertical-align:top;border-top:1px solid #e5e5ea}
tr.detail td{border-top:none;font-size:.92em;color:#333;padding-bottom:.9em}
.v{font-weight:600;padding:.1em .5em;border-radius:4px;color:#fff}.v.pass{background:#2e7d32}.v.fail{background:#c62828}.v.warn{background:#ef6c00}.v.skipped{background:#888}
.tag{font-size:.75em;background:#e3e3ea;padding:0 .4em;border-radius:3px}
pre{background:#f7f7f9;padding:.5em;overflow:auto;max-height:24em;white-space:pre-wrap}
.ms{color:#777} ul.failed li{margin:.3em 0}
</style></head><body>
<h1>BMC conformance report</h1>
<p class="meta">${esc(rep.target)} · profile <b>${esc(rep.profile)}</b> · ${esc(rep.startedAt)} → ${esc(rep.finishedAt)} · ${rep.disruptive ? 'disruptive checks included' : 'read-only run'}${rep.interrupted ? ' · <b>interrupted</b>' : ''}</p>
<div class="cards"><div class="card"><b>${s.pass}</b>passed</div><div class="card"><b>${s.fail}</b>failed</div><div class="card"><b>${s.warn}</b>warnings</div><div class="card"><b>${s.skipped}</b>skipped</div></div>
${
  failed.length
    ? `<h2>What will break</h2><ul class="failed">${failed
        .map(
          (r) =>
            `<li><a href="#${esc(r.id)}">${esc(r.id)} ${esc(r.name)}</a>: ${esc(r.reason)} — <i>${esc(r.protects)}</i>${r.workaround ? `. Workaround: ${esc(r.workaround)}` : ''}</li>`,
        )
        .join('')}</ul>`
    : '<h2>Nothing that provisioning relies on failed</h2>'
}
${validators ? `<h2>DMTF validators</h2><ul>${validators}</ul>` : ''}
${rep.restored?.length ? `<p class="meta">Restored after the run: ${esc(rep.restored.join('; '))}</p>` : ''}
<h2>Checks</h2>
<table>${rows}</table>
</body></html>
`;
}

/** Writes report.json, report.junit.xml and report.html into dir; returns their paths. */
export function writeReports(rep: Report, dir: string): { json: string; junit: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const out = { json: join(dir, 'conformance.json'), junit: join(dir, 'conformance.junit.xml'), html: join(dir, 'conformance.html') };
  writeFileSync(out.json, `${JSON.stringify(rep, null, 2)}\n`);
  writeFileSync(out.junit, junit(rep));
  writeFileSync(out.html, html(rep));
  return out;
}
