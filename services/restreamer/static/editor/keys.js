// The keyboard map (wubloader's, exactly): a key event -> the action it means. Pure, so
// node --test checks every key (tests/editor/js/); main.js carries the actions out.
// Keys do nothing while typing in a field (or on a slider, select or checkbox, which
// take keys themselves), or with Ctrl, Alt or Meta held (the browser's own shortcuts).

/** [keys shown, what it does] for the "Keyboard shortcuts" overlay, in its order. */
export const SHORTCUTS = [
  ["0 – 9", "seek to 0 %, 10 %, … 90 % of the loaded range"],
  ["k  K  space", "play / pause"],
  ["j  /  l", "back / on 10 s"],
  ["J  /  L", "back / on 1 s"],
  ["← / →", "back / on 5 s"],
  ["Shift ← / Shift →", "back / on 60 s"],
  [",  <  /  .  >", "one frame back / on (pauses)"],
  ["=  /  -", "faster / slower (0.25x to 8x)"],
  ["+", "2x (the top rate if already 2x or more)"],
  ["_", "slowest (0.25x)"],
  ["Backspace", "normal speed (1x)"],
  ["m", "mute / unmute"],
  ["[  /  ]", "set the selected range's start / end to this frame"],
  ["o  /  p", "select the previous / next range"],
  ["?", "show this list"],
];

const FIXED = {
  k: { action: "toggle" },
  K: { action: "toggle" },
  " ": { action: "toggle" },
  j: { action: "seekBy", arg: -10 },
  l: { action: "seekBy", arg: 10 },
  J: { action: "seekBy", arg: -1 },
  L: { action: "seekBy", arg: 1 },
  m: { action: "mute" },
  ",": { action: "frame", arg: -1 },
  "<": { action: "frame", arg: -1 },
  ".": { action: "frame", arg: 1 },
  ">": { action: "frame", arg: 1 },
  "=": { action: "faster" },
  "-": { action: "slower" },
  "+": { action: "doubled" },
  _: { action: "slowest" },
  Backspace: { action: "normal" },
  "[": { action: "setStart" },
  "]": { action: "setEnd" },
  o: { action: "previousRange" },
  p: { action: "nextRange" },
  "?": { action: "help" },
};

/**
 * True if `target` (the event's) takes keys itself: a text field, a select, a slider
 * (its arrows), a checkbox (its space). Buttons do not: the keys work with one focused.
 */
export function isTyping(target) {
  if (!target) return false;
  if (target.isContentEditable) return true;
  return ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

/** The action of a keydown event ({key, shiftKey, ctrlKey, altKey, metaKey, target}), or null. */
export function keyAction(event) {
  if (event.ctrlKey || event.altKey || event.metaKey || isTyping(event.target)) return null;
  const { key } = event;
  if (key.length === 1 && key >= "0" && key <= "9") return { action: "seekFraction", arg: Number(key) / 10 };
  if (key === "ArrowLeft") return { action: "seekBy", arg: event.shiftKey ? -60 : -5 };
  if (key === "ArrowRight") return { action: "seekBy", arg: event.shiftKey ? 60 : 5 };
  return FIXED[key] ?? null;
}
