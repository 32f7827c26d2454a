// The artists' page (/editor/templates): upload a template's artwork, drag the crop of
// a sample frame and its placement in the artwork, preview the thumbnail it makes
// (POST /thumbnail with the artwork), and save it (POST or PUT /api/templates).
import { getJson, getToken, request, setToken } from "./api.js";
import { boxEditor } from "./box_editor.js";
import { fitBox, formatBox, parseBox } from "./boxes.js";
import { apiTime, parseUtc } from "./times.js";

const $ = (id) => document.getElementById(id);
const q = encodeURIComponent;

let artwork = null; // the artwork's bytes (Uint8Array), once chosen or loaded
let editing = null; // the name of the template being replaced, or null for a new one
let previewUrl = null;

function showMessage(text, error = false) {
  $("message").textContent = text;
  $("message").classList.toggle("error", error);
  $("message").hidden = false;
}
const fail = (err) => showMessage(err instanceof Error ? err.message : String(err), true);
window.addEventListener("unhandledrejection", (e) => fail(e.reason));

const crop = boxEditor($("tpl-frame"), $("tpl-crop-box"), (box) => { $("tpl-crop").value = formatBox(box); });
const place = boxEditor($("tpl-art"), $("tpl-location-box"), (box) => { $("tpl-location").value = formatBox(box); });

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

function showArtwork() {
  $("tpl-art").src = artwork ? `data:image/png;base64,${base64(artwork)}` : "";
}

/** Default boxes once both pictures are known: the whole frame, into the middle half. */
function defaultBoxes() {
  const frame = $("tpl-frame"), art = $("tpl-art");
  if (!$("tpl-crop").value && frame.naturalWidth) $("tpl-crop").value = formatBox([0, 0, frame.naturalWidth, frame.naturalHeight]);
  if (!$("tpl-location").value && art.naturalWidth) {
    const [w, h] = [art.naturalWidth, art.naturalHeight];
    $("tpl-location").value = formatBox(fitBox([w / 4, h / 4, (3 * w) / 4, (3 * h) / 4], w, h));
  }
  showBoxes();
}

function showBoxes() {
  try {
    crop.set($("tpl-crop").value ? parseBox($("tpl-crop").value, "crop") : null);
    place.set($("tpl-location").value ? parseBox($("tpl-location").value, "placement") : null);
  } catch (err) {
    fail(err);
  }
}

function frameQuery() {
  const channel = $("tpl-channel").value.trim();
  const text = $("tpl-time").value.trim();
  if (!channel || !text) throw new Error("give the sample frame's channel and time first");
  return `/${q(channel)}/${q($("tpl-quality").value.trim() || "source")}.png?timestamp=${q(apiTime(parseUtc(text.replace(/Z$/, ""))))}`;
}

async function refreshList() {
  const list = $("template-list");
  list.replaceChildren();
  for (const t of await getJson("/api/templates")) {
    const li = document.createElement("li");
    li.dataset.name = t.name;
    li.textContent = t.attribution ? `${t.name} (by ${t.attribution})` : t.name;
    li.addEventListener("click", () => open(t).catch(fail));
    list.append(li);
  }
}

async function open(t) {
  editing = t.name;
  $("tpl-heading").textContent = `Template ${t.name}`;
  $("tpl-name").value = t.name;
  $("tpl-name").readOnly = true;
  $("tpl-description").value = t.description;
  $("tpl-attribution").value = t.attribution;
  $("tpl-crop").value = formatBox(t.crop);
  $("tpl-location").value = formatBox(t.location);
  artwork = new Uint8Array(await (await request(t.image)).arrayBuffer());
  showArtwork();
  showBoxes();
}

function body() {
  if (!artwork) throw new Error("choose the artwork's PNG first");
  return {
    name: $("tpl-name").value.trim(),
    image: base64(artwork),
    description: $("tpl-description").value,
    attribution: $("tpl-attribution").value,
    crop: parseBox($("tpl-crop").value, "crop"),
    location: parseBox($("tpl-location").value, "placement"),
  };
}

$("token").value = getToken();
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken($("token").value.trim());
});
$("token").addEventListener("change", () => setToken($("token").value.trim()));
$("tpl-new").addEventListener("click", () => {
  editing = null;
  artwork = null;
  $("tpl-form").reset();
  $("tpl-name").readOnly = false;
  $("tpl-heading").textContent = "New template";
  showArtwork();
  showBoxes();
});
$("tpl-image").addEventListener("change", async () => {
  const file = $("tpl-image").files[0];
  if (!file) return;
  artwork = new Uint8Array(await file.arrayBuffer());
  $("tpl-location").value = "";
  showArtwork();
});
$("tpl-art").addEventListener("load", defaultBoxes);
$("tpl-frame").addEventListener("load", defaultBoxes);
$("tpl-crop").addEventListener("change", showBoxes);
$("tpl-location").addEventListener("change", showBoxes);
$("tpl-load-frame").addEventListener("click", () => {
  try {
    $("tpl-frame").src = `/frame${frameQuery()}`;
  } catch (err) {
    fail(err);
  }
});
$("tpl-preview-button").addEventListener("click", async () => {
  try {
    const { crop: c, location: l } = body();
    const url = `/thumbnail${frameQuery()}&crop=${c.join(",")}&location=${l.join(",")}`;
    const response = await request(url, { method: "POST", headers: { "Content-Type": "image/png" }, body: artwork });
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(await response.blob());
    $("tpl-preview").src = previewUrl;
    $("tpl-preview").hidden = false;
  } catch (err) {
    fail(err);
  }
});
$("tpl-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const data = body();
    const token = getToken();
    if (!token) throw new Error("enter your artist token (top right) first");
    const path = editing ? `/api/templates/${q(editing)}` : "/api/templates";
    await request(path, {
      method: editing ? "PUT" : "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body: JSON.stringify(data),
    });
    editing = data.name;
    $("tpl-name").readOnly = true;
    $("tpl-heading").textContent = `Template ${data.name}`;
    showMessage(`template "${data.name}" saved: editors can pick it now`);
    await refreshList();
  } catch (err) {
    fail(err);
  }
});

refreshList().catch(fail);
