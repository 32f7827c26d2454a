// The edit form's publishing inputs: tags, public or unlisted, chapter markers (added at
// the frame on screen, on any range of the clip), and what YouTube's limits leave of the
// title, description and tags once the team's additions (GET /api/publishing) are counted.
import { getJson } from "./api.js";
import {
  chapterLines,
  chaptersFromDescription,
  clipOffset,
  formatChapterTime,
  parseTags,
  remaining,
} from "./publishing.js";
import { rangesOf } from "./ranges.js";

const $ = (id) => document.getElementById(id);
// YouTube's limits, until the restreamer says (and with --no-db, where it cannot).
const NONE = {
  title_prefix: "", description_footer: "", tags: [],
  limits: { title_characters: 100, description_bytes: 5000, tags_characters: 500 },
};

/** `n left`, or `n over` past the limit. */
function left(n, unit) {
  return n >= 0 ? `${n} ${unit} left` : `${-n} ${unit} over`;
}

export function initPublishing(page, changed) {
  let conventions = NONE;
  let chapters = []; // [{time (µs), title}]

  getJson("/api/publishing").then((c) => {
    conventions = c;
    update();
  }).catch(() => {}); // no events API: YouTube's limits without additions

  /** The clip's complete ranges and their transitions, as the ranges list holds them. */
  function clip() {
    const { start, end } = page.clip();
    const all = page.ranges?.list() ?? [{ start, end }];
    const ranges = all.filter((r) => r.start !== null && r.end !== null && r.end > r.start);
    const transitions = ranges.length === all.length ? (page.ranges?.transitions() ?? []) : [];
    return { ranges, transitions };
  }

  function offsetOf(chapter) {
    const { ranges, transitions } = clip();
    return clipOffset(ranges, transitions, chapter.time);
  }

  function draw() {
    const list = $("chapter-list");
    const ordered = chapters.map((c, i) => ({ c, i, at: offsetOf(c) }))
      .sort((a, b) => (a.at ?? Infinity) - (b.at ?? Infinity));
    list.replaceChildren(...ordered.map(({ c, i, at }) => {
      const li = document.createElement("li");
      const when = at === null ? "outside the clip" : formatChapterTime(Math.floor(at));
      li.append(`${when} - ${c.title} `);
      li.title = `at ${page.toText(c.time)} of the stream`;
      if (at === null) li.className = "over";
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "✕";
      remove.title = "remove this chapter";
      remove.setAttribute("aria-label", `remove chapter ${c.title}`);
      remove.addEventListener("click", () => {
        chapters.splice(i, 1);
        update();
        changed();
      });
      li.append(remove);
      return li;
    }));
  }

  function show(id, n, unit) {
    const out = $(id);
    out.textContent = left(n, unit);
    out.classList.toggle("over", n < 0);
  }

  /** Redraw the chapters and the counts left. */
  function update() {
    draw();
    const { ranges, transitions } = clip();
    const lines = chapters.length ? chapterLines(chapters, ranges, transitions) : "";
    const counts = remaining(conventions, {
      title: $("ev-title").value,
      description: $("ev-description").value,
      chapters: lines ?? "",
      tags: parseTags($("ev-tags").value),
    });
    show("ev-title-left", counts.title, "characters");
    show("ev-description-left", counts.description, "bytes");
    show("ev-tags-left", counts.tags, "characters");
    $("ev-title-prefix").textContent = conventions.title_prefix
      ? `published as "${conventions.title_prefix}" + the title` : "";
  }

  for (const id of ["ev-title", "ev-description", "ev-tags"]) $(id).addEventListener("input", update);
  document.addEventListener("clipchange", update);
  $("clip-ranges").addEventListener("change", update); // a transition's type or seconds

  $("chapter-add").addEventListener("click", () => {
    const title = $("chapter-title").value.trim();
    const time = page.player.streamTime();
    if (!title) {
      page.fail(new Error("give the chapter a title first"));
      return;
    }
    if (time === null || offsetOf({ time }) === null) {
      page.fail(new Error("the frame on screen is in none of the clip's ranges: a chapter must be inside one"));
      return;
    }
    chapters.push({ time, title });
    $("chapter-title").value = "";
    update();
    changed();
  });

  return {
    /** Fill the inputs from an edit or a draft (`fields`), reading chapters back from the description. */
    load(fields, apiUs) {
      $("ev-tags").value = (fields.video_tags ?? []).join(", ");
      $("ev-public").value = fields.public === false ? "false" : "true";
      if (fields.video_chapters) { // a draft keeps them as sent
        chapters = fields.video_chapters.map((c) => ({ time: apiUs(c.time), title: c.title }));
      } else {
        const { ranges, transitions } = rangesOf(fields, apiUs);
        const found = ranges.every((r) => r.start !== null && r.end !== null)
          ? chaptersFromDescription($("ev-description").value, ranges, transitions)
          : { text: $("ev-description").value, chapters: [] };
        $("ev-description").value = found.text;
        chapters = found.chapters;
      }
      update();
    },
    /** The publishing fields of an edit's or a draft's body. */
    body(apiTime) {
      const body = { video_tags: parseTags($("ev-tags").value), public: $("ev-public").value === "true" };
      if (chapters.length) body.video_chapters = chapters.map((c) => ({ time: apiTime(c.time), title: c.title }));
      return body;
    },
    update,
  };
}
