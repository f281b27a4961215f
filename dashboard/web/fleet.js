// Fleet: every host as one cell, coloured by its BareMetalHost state, with filters and counts.
import { useEffect, useState } from 'preact/hooks';
import { STATES, stateColour, stateLabel } from './states.js';
import { html, useStore } from './store.js';

// kept across views: coming back from a host finds the same filters
const kept = { ns: '', state: null, cluster: '', bmc: '', q: '' };

const unique = (xs) => [...new Set(xs)].filter(Boolean).sort();

function matches(x, f) {
  if (f.ns && x.namespace !== f.ns) return false;
  if (f.state !== null && x.state !== f.state && !(f.state === 'error' && x.errorType)) return false;
  if (f.cluster && x.cluster !== f.cluster) return false;
  if (f.bmc && x.bmc !== f.bmc) return false;
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!x.name.toLowerCase().includes(q) && !x.bootMAC.includes(q.replace(/-/g, ':'))) return false;
  }
  return true;
}

function tip(x) {
  return [
    `${x.namespace}/${x.name}`,
    `state: ${stateLabel(x.state)}`,
    x.errorType && `error: ${x.errorType}: ${x.errorMessage}`,
    `power: ${x.poweredOn ? 'on' : 'off'} (online: ${x.online})`,
    x.ironic && `ironic: ${x.ironic.provisionState}${x.ironic.maintenance ? ', maintenance' : ''}`,
    x.consumer && `consumer: ${x.consumer}`,
    x.cluster && `cluster: ${x.cluster}`,
    `bmc: ${x.bmc} · ${x.bootMAC}`,
    x.paused && 'paused',
  ]
    .filter(Boolean)
    .join('\n');
}

const select = (label, value, options, on, id) => html`
  <label>${label} <select data-testid=${id} value=${value} onChange=${(e) => on(e.target.value)}>
    <option value="">all</option>
    ${options.map((o) => html`<option value=${o}>${o}</option>`)}
  </select></label>`;

export function FleetView() {
  const s = useStore();
  const [f, setF] = useState({ ...kept });
  const set = (patch) => {
    Object.assign(kept, patch);
    setF({ ...kept });
  };
  const all = [...s.hosts.values()].sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
  const shown = all.filter((x) => matches(x, f));
  // counts are of the hosts the other filters leave, so a state chip says how many it would show
  const base = all.filter((x) => matches(x, { ...f, state: null }));
  const counts = new Map();
  for (const x of base) counts.set(x.state, (counts.get(x.state) ?? 0) + 1);
  const errors = base.filter((x) => x.errorType).length;
  const order = [...STATES.map(([st]) => st), ...[...counts.keys()].filter((k) => !STATES.some(([st]) => st === k))];

  useEffect(() => {
    if (s.connected && !window.__ferrite?.firstRender) window.__ferrite = { firstRender: performance.now(), hosts: s.hosts.size };
  });

  return html`
    <div class="toolbar">
      ${select('namespace', f.ns, unique(all.map((x) => x.namespace)), (v) => set({ ns: v }), 'filter-namespace')}
      ${select('cluster', f.cluster, unique(all.map((x) => x.cluster)), (v) => set({ cluster: v }), 'filter-cluster')}
      ${select('BMC', f.bmc, unique(all.map((x) => x.bmc)), (v) => set({ bmc: v }), 'filter-bmc')}
      <input type="search" placeholder="name or MAC" data-testid="search" value=${f.q} onInput=${(e) => set({ q: e.target.value })} />
      <span class="muted" data-testid="shown-count">${shown.length} of ${all.length} hosts</span>
    </div>
    <div class="counts" data-testid="counts">
      ${order
        .filter((st) => counts.get(st))
        .map(
          (st) => html`<button class=${`chip ${f.state === st ? 'on' : ''}`} data-state=${st} data-count=${counts.get(st)}
            onClick=${() => set({ state: f.state === st ? null : st })}>
            <i style=${`background:${stateColour(st)}`}></i>${stateLabel(st)} <b>${counts.get(st)}</b></button>`,
        )}
      ${
        errors
          ? html`<button class=${`chip ${f.state === 'error' ? 'on' : ''}`} data-state="error" data-count=${errors}
            onClick=${() => set({ state: f.state === 'error' ? null : 'error' })}><i style="background:var(--err)"></i>error <b>${errors}</b></button>`
          : null
      }
    </div>
    <div class="grid" data-testid="grid">
      ${shown.map(
        (x) => html`<button key=${x.key} data-host=${x.key} data-state=${x.state}
          class=${`cell${x.errorType ? ' err' : ''}${x.poweredOn ? ' on' : ''}${x.ironic?.maintenance ? ' maint' : ''}${x.consumer ? ' claimed' : ''}${x.paused ? ' paused' : ''}`}
          style=${`background:${x.errorType ? 'var(--err)' : stateColour(x.state)}`} title=${tip(x)}
          onClick=${() => {
            location.hash = `#/host/${encodeURIComponent(x.namespace)}/${encodeURIComponent(x.name)}`;
          }}></button>`,
      )}
    </div>
    <p class="legend">Colour: BareMetalHost state · red with “!”: errorType set · dot: powered on · dark edge: claimed by a consumer ·
      hatched: Ironic maintenance · faded: paused. Hover a cell for details, click it for the host's story.</p>`;
}
