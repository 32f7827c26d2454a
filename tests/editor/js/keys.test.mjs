// The keyboard map, key by key, as wubloader's editor has it.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SHORTCUTS, isTyping, keyAction } from "../../../services/restreamer/static/editor/keys.js";

const press = (key, extra = {}) => keyAction({ key, shiftKey: false, ctrlKey: false, altKey: false, metaKey: false, target: { tagName: "BODY" }, ...extra });

test("digits seek to tenths of the loaded range", () => {
  for (let d = 0; d <= 9; d++) assert.deepEqual(press(String(d)), { action: "seekFraction", arg: d / 10 });
});

test("every key of the map", () => {
  const expected = {
    k: ["toggle"], K: ["toggle"], " ": ["toggle"],
    j: ["seekBy", -10], l: ["seekBy", 10], J: ["seekBy", -1], L: ["seekBy", 1],
    m: ["mute"],
    ",": ["frame", -1], "<": ["frame", -1], ".": ["frame", 1], ">": ["frame", 1],
    "=": ["faster"], "-": ["slower"], "+": ["doubled"], _: ["slowest"], Backspace: ["normal"],
    "[": ["setStart"], "]": ["setEnd"], o: ["previousRange"], p: ["nextRange"], "?": ["help"],
  };
  for (const [key, [action, arg]] of Object.entries(expected)) {
    assert.deepEqual(press(key), arg === undefined ? { action } : { action, arg }, key);
  }
});

test("arrows: 5 s, and 60 s with Shift", () => {
  assert.deepEqual(press("ArrowLeft"), { action: "seekBy", arg: -5 });
  assert.deepEqual(press("ArrowRight"), { action: "seekBy", arg: 5 });
  assert.deepEqual(press("ArrowLeft", { shiftKey: true }), { action: "seekBy", arg: -60 });
  assert.deepEqual(press("ArrowRight", { shiftKey: true }), { action: "seekBy", arg: 60 });
});

test("other keys, and the browser's own shortcuts, do nothing", () => {
  for (const key of ["i", "x", "Enter", "Tab", "ArrowUp", "F5", "Escape"]) assert.equal(press(key), null, key);
  assert.equal(press("r", { ctrlKey: true }), null);
  assert.equal(press("l", { metaKey: true }), null);
  assert.equal(press("0", { altKey: true }), null);
});

test("nothing while typing in an input or textarea (or on a slider or select)", () => {
  for (const target of [
    { tagName: "INPUT", type: "text" }, { tagName: "INPUT", type: "" }, { tagName: "INPUT", type: "range" },
    { tagName: "INPUT", type: "checkbox" }, { tagName: "TEXTAREA" }, { tagName: "SELECT" },
    { tagName: "DIV", isContentEditable: true },
  ]) {
    assert.equal(isTyping(target), true, JSON.stringify(target));
    assert.equal(press("k", { target }), null);
  }
  // A focused button takes no keys of ours: they still work.
  for (const target of [{ tagName: "BUTTON" }, { tagName: "BODY" }, { tagName: "VIDEO" }]) {
    assert.equal(isTyping(target), false, JSON.stringify(target));
    assert.deepEqual(press("k", { target }), { action: "toggle" });
  }
  assert.equal(isTyping(null), false);
});

test("the overlay lists every key", () => {
  const shown = SHORTCUTS.map(([keys]) => keys).join(" ");
  for (const key of ["0", "9", "k", "K", "space", "j", "l", "J", "L", "m", ",", "<", ".", ">", "=", "-", "+", "_",
    "Backspace", "←", "→", "Shift", "[", "]", "o", "p", "?"]) {
    assert.ok(shown.includes(key), key);
  }
});
