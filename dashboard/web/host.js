// Host: one host's story — its state and links, hardware, one merged timeline, the BMC, the console.
import { useEffect, useState } from 'preact/hooks';
import { stateColour, stateLabel } from './states.js';
import { html, store, useStore } from './store.js';

const fmtTime = (t) => {
  const d = new Date(t);
  return Number.isNaN(d.getTime())
    ? String(t)
    : d.toLocaleTimeString(undefined, { hour12: false }) + `.${String(d.getMilliseconds()).padStart(3, '0')}`;
};

async function load(ns, name) {
  const r = await fetch(`/api/hosts/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`);
  const body = await r.json();
  if (!r.ok) throw new Error(body.message ?? `HTTP ${r.status}`);
  return body;
}

function Links({ d }) {
  const l = d.links;
  if (!l.metal3Machine) return html`<p class="muted">Not claimed by a Metal3Machine.</p>`;
  return html`<dl class="kv" data-testid="links">
    <dt>Cluster</dt><dd><a href="#/clusters">${l.cluster || '—'}</a></dd>
    <dt>Metal3Machine</dt><dd>${l.metal3Machine}</dd>
    <dt>Machine</dt><dd>${l.machine || '—'}</dd>
    <dt>Node</dt><dd>${l.node || '—'}</dd>
  </dl>`;
}

function Hardware({ hw }) {
  if (!hw) return html`<p class="muted">No HardwareData (not inspected yet).</p>`;
  const cpu = hw.cpu ?? {};
  return html`<dl class="kv" data-testid="hardware">
      <dt>CPU</dt><dd>${cpu.count ?? '?'} × ${cpu.model ?? '?'} (${cpu.arch ?? ''})</dd>
      <dt>RAM</dt><dd>${hw.ramMebibytes ? `${(hw.ramMebibytes / 1024).toFixed(1)} GiB` : '?'}</dd>
      <dt>System</dt><dd>${hw.systemVendor?.manufacturer ?? ''} ${hw.systemVendor?.productName ?? ''} ${hw.systemVendor?.serialNumber ?? ''}</dd>
    </dl>
    <h3>Disks</h3>
    <table><tr><th>name</th><th>size</th><th>type</th><th>model</th></tr>
      ${(hw.storage ?? []).map((s) => html`<tr><td>${s.name}</td><td>${s.sizeBytes ? `${(s.sizeBytes / 1e9).toFixed(0)} GB` : ''}</td><td>${s.type ?? ''}</td><td>${s.model ?? ''}</td></tr>`)}
    </table>
    <h3>NICs</h3>
    <table><tr><th>name</th><th>MAC</th><th>IP</th><th>speed</th></tr>
      ${(hw.nics ?? []).map((n) => html`<tr><td>${n.name}</td><td>${n.mac}</td><td>${n.ip ?? ''}</td><td>${n.speedGbps ? `${n.speedGbps} Gb/s` : ''}</td></tr>`)}
    </table>`;
}

