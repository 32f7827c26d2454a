// Times on the editor page are integers of microseconds since the Unix epoch,
// UTC, like the archive's segment names (docs/DESIGN.md#segment-names): a Number holds them
// exactly (2^53 µs is 285 years) and Date's milliseconds would lose the
// sub-millisecond starts that segment names carry.

const UTC = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:Z|\+00:00)?$/;
const ELAPSED = /^(-)?(?:(\d+):)?(?:(\d+):)?(\d+)(?:\.(\d{1,6}))?$/;

export const SECOND = 1_000_000;

/** UTC text like 2026-11-27T17:05:12.5 (Z optional) -> µs; throws saying what is wrong. */
export function parseUtc(text) {
  const m = UTC.exec(text.trim());
  if (!m) {
    throw new Error(`${JSON.stringify(text)} is not a time: give UTC such as 2026-11-27T17:05:12.5Z`);
  }
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  const check = new Date(ms);
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1 || +h > 23 || +mi > 59 || +s > 59) {
    throw new Error(`${JSON.stringify(text)} is not a time (no such date or hour): give UTC such as 2026-11-27T17:05:12.5Z`);
  }
  return ms * 1000 + (frac ? Number(frac.padEnd(6, "0")) : 0);
}

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/** µs -> 2026-11-27T17:05:12.500 (digits: 0, 3 or 6 of fraction). */
export function formatUtc(us, digits = 3) {
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  let text =
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (digits > 0) {
    const micros = us - Math.floor(us / SECOND) * SECOND;
    text += "." + pad(micros, 6).slice(0, digits);
  }
  return text;
}

/** µs -> what the API takes: all six digits, and Z so nobody reads it as local time. */
export function apiTime(us) {
  return formatUtc(us, 6) + "Z";
}

/** Elapsed text like 26:03:04.5, 3:04 or 4 (hours may pass 24) -> µs; throws if not. */
export function parseElapsed(text) {
  const m = ELAPSED.exec(text.trim());
  if (!m) {
    throw new Error(`${JSON.stringify(text)} is not a stream time like 26:03:04.5 (H:MM:SS)`);
  }
  let [, sign, a, b, s, frac] = m;
  // One colon means M:SS, two mean H:MM:SS.
  const [h, mi] = b === undefined ? [0, a === undefined ? 0 : +a] : [+a, +b];
  if ((b !== undefined || a !== undefined) && +s > 59) {
    throw new Error(`${JSON.stringify(text)}: seconds ${s} are over 59`);
  }
  if (b !== undefined && mi > 59) {
    throw new Error(`${JSON.stringify(text)}: minutes ${mi} are over 59`);
  }
  const us = ((h * 60 + mi) * 60 + +s) * SECOND + (frac ? Number(frac.padEnd(6, "0")) : 0);
  return sign ? -us : us;
}

/** µs -> H:MM:SS.mmm (hours not wrapped at 24). */
export function formatElapsed(us) {
  const sign = us < 0 ? "-" : "";
  const ms = Math.floor(Math.abs(us) / 1000);
  const h = Math.floor(ms / 3_600_000);
  const mi = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  return `${sign}${h}:${pad(mi)}:${pad(s)}.${pad(ms % 1000, 3)}`;
}

/** µs -> 1:02.345 or 1:02:03.456: a clip's length. */
export function formatDuration(us) {
  const text = formatElapsed(us);
  return text.startsWith("0:") ? text.slice(2).replace(/^0(\d:)/, "$1") : text;
}

/** µs -> "0:12:03.500 ago" measured from `now` (µs); a time after `now` is "in 0:00:02.000". */
export function formatAgo(us, now) {
  return us <= now ? `${formatElapsed(now - us)} ago` : `in ${formatElapsed(us - now)}`;
}

/** "0:12:03.5 ago" (the "ago" optional) -> µs before `now`; throws if it is not so. */
export function parseAgo(text, now) {
  const m = /^\s*(?:in\s+)?(.*?)\s*(ago)?\s*$/.exec(text);
  const future = /^\s*in\s/.test(text);
  if (future && m[2]) throw new Error(`${JSON.stringify(text)} is both "in" and "ago": give one`);
  const elapsed = parseElapsed(m[1]);
  return future ? now + elapsed : now - elapsed;
}

/** The time modes the page shows times in (the "Times in" choice). */
export const TIMEBASES = ["utc", "stream", "ago"];

/**
 * µs as text in `mode`: UTC, stream time (since `streamStart`, µs) or time ago (before
 * `now`, µs). Stream time without a known stream start falls back to UTC.
 */
export function formatIn(mode, us, { streamStart = null, now = null } = {}) {
  if (mode === "stream" && streamStart !== null) return formatElapsed(us - streamStart);
  if (mode === "ago" && now !== null) return formatAgo(us, now);
  return formatUtc(us, 3);
}

/** The inverse of formatIn; throws an Error a person can act on. */
export function parseIn(mode, text, { streamStart = null, now = null } = {}) {
  if (mode === "stream") {
    if (streamStart === null) throw new Error("the stream's start is not known: use UTC");
    return streamStart + parseElapsed(text);
  }
  if (mode === "ago") return parseAgo(text, now);
  return parseUtc(text);
}
