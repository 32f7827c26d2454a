import assert from "node:assert/strict";
import { test } from "node:test";

import { findHoles, parseMediaPlaylist } from "../../../services/restreamer/static/editor/playlist.js";

const PLAYLIST = `#EXTM3U
#EXT-X-TARGETDURATION:2
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:00:00.123456Z
#EXTINF:2.002,
/segments/a.ts
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2026-11-27T17:00:04.000000Z
#EXTINF:2,
/segments/b.ts
#EXT-X-ENDLIST
`;
const START = 1795798800000000; // 2026-11-27T17:00:00 in µs

test("segments with their exact starts, and the holes between", () => {
  const parsed = parseMediaPlaylist(PLAYLIST);
  assert.deepEqual(parsed, {
    ended: true,
    segments: [
      { start: START + 123456, duration: 2002000, url: "/segments/a.ts" },
      { start: START + 4000000, duration: 2000000, url: "/segments/b.ts" },
    ],
  });
  assert.deepEqual(findHoles(parsed.segments, START, START + 8e6), [
    { start: START, end: START + 123456 },
    { start: START + 2125456, end: START + 4000000 },
    { start: START + 6000000, end: START + 8000000 },
  ]);
});

test("a gap within the tolerance is no hole; a segment without a date is an error", () => {
  const segments = [{ start: START, duration: 2e6 }, { start: START + 2e6 + 5000, duration: 2e6 }];
  assert.deepEqual(findHoles(segments, START, START + 4e6 + 5000), []);
  assert.throws(() => parseMediaPlaylist("#EXTM3U\n#EXTINF:2,\n/a.ts\n"), /has no PROGRAM-DATE-TIME/);
  assert.deepEqual(parseMediaPlaylist("#EXTM3U\n"), { segments: [], ended: false });
});
