// The console's client of the skyfence API. The API key lives in
// sessionStorage: it is gone when the tab closes, and every call sends it.
const KEY = 'skyfence.key';

export const session = {
  get key() { return sessionStorage.getItem(KEY) || ''; },
  set key(v) { if (v) sessionStorage.setItem(KEY, v); else sessionStorage.removeItem(KEY); },
};

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'internal';
    this.field = e.field || '';
  }
}

// api calls the API as the logged-in key and returns the decoded JSON.
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${session.key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

// feed follows GET /v1/events (server-sent events, read with fetch so
// that the key goes in a header) and calls on(event, data) for each event;
// it reconnects after a pause when the stream ends. stop() ends it.
export function feed(on) {
  let ctrl = null;
  let stopped = false;
  const run = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch('/v1/events', { headers: { Authorization: `Bearer ${session.key}`, Accept: 'text/event-stream' }, signal: ctrl.signal });
        if (!res.ok) throw new APIError(res.status, await res.json().catch(() => null));
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let event = 'message', data = '';
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) on(event, JSON.parse(data));
          }
        }
      } catch (err) {
        if (stopped) return;
        if (err instanceof APIError && (err.status === 401 || err.status === 403)) {
          on('error', err);
          return;
        }
      }
      on('disconnected', null);
      await new Promise((r) => setTimeout(r, 3000));
    }
  };
  run();
  return { stop() { stopped = true; if (ctrl) ctrl.abort(); } };
}
