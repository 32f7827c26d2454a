// Which quality the editor shows first: "source" if the channel has it, else the
// highest resolution its master playlist offers (RESOLUTION=WxH, or the height in
// a name like 720p60), else the master playlist's first (highest bandwidth).
import { getText } from "./api.js";

const q = encodeURIComponent;

function height(resolution, name) {
  const fromResolution = /^\d+x(\d+)$/.exec(resolution || "");
  if (fromResolution) return Number(fromResolution[1]);
  const fromName = /(\d+)p/.exec(name || "");
  return fromName ? Number(fromName[1]) : 0;
}

/** [{name, height}] of a master playlist's variants, in its order. */
export function parseMaster(text) {
  const variants = [];
  let pending = null;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-STREAM-INF:")) {
      pending = line;
    } else if (pending && line && !line.startsWith("#")) {
      const video = /VIDEO="([^"]*)"/.exec(pending);
      const fromUrl = /\/playlist\/[^/]+\/([^/?]+)\.m3u8/.exec(line);
      const name = video ? video[1] : fromUrl ? decodeURIComponent(fromUrl[1]) : line;
      const resolution = /RESOLUTION=(\d+x\d+)/.exec(pending);
      variants.push({ name, height: height(resolution && resolution[1], name) });
      pending = null;
    }
  }
  return variants;
}

/** The best of ``names`` (a channel's qualities) by the rule above. */
export async function defaultQuality(channel, names) {
  if (names.includes("source")) return "source";
  let variants;
  try {
    variants = parseMaster(await getText(`/playlist/${q(channel)}.m3u8`)).filter((v) => names.includes(v.name));
  } catch {
    variants = []; // no recent video: judge by the names alone
  }
  if (!variants.length) variants = names.map((name) => ({ name, height: height(null, name) }));
  let best = variants[0];
  for (const v of variants) if (v.height > best.height) best = v;
  return best ? best.name : "";
}
