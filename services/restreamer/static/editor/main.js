// The editor page: pick a range of the archive, find the frames, send the clip.
// Wires the range form, the player (player.js) with its sound, speed and fullscreen,
// the holes bar, the keyboard map (keys.js), links and downloads; the events panel is
// events.js. Every failure ends up in the message line.
import { archive, getText, getToken, setToken } from "./api.js";
import { cutUrl, download, frameUrl } from "./downloads.js";
import { initEvents } from "./events.js";
import { SHORTCUTS, keyAction } from "./keys.js";
import { pageQuery, parsePageQuery } from "./links.js";
import { Player } from "./player.js";
import { findHoles, parseMediaPlaylist } from "./playlist.js";
import { loadPrefs, savePref } from "./prefs.js";
import { defaultQuality } from "./quality.js";
import { initRanges } from "./ranges.js";
import { initThumbnailForm } from "./thumbnail_form.js";
import { RATES, doubled, faster, slower } from "./speed.js";
import {
  SECOND, formatAgo, formatDuration, formatElapsed, formatIn, formatUtc, parseIn, parseUtc,
} from "./times.js";

const $ = (id) => document.getElementById(id);
const DEFAULT_SPAN = 10 * 60 * SECOND; // the last ten minutes, when nothing else is asked for

const state = {
  channel: "", quality: "",
  streamStart: null, // µs: when the stream began (its first segment), for stream times
  rangeStart: null, rangeEnd: null, // µs: what the player has loaded
  segments: [],
  in: null, out: null, // µs: the clip
};

const player = new Player($("video"));
let ranges = null; // the clip's ranges (ranges.js), once started
let panel = null; // the events panel (events.js), once started
window.fastsegEditor = { state, player }; // for a person debugging in the console

// -- messages --------------------------------------------------------------------------

export function showMessage(text, error = false) {
  const box = $("message");
  box.textContent = text;
  box.classList.toggle("error", error);
  box.hidden = false;
}

function fail(err) {
  showMessage(err instanceof Error ? err.message : String(err), true);
}

window.addEventListener("unhandledrejection", (e) => fail(e.reason));
player.addEventListener("error", (e) => fail(e.detail));

// -- times in the chosen base ----------------------------------------------------------

function timebase() {
  return $("timebase").value;
}

function nowUs() {
  return Date.now() * 1000;
}

function toText(us) {
  if (us === null) return "";
  return formatIn(timebase(), us, { streamStart: state.streamStart, now: nowUs() });
}

function fromText(text, what) {
  try {
    return parseIn(timebase(), text, { streamStart: state.streamStart, now: nowUs() });
  } catch (err) {
    throw new Error(`${what}: ${err.message}`);
  }
}

function showTimes() {
  $("range-start").value = toText(state.rangeStart);
  $("range-end").value = toText(state.rangeEnd);
  $("in").value = toText(state.in);
  $("out").value = toText(state.out);
  $("stream-start").value = state.streamStart === null ? "" : formatUtc(state.streamStart, 3);
  document.querySelector(".streamstart").hidden = timebase() !== "stream";
  showClip();
}

// -- the archive: channels, qualities, what exists -------------------------------------

function segmentTime(hour, name) {
  // NAME is MM:SS.ffffff-DURATION-TYPE-ID.ts inside the HOUR directory (docs/DESIGN.md#segment-names).
  const [when, duration] = name.split("-");
  const start = parseUtc(`${hour}:${when}`);
  return { start, end: start + Math.round(parseFloat(duration) * SECOND) };
}

/** The first segment's start and the last one's end, of the chosen channel and quality. */
async function extent() {
  const hours = await archive.hours(state.channel, state.quality);
  if (!hours.length) return null;
  const firstNames = await archive.segments(state.channel, state.quality, hours[0]);
  const lastNames = hours.length === 1 ? firstNames
    : await archive.segments(state.channel, state.quality, hours[hours.length - 1]);
  const visible = (names) => names.filter((n) => n.endsWith(".ts") && !n.includes("-temp-"));
  const first = visible(firstNames)[0];
  const last = visible(lastNames).at(-1);
  if (!first || !last) return null;
  return {
    start: segmentTime(hours[0], first).start,
    end: segmentTime(hours[hours.length - 1], last).end,
  };
}

function fillSelect(select, values, wanted) {
  select.replaceChildren(...values.map((v) => new Option(v, v)));
  select.value = values.includes(wanted) ? wanted : values[0] ?? "";
  return select.value;
}

