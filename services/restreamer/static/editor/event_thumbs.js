// The events list shows each event's first frame: its edited clip's start, or the
// sheet's start time before anyone edited it, from the event's channel and quality
// (or the page's). The list itself is events.js's; this module watches it and adds a
// lazy thumbnail to every row that lacks one.
import { events } from "./api.js";
import { apiTime, parseUtc } from "./times.js";

const WIDTH = 64;
const q = encodeURIComponent;

function us(text) {
  return text ? parseUtc(text.replace(/Z$/, "")) : null;
}

export function initEventThumbs({ list, state }) {
  let pending = null;

  async function decorate() {
    const rows = new Map((await events.list("")).map((row) => [String(row.id), row]));
    for (const li of list.querySelectorAll("li[data-id]")) {
      if (li.querySelector("img.ev-thumb")) continue;
      const row = rows.get(li.dataset.id);
      const when = us(row?.video_start) ?? us(row?.event_start);
      const channel = row?.video_channel || state.channel;
      const quality = row?.video_quality || state.quality;
      if (when === null || !channel || !quality) continue;
      const img = document.createElement("img");
      img.className = "ev-thumb";
      img.loading = "lazy";
      img.alt = "";
      img.width = WIDTH;
      img.src = `/thumbnail/${q(channel)}/${q(quality)}.png?timestamp=${q(apiTime(when))}&width=${2 * WIDTH}`;
      img.addEventListener("error", () => img.classList.add("missing"), { once: true });
      li.prepend(img);
      li.classList.add("with-thumb");
    }
  }

  new MutationObserver(() => {
    clearTimeout(pending);
    pending = setTimeout(() => decorate().catch(() => {}), 50); // thumbnails are extras: no errors
  }).observe(list, { childList: true });
}
