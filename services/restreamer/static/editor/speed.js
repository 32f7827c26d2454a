// Playback rates: the list an editor steps through (wubloader's), and the rules of the
// keys that change the rate. Pure, so node --test checks it (tests/editor/js/).

export const RATES = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 4, 8];

/** The next rate up from `rate` (the top one stays). */
export function faster(rate) {
  return RATES.find((r) => r > rate + 1e-9) ?? RATES[RATES.length - 1];
}

/** The next rate down from `rate` (the slowest stays). */
export function slower(rate) {
  return [...RATES].reverse().find((r) => r < rate - 1e-9) ?? RATES[0];
}

/** `+`: 2x, or the top rate if already at 2x or more. */
export function doubled(rate) {
  return rate >= 2 - 1e-9 ? RATES[RATES.length - 1] : 2;
}

/** A remembered rate if it is one of ours, else 1. */
export function knownRate(value) {
  const rate = Number(value);
  return RATES.includes(rate) ? rate : 1;
}
