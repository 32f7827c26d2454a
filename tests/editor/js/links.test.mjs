import assert from "node:assert/strict";
import { test } from "node:test";

import { pageQuery, parsePageQuery } from "../../../services/restreamer/static/editor/links.js";

test("a link names channel, quality, range, the clip's ranges and the event, and reads back", () => {
  const page = {
    channel: "desert bus", quality: "source",
    start: "2026-11-27T16:59:25.000", end: "2026-11-27T17:00:41.000",
    ranges: [["2026-11-27T16:59:55.000", "2026-11-27T16:59:57.500"], ["2026-11-27T17:00:01.000", "2026-11-27T17:00:02.000"]],
    event: "0b9a0c8e-0000-4000-8000-000000000000",
  };
  const query = pageQuery(page);
  assert.equal(query.split("&").filter((p) => p.startsWith("range=")).length, 2);
  assert.deepEqual(parsePageQuery(`?${query}`), page);
});

test("what is not given is left out", () => {
  assert.equal(pageQuery({ channel: "c" }), "channel=c");
  assert.deepEqual(parsePageQuery(""), { channel: null, quality: null, start: null, end: null, ranges: [], event: null });
});

test("a bad range in an address says so", () => {
  assert.throws(() => parsePageQuery("range=2026-11-27T17:00:00"), /is not START,END/);
  assert.throws(() => parsePageQuery("range=a,b,c"), /is not START,END/);
});
