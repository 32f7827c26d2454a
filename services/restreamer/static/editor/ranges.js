// A clip of several ranges: the list under the player. The player's in and out always
// edit the selected range; "add range" puts a new one after it. Each join has a
// transition (a hard cut, a fade through black or a crossfade, with its seconds). The
// duration shown is the sum of the ranges less what the transitions overlap. "preview
// clip" plays them all in order (clip_preview.js).
import { PREVIEW_TITLE, initClipPreview } from "./clip_preview.js";
import { formatDuration } from "./times.js";

const $ = (id) => document.getElementById(id);
const SECOND = 1_000_000; // µs
const TYPES = [["", "hard cut"], ["fade", "fade"], ["crossfade", "crossfade"]];

/** A range's length (µs): 0 unless it has both ends, in order. */
export function rangeLength(r) {
  return r.start !== null && r.end !== null && r.end > r.start ? r.end - r.start : 0;
}

/** The clip's duration (µs): the ranges less what their transitions overlap. */
export function clipTotal(ranges, transitions) {
  const sum = ranges.reduce((acc, r) => acc + rangeLength(r), 0);
  const overlap = transitions.reduce((acc, t) => acc + (t ? t.seconds * SECOND : 0), 0);
  return sum - overlap;
}

/** The index `by` away from `current` among `count` ranges, kept inside the list. */
export function neighbour(current, count, by) {
  return Math.min(count - 1, Math.max(0, current + by));
}

/**
 * {ranges, transitions} of an event's edit, or of its draft (the same field names); µs via
 * `apiUs`. One range when the ranges are not given: video_start to video_end (either may be null).
 */
export function rangesOf(fields, apiUs) {
  if (fields.video_ranges?.length > 1) {
    const ranges = fields.video_ranges.map(([a, b]) => ({ start: apiUs(a), end: apiUs(b) }));
    const given = fields.video_transitions ?? [];
    const transitions = ranges.slice(1).map((_, i) => {
      const t = given[i];
      return t ? { type: t.type, seconds: t.seconds } : null;
    });
    return { ranges, transitions };
  }
  const [a, b] = fields.video_ranges?.[0] ?? [fields.video_start, fields.video_end];
  return { ranges: [{ start: apiUs(a ?? null), end: apiUs(b ?? null) }], transitions: [] };
}

