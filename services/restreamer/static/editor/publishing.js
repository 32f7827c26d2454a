// What is published, as the server composes it (services/db/publishing.py and
// services/ranges/chapters.py): chapters placed on the clip's own time, the lines they
// become below the description's delimiter, the team's additions, and what YouTube's
// limits leave. Pure functions: the form (publishing_form.js) and the unit tests use them.

const SECOND = 1_000_000; // µs
export const DELIMITER = "=========="; // wubloader's: its own line above the chapter lines
const LINE = /^(?:(\d+):)?(\d{1,2}):(\d{2}) - (.+)$/;

/** Seconds a join takes off the clip: its transition's, or 0 for a hard cut. */
function joins(ranges, transitions) {
  return ranges.slice(1).map((_, i) => (transitions?.[i] ? transitions[i].seconds : 0));
}

/** Seconds into the clip at which stream time `us` plays, or null outside every range. */
export function clipOffset(ranges, transitions, us) {
  const cut = joins(ranges, transitions);
  let offset = 0;
  for (let i = 0; i < ranges.length; i++) {
    const { start, end } = ranges[i];
    if (i) offset -= cut[i - 1];
    if (us >= start && us < end) return offset + (us - start) / SECOND;
    offset += (end - start) / SECOND;
  }
  return null;
}

/**
 * Stream time (µs) of `seconds` into the clip, or null past its end. Inside a transition
 * both ranges play: the later one is meant (a chapter at a range's start reads back so).
 */
export function streamTimeOf(ranges, transitions, seconds) {
  const cut = joins(ranges, transitions);
  let offset = 0;
  let found = null;
  for (let i = 0; i < ranges.length; i++) {
    const { start, end } = ranges[i];
    if (i) offset -= cut[i - 1];
    const length = (end - start) / SECOND;
    if (seconds >= offset && seconds < offset + length) found = start + Math.round((seconds - offset) * SECOND);
    offset += length;
  }
  return found;
}

/** `M:SS`, or `H:MM:SS` from an hour on, as YouTube reads chapter times. */
export function formatChapterTime(seconds) {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** {text, lines}: the editor's own text and the chapter lines of a stored description (or null). */
export function splitDescription(description) {
  const at = description.indexOf(`\n${DELIMITER}\n`);
  if (at < 0) return { text: description, lines: null };
  return { text: description.slice(0, at), lines: description.slice(at + DELIMITER.length + 2) };
}

/** [{seconds, title}] of chapter lines, or null if a line is not `M:SS - Title`. */
export function parseChapterLines(lines) {
  const out = [];
  for (const line of lines.split("\n")) {
    const m = LINE.exec(line.trim());
    if (!m) return null;
    out.push({ seconds: Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]), title: m[4] });
  }
  return out;
}

/** The chapter lines of markers [{time (µs), title}] on the clip, in order; null if one is outside. */
export function chapterLines(chapters, ranges, transitions) {
  const placed = [];
  for (const c of chapters) {
    const offset = clipOffset(ranges, transitions, c.time);
    if (offset === null) return null;
    placed.push({ seconds: Math.floor(offset), title: c.title.trim() });
  }
  placed.sort((a, b) => a.seconds - b.seconds);
  return placed.map((c) => `${formatChapterTime(c.seconds)} - ${c.title}`).join("\n");
}

/** The chapters of a stored description as markers [{time (µs), title}] on these ranges. */
export function chaptersFromDescription(description, ranges, transitions) {
  const { text, lines } = splitDescription(description);
  if (lines === null) return { text, chapters: [] };
  const parsed = parseChapterLines(lines);
  if (parsed === null) return { text: description, chapters: [] }; // kept as typed
  const chapters = parsed.map((c) => ({ time: streamTimeOf(ranges, transitions, c.seconds), title: c.title }));
  if (chapters.some((c) => c.time === null)) return { text: description, chapters: [] };
  return { text, chapters };
}

/** Tags of a comma-separated field, each trimmed, none empty. */
export function parseTags(text) {
  return text.split(",").map((t) => t.trim()).filter(Boolean);
}

/** Every group's tags in order, each once whatever its case (YouTube's tags ignore case). */
export function mergedTags(...groups) {
  const seen = new Set();
  const out = [];
  for (const tag of groups.flat()) {
    const t = tag.trim();
    if (t && !seen.has(t.toLowerCase())) {
      seen.add(t.toLowerCase());
      out.push(t);
    }
  }
  return out;
}

/** Characters YouTube counts of a tag list: the tags, a comma between two, quotes around a tag with a space. */
export function tagsLength(tags) {
  return tags.reduce((n, t) => n + [...t].length + (t.includes(" ") ? 2 : 0), 0) + Math.max(tags.length - 1, 0);
}

/** UTF-8 bytes of a text: YouTube's description limit counts bytes. */
export function utf8Length(text) {
  return new TextEncoder().encode(text).length;
}

/** The published description: the stored one, then a blank line and the team's additions. */
export function composeDescription(stored, conventions, { playlistLines = [], attribution = null } = {}) {
  const additions = [...playlistLines];
  if (attribution) additions.push(`Thumbnail art by ${attribution}`);
  if (conventions.description_footer) additions.push(conventions.description_footer);
  return [stored, additions.join("\n")].filter(Boolean).join("\n\n");
}

/**
 * What YouTube's limits leave of what is published: {title, description, tags}, each a
 * count (negative when over). `chapters` are the chapter lines (or "" for none).
 */
export function remaining(conventions, { title, description, chapters, tags }) {
  const stored = chapters ? `${description}\n${DELIMITER}\n${chapters}` : description;
  const limits = conventions.limits;
  return {
    title: limits.title_characters - [...(conventions.title_prefix + title)].length,
    description: limits.description_bytes - utf8Length(composeDescription(stored, conventions)),
    tags: limits.tags_characters - tagsLength(mergedTags(tags, conventions.tags)),
  };
}