async function chooseChannel(wanted, wantedQuality) {
  state.channel = fillSelect($("channel"), await archive.channels(), wanted);
  if (!state.channel) throw new Error("the archive is empty: nothing to edit yet");
  const qualities = await archive.qualities(state.channel);
  const quality = qualities.includes(wantedQuality) ? wantedQuality : await defaultQuality(state.channel, qualities);
  state.quality = fillSelect($("quality"), qualities, quality);
  const found = await extent();
  state.streamStart = found ? found.start : null;
  return found;
}

// -- loading a range -------------------------------------------------------------------

let loads = 0; // counts loadRange calls, so a slow one cannot replace a newer one

async function loadRange() {
  const { channel, quality, rangeStart, rangeEnd } = state;
  if (rangeStart === null || rangeEnd === null) throw new Error("give a range to load");
  if (rangeEnd <= rangeStart) throw new Error("the range's end is not after its start");
  const url = archive.playlistUrl(channel, quality, formatUtc(rangeStart, 6), formatUtc(rangeEnd, 6));
  const seq = ++loads;
  const { segments } = parseMediaPlaylist(await getText(url));
  if (seq !== loads) return; // another range was asked for meanwhile: it wins
  state.segments = segments;
  drawBar();
  if (!segments.length) {
    player.destroy();
    throw new Error(`no video of ${channel}/${quality} from ${formatUtc(rangeStart)} to ${formatUtc(rangeEnd)}`);
  }
  player.load(url, segments);
  const params = new URLSearchParams(location.search);
  params.set("channel", channel);
  params.set("quality", quality);
  params.set("start", formatUtc(rangeStart, 3));
  params.set("end", formatUtc(rangeEnd, 3));
  history.replaceState(null, "", `?${params}`);
}

/** Load [start, end) of channel/quality (the events panel calls this for an event). */
export async function showRange(channel, quality, start, end) {
  if (channel && (channel !== state.channel || (quality && quality !== state.quality))) {
    await chooseChannel(channel, quality);
  }
  state.rangeStart = start;
  state.rangeEnd = end;
  showTimes();
  await loadRange();
}

// -- the bar under the player ----------------------------------------------------------

function barPosition(us) {
  const span = state.rangeEnd - state.rangeStart;
  return span > 0 ? Math.min(100, Math.max(0, ((us - state.rangeStart) / span) * 100)) : 0;
}

function drawBar() {
  const bar = $("bar");
  bar.querySelectorAll(".bar-hole").forEach((el) => el.remove());
  if (state.rangeStart === null) return;
  for (const hole of findHoles(state.segments, state.rangeStart, state.rangeEnd)) {
    const el = document.createElement("div");
    el.className = "bar-hole";
    el.style.left = `${barPosition(hole.start)}%`;
    el.style.width = `${barPosition(hole.end) - barPosition(hole.start)}%`;
    el.title = `no video from ${formatUtc(hole.start)} to ${formatUtc(hole.end)}`;
    bar.insertBefore(el, $("bar-clip"));
  }
  showClip();
  document.dispatchEvent(new Event("rangechange")); // pictures.js redraws the timeline
}

function showClip() {
  const clip = $("bar-clip");
  const { in: start, out: end } = state;
  clip.hidden = start === null || end === null || end <= start || state.rangeStart === null;
  if (!clip.hidden) {
    clip.style.left = `${barPosition(start)}%`;
    clip.style.width = `${barPosition(end) - barPosition(start)}%`;
  }
  let duration = "-";
  if (start !== null && end !== null) {
    duration = end > start ? formatDuration(end - start) : "out is not after in";
  }
  $("duration").value = duration;
  document.dispatchEvent(new Event("clipchange"));
}

function showNow() {
  const now = player.streamTime();
  $("now-utc").textContent = now === null ? "-" : `${formatUtc(now, 3)} UTC`;
  let second = "";
  if (now !== null && timebase() === "ago") second = formatAgo(now, nowUs());
  else if (now !== null && state.streamStart !== null) second = `stream ${formatElapsed(now - state.streamStart)}`;
  $("now-stream").textContent = second;
  if (now !== null && state.rangeStart !== null) $("bar-head").style.left = `${barPosition(now)}%`;
}

player.addEventListener("frame", showNow);

// -- in, out and the keys --------------------------------------------------------------

function setPoint(which) {
  const now = player.streamTime();
  if (now === null) throw new Error("load some video first: there is no frame to take the time of");
  state[which] = now;
  showTimes();
}

/** Set the clip (an event's earlier edit), and show its first frame. */
function setClip(start, end) {
  state.in = start;
  state.out = end;
  showTimes();
}

export function clip() {
  return { channel: state.channel, quality: state.quality, start: state.in, end: state.out };
}

/** The loaded range's [start, end) (µs), or an Error saying to load one. */
function loaded() {
  if (state.rangeStart === null || !state.segments.length) {
    throw new Error("load some video first: there is nothing to seek in");
  }
  return [state.rangeStart, state.rangeEnd];
}

