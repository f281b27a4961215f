// Runs: scenario, benchmark and conformance reports from the folders the dashboard was given; a
// running scenario's report is re-read every few seconds while it is open.
import { useEffect, useState } from 'preact/hooks';
import { html } from './store.js';

const secs = (ms) => (ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`);

async function getJson(url) {
  const r = await fetch(url);
  const j = await r.json();
  if (!r.ok) throw new Error(j.message ?? `HTTP ${r.status}`);
  return j;
}

function Scenario({ r }) {
  return html`<div data-testid="scenario-report">
    <p>Status <b data-testid="run-status">${r.status}</b> · started ${r.startedAt} · ${secs(r.durationMs)} · setup ${secs(r.setup?.durationMs)}
      ${r.setup?.error ? html`<span class="bad"> · setup failed: ${r.setup.error}</span>` : null}</p>
    <table><tr><th>#</th><th>step</th><th>kind</th><th>status</th><th>started</th><th>took</th><th>timeline / error</th></tr>
      ${r.steps.map(
        (s) => html`<tr data-step=${s.index} class=${s.status === 'failed' ? 'sev-error' : ''}>
          <td>${s.index + 1}</td><td>${s.name}</td><td>${s.kind}</td><td>${s.status}</td><td>${secs(s.startedAt)}</td><td>${secs(s.durationMs)}</td>
          <td><details><summary>${s.error ?? `${s.timeline.length} events`}</summary>
            ${s.timeline.map((e) => html`<div>+${secs(e.at)} ${e.what}</div>`)}</details></td></tr>`,
      )}
    </table>
    ${r.chaos?.length ? html`<h3>Faults injected</h3>${r.chaos.map((c) => html`<div>+${secs(c.at)} step ${c.step + 1}: ${c.what}</div>`)}` : null}
    <h3>Expectations</h3>
    <table>${r.expectations.map((e) => html`<tr><td>${e.status}</td><td>${e.description}</td><td class="bad">${e.error ?? ''}</td></tr>`)}</table>
  </div>`;
}

/** Any JSON, as nested tables: benchmarks each have their own shape. */
function Json({ v, depth = 0 }) {
  if (v === null || typeof v !== 'object') return html`<span>${String(v)}</span>`;
  if (depth > 6) return html`<code>${JSON.stringify(v).slice(0, 200)}</code>`;
  if (Array.isArray(v)) {
    const rows = v.slice(0, 500);
    const flat = rows.length && rows.every((x) => x && typeof x === 'object' && !Array.isArray(x));
    if (flat) {
      const cols = [...new Set(rows.flatMap((x) => Object.keys(x)))].slice(0, 20);
      return html`<table><tr>${cols.map((c) => html`<th>${c}</th>`)}</tr>
        ${rows.map((x) => html`<tr>${cols.map((c) => html`<td><${Json} v=${x[c] ?? ''} depth=${depth + 1} /></td>`)}</tr>`)}</table>`;
    }
    return html`<span>${rows.map((x) => html`<${Json} v=${x} depth=${depth + 1} /> `)}</span>`;
  }
  return html`<dl class="kv">${Object.entries(v).map(([k, x]) => html`<dt>${k}</dt><dd><${Json} v=${x} depth=${depth + 1} /></dd>`)}</dl>`;
}

export function RunsView({ dir, file }) {
  const [list, setList] = useState(null);
  const [rep, setRep] = useState(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    getJson('/api/runs').then(setList, (e) => setErr(e.message));
  }, [dir, file]);
  useEffect(() => {
    setRep(null);
    if (dir === undefined || !file) return;
    let stop = false;
    let timer;
    const read = () =>
      getJson(`/api/runs/${dir}/${encodeURIComponent(file)}`).then(
        (j) => {
          if (stop) return;
          setRep(j);
          setErr('');
          if (j.status === 'running') timer = setTimeout(read, 2000);
        },
        (e) => setErr(e.message),
      );
    read();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [dir, file]);
  return html`<div class="cols">
    <div class="card"><h3>Reports</h3>
      ${list ? html`<p class="muted">${list.dirs.join(' · ')}</p>` : null}
      ${err ? html`<p class="bad">${err}</p>` : null}
      <table data-testid="runs">${(list?.runs ?? []).map(
        (r) =>
          html`<tr><td>${r.kind}</td><td>${
            r.kind === 'html'
              ? html`<a href=${`/reports/${r.dir}/${encodeURIComponent(r.file)}`} target="_blank">${r.title}</a>`
              : html`<a href=${`#/runs/${r.dir}/${encodeURIComponent(r.file)}`}>${r.title}</a>`
          }</td><td>${r.status}</td><td class="muted">${new Date(r.modified).toLocaleString()}</td></tr>`,
      )}</table>
      ${list && !list.runs.length ? html`<p class="muted">No reports yet: run a scenario (<code>ferrite scenario run</code>) or a benchmark.</p>` : null}
    </div>
    ${
      rep
        ? html`<div class="card"><h3>${file}</h3>${Array.isArray(rep.steps) && rep.scenario ? html`<${Scenario} r=${rep} />` : html`<${Json} v=${rep} />`}</div>`
        : null
    }
  </div>`;
}
