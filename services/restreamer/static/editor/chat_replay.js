// The chat beside the video: which messages were on screen at a stream time, who
// deleted what by then, how a message reads as text (names, badges and emote names,
// no image fetched), and a clip's chat as a WebVTT subtitle track. Pure functions of
// chat.json's messages (times in Unix seconds) and stream times in µs.
import { SECOND } from "./times.js";

/** What people say or do; the rest (JOIN, PART, ROOMSTATE, ...) is not shown. */
export const SHOWN = new Set(["PRIVMSG", "USERNOTICE"]);
const CUE = 5 * SECOND; // how long a message stays on a subtitle track at most

const us = (m) => Math.round(m.time * 1e6);

/** Index of the last message with time <= t (µs) in time-sorted `messages`, or -1. */
export function lastAtOrBefore(messages, t) {
  let lo = 0;
  let hi = messages.length; // answer in [lo - 1, hi - 1]
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (us(messages[mid]) <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** The ids of messages deleted by time t: by CLEARMSG (one message), CLEARCHAT of a
 * user (their messages before it) or of everyone (every message before it). */
export function deletedBy(messages, t) {
  const gone = new Set();
  const end = lastAtOrBefore(messages, t);
  for (let i = 0; i <= end; i++) {
    const m = messages[i];
    if (m.command === "CLEARMSG" && m.tags && m.tags["target-msg-id"]) {
      gone.add(m.tags["target-msg-id"]);
    } else if (m.command === "CLEARCHAT") {
      const user = (m.params || [])[1];
      for (let j = 0; j < i; j++) {
        const earlier = messages[j];
        if (SHOWN.has(earlier.command) && (!user || earlier.sender === user)) {
          gone.add(idOf(earlier, j));
        }
      }
    }
  }
  return gone;
}

/** A message's id: Twitch's, or its place in the list for one without. */
export function idOf(m, index) {
  return (m.tags && m.tags.id) || `#${index}`;
}

/** The last `n` shown messages up to time t, each as {id, view, deleted}. */
export function shownAt(messages, t, n = 50) {
  const gone = deletedBy(messages, t);
  const out = [];
  for (let i = lastAtOrBefore(messages, t); i >= 0 && out.length < n; i--) {
    const m = messages[i];
    if (!SHOWN.has(m.command)) continue;
    const id = idOf(m, i);
    out.push({ id, view: view(m), deleted: gone.has(id) });
  }
  return out.reverse();
}

/** Twitch escapes tag values: "\s" space, "\:" semicolon, "\\" backslash. */
export function unescapeTag(value) {
  return String(value ?? "").replace(/\\(.)/g, (_, c) => ({ s: " ", ":": ";", n: "\n", r: "" }[c] ?? c));
}

/** A message as text: {name, badges, text, notice}. */
export function view(m) {
  const tags = m.tags || {};
  const name = unescapeTag(tags["display-name"]) || m.sender || "?";
  const badges = tags.badges ? String(tags.badges).split(",").map((b) => b.split("/")[0]).filter(Boolean) : [];
  const said = (m.params || []).length > 1 ? m.params[m.params.length - 1] : "";
  if (m.command === "USERNOTICE") {
    return { name, badges, text: said, notice: unescapeTag(tags["system-msg"]) };
  }
  return { name, badges, text: said, notice: "" };
}

function vttTime(offsetUs) {
  const ms = Math.max(0, Math.round(offsetUs / 1000));
  const h = String(Math.floor(ms / 3600000)).padStart(2, "0");
  const m = String(Math.floor(ms / 60000) % 60).padStart(2, "0");
  const s = String(Math.floor(ms / 1000) % 60).padStart(2, "0");
  return `${h}:${m}:${s}.${String(ms % 1000).padStart(3, "0")}`;
}

/** The shown messages in [start, end) as a WebVTT track timed from the clip's start:
 * each until the next one or CUE, whichever is sooner. */
export function toWebVTT(messages, start, end) {
  const lines = ["WEBVTT", ""];
  const kept = messages.filter((m) => SHOWN.has(m.command) && us(m) >= start && us(m) < end);
  kept.forEach((m, i) => {
    const at = us(m) - start;
    const next = i + 1 < kept.length ? us(kept[i + 1]) - start : end - start;
    const until = Math.min(next, at + CUE, end - start);
    const { name, text, notice } = view(m);
    const words = [notice, text].filter(Boolean).join(" ").replace(/-->/g, "→").replace(/\n/g, " ");
    lines.push(`${vttTime(at)} --> ${vttTime(Math.max(until, at + 1000))}`, `<v ${name.replace(/[<>]/g, "")}>${words.replace(/[<>&]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;" }[c]))}`, "");
  });
  return lines.join("\n");
}

/** The window of chat to load around t within the loaded range: chat.json answers at
 * most 2 h, so a longer range loads the 2 h around the playhead. */
export function chatWindow(rangeStart, rangeEnd, t, most = 2 * 3600 * SECOND) {
  if (rangeEnd - rangeStart <= most) return [rangeStart, rangeEnd];
  let from = Math.max(rangeStart, t - most / 2);
  const to = Math.min(rangeEnd, from + most);
  from = to - most;
  return [from, to];
}