// -- sound, speed, fullscreen ----------------------------------------------------------

const video = $("video");
const prefs = loadPrefs(localStorage);

function setRate(rate) {
  player.setRate(rate);
  $("speed").value = String(rate);
  $("rate-shown").textContent = `${rate}x`;
  savePref(localStorage, "rate", rate);
}

function showSound() {
  $("mute").textContent = video.muted ? "unmute" : "mute";
  $("mute").setAttribute("aria-pressed", String(video.muted));
  $("volume").value = String(video.volume);
}

$("speed").replaceChildren(...RATES.map((r) => new Option(`${r}x`, String(r))));
video.muted = prefs.muted;
video.volume = prefs.volume;
setRate(prefs.rate);
showSound();
video.addEventListener("volumechange", () => {
  showSound();
  savePref(localStorage, "volume", video.volume);
  if (!player.autoMuted) savePref(localStorage, "muted", video.muted);
});
$("volume").addEventListener("input", () => {
  video.volume = Number($("volume").value);
  if (video.volume > 0) video.muted = false; // moving the slider means: I want to hear it
});
$("speed").addEventListener("change", () => setRate(Number($("speed").value)));

function toggleFullscreen() {
  if (document.fullscreenElement) return document.exitFullscreen();
  return $("player").requestFullscreen();
}

function showShortcuts() {
  const dialog = $("shortcuts");
  if (dialog.open) return;
  $("shortcut-list").replaceChildren(...SHORTCUTS.map(([keys, what]) => {
    const row = document.createElement("tr");
    const th = document.createElement("th");
    th.textContent = keys;
    const td = document.createElement("td");
    td.textContent = what;
    row.append(th, td);
    return row;
  }));
  dialog.showModal();
}

// -- the keys --------------------------------------------------------------------------

const actions = {
  toggle: () => player.togglePlay(),
  seekBy: (seconds) => player.seekBy(seconds),
  seekFraction: (fraction) => player.seekFraction(fraction, ...loaded()),
  frame: (n) => player.stepFrames(n),
  mute: () => { video.muted = !video.muted; },
  faster: () => setRate(faster(video.playbackRate)),
  slower: () => setRate(slower(video.playbackRate)),
  doubled: () => setRate(doubled(video.playbackRate)),
  slowest: () => setRate(RATES[0]),
  normal: () => setRate(1),
  setStart: () => setPoint("in"),
  setEnd: () => setPoint("out"),
  previousRange: () => ranges?.selectBy(-1),
  nextRange: () => ranges?.selectBy(1),
  help: () => showShortcuts(),
};

document.addEventListener("keydown", (e) => {
  if (document.querySelector("dialog[open]")) return; // a dialog has the keys
  const found = keyAction(e);
  if (!found) return;
  e.preventDefault(); // space would scroll the page or press a focused button, Backspace go back
  try {
    actions[found.action](found.arg);
  } catch (err) {
    fail(err);
  }
});

function button(id, fn) {
  $(id).addEventListener("click", (e) => {
    // A button clicked with the mouse gives up the focus, or the space key meant for the
    // player would press it again on key-up; one reached by keyboard keeps it.
    if (e.detail > 0) e.currentTarget.blur();
    try {
      const result = fn();
      if (result instanceof Promise) result.catch(fail);
    } catch (err) {
      fail(err);
    }
  });
}

button("back5", () => actions.seekBy(-10));
button("prev-frame", () => actions.frame(-1));
button("play", actions.toggle);
button("next-frame", () => actions.frame(1));
button("fwd5", () => actions.seekBy(10));
button("set-in", actions.setStart);
button("set-out", actions.setEnd);
button("preview", () => {
  if (state.in === null || state.out === null || state.out <= state.in) {
    throw new Error("set start and end first ([ and ]), the end after the start");
  }
  player.preview(state.in, state.out);
});
button("mute", actions.mute);
button("fullscreen", toggleFullscreen);
button("help", showShortcuts);
button("copy-link", copyLink);
button("dl-rough", () => downloadCut("rough"));
button("dl-fast", () => downloadCut("fast"));
button("dl-frame", downloadFrame);

// -- links and downloads ---------------------------------------------------------------

/** The address that reopens this page as it is: channel, quality, range, clip, event. */
export function pageLink() {
  const clipRanges = (ranges?.list() ?? []).filter((r) => r.start !== null && r.end !== null);
  const query = pageQuery({
    channel: state.channel,
    quality: state.quality,
    start: state.rangeStart === null ? null : formatUtc(state.rangeStart, 3),
    end: state.rangeEnd === null ? null : formatUtc(state.rangeEnd, 3),
    ranges: clipRanges.map((r) => [formatUtc(r.start, 6), formatUtc(r.end, 6)]),
    event: panel?.openId() ?? null,
  });
  return `${location.origin}${location.pathname}?${query}`;
}

