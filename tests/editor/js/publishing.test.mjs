import assert from "node:assert/strict";
import { test } from "node:test";

import {
  chapterLines,
  chaptersFromDescription,
  clipOffset,
  composeDescription,
  formatChapterTime,
  mergedTags,
  parseChapterLines,
  parseTags,
  remaining,
  splitDescription,
  streamTimeOf,
  tagsLength,
  utf8Length,
} from "../../../services/restreamer/static/editor/publishing.js";

const S = 1_000_000;
// Two ranges, 18 s and 16 s, joined by a 1 s crossfade: 33 s of clip (as tests/ranges/test_chapters.py).
const RANGES = [{ start: 2 * S, end: 20 * S }, { start: 24 * S, end: 40 * S }];
const CROSSFADE = [{ type: "crossfade", seconds: 1 }];

test("stream time to the clip's own time, through the ranges and transitions", () => {
  assert.equal(clipOffset(RANGES, [], 2 * S), 0);
  assert.equal(clipOffset(RANGES, [], 19.5 * S), 17.5);
  assert.equal(clipOffset(RANGES, [null], 24 * S), 18);
  assert.equal(clipOffset(RANGES, CROSSFADE, 24 * S), 17);
  assert.equal(clipOffset(RANGES, CROSSFADE, 28.5 * S), 21.5);
  for (const outside of [0, 20, 22, 40]) assert.equal(clipOffset(RANGES, CROSSFADE, outside * S), null);
});

test("and back: inside a crossfade, the later range", () => {
  assert.equal(streamTimeOf(RANGES, CROSSFADE, 0), 2 * S);
  assert.equal(streamTimeOf(RANGES, CROSSFADE, 10), 12 * S);
  assert.equal(streamTimeOf(RANGES, CROSSFADE, 17), 24 * S); // both play: the second range's start
  assert.equal(streamTimeOf(RANGES, CROSSFADE, 21), 28 * S);
  assert.equal(streamTimeOf(RANGES, CROSSFADE, 33), null);
});

test("chapter lines as the server writes them", () => {
  assert.deepEqual([0, 9, 75, 3599, 3600, 3725].map(formatChapterTime),
    ["0:00", "0:09", "1:15", "59:59", "1:00:00", "1:02:05"]);
  const markers = [{ time: 28.5 * S, title: "Finish" }, { time: 2 * S, title: "Intro" }, { time: 12 * S, title: " The run " }];
  assert.equal(chapterLines(markers, RANGES, CROSSFADE), "0:00 - Intro\n0:10 - The run\n0:21 - Finish");
  assert.equal(chapterLines([{ time: 21 * S, title: "x" }], RANGES, CROSSFADE), null);
  assert.deepEqual(parseChapterLines("0:00 - a - b\n1:02:05 - c"), [{ seconds: 0, title: "a - b" }, { seconds: 3725, title: "c" }]);
  assert.equal(parseChapterLines("0:00 - a\nhello"), null);
});

test("a stored description read back into the editor's text and markers", () => {
  const stored = "What happened.\n==========\n0:00 - Intro\n0:10 - The run\n0:21 - Finish";
  assert.deepEqual(splitDescription(stored).text, "What happened.");
  assert.deepEqual(chaptersFromDescription(stored, RANGES, CROSSFADE), {
    text: "What happened.",
    chapters: [{ time: 2 * S, title: "Intro" }, { time: 12 * S, title: "The run" }, { time: 28 * S, title: "Finish" }],
  });
  assert.deepEqual(chaptersFromDescription("plain", RANGES, CROSSFADE), { text: "plain", chapters: [] });
  // Lines that are not chapters, or past the clip: kept as typed, so nothing is lost.
  const odd = "x\n==========\nnot a chapter";
  assert.deepEqual(chaptersFromDescription(odd, RANGES, CROSSFADE), { text: odd, chapters: [] });
  const late = "x\n==========\n0:00 - a\n0:40 - b";
  assert.deepEqual(chaptersFromDescription(late, RANGES, CROSSFADE), { text: late, chapters: [] });
});

test("tags counted as YouTube counts them", () => {
  assert.deepEqual(parseTags(" a b ,c,, d "), ["a b", "c", "d"]);
  assert.deepEqual(mergedTags(["speedrun", "DB"], ["db", "marathon"]), ["speedrun", "DB", "marathon"]);
  assert.equal(tagsLength([]), 0);
  assert.equal(tagsLength(["Foo-Baz"]), 7);
  assert.equal(tagsLength(["Foo Baz"]), 9);
  assert.equal(tagsLength(["a", "b c", "d"]), 9);
});

test("what the limits leave, counting the team's additions", () => {
  const team = {
    title_prefix: "DB2026 - ",
    description_footer: "footer",
    tags: ["marathon", "Desert Bus"],
    limits: { title_characters: 100, description_bytes: 5000, tags_characters: 500 },
  };
  assert.equal(composeDescription("text", team), "text\n\nfooter");
  assert.equal(composeDescription("", team, { attribution: "Ann" }), "Thumbnail art by Ann\nfooter");
  assert.equal(utf8Length("é"), 2);
  const counts = remaining(team, { title: "A clip", description: "é", chapters: "0:00 - a", tags: ["x y"] });
  assert.deepEqual(counts, {
    title: 100 - 15,
    description: 5000 - (2 + 12 + 8 + 2 + 6), // é, the delimiter line, the chapter, a blank line, the footer
    tags: 500 - (5 + 8 + 12 + 2),
  });
  assert.equal(remaining(team, { title: "t".repeat(92), description: "", chapters: "", tags: [] }).title, -1);
});
