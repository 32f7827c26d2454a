// The edit form's thumbnail (docs/DESIGN.md#thumbnails): the mode, the frame's time
// ("use current frame" takes the player's), a template with its crop of the frame and
// its placement (typed, or dragged over the frame and the artwork), a PNG of one's own,
// and a live preview from /thumbnail. events.js asks for body() when it sends an edit.
import { getJson } from "./api.js";
import { boxEditor } from "./box_editor.js";
import { formatBox, parseBox } from "./boxes.js";
import { showPicture } from "./picture_loader.js";
import { apiTime, formatUtc, parseUtc } from "./times.js";

const $ = (id) => document.getElementById(id);
const q = encodeURIComponent;
const PREVIEW_AFTER = 300; // ms of quiet typing before the preview is asked for again

/** base64 of a File's bytes (what the API takes for thumbnail_image). */
async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function initThumbnailForm({ state, player, fail }) {
  let templates = []; // GET /api/templates
  let image = null; // a CUSTOM thumbnail, base64
  let timer = null;

  const crop = boxEditor($("th-frame"), $("th-crop-box"), (box) => {
    $("th-crop").value = formatBox(box);
    changed();
  });
  const place = boxEditor($("th-art"), $("th-location-box"), (box) => {
    $("th-location").value = formatBox(box);
    changed();
  });

  function mode() {
    return $("th-mode").value;
  }

  function time() {
    const text = $("th-time").value.trim();
    return text ? parseUtc(text.replace(/Z$/, "")) : null;
  }

  function template() {
    return templates.find((t) => t.name === $("th-template").value) ?? null;
  }

  function showMode() {
    const m = mode();
    document.querySelectorAll("#ev-thumb .th-time").forEach((e) => { e.hidden = !["BARE", "TEMPLATE"].includes(m); });
    document.querySelectorAll("#ev-thumb .th-template").forEach((e) => { e.hidden = m !== "TEMPLATE"; });
    document.querySelectorAll("#ev-thumb .th-custom").forEach((e) => { e.hidden = m !== "CUSTOM"; });
    $("th-preview").hidden = m === "NONE";
  }

  async function loadTemplates() {
    templates = await getJson("/api/templates");
    const select = $("th-template");
    const chosen = select.value;
    select.replaceChildren(new Option("(pick one)", ""));
    for (const t of templates) select.append(new Option(t.attribution ? `${t.name} (by ${t.attribution})` : t.name, t.name));
    select.value = templates.some((t) => t.name === chosen) ? chosen : "";
  }

  /** The boxes as typed; an Error naming the field if one is not a box. */
  function boxes() {
    const typed = (id, name) => ($(id).value.trim() ? parseBox($(id).value, name) : null);
    return { crop: typed("th-crop", "thumbnail crop"), location: typed("th-location", "thumbnail placement") };
  }

  function previewUrl() {
    const when = time();
    if (when === null || !state.channel) return null;
    const base = `/${q(state.channel)}/${q(state.quality)}.png?timestamp=${q(apiTime(when))}`;
    if (mode() === "BARE") return `/frame${base}`;
    if (mode() !== "TEMPLATE" || !template()) return null;
    const { crop: c, location: l } = boxes();
    let url = `/thumbnail${base}&template=${q(template().name)}`;
    if (c) url += `&crop=${c.join(",")}`;
    if (l) url += `&location=${l.join(",")}`;
    return url;
  }

  function preview() {
    try {
      if (mode() === "CUSTOM") {
        $("th-preview").src = image ? `data:image/png;base64,${image}` : "";
        return;
      }
      // through the page's picture loader: the strip and the waveform take ffmpeg jobs too
      const when = time();
      if (when !== null && state.channel && mode() === "TEMPLATE") {
        show($("th-frame"), `/frame/${q(state.channel)}/${q(state.quality)}.png?timestamp=${q(apiTime(when))}`);
      }
      const url = previewUrl();
      if (url) show($("th-preview"), url);
      crop.set(boxes().crop);
      place.set(boxes().location);
    } catch (err) {
      fail(err);
    }
  }

  function changed() {
    showMode();
    clearTimeout(timer);
    timer = setTimeout(preview, PREVIEW_AFTER);
    $("ev-thumb").dispatchEvent(new Event("input", { bubbles: true })); // the form is changed
  }

  $("th-mode").addEventListener("change", changed);
  $("th-time").addEventListener("change", changed);
  $("th-crop").addEventListener("change", changed);
  $("th-location").addEventListener("change", changed);
  $("th-template").addEventListener("change", () => {
    const t = template();
    if (t) {
      $("th-crop").value = formatBox(t.crop);
      $("th-location").value = formatBox(t.location);
      $("th-art").src = t.image;
    }
    changed();
  });
  $("th-now").addEventListener("click", () => {
    const now = player.streamTime();
    if (now === null) {
      fail(new Error("load some video first: there is no frame on screen"));
      return;
    }
    // The middle of the frame on screen: the player's time for it is its start, rounded
    // down to the millisecond, which /thumbnail (the frame shown at T) reads as the one before.
    $("th-time").value = formatUtc(now + Math.round((player.frameDuration * 1e6) / 2), 6);
    changed();
  });
  $("th-image").addEventListener("change", () => {
    const file = $("th-image").files[0];
    if (!file) return;
    base64Of(file).then((data) => {
      image = data;
      changed();
    }).catch(fail);
  });
  /** Show `url` in `img` (its address kept in data-url); a refusal says what to check. */
  function show(img, url) {
    if (img.dataset.url === url) return;
    img.dataset.url = url;
    showPicture(img, url, (err) => fail(new Error(`the thumbnail preview failed (${err.message}): check the time, template and boxes`)));
  }

  return {
    /** Fill the controls from an event's (or a draft's) fields. */
    load(fields) {
      $("th-mode").value = fields.thumbnail_mode ?? "NONE";
      $("th-time").value = fields.thumbnail_time ? formatUtc(parseUtc(fields.thumbnail_time.replace(/Z$/, "")), 6) : "";
      image = fields.thumbnail_image ?? null;
      $("th-image").value = "";
      loadTemplates().then(() => {
        $("th-template").value = fields.thumbnail_template ?? "";
        const t = template();
        if (t) $("th-art").src = t.image;
        $("th-crop").value = fields.thumbnail_crop ? formatBox(fields.thumbnail_crop) : t ? formatBox(t.crop) : "";
        $("th-location").value = fields.thumbnail_location ? formatBox(fields.thumbnail_location) : t ? formatBox(t.location) : "";
        showMode();
        preview();
      }).catch(fail);
      showMode();
    },
    /** The thumbnail's edit inputs; an Error says what the chosen mode still needs. */
    body() {
      const m = mode();
      const body = { thumbnail_mode: m };
      if (m === "NONE") return body;
      if (m === "CUSTOM") {
        if (!image) throw new Error("choose the PNG of your thumbnail, or another thumbnail mode");
        return { ...body, thumbnail_image: image };
      }
      const when = time();
      if (when === null) throw new Error("set the thumbnail's frame: pause on it and press 'use current frame'");
      body.thumbnail_time = apiTime(when);
      if (m === "BARE") return body;
      if (!template()) throw new Error("pick the thumbnail's template");
      const { crop: c, location: l } = boxes();
      return { ...body, thumbnail_template: template().name, thumbnail_crop: c, thumbnail_location: l };
    },
    /** Whatever the controls hold, for a draft (nothing is required; no thumbnail: nothing). */
    draft() {
      if (mode() === "NONE") return {};
      try {
        return this.body();
      } catch {
        return { thumbnail_mode: mode() };
      }
    },
  };
}
