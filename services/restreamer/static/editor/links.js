// The page's own address: what "copy link" gives and what the page reopens from
// (channel, quality, the loaded range, the clip's ranges and the open event). Pure.

/**
 * Query string (without "?") for `{channel, quality, start, end, ranges, event}`; times are
 * already text (UTC), `ranges` is [[start, end], ...] of text.
 */
export function pageQuery({ channel, quality, start, end, ranges = [], event = null }) {
  const params = new URLSearchParams();
  if (channel) params.set("channel", channel);
  if (quality) params.set("quality", quality);
  if (start) params.set("start", start);
  if (end) params.set("end", end);
  for (const [a, b] of ranges) params.append("range", `${a},${b}`);
  if (event) params.set("event", event);
  return params.toString();
}

/** The inverse: `{channel, quality, start, end, ranges, event}` from a query string. */
export function parsePageQuery(search) {
  const params = new URLSearchParams(search);
  const ranges = [];
  for (const text of params.getAll("range")) {
    const [a, b, ...rest] = text.split(",");
    if (!a || !b || rest.length) throw new Error(`range ${JSON.stringify(text)} in the address is not START,END`);
    ranges.push([a, b]);
  }
  return {
    channel: params.get("channel"),
    quality: params.get("quality"),
    start: params.get("start"),
    end: params.get("end"),
    ranges,
    event: params.get("event"),
  };
}
