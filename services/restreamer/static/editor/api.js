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

async function reason(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === "string") return body.error;
  } catch {
    // not JSON: the restreamer's text errors are one line already
  }
  return text.trim().split("\n")[0] || response.statusText;
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
    const error = new Error(`${await reason(response)} (HTTP ${response.status})`);
    error.status = response.status;
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

/** POST a JSON body to the events API with the editor's token. */
export async function post(path, body) {
  const token = getToken();
  if (!token) {
    throw new Error("enter your editor token (top right) first: changes need it");
  }
  const response = await request(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
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
  edit: (id, body) => post(`/api/events/${q(id)}/edit`, body),
  cancel: (id) => post(`/api/events/${q(id)}/cancel`),
  reset: (id) => post(`/api/events/${q(id)}/reset`),
};