export function initRanges(page) {
  let ranges = [{ start: null, end: null }];
  let transitions = []; // per join: null, or { type, seconds }
  let current = 0;
  let quiet = false; // while we move the player's in/out ourselves

  const box = $("clip-ranges");

  function select(i) {
    current = i;
    quiet = true;
    try {
      page.setClip(ranges[i].start, ranges[i].end);
    } finally {
      quiet = false;
    }
    draw();
  }

  const length = rangeLength;

  function checkComplete() {
    const bad = ranges.findIndex((r) => !length(r));
    if (bad >= 0) throw new Error(`range ${bad + 1} has no start and end ([ and ]), or its end is not after its start`);
  }

  function total() {
    return clipTotal(ranges, transitions);
  }

  function button(text, title, fn, disabled = false) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = text;
    b.title = title;
    b.disabled = disabled;
    b.addEventListener("click", () => {
      try {
        fn();
      } catch (err) {
        page.fail(err);
      }
    });
    return b;
  }

  function move(i, by) {
    const j = i + by;
    [ranges[i], ranges[j]] = [ranges[j], ranges[i]];
    select(j);
  }

  function remove(i) {
    ranges.splice(i, 1);
    transitions.splice(Math.min(i, transitions.length - 1), 1);
    select(Math.min(i, ranges.length - 1));
  }

  function joinControls(i) {
    const li = document.createElement("li");
    li.className = "join";
    const type = document.createElement("select");
    type.setAttribute("aria-label", `transition ${i + 1}`);
    for (const [value, text] of TYPES) type.append(new Option(text, value));
    const seconds = document.createElement("input");
    seconds.type = "number";
    seconds.min = "0.1";
    seconds.step = "0.1";
    seconds.size = 4;
    seconds.setAttribute("aria-label", `transition ${i + 1} seconds`);
    const t = transitions[i];
    type.value = t ? t.type : "";
    seconds.value = t ? String(t.seconds) : "1";
    seconds.hidden = !t;
    const changed = () => {
      const value = Number(seconds.value);
      transitions[i] = type.value && value > 0 ? { type: type.value, seconds: value } : null;
      draw();
    };
    type.addEventListener("change", changed);
    seconds.addEventListener("change", changed);
    li.append("then ", type, seconds, t ? " s" : "");
    return li;
  }

  function draw() {
    const items = [];
    const list = { append: (...nodes) => items.push(...nodes) };
    ranges.forEach((r, i) => {
      if (i > 0) list.append(joinControls(i - 1));
      const li = document.createElement("li");
      li.className = i === current ? "range current" : "range";
      const label = button(
        r.start !== null && r.end !== null
          ? `${page.toText(r.start)} to ${page.toText(r.end)} (${formatDuration(length(r))})`
          : "set in and out",
        "edit this range with the player's in and out",
        () => select(i),
      );
      li.append(
        label,
        button("↑", "earlier in the clip", () => move(i, -1), i === 0),
        button("↓", "later in the clip", () => move(i, 1), i === ranges.length - 1),
        button("✕", "remove this range", () => remove(i), ranges.length === 1),
      );
      list.append(li);
    });
    sum.textContent = ranges.length > 1 ? `clip ${formatDuration(Math.max(0, total()))}` : "";
    previewClip.hidden = ranges.length < 2;
    listBox.replaceChildren(...items);
  }

  // Kept across redraws: a field's change event (on the mousedown that leaves it)
  // redraws the list, and a button moved mid-click would never get the click.
  const add = button("add range", "add a range after the selected one", () => {
    ranges.splice(current + 1, 0, { start: null, end: null });
    transitions.splice(current, 0, null);
    select(current + 1);
  });
  const sum = document.createElement("span");
  sum.className = "ranges-total";
  const listBox = document.createElement("ol");
  const previewClip = button("preview clip", PREVIEW_TITLE, () => {
    checkComplete();
    preview.start(ranges.map((r) => ({ ...r })), [...transitions], Math.max(0, total()));
  });
  // Clicked, it gives up the focus: the space that pauses must not press it again.
  previewClip.addEventListener("click", (e) => e.detail > 0 && previewClip.blur());
  box.replaceChildren(listBox, add, previewClip, sum);
  const preview = initClipPreview(page.player, box, page);

  document.addEventListener("clipchange", () => {
    if (quiet) return;
    const { start, end } = page.clip();
    const r = ranges[current];
    if (r.start === start && r.end === end) return; // keep the controls someone may be clicking
    ranges[current] = { start, end };
    draw();
  });

  draw();

  return {
    /** Edit fields for several ranges; null for one (video_start/video_end say it). */
    body(apiTime) {
      if (ranges.length < 2) return null;
      checkComplete();
      return {
        video_ranges: ranges.map((r) => [apiTime(r.start), apiTime(r.end)]),
        video_transitions: transitions.map((t) => t && { type: t.type, seconds: t.seconds }),
      };
    },
    /** The total duration of the clip (µs), for the submit message. */
    total,
    /** Show an event's edit (or draft): its ranges, or its one range. */
    load(fields, apiUs) {
      ({ ranges, transitions } = rangesOf(fields, apiUs));
      select(0);
    },
    /** Select the range `by` away from the selected one (o and p). */
    selectBy(by) {
      select(neighbour(current, ranges.length, by));
    },
    /** The ranges as they are: [{start, end}] (µs or null), in clip order. */
    list() {
      return ranges.map((r) => ({ ...r }));
    },
    /** [{type, seconds} or null] per join. */
    transitions() {
      return transitions.map((t) => t && { ...t });
    },
    /** The selected range's index. */
    current() {
      return current;
    },
  };
}
