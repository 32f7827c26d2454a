// What the editor needs from a media playlist (RFC 8216) the restreamer wrote:
// each segment's start from EXT-X-PROGRAM-DATE-TIME, to the microsecond (hls.js
// keeps only milliseconds), its EXTINF duration, and so the holes in a range.
import { parseUtc, SECOND } from "./times.js";

// A gap over this is a hole, as fastseg's own segment choice counts it (docs/DESIGN.md#ranges-and-holes).
const HOLE_TOLERANCE = 10_000; // µs

/** Playlist text -> {segments: [{start, duration, url}], ended}; times in µs. */
export function parseMediaPlaylist(text) {
  const segments = [];
  let start = null;
  let duration = null;
  let ended = false;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) {
      start = parseUtc(line.slice(25));
    } else if (line.startsWith("#EXTINF:")) {
      duration = Math.round(parseFloat(line.slice(8)) * SECOND);
    } else if (line === "#EXT-X-ENDLIST") {
      ended = true;
    } else if (line && !line.startsWith("#")) {
      if (start === null || duration === null) {
        throw new Error(`playlist segment ${line} has no PROGRAM-DATE-TIME or EXTINF before it`);
      }
      segments.push({ start, duration, url: line });
      start = duration = null;
    }
  }
  return { segments, ended };
}

/** The parts of [from, to) no segment covers: [{start, end}], in order. */
export function findHoles(segments, from, to) {
  const holes = [];
  let covered = from;
  for (const seg of segments) {
    if (seg.start - covered > HOLE_TOLERANCE) {
      holes.push({ start: covered, end: Math.min(seg.start, to) });
    }
    covered = Math.max(covered, seg.start + seg.duration);
    if (covered >= to) break;
  }
  if (to - covered > HOLE_TOLERANCE) holes.push({ start: covered, end: to });
  return holes.filter((h) => h.end > h.start);
}
