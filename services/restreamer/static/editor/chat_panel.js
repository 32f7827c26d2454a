// The chat beside the player: the messages on screen at the frame shown (any speed,
// any seek), deletions struck through, the chat rate of the loaded range with its
// moments (click one to seek there, or make an event of it), and a clip's chat to
// download as JSON or WebVTT. Reads main.js's state; logic in chat_replay.js.
import { events, getJson } from "./api.js";
import { chatWindow, shownAt, toWebVTT } from "./chat_replay.js";
import { SECOND, apiTime, formatUtc } from "./times.js";

const RATE_MAX = 8 * 24 * 3600 * SECOND; // the longest range chat_rate.json answers
const BEFORE_MOMENT = 20 * SECOND; // a new event starts this long before its moment
const LEAD = 60 * SECOND; // chat from before the loaded range, so its first frame has some
const WINDOW = 2 * 3600 * SECOND - LEAD; // chat.json answers at most 2 h
const q = encodeURIComponent;
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const isoUs = (text) => Date.parse(`${text}Z`) * 1000;

export function initChat({ state, player, fail, showMessage, clip }) {
  const list = $("chat-lines");
  const rate = $("chat-rate");
  const moments = $("chat-moments");
  let messages = [];
  let loaded = null; // [from, to] µs of chat.json loaded, for state.channel
  let loading = null;
  let shownKey = "";

  async function load(from, to) {
    const url = `/${q(state.channel)}/chat.json?start=${q(apiTime(from - LEAD))}&end=${q(apiTime(to))}`;
    loading = [from, to];
    try {
      messages = await getJson(url);
      loaded = [from, to];
      $("chat-state").textContent = messages.length ? "" : "no chat recorded in this range";
    } catch (err) {
      messages = [];
      loaded = [from, to];
      $("chat-state").textContent = `no chat: ${err.message}`;
    } finally {
      loading = null;
    }
    shownKey = "";
    render();
  }

  function ensure(t) {
    if (state.rangeStart === null || loading) return;
    const [from, to] = chatWindow(state.rangeStart, state.rangeEnd, t ?? state.rangeStart, WINDOW);
    if (loaded && loaded[0] <= t && t <= loaded[1]) return;
    if (loaded && loaded[0] === from && loaded[1] === to) return;
    load(from, to).catch(fail);
  }

  function render() {
    const t = player.streamTime();
    if (t === null) return;
    ensure(t);
    const shown = shownAt(messages, t, 40);
    const key = shown.map((m) => `${m.id}${m.deleted ? "x" : ""}`).join(",");
    if (key === shownKey) return; // nothing new: leave the DOM (and its scroll) alone
    shownKey = key;
    list.replaceChildren(...shown.map(({ id, view, deleted }) => {
      const item = el("li", deleted ? "deleted" : "");
      item.dataset.id = id;
      for (const badge of view.badges) item.append(el("span", "badge", badge));
      if (view.notice) item.append(el("span", "notice", view.notice), " ");
      item.append(el("b", "name", view.name), ": ", el("span", "said", view.text));
      return item;
    }));
    list.scrollTop = list.scrollHeight;
  }

  function position(us) {
    return ((us - state.rangeStart) / (state.rangeEnd - state.rangeStart)) * 100;
  }

  async function loadRate() {
    rate.replaceChildren();
    moments.replaceChildren();
    if (state.rangeEnd - state.rangeStart > RATE_MAX) return;
    const url = `/${q(state.channel)}/chat_rate.json?start=${q(apiTime(state.rangeStart))}` +
      `&end=${q(apiTime(state.rangeEnd))}`;
    let body;
    try {
      body = await getJson(url);
    } catch {
      return; // no chat here: the panel says so already
    }
    const start = isoUs(body.start);
    const most = Math.max(1, ...body.counts);
    const bin = body.bin * SECOND;
    body.counts.forEach((count, i) => {
      if (!count) return;
      const bar = el("i", "rate-bar");
      bar.style.left = `${position(start + i * bin)}%`;
      bar.style.width = `${Math.max(0.1, (bin / (state.rangeEnd - state.rangeStart)) * 100)}%`;
      bar.style.height = `${Math.round((count / most) * 100)}%`;
      rate.append(bar);
    });
    for (const moment of body.moments) {
      const at = isoUs(moment.start);
      const mark = el("button", "moment-mark", "▲");
      mark.type = "button";
      mark.style.left = `${position(at)}%`;
      mark.title = `${moment.why}: ${moment.peak_count} messages in 10 s at ${moment.peak}`;
      mark.addEventListener("click", () => player.seekStream(Math.max(at, state.rangeStart)));
      rate.append(mark);
      const row = el("li");
      const seek = el("button", "", `${formatUtc(at, 0).slice(11)} ${moment.why}`);
      seek.type = "button";
      seek.title = "seek to this moment";
      seek.addEventListener("click", () => player.seekStream(Math.max(at, state.rangeStart)));
      const make = el("button", "", "new event from here");
      make.type = "button";
      make.addEventListener("click", () => {
        const body = { sheet_name: `chat ${moment.why} ${moment.peak}`, category: "chat moment",
          event_start: apiTime(at - BEFORE_MOMENT), notes: `${moment.peak_count} messages in 10 s` };
        events.add(body).then((row) => {
          showMessage(`added "${row.sheet_name}"`);
          $("refresh").click();
        }).catch(fail);
      });
      row.append(seek, " ", make);
      moments.append(row);
    }
  }

  async function clipChat() {
    const { start, end } = clip();
    if (start === null || end === null) throw new Error("set the clip's start and end first ([ and ])");
    if (end - start > 2 * 3600 * SECOND) throw new Error("a clip's chat can be saved for at most 2 h");
    const url = `/${q(state.channel)}/chat.json?start=${q(apiTime(start))}&end=${q(apiTime(end))}`;
    return { start, end, messages: await getJson(url) };
  }

  function save(text, type, name) {
    const link = el("a");
    link.href = URL.createObjectURL(new Blob([text], { type }));
    link.download = name;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  $("chat-json").addEventListener("click", () => clipChat().then(({ start, messages }) =>
    save(JSON.stringify(messages), "application/json", `${state.channel}-${formatUtc(start, 0)}-chat.json`)).catch(fail));
  $("chat-vtt").addEventListener("click", () => clipChat().then(({ start, end, messages }) =>
    save(toWebVTT(messages, start, end), "text/vtt", `${state.channel}-${formatUtc(start, 0)}-chat.vtt`)).catch(fail));

  function reload() {
    loaded = null;
    messages = [];
    shownKey = "";
    list.replaceChildren();
    if (state.rangeStart === null) return;
    ensure(state.rangeStart);
    loadRate().catch(fail);
  }

  document.addEventListener("rangechange", reload);
  player.addEventListener("frame", render);
  return { render, reload, messages: () => messages };
}
