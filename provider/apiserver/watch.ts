// Watch streams: newline-delimited JSON events, initial state or history replay, bookmarks,
// sendInitialEvents (WatchList) with the `k8s.io/initial-events-end` bookmark, selector-aware
// ADDED/DELETED transitions, and 410 Expired when a client resumes from a compacted version.
import type { ServerResponse } from 'node:http';
import type { ApiCore } from './core.js';
import { ApiError } from './errors.js';
import type { ResourceDef } from './registry.js';
import type { StoredObject, StoreEvent } from './store.js';

export interface WatchParams {
  resourceVersion?: string;
  resourceVersionMatch?: string;
  sendInitialEvents?: boolean;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  bookmarkIntervalMs?: number;
}

/** Encodes one event line; a promise when conversion needs I/O (a conversion webhook). */
export type Encoder = (type: string, obj: StoredObject) => string | Promise<string>;

export interface WatchSpec {
  core: ApiCore;
  def: ResourceDef;
  version: string;
  matches: (s: StoredObject) => boolean;
  encode: Encoder;
  params: WatchParams;
  res: ServerResponse;
  onClose: () => void;
}

const MAX_BUFFERED = 32 * 1024 * 1024;

export function bookmarkLine(def: ResourceDef, version: string, rv: number, initialEnd = false): string {
  const obj = {
    kind: def.kind,
    apiVersion: def.group ? `${def.group}/${version}` : version,
    metadata: {
      resourceVersion: String(rv),
      ...(initialEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}),
    },
  };
  return `{"type":"BOOKMARK","object":${JSON.stringify(obj)}}\n`;
}

export function validateWatchParams(p: WatchParams): void {
  if (p.sendInitialEvents !== undefined) {
    if (p.resourceVersionMatch !== 'NotOlderThan') {
      throw new ApiError(
        422,
        'Invalid',
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
        {
          causes: [
            {
              reason: 'FieldValueForbidden',
              field: 'resourceVersionMatch',
              message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
            },
          ],
        },
      );
    }
    // kube-apiserver 1.37 no longer requires allowWatchBookmarks with sendInitialEvents (the end
    // bookmark is sent only to clients that allow bookmarks)
  } else if (p.resourceVersionMatch) {
    throw new ApiError(
      422,
      'Invalid',
      `ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided`,
    );
  }
}

export function startWatch(w: WatchSpec): void {
  const { core, def, params, res } = w;
  const store = core.store;
  let closed = false;
  let lastRV = 0;

  const writeNow = (line: string) => {
    if (closed) return;
    res.write(line);
    if (res.writableLength > MAX_BUFFERED) close(); // a client that stopped reading is cut off
  };
  // lines that wait for a conversion keep their order: later lines queue behind them
  let pending: Promise<void> | undefined;
  const write = (line: string | Promise<string>) => {
    if (typeof line === 'string' && !pending) return writeNow(line);
    const p: Promise<void> = (pending ?? Promise.resolve())
      .then(() => line)
      .then(writeNow, (e: unknown) => {
        writeNow(errorLine(e instanceof ApiError ? e : new ApiError(500, 'InternalError', String(e))));
        close();
      })
      .finally(() => {
        if (pending === p) pending = undefined;
      });
    pending = p;
  };

  const emit = (ev: StoreEvent) => {
    if (ev.rv <= lastRV) return;
    lastRV = ev.rv;
    const now = w.matches(ev.obj);
    const before = ev.prev ? w.matches(ev.prev) : false;
    if (ev.type === 'DELETED') {
      if (now || before) write(w.encode('DELETED', ev.obj));
    } else if (ev.type === 'ADDED') {
      if (now) write(w.encode('ADDED', ev.obj));
    } else if (now && before) write(w.encode('MODIFIED', ev.obj));
    else if (now) write(w.encode('ADDED', ev.obj));
    else if (before) write(w.encode('DELETED', ev.obj)); // the object left the selector
  };

  // subscribing and sending the initial state or replay happen in one synchronous turn, so no
  // event can fall between them; emit() drops anything at or below what was already sent
  const unsubscribe = store.subscribe(def.storeId, emit);

  let bookmarkTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  const close = () => {
    if (closed) return;
    if (params.allowWatchBookmarks && !res.writableEnded) res.write(bookmarkLine(def, w.version, Math.max(lastRV, store.resourceVersion)));
    closed = true;
    unsubscribe();
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
    if (!res.writableEnded) res.end();
    w.onClose();
  };
  res.on('close', close);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  // clients consider the watch established only once headers arrive, not at the first event
  res.flushHeaders();

  const rvParam = params.resourceVersion ?? '';
  const initial = params.sendInitialEvents === true || (params.sendInitialEvents === undefined && (rvParam === '' || rvParam === '0'));
  if (initial) {
    for (const s of store.list(def.storeId)) if (w.matches(s)) write(w.encode('ADDED', s));
    lastRV = store.resourceVersion;
    if (params.sendInitialEvents && params.allowWatchBookmarks) write(bookmarkLine(def, w.version, lastRV, true));
  } else if (params.sendInitialEvents === false || rvParam !== '') {
    const since = Number(rvParam);
    if (!Number.isInteger(since) || since < 0) {
      write(errorLine(new ApiError(400, 'BadRequest', `invalid resource version "${rvParam}"`)));
      close();
      return;
    }
    const events = store.eventsSince(def.storeId, since);
    if (events === 'expired') {
      write(errorLine(new ApiError(410, 'Expired', `too old resource version: ${since} (${store.oldestResumableRV + 1})`)));
      close();
      return;
    }
    lastRV = since;
    for (const ev of events) emit(ev);
  }

  if (params.allowWatchBookmarks) {
    bookmarkTimer = setInterval(() => {
      lastRV = Math.max(lastRV, store.resourceVersion);
      write(bookmarkLine(def, w.version, lastRV));
    }, params.bookmarkIntervalMs ?? 60_000);
    bookmarkTimer.unref();
  }
  const timeout = params.timeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800);
  timeoutTimer = setTimeout(close, timeout * 1000);
  timeoutTimer.unref();
}

export function errorLine(e: ApiError): string {
  return `{"type":"ERROR","object":${JSON.stringify(e.toStatus())}}\n`;
}
