// Talking to the restreamer: the archive listings, playlists and the events API.
// Every failure becomes an Error whose message a person can read: the API's own
// one-line reason when it gave one, or what went wrong on the way.

const TOKEN_KEY = "fastseg-editor-token";

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

/** The answer's one-line reason, and its JSON body if it had one. */
async function reason(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return { text: body.error, body };
  } catch {
    // not JSON: the restreamer's text errors are one line already
  }
  return { text: text.trim().split("\n")[0] || response.statusText, body: null };
}

/** fetch, but a failed request or a non-2xx answer throws a readable Error. */
export async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new Error(`cannot reach the restreamer for ${path}: ${err.message}`);
  }
  if (!response.ok) {
    const why = await reason(response);
    const error = new Error(`${why.text} (HTTP ${response.status})`);
    error.status = response.status;
    error.body = why.body; // a 409's conflict, say
    error.retryAfter = response.headers.get("Retry-After");
    throw error;
  }
  return response;
}

export async function getJson(path) {
  return (await request(path)).json();
}

export async function getText(path) {
  return (await request(path)).text();
}

/**
 * POST a JSON body to the events API with the editor's token; with `version`, only if the
 * event is still that version (If-Match), else a 409 whose error.body.conflict says why.
 */
export async function post(path, body, version = null) {
  const token = getToken();
  if (!token) {
    throw new Error("enter your editor token (top right) first: changes need it");
  }
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${token}` };
  if (version !== null && version !== undefined) headers["If-Match"] = `"${version}"`;
  const response = await request(path, {
    method: "POST",
    headers,
    body: body === undefined ? "" : JSON.stringify(body),
  });
  return response.json();
}

const q = encodeURIComponent;

export const archive = {
  channels: () => getJson("/files"),
  qualities: (ch) => getJson(`/files/${q(ch)}`),
  hours: (ch, quality) => getJson(`/files/${q(ch)}/${q(quality)}`),
  segments: (ch, quality, hour) => getJson(`/files/${q(ch)}/${q(quality)}/${q(hour)}`),
  playlistUrl: (ch, quality, start, end) =>
    `/playlist/${q(ch)}/${q(quality)}.m3u8?start=${q(start)}&end=${q(end)}`,
};

export const events = {
  list: (state) => getJson(`/api/events${state ? `?state=${q(state)}` : ""}`),
  get: (id) => getJson(`/api/events/${q(id)}`),
  add: (body) => post("/api/events", body),
  // Each change takes the version it is based on (null: overwrite whatever is there).
  edit: (id, body, version) => post(`/api/events/${q(id)}/edit`, body, version),
  draft: (id, body, version) => post(`/api/events/${q(id)}/draft`, body, version),
  cancel: (id, _body, version) => post(`/api/events/${q(id)}/cancel`, undefined, version),
  reset: (id, body, version) => post(`/api/events/${q(id)}/reset`, body, version),
  manualUpload: (id, body, version) => post(`/api/events/${q(id)}/manual-upload`, body, version),
};
