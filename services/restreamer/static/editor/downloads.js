// Downloads: the clip as a rough or fast cut (/cut) and the frame on screen (/frame),
// fetched with the editor's token (a busy node's 503 or 429 becomes "try again in N s")
// and saved through a blob: link, which the page's Content-Security-Policy allows.
import { getToken, request } from "./api.js";
import { busyText } from "./conflict.js";
import { apiTime } from "./times.js";

const q = encodeURIComponent;

/** The /cut URL of `ranges` ([{start, end}] µs) of channel/quality, as a `type` cut. */
export function cutUrl(channel, quality, ranges, transitions, type) {
  const params = new URLSearchParams({ type, allow_holes: "true" });
  if (ranges.length === 1) {
    params.set("start", apiTime(ranges[0].start));
    params.set("end", apiTime(ranges[0].end));
  } else {
    for (const r of ranges) params.append("range", `${apiTime(r.start)},${apiTime(r.end)}`);
    for (const t of transitions) params.append("transition", t ? `${t.type},${t.seconds}` : "");
  }
  return `/cut/${q(channel)}/${q(quality)}.ts?${params}`;
}

export function frameUrl(channel, quality, us) {
  return `/frame/${q(channel)}/${q(quality)}.png?timestamp=${q(apiTime(us))}`;
}

/** Fetch `url` and save it as `name`; throws an Error a person can act on. */
export async function download(url, name) {
  const token = getToken();
  let response;
  try {
    response = await request(url, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
  } catch (err) {
    throw new Error(busyText(err.status, err.retryAfter) ?? `cannot download ${name}: ${err.message}`);
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  return blob.size;
}
