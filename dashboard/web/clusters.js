// Clusters: each Cluster with its control plane and MachineDeployments, and every
// Machine → Metal3Machine → BareMetalHost → Node with phases and conditions, live.
import { stateColour, stateLabel } from './states.js';
import { html, useStore } from './store.js';

const ready = (a, b) => `${a ?? 0}/${b ?? 0}`;
const condText = (cs) =>
  cs
    .filter((c) => c.status !== 'True' && c.type !== 'Paused' && c.type !== 'Deleting')
    .map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? `: ${c.message}` : ''}`)
    .join('\n');
const hostLink = (key) => {
  const [ns, name] = key.split('/');
  return `#/host/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
};

function Machines({ c }) {
  return html`<table data-testid="machines">
    <tr><th>Machine</th><th>role</th><th>phase</th><th>version</th><th>Metal3Machine</th><th>BareMetalHost</th><th>Node</th><th>not true</th></tr>
    ${c.machines.map(
      (m) => html`<tr data-machine=${m.name} data-phase=${m.phase} data-host=${m.host} data-node=${m.node} data-node-ready=${m.nodeReady}>
        <td>${m.name}</td>
        <td>${m.controlPlane ? 'control plane' : m.deployment || m.machineSet || ''}</td>
        <td>${m.phase}</td><td>${m.version}</td><td>${m.metal3Machine}</td>
        <td>${m.host ? html`<a href=${hostLink(m.host)}><span class="state-dot" style=${`background:${stateColour(m.hostState)}`}></span>${m.host}</a> <span class="muted">${stateLabel(m.hostState)}</span>` : '—'}</td>
        <td>${m.node ? html`${m.node} <span class=${m.nodeReady === 'True' ? 'ok' : 'bad'}>${m.nodeReady === 'True' ? 'Ready' : `Ready=${m.nodeReady || '?'}`}</span>` : '—'}</td>
        <td class="muted" style="white-space:pre-line">${condText(m.conditions)}</td>
      </tr>`,
    )}
  </table>`;
}

export function ClustersView() {
  const s = useStore();
  const clusters = [...s.clusters.values()];
  if (!clusters.length)
    return html`<p class="muted" data-testid="no-clusters">No Cluster objects${s.connected ? '' : ' (not connected)'}.</p>`;
  return html`<div data-testid="clusters">
    ${clusters.map(
      (c) => html`<div class="card" data-cluster=${c.key}>
        <h2>${c.key} <span class="badge">${c.phase || 'no phase'}</span>
          ${c.topologyClass ? html` <span class="badge">class ${c.topologyClass} ${c.version}</span>` : null}</h2>
        ${condText(c.conditions) ? html`<p class="muted" style="white-space:pre-line">${condText(c.conditions)}</p>` : null}
        <table>
          <tr><th>part</th><th>name</th><th>replicas (ready/desired)</th><th>up to date</th><th>version / phase</th></tr>
          ${
            c.controlPlane
              ? html`<tr data-testid="control-plane"><td>${c.controlPlane.kind}</td><td>${c.controlPlane.name}</td>
                <td>${ready(c.controlPlane.ready, c.controlPlane.replicas)}</td><td>${c.controlPlane.upToDate ?? ''}</td><td>${c.controlPlane.version}</td></tr>`
              : null
          }
          ${c.deployments.map(
            (d) => html`<tr data-deployment=${d.name} data-replicas=${d.replicas ?? ''} data-ready=${d.ready ?? 0}>
                <td>MachineDeployment</td><td>${d.name}</td><td>${ready(d.ready, d.replicas)}</td><td>${d.upToDate ?? ''}</td><td>${d.phase}</td></tr>
              ${d.machineSets.map(
                (ms) =>
                  html`<tr class="muted"><td>  MachineSet</td><td>${ms.name}</td><td>${ready(ms.ready, ms.replicas)}</td><td></td><td></td></tr>`,
              )}`,
          )}
        </table>
        <h3>Machines</h3>
        <${Machines} c=${c} />
      </div>`,
    )}
  </div>`;
}
