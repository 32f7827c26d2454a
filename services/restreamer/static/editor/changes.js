// Following changes to events as the server sends them (GET /api/events/stream, one
// EventSource): each new version of an event arrives with its row, within a few tens of
// milliseconds of the database. The stream needs no token, as GET /api/events needs none.
// If it cannot be had (an older restreamer, a refused stream, a proxy that buffers), the
// page polls as before: `live()` says which.

/** Parse one `change` message's data; null if it is not a change of an event. */
export function parseChange(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data.id !== "string" || typeof data.state !== "string") return null;
  return { id: data.id, state: data.state, version: data.version, event: data.event ?? null };
}

/**
 * Follow the stream: `onChange(change)` for every change, `onResync()` when the stream
 * (re)opens or says changes may have been missed. Returns `{ live, close }`.
 */
export function followChanges(onChange, onResync, url = "/api/events/stream") {
  if (typeof EventSource === "undefined") return { live: () => false, close() {} };
  let open = false;
  const source = new EventSource(url);
  source.addEventListener("open", () => {
    open = true;
    onResync();
  });
  source.addEventListener("error", () => {
    // CONNECTING: the browser retries by itself (after the server's retry:); CLOSED: a
    // refusal (429, 503, 404) it will not retry: polling it is, for this page's life.
    open = false;
  });
  source.addEventListener("resync", () => onResync());
  source.addEventListener("change", (message) => {
    const change = parseChange(message.data);
    if (change) onChange(change);
  });
  return { live: () => open && source.readyState === EventSource.OPEN, close: () => source.close() };
}
