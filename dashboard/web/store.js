// The page's one store: what the live feed said, and the hook that re-renders on change.
import htm from 'htm';
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export const html = htm.bind(h);

/** Everything the feed has said, and who wants to hear about changes. */
export const store = {
  hosts: new Map(),
  clusters: new Map(),
  status: { kinds: [], ironicError: null, actions: false },
  connected: false,
  version: 0,
  timelineTouched: new Set(),
  listeners: new Set(),
  changed() {
    this.version++;
    for (const l of this.listeners) l(this.version);
  },
};

/** Re-renders the calling component when the store changes (at most once per animation frame). */
export function useStore() {
  const [, set] = useState(0);
  const rendered = store.version;
  useEffect(() => {
    let pending = false;
    const l = (v) => {
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        set(v);
      });
    };
    store.listeners.add(l);
    // effects run after paint: a snapshot that arrived between the first render and now told no one
    if (store.version !== rendered) l(store.version);
    return () => store.listeners.delete(l);
  }, []);
  return store;
}
