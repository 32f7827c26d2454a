import assert from "node:assert/strict";
import { test } from "node:test";

import {
  apiTime, formatAgo, formatDuration, formatElapsed, formatIn, formatUtc, parseAgo, parseElapsed, parseIn, parseUtc,
} from "../../../services/restreamer/static/editor/times.js";

const T = 1795799112500000; // 2026-11-27T17:05:12.5 UTC, µs

test("UTC text both ways, to the microsecond", () => {
  assert.equal(parseUtc("2026-11-27T17:05:12.5"), T);
  assert.equal(parseUtc("2026-11-27 17:05:12.123456Z"), 1795799112123456);
  assert.equal(formatUtc(1795799112123456, 6), "2026-11-27T17:05:12.123456");
  assert.equal(formatUtc(T, 0), "2026-11-27T17:05:12");
  assert.equal(apiTime(1795799112000001), "2026-11-27T17:05:12.000001Z");
  assert.throws(() => parseUtc("2026-11-27T17:05"), /is not a time: give UTC/);
  assert.throws(() => parseUtc("2026-02-29T00:00:00"), /no such date or hour/);
});

test("stream time (elapsed) both ways", () => {
  assert.equal(parseElapsed("26:03:04.5"), ((26 * 60 + 3) * 60 + 4.5) * 1e6);
  assert.equal(parseElapsed("3:04"), 184e6);
  assert.equal(parseElapsed("-0:01"), -1e6);
  assert.throws(() => parseElapsed("4:60"), /seconds 60 are over 59/);
  assert.throws(() => parseElapsed("an hour"), /is not a stream time/);
  assert.equal(formatElapsed((26 * 3600 + 4.5) * 1e6), "26:00:04.500");
  assert.equal(formatDuration(65_432_000), "1:05.432");
});

test("time ago both ways", () => {
  const now = T + 3_723_250_000;
  assert.equal(formatAgo(T, now), "1:02:03.250 ago");
  assert.equal(formatAgo(now + 2e6, now), "in 0:00:02.000");
  assert.equal(parseAgo("1:02:03.25 ago", now), T);
  assert.equal(parseAgo("1:02:03.25", now), T);
  assert.equal(parseAgo("in 0:00:02", now), now + 2e6);
  assert.throws(() => parseAgo("in 1:00 ago", now), /both "in" and "ago"/);
  assert.throws(() => parseAgo("yesterday", now), /is not a stream time/);
});

test("the page's three modes", () => {
  const ctx = { streamStart: T - 4e6, now: T + 60e6 };
  assert.equal(formatIn("utc", T, ctx), "2026-11-27T17:05:12.500");
  assert.equal(formatIn("stream", T, ctx), "0:00:04.000");
  assert.equal(formatIn("ago", T, ctx), "0:01:00.000 ago");
  assert.equal(formatIn("stream", T, { streamStart: null }), "2026-11-27T17:05:12.500"); // unknown start: UTC
  for (const mode of ["utc", "stream", "ago"]) assert.equal(parseIn(mode, formatIn(mode, T, ctx), ctx), T, mode);
  assert.throws(() => parseIn("stream", "0:04", { streamStart: null }), /stream's start is not known/);
});
