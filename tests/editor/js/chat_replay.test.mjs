import assert from "node:assert/strict";
import { test } from "node:test";

import {
  chatWindow, deletedBy, lastAtOrBefore, shownAt, toWebVTT, unescapeTag, view,
} from "../../../services/restreamer/static/editor/chat_replay.js";

const S = 1_000_000; // µs in a second
const T0 = 1_765_000_000; // Unix seconds
const say = (t, sender, text, extra = {}) => ({
  command: "PRIVMSG", params: ["#chan", text], sender, time: T0 + t, time_range: 0,
  tags: { id: `${sender}-${t}`, "display-name": sender.toUpperCase(), ...extra },
});
const chat = [
  say(1, "ann", "hello"),
  { command: "JOIN", params: ["#chan"], sender: "bob", time: T0 + 2, time_range: 45, tags: {} },
  say(3, "bob", "first"),
  say(5, "bob", "spam"),
  say(5, "cat", "CLIP IT", { badges: "subscriber/12,premium/1" }),
  { command: "CLEARMSG", params: ["#chan", "spam"], time: T0 + 6, time_range: 0, tags: { "target-msg-id": "bob-5" } },
  say(7, "ann", "ok"),
  { command: "CLEARCHAT", params: ["#chan", "ann"], time: T0 + 9, time_range: 0, tags: {} },
  { command: "USERNOTICE", params: ["#chan", "yay"], sender: "dan", time: T0 + 10, time_range: 0, tags: { id: "n1", "display-name": "Dan", "system-msg": "Dan\\ssubscribed\\sfor\\s3\\smonths" } },
];

test("the message on screen at T is the last one at or before T", () => {
  assert.equal(lastAtOrBefore(chat, (T0 + 0.5) * S), -1);
  assert.equal(lastAtOrBefore(chat, (T0 + 1) * S), 0);
  assert.equal(lastAtOrBefore(chat, (T0 + 4.9) * S), 2);
  assert.equal(lastAtOrBefore(chat, (T0 + 5) * S), 4); // both at 5 s
  assert.equal(lastAtOrBefore(chat, (T0 + 99) * S), chat.length - 1);
  assert.equal(lastAtOrBefore([], T0 * S), -1);
});

test("shown messages skip joins, keep the last n, and strike deletions as they happen", () => {
  const at4 = shownAt(chat, (T0 + 4) * S);
  assert.deepEqual(at4.map((m) => m.view.text), ["hello", "first"]);
  const at5 = shownAt(chat, (T0 + 5) * S);
  assert.deepEqual(at5.map((m) => [m.view.text, m.deleted]), [["hello", false], ["first", false], ["spam", false], ["CLIP IT", false]]);
  const at6 = shownAt(chat, (T0 + 6) * S);
  assert.equal(at6.find((m) => m.view.text === "spam").deleted, true);
  const at9 = shownAt(chat, (T0 + 9) * S); // ann's messages cleared, bob's and cat's kept
  assert.deepEqual(at9.filter((m) => m.deleted).map((m) => m.view.text), ["hello", "spam", "ok"]);
  assert.deepEqual(shownAt(chat, (T0 + 9) * S, 2).map((m) => m.view.text), ["CLIP IT", "ok"]);
  assert.equal(deletedBy(chat, (T0 + 5.5) * S).size, 0);
});

test("a message reads as text: display name, badges, notice", () => {
  assert.deepEqual(view(chat[4]), { name: "CAT", badges: ["subscriber", "premium"], text: "CLIP IT", notice: "" });
  assert.deepEqual(view(chat[8]), { name: "Dan", badges: [], text: "yay", notice: "Dan subscribed for 3 months" });
  assert.equal(unescapeTag("a\\:b\\\\c"), "a;b\\c");
});

test("a clip's chat as WebVTT, timed from the clip's start", () => {
  const vtt = toWebVTT(chat, (T0 + 3) * S, (T0 + 8) * S);
  assert.equal(vtt, [
    "WEBVTT", "",
    "00:00:00.000 --> 00:00:02.000", "<v BOB>first", "",
    "00:00:02.000 --> 00:00:02.001", "<v BOB>spam", "",
    "00:00:02.000 --> 00:00:04.000", "<v CAT>CLIP IT", "",
    "00:00:04.000 --> 00:00:05.000", "<v ANN>ok", "",
  ].join("\n"));
  assert.match(toWebVTT([say(0, "eve", "<b>x</b> --> y")], T0 * S, (T0 + 1) * S), /&lt;b&gt;x&lt;\/b&gt; → y/);
});

test("a range over 2 h loads the 2 h around the playhead", () => {
  const H = 3600 * S;
  assert.deepEqual(chatWindow(0, H, H / 2), [0, H]);
  assert.deepEqual(chatWindow(0, 10 * H, 5 * H), [4 * H, 6 * H]);
  assert.deepEqual(chatWindow(0, 10 * H, 0), [0, 2 * H]);
  assert.deepEqual(chatWindow(0, 10 * H, 10 * H), [8 * H, 10 * H]);
});
