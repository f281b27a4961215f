// The page: one live feed (server-sent events) into one store, and four views chosen by the URL hash.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ClustersView } from './clusters.js';
import { FleetView } from './fleet.js';
import { HostView } from './host.js';
import { RunsView } from './runs.js';
import { html, store, useStore } from './store.js';

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('snapshot', (m) => {
    const s = JSON.parse(m.data);
    store.hosts = new Map(s.hosts.map((x) => [x.key, x]));
    store.clusters = new Map(s.clusters.map((c) => [c.key, c]));
    store.status = s.status;
    store.connected = true;
    store.changed();
  });
  es.addEventListener('hosts', (m) => {
    const d = JSON.parse(m.data);
    for (const x of d.upsert) store.hosts.set(x.key, x);
    for (const k of d.remove) store.hosts.delete(k);
    for (const x of d.upsert) store.timelineTouched.add(x.key);
    store.changed();
  });
  es.addEventListener('timeline', (m) => {
    for (const k of JSON.parse(m.data).hosts) store.timelineTouched.add(k);
    store.changed();
  });
  es.addEventListener('clusters', (m) => {
    const d = JSON.parse(m.data);
    for (const c of d.upsert) store.clusters.set(c.key, c);
    for (const k of d.remove) store.clusters.delete(k);
    store.changed();
  });
  es.addEventListener('status', (m) => {
    store.status = JSON.parse(m.data);
    store.changed();
  });
  // EventSource reconnects by itself; a new snapshot replaces everything when it does
  es.onerror = () => {
    store.connected = false;
    store.changed();
  };
}

function useRoute() {
  const [route, set] = useState(location.hash.slice(1) || '/fleet');
  useEffect(() => {
    const on = () => set(location.hash.slice(1) || '/fleet');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function StatusBar() {
  const s = useStore();
  const problems = s.status.kinds.filter((k) => k.error).map((k) => `${k.kind} (${k.apiVersion}): ${k.error}`);
  if (s.status.ironicError) problems.push(s.status.ironicError);
  if (!problems.length) return null;
  return html`<div class="status-bar" data-testid="status-bar">${problems.map((p) => html`<div>${p}</div>`)}</div>`;
}

function App() {
  const route = useRoute();
  const s = useStore();
  const [, view, ...rest] = route.split('/');
  const tab = (id, label) => html`<a href=${`#/${id}`} class=${view === id ? 'active' : ''}>${label}</a>`;
  let body;
  if (view === 'host' && rest.length >= 2)
    body = html`<${HostView} ns=${decodeURIComponent(rest[0])} name=${decodeURIComponent(rest[1])} />`;
  else if (view === 'clusters') body = html`<${ClustersView} />`;
  else if (view === 'runs') body = html`<${RunsView} dir=${rest[0]} file=${rest[1] && decodeURIComponent(rest[1])} />`;
  else body = html`<${FleetView} />`;
  return html`
    <header>
      <h1>Ferrite</h1>
      ${tab('fleet', 'Fleet')} ${tab('clusters', 'Clusters')} ${tab('runs', 'Runs')}
      <span class=${`conn ${s.connected ? '' : 'down'}`} data-testid="connection">
        ${s.connected ? `live · ${s.hosts.size} hosts${s.status.actions ? ' · actions allowed' : ' · read-only'}` : 'reconnecting…'}
      </span>
    </header>
    <main><${StatusBar} />${body}</main>`;
}

connect();
const root = document.getElementById('app');
root.textContent = '';
render(html`<${App} />`, root);