function Actions({ d, ns, name, reload }) {
  const [msg, setMsg] = useState('');
  const [image, setImage] = useState('');
  const [checksum, setChecksum] = useState('');
  if (!d.actions)
    return html`<p class="muted">Read-only: start <code>ferrite dashboard --allow-actions</code> to act on hosts from here.</p>`;
  const run = async (a) => {
    const body = a === 'provision' ? { image: { url: image, ...(checksum ? { checksum, checksumType: 'sha256' } : {}) } } : {};
    const r = await fetch(`/api/hosts/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/actions/${a}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Ferrite-Dashboard': '1' },
      body: JSON.stringify(body),
    });
    const j = await r.json();
    setMsg(r.ok ? `sent: ${j.kubectl}` : `refused: ${j.message}`);
    reload();
  };
  return html`<div data-testid="actions">
    ${d.actions.map(
      (a) => html`<div><button class="action" data-action=${a.name} onClick=${() => run(a.name)}>${a.name}</button>
        <code class="cmd">${a.kubectl}</code></div>`,
    )}
    <label>provision: image URL <input data-testid="image-url" value=${image} onInput=${(e) => setImage(e.target.value)} size="40" /></label>
    <label> sha256 checksum (value or URL) <input data-testid="image-checksum" value=${checksum} onInput=${(e) => setChecksum(e.target.value)} size="30" /></label>
    <p data-testid="action-result">${msg}</p>
  </div>`;
}

export function HostView({ ns, name }) {
  const s = useStore();
  const key = `${ns}/${name}`;
  const [d, setD] = useState(null);
  const [err, setErr] = useState('');
  const reload = () =>
    load(ns, name).then(
      (x) => {
        setD(x);
        setErr('');
      },
      (e) => setErr(e.message),
    );
  useEffect(() => {
    setD(null);
    store.timelineTouched.delete(key);
    reload();
  }, [key]);
  // the feed says this host changed: read its story again (at most once a second)
  useEffect(() => {
    if (!store.timelineTouched.has(key)) return;
    const t = setTimeout(() => {
      store.timelineTouched.delete(key);
      reload();
    }, 1000);
    return () => clearTimeout(t);
  });
  const x = s.hosts.get(key) ?? d?.summary;
  if (err && !d) return html`<div class="card bad" data-testid="host-error">${err}</div>`;
  if (!d || !x) return html`<p class="loading">Loading ${key}…</p>`;
  return html`
    <div class="card" data-testid="host">
      <h2><span class="state-dot" style=${`background:${stateColour(x.state)}`}></span>${key}
        <span class="badge" data-testid="host-state">${stateLabel(x.state)}</span>
        ${x.errorType ? html` <span class="badge bad">${x.errorType}</span>` : null}</h2>
      ${x.errorMessage ? html`<p class="bad">${x.errorMessage}</p>` : null}
      <dl class="kv">
        <dt>Power</dt><dd>${x.poweredOn ? 'on' : 'off'} (spec.online: ${String(x.online)})</dd>
        <dt>Operational status</dt><dd>${x.operationalStatus}</dd>
        <dt>Ironic</dt><dd>${d.ironic ? `${d.ironic.provisionState} · power ${d.ironic.powerState ?? '?'}${d.ironic.maintenance ? ' · maintenance' : ''} · ${d.ironic.uuid}` : '—'}</dd>
        <dt>BMC</dt><dd>${d.host.spec?.bmc?.address ?? ''}</dd>
        <dt>Boot MAC</dt><dd>${x.bootMAC}</dd>
        <dt>Image</dt><dd>${x.image || '—'}</dd>
        <dt>Consumer</dt><dd>${x.consumer || '—'}</dd>
      </dl>
    </div>
    <div class="cols">
      <div class="card"><h3>Links</h3><${Links} d=${d} /></div>
      <div class="card"><h3>BMC</h3>
        ${
          d.bmc
            ? html`<dl class="kv" data-testid="bmc">
              <dt>Power</dt><dd>${d.bmc.power}</dd>
              <dt>Boot override</dt><dd>${d.bmc.boot.target} (${d.bmc.boot.enabled}, ${d.bmc.boot.mode})</dd>
              ${d.bmc.virtualMedia.map((v) => html`<dt>Virtual media ${v.id}</dt><dd>${v.inserted ? v.image : 'empty'}</dd>`)}
              <dt>Read from</dt><dd class="muted">${d.bmc.source}</dd></dl>`
            : html`<p class="muted">${d.bmcError}</p>`
        }
      </div>
      <div class="card"><h3>Actions</h3><${Actions} d=${d} ns=${ns} name=${name} reload=${reload} /></div>
    </div>
    <div class="card"><h3>Timeline</h3>
      <p class="muted">host: state changes the dashboard saw · operation: the host's operationHistory · event: Kubernetes Events ·
        ironic: provision/power states from Ironic's node list · history: Ironic's node history · bmc: the BMC's event log</p>
      ${d.ironicHistoryError ? html`<p class="muted">Ironic history: ${d.ironicHistoryError}</p>` : null}
      <table data-testid="timeline"><tr><th>time</th><th>source</th><th>what</th></tr>
        ${d.timeline.map(
          (e) => html`<tr class=${e.severity ? `sev-${e.severity}` : ''} data-source=${e.source}>
            <td>${fmtTime(e.at)}</td><td><span class=${`badge src-${e.source}`}>${e.source}</span></td><td>${e.what}</td></tr>`,
        )}
      </table>
    </div>
    <div class="card"><h3>Hardware</h3><${Hardware} hw=${d.hardware} /></div>
    ${d.bmc?.console?.length ? html`<div class="card"><h3>Serial console (tail)</h3><pre class="console" data-testid="console">${d.bmc.console.join('\n')}</pre></div>` : null}`;
}
