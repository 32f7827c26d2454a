// What goes along the player's timeline: thumbnails of the loaded range, the
// audio's waveform under them, the clip's in and out on both, and, on the holes bar,
// the video drawn at least two pixels wide, time marks and a legend.
import { apiTime, formatUtc, SECOND } from "./times.js";
import { findHoles } from "./playlist.js";
import { showPicture } from "./picture_loader.js";

const THUMB_W = 96; // CSS pixels per thumbnail
const WAVE_H = 48;
const WAVE_MAX = 2 * 3600 * SECOND; // the longest range the restreamer draws a waveform of
// Steps between time marks, µs: the first giving at most one mark per MARK_PX is used.
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
  21600, 43200, 86400, 172800, 604800].map((s) => s * SECOND);
const MARK_PX = 90;
const q = encodeURIComponent;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Text for a mark: as much of the time as its step and the range need. */
export function markText(us, step, span) {
  const full = formatUtc(us, 0); // 2026-11-27T17:05:12
  const day = full.slice(5, 10);
  const clock = step < 60 * SECOND ? full.slice(11, 19) : full.slice(11, 16);
  return span > 20 * 3600 * SECOND ? `${day} ${clock}` : clock;
}

/** Mark times in [from, to): whole multiples of a step chosen for the width. */
export function markTimes(from, to, widthPx) {
  const span = to - from;
  const most = Math.max(1, Math.floor(widthPx / MARK_PX));
  const step = STEPS.find((s) => span / s <= most) ?? STEPS[STEPS.length - 1] * Math.ceil(span / most / STEPS[STEPS.length - 1]);
  const times = [];
  for (let t = Math.ceil(from / step) * step; t < to; t += step) times.push(t);
  return { step, times };
}

export function initTimeline({ state, player, bar, fail }) {
  const wrap = el("div", "timeline");
  const strip = el("div", "strip");
  const wave = el("div", "wave");
  const clip = el("div", "tl-clip");
  const head = el("div", "tl-head");
  const note = el("p", "tl-note");
  wrap.append(strip, wave, clip, head);
  const marks = el("div", "bar-marks");
  const legend = el("div", "bar-legend");
  for (const [cls, text] of [["video", "video"], ["hole", "missing"], ["clip", "clip (in to out)"]]) {
    const item = el("span", "", text);
    item.prepend(el("i", `key-${cls}`));
    legend.append(item);
  }
  bar.after(marks, legend, wrap, note);

  const pos = (us) => {
    const span = state.rangeEnd - state.rangeStart;
    return span > 0 ? Math.min(100, Math.max(0, ((us - state.rangeStart) / span) * 100)) : 0;
  };

  function drawVideo() {
    bar.querySelectorAll(".bar-video").forEach((n) => n.remove());
    const holes = findHoles(state.segments, state.rangeStart, state.rangeEnd);
    if (!holes.length) return; // the bar's own colour is video
    let from = state.rangeStart;
    for (const hole of [...holes, { start: state.rangeEnd, end: state.rangeEnd }]) {
      if (hole.start > from) {
        const run = el("div", "bar-video");
        run.style.left = `${pos(from)}%`;
        run.style.width = `max(2px, ${pos(hole.start) - pos(from)}%)`; // never an invisible sliver
        run.title = `video from ${formatUtc(from)} to ${formatUtc(hole.start)}`;
        bar.insertBefore(run, bar.querySelector(".bar-clip"));
      }
      from = hole.end;
    }
  }

  function drawMarks() {
    marks.replaceChildren();
    const { step, times } = markTimes(state.rangeStart, state.rangeEnd, bar.clientWidth || 600);
    const span = state.rangeEnd - state.rangeStart;
    for (const t of times) {
      const mark = el("span", "mark", markText(t, step, span));
      mark.style.left = `${pos(t)}%`;
      if (pos(t) < 4) mark.classList.add("first"); // kept inside the bar's ends
      if (pos(t) > 96) mark.classList.add("last");
      marks.append(mark);
    }
  }

  function drawStrip() {
    strip.replaceChildren();
    const count = Math.max(1, Math.floor((strip.clientWidth || 600) / THUMB_W));
    const span = state.rangeEnd - state.rangeStart;
    const holes = findHoles(state.segments, state.rangeStart, state.rangeEnd);
    for (let i = 0; i < count; i++) {
      const t = Math.round(state.rangeStart + ((i + 0.5) * span) / count);
      const cell = el("div", "thumb");
      cell.style.width = `${100 / count}%`;
      if (!holes.some((h) => t >= h.start && t < h.end)) {
        const img = el("img");
        img.decoding = "async";
        img.alt = "";
        img.title = `${formatUtc(t)} UTC`;
        showPicture(img, `/thumbnail/${q(state.channel)}/${q(state.quality)}.png?timestamp=${q(apiTime(t))}&width=${2 * THUMB_W}`,
          () => img.remove());
        cell.append(img);
        cell.addEventListener("click", () => player.seekStream(t));
      }
      strip.append(cell);
    }
  }

  function drawWave() {
    wave.replaceChildren();
    note.hidden = true;
    const span = state.rangeEnd - state.rangeStart;
    if (span > WAVE_MAX) {
      note.textContent = "waveform: load at most two hours to see the audio";
      note.hidden = false;
      return;
    }
    const width = Math.max(64, Math.min(4096, Math.round(wave.clientWidth || 600)));
    const img = el("img");
    img.alt = "audio waveform";
    showPicture(img, `/waveform/${q(state.channel)}/${q(state.quality)}.png?start=${q(apiTime(state.rangeStart))}` +
      `&end=${q(apiTime(state.rangeEnd))}&size=${width}x${WAVE_H}&color=7fb2ff`,
    () => { note.textContent = "no waveform for this range"; note.hidden = false; });
    wave.append(img);
  }

  function drawClip() {
    const { in: start, out: end } = state;
    clip.hidden = start === null || end === null || end <= start || state.rangeStart === null;
    if (!clip.hidden) {
      clip.style.left = `${pos(start)}%`;
      clip.style.width = `${pos(end) - pos(start)}%`;
    }
  }

  function drawHead() {
    const now = player.streamTime();
    head.hidden = now === null || state.rangeStart === null;
    if (!head.hidden) head.style.left = `${pos(now)}%`;
  }

  function drawAll() {
    if (state.rangeStart === null || state.rangeEnd <= state.rangeStart) return;
    try {
      drawVideo();
      drawMarks();
      drawStrip();
      drawWave();
      drawClip();
    } catch (err) {
      fail(err);
    }
  }

  wave.addEventListener("click", (e) => {
    const box = wave.getBoundingClientRect();
    player.seekStream(state.rangeStart + ((e.clientX - box.left) / box.width) * (state.rangeEnd - state.rangeStart));
  });
  document.addEventListener("rangechange", drawAll);
  document.addEventListener("clipchange", drawClip);
  player.addEventListener("frame", drawHead);
  let resized = null;
  window.addEventListener("resize", () => {
    clearTimeout(resized);
    resized = setTimeout(drawAll, 300);
  });
  return { drawAll };
}
