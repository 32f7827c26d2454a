// What the page remembers per browser (localStorage): volume, mute, speed and the time
// mode. Pure apart from the storage passed in, so node --test checks it with a fake.
import { knownRate } from "./speed.js";
import { TIMEBASES } from "./times.js";

const KEYS = {
  volume: "fastseg-editor-volume",
  muted: "fastseg-editor-muted",
  rate: "fastseg-editor-rate",
  timebase: "fastseg-editor-timebase",
};

/** {volume 0..1, muted, rate, timebase}: what `storage` holds, or the defaults (sound on, 1x, UTC). */
export function loadPrefs(storage) {
  const volume = Number.parseFloat(storage.getItem(KEYS.volume) ?? "");
  const timebase = storage.getItem(KEYS.timebase);
  return {
    volume: Number.isFinite(volume) && volume >= 0 && volume <= 1 ? volume : 1,
    muted: storage.getItem(KEYS.muted) === "true",
    rate: knownRate(storage.getItem(KEYS.rate) ?? 1),
    timebase: TIMEBASES.includes(timebase) ? timebase : "utc",
  };
}

/** Remember one of them: `name` is volume, muted, rate or timebase. */
export function savePref(storage, name, value) {
  if (!(name in KEYS)) throw new Error(`no preference ${JSON.stringify(name)}`);
  storage.setItem(KEYS[name], String(value));
}
