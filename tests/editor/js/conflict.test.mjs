import assert from "node:assert/strict";
import { test } from "node:test";

import { busyText, describeConflict } from "../../../services/restreamer/static/editor/conflict.js";
import { loadPrefs, savePref } from "../../../services/restreamer/static/editor/prefs.js";

test("a version conflict names who changed what, and when", () => {
  const body = {
    error: "...",
    conflict: {
      your_version: 3, version: 5, changed: ["draft", "draft_editor", "draft_time", "video_title"],
      changed_by: "bob@example.com", changed_at: "2026-11-27T17:05:12.000000Z",
    },
  };
  assert.equal(
    describeConflict(body),
    "bob@example.com changed this event at 2026-11-27 17:05:12 UTC (draft, video_title) since you opened it " +
      "(version 3, now 5). Reload it to see their change, or overwrite it with yours.",
  );
  assert.equal(describeConflict({ error: "cannot cancel: it is UNEDITED" }), null);
  assert.equal(describeConflict(null), null);
});

test("a busy node says when to try again", () => {
  assert.equal(busyText(503, "7"), "the node is busy, try again in 7 s");
  assert.equal(busyText(429, null), "the node is busy, try again in 10 s");
  assert.equal(busyText(400, "7"), null);
});

class Storage {
  constructor(items = {}) { this.items = new Map(Object.entries(items)); }
  getItem(k) { return this.items.has(k) ? this.items.get(k) : null; }
  setItem(k, v) { this.items.set(k, String(v)); }
}

test("preferences: sound on at full volume, 1x, UTC until chosen; then remembered", () => {
  assert.deepEqual(loadPrefs(new Storage()), { volume: 1, muted: false, rate: 1, timebase: "utc" });
  const storage = new Storage();
  savePref(storage, "volume", 0.4);
  savePref(storage, "muted", true);
  savePref(storage, "rate", 2);
  savePref(storage, "timebase", "ago");
  assert.deepEqual(loadPrefs(storage), { volume: 0.4, muted: true, rate: 2, timebase: "ago" });
  assert.throws(() => savePref(storage, "colour", "red"), /no preference "colour"/);
  const bad = new Storage({
    "fastseg-editor-volume": "7", "fastseg-editor-rate": "3", "fastseg-editor-timebase": "local",
  });
  assert.deepEqual(loadPrefs(bad), { volume: 1, muted: false, rate: 1, timebase: "utc" });
});