async function copyLink() {
  const link = pageLink();
  try {
    await navigator.clipboard.writeText(link);
    showMessage(`link copied: ${link}`);
  } catch {
    showMessage(`copy this link: ${link}`); // no clipboard here (permissions): show it
  }
}

function clipName(ext) {
  return `${state.channel}-${state.quality}-${formatUtc(state.in ?? player.streamTime() ?? 0, 0).replaceAll(":", "-")}.${ext}`;
}

async function downloadCut(type) {
  const all = (ranges?.list() ?? []).filter((r) => r.start !== null && r.end !== null && r.end > r.start);
  let chosen = all;
  let transitions = ranges?.transitions() ?? [];
  if (type === "rough" || all.length < 2) {
    // A rough cut takes one range: the selected one.
    if (state.in === null || state.out === null || state.out <= state.in) {
      throw new Error("set the range's start and end first ([ and ]), the end after the start");
    }
    chosen = [{ start: state.in, end: state.out }];
    transitions = [];
  }
  showMessage(`cutting a ${type} cut…`);
  const bytes = await download(cutUrl(state.channel, state.quality, chosen, transitions, type), clipName("ts"));
  showMessage(`downloaded a ${type} cut (${(bytes / 1e6).toFixed(1)} MB)`);
}

async function downloadFrame() {
  const now = player.streamTime();
  if (now === null) throw new Error("load some video first: there is no frame to download");
  await download(frameUrl(state.channel, state.quality, now), clipName("png"));
  showMessage(`downloaded the frame at ${formatUtc(now, 3)} UTC`);
}

for (const [id, key, what] of [["in", "in", "In"], ["out", "out", "Out"]]) {
  $(id).addEventListener("change", () => {
    try {
      state[key] = $(id).value.trim() ? fromText($(id).value, what) : null;
      showTimes();
      if (state[key] !== null) player.seekStream(state[key]);
    } catch (err) {
      fail(err);
    }
  });
}

$("bar").addEventListener("click", (e) => {
  if (state.rangeStart === null) return;
  const box = $("bar").getBoundingClientRect();
  const fraction = (e.clientX - box.left) / box.width;
  player.seekStream(state.rangeStart + fraction * (state.rangeEnd - state.rangeStart));
});

// -- the range form --------------------------------------------------------------------

$("range").addEventListener("submit", (e) => {
  e.preventDefault();
  try {
    state.rangeStart = fromText($("range-start").value, "From");
    state.rangeEnd = fromText($("range-end").value, "To");
  } catch (err) {
    fail(err);
    return;
  }
  $("message").hidden = true;
  loadRange().catch(fail);
});

$("timebase").addEventListener("change", () => {
  savePref(localStorage, "timebase", timebase());
  showTimes();
  showNow();
});

$("stream-start").addEventListener("change", () => {
  try {
    state.streamStart = parseUtc($("stream-start").value);
    showTimes();
    showNow();
  } catch (err) {
    fail(new Error(`Stream began: ${err.message}`));
  }
});

$("channel").addEventListener("change", () => {
  chooseChannel($("channel").value, state.quality).then(showTimes).catch(fail);
});
$("quality").addEventListener("change", () => {
  state.quality = $("quality").value;
  loadRange().catch(fail);
});

$("token").value = getToken();
$("token").addEventListener("change", () => setToken($("token").value.trim()));
$("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setToken($("token").value.trim());
});

// -- start -----------------------------------------------------------------------------

async function start() {
  const params = parsePageQuery(location.search);
  $("timebase").value = prefs.timebase;
  const found = await chooseChannel(params.channel, params.quality);
  ranges = initRanges({ fail, clip, setClip, toText, player });
  const thumbnails = initThumbnailForm({ state, player, fail });
  panel = initEvents({ showMessage, fail, showRange, clip, setClip, toText, ranges, player, thumbnails });
  Object.assign(window.fastsegEditor, { ranges, panel });
  if (params.start && params.end) {
    state.rangeStart = parseUtc(params.start);
    state.rangeEnd = parseUtc(params.end);
  } else if (found) {
    state.rangeEnd = found.end;
    state.rangeStart = Math.max(found.start, found.end - DEFAULT_SPAN);
  }
  showTimes();
  if (state.rangeStart !== null) await loadRange();
  if (params.event) await panel.open(params.event, params.ranges.length > 0);
  if (params.ranges.length) {
    const utc = (text) => parseUtc(text.replace(/Z$/, ""));
    ranges.load({ video_ranges: params.ranges }, (t) => (t ? utc(t) : null));
  }
}

start().catch(fail);
