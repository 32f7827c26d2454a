// The events list shows each event's first frame: its edited clip's start, or the
// sheet's start time before anyone edited it, from the event's channel and quality
// (or the page's). The list itself is events.js's; this module watches it and adds a
// thumbnail to every row that lacks one, loaded once the row is in view.
import { events } from "./api.js";
import { apiTime, parseUtc } from "./times.js";
import { showPicture } from "./picture_loader.js";

const WIDTH = 64;
const q = encodeURIComponent;

function us(text) {
  return text ? parseUtc(text.replace(/Z$/, "")) : null;
}

export function initEventThumbs({ list, state }) {
  let pending = null;
  // A thumbnail is asked for once its row scrolls into view (each may cost an ffmpeg).
  const seen = new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      const img = entry.target;
      seen.unobserve(img);
      showPicture(img, img.dataset.src, () => img.classList.add("missing"));
    }
  });

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
      img.alt = "";
      img.width = WIDTH;
      img.dataset.src = `/thumbnail/${q(channel)}/${q(quality)}.png?timestamp=${q(apiTime(when))}&width=${2 * WIDTH}`;
      li.prepend(img);
      seen.observe(img);
      li.classList.add("with-thumb");
    }
  }

  new MutationObserver(() => {
    clearTimeout(pending);
    pending = setTimeout(() => decorate().catch(() => {}), 50); // thumbnails are extras: no errors
  }).observe(list, { childList: true });
}
