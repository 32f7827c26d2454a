import assert from "node:assert/strict";
import { test } from "node:test";

import { clipTotal, neighbour, rangeLength, rangesOf } from "../../../services/restreamer/static/editor/ranges.js";

const S = 1_000_000;

test("lengths and the clip's total less its transitions", () => {
  assert.equal(rangeLength({ start: 0, end: 5 * S }), 5 * S);
  assert.equal(rangeLength({ start: 5 * S, end: 5 * S }), 0);
  assert.equal(rangeLength({ start: null, end: 5 * S }), 0);
  const ranges = [{ start: 0, end: 10 * S }, { start: 20 * S, end: 25 * S }, { start: 30 * S, end: 31 * S }];
  assert.equal(clipTotal(ranges, [null, null]), 16 * S);
  assert.equal(clipTotal(ranges, [{ type: "crossfade", seconds: 0.5 }, { type: "fade", seconds: 1 }]), 14.5 * S);
});

test("o and p stay inside the list", () => {
  assert.equal(neighbour(0, 3, -1), 0);
  assert.equal(neighbour(0, 3, 1), 1);
  assert.equal(neighbour(2, 3, 1), 2);
  assert.equal(neighbour(0, 1, 1), 0);
});

test("an event's or a draft's ranges", () => {
  const us = (text) => (text ? Number(text) : null);
  assert.deepEqual(rangesOf({ video_start: "1", video_end: "2" }, us), { ranges: [{ start: 1, end: 2 }], transitions: [] });
  assert.deepEqual(rangesOf({ video_title: "only a title" }, us), { ranges: [{ start: null, end: null }], transitions: [] });
  assert.deepEqual(rangesOf({ video_ranges: [["1", "2"]] }, us), { ranges: [{ start: 1, end: 2 }], transitions: [] });
  assert.deepEqual(
    rangesOf({ video_ranges: [["1", "2"], ["3", "4"], ["5", "6"]], video_transitions: [null, { type: "fade", seconds: 1 }] }, us),
    {
      ranges: [{ start: 1, end: 2 }, { start: 3, end: 4 }, { start: 5, end: 6 }],
      transitions: [null, { type: "fade", seconds: 1 }],
    },
  );
  // Transitions missing from a draft: hard cuts.
  assert.deepEqual(rangesOf({ video_ranges: [["1", "2"], ["3", "4"]] }, us).transitions, [null]);
});
