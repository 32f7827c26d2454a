// Playing a clip of several ranges as it will be cut: each range from its start, and at
// its end a jump to the next range's start, pausing at the last range's end. A join's
// fade or crossfade is shown only as the jump: the blend exists only in the cut. The
// player's "frame" events (one per frame shown) drive the jumps. Any seek we did not
// make (a key, the bar, a time typed), a pause, or stop ends the preview.
import { formatDuration } from "./times.js";

const SECOND = 1_000_000; // µs
const EARLY = 0.1; // s: a frame shown this far before a range's start is not yet the range's
const LATE = 0.5; // s: nor one this far past its end (both: a frame from before our jump)

export const PREVIEW_TITLE =
  "play the whole clip as it will be cut: each range in order, jumping at each join " +
  "(a fade or crossfade shows here as a plain jump: the blend itself is only in the cut)";

/**
 * The preview's controls (status line and stop button), appended to `box`.
 * `page.toText` formats a stream time, for the message about a range not loaded.
 */
export function initClipPreview(player, box, page) {
  const video = player.video;
  let plan = null; // while previewing: { ranges, transitions, total, k, window, seekTo }
  // (window: the media times where range k's first frame can be; null once it was shown)

  const status = document.createElement("span");
  status.id = "clip-preview-status";
  status.className = "clip-preview-status";
  status.setAttribute("role", "status");
  status.hidden = true;
  const stopButton = document.createElement("button");
  stopButton.type = "button";
  stopButton.textContent = "stop";
  stopButton.title = "stop previewing the clip";
  stopButton.hidden = true;
  stopButton.addEventListener("click", () => stop(true));
  stopButton.addEventListener("click", (e) => e.detail > 0 && stopButton.blur());
  box.append(stopButton, status);

  /** End the preview; `pause` the video too (stop pressed, or the clip's end). */
  function stop(pause = false) {
    if (!plan) return;
    plan = null;
    status.hidden = true;
    stopButton.hidden = true;
    if (pause) video.pause();
  }

  /** Where range k begins in the cut (µs): the ranges before it, less their joins' overlaps. */
  function offset(k) {
    let us = 0;
    for (let i = 0; i < k; i++) {
      const r = plan.ranges[i];
      const t = plan.transitions[i];
      us += r.end - r.start - (t ? t.seconds * SECOND : 0);
    }
    return us;
  }

  function show(now) {
    const { k, ranges, total } = plan;
    const r = ranges[k];
    const into = Math.min(Math.max(0, now - r.start), r.end - r.start);
    status.textContent =
      `range ${k + 1} of ${ranges.length} · ` +
      `${formatDuration(Math.min(total, offset(k) + into))} of ${formatDuration(total)}`;
  }

  function enter(k) {
    plan.k = k;
    const r = plan.ranges[k];
    // Frames outside this window are ones shown before our seek took effect.
    plan.window = [player.streamToMedia(r.start) - EARLY, player.streamToMedia(r.end) + LATE];
    show(r.start);
    player.seekStream(r.start);
    plan.seekTo = video.currentTime; // what a "seeking" event of ours reports
  }

  video.addEventListener("seeking", () => {
    if (plan && Math.abs(video.currentTime - plan.seekTo) > 1e-6) stop();
  });
  video.addEventListener("pause", () => stop());
  video.addEventListener("emptied", () => stop()); // another range was loaded

  player.addEventListener("frame", () => {
    if (!plan || video.seeking) return;
    const media = player.frameMedia ?? video.currentTime;
    if (plan.window) {
      if (media < plan.window[0] || media > plan.window[1]) return; // not ours yet
      plan.window = null; // range k is on screen: later frames may skip (a busy machine drops)
    }
    const now = player.streamTime();
    if (now === null) return;
    if (now < plan.ranges[plan.k].end) {
      show(now);
    } else if (plan.k + 1 < plan.ranges.length) {
      enter(plan.k + 1);
    } else {
      show(now);
      stop(true); // on the first frame at or after the clip's end, as the one-range preview
    }
  });

  /** The loaded video's first and last stream times (µs), or null if nothing is loaded. */
  function loaded() {
    const segs = player.segments;
    if (!segs.length) return null;
    const last = segs[segs.length - 1];
    return { start: segs[0].start, end: last.start + last.duration };
  }

  return {
    /**
     * Play `ranges` ([{start, end}] µs, in clip order) joined as the cut joins them;
     * `total` (µs) is the cut's duration, shown with the range being played.
     */
    start(ranges, transitions, total) {
      const span = loaded();
      if (!span) throw new Error("load some video first: there is nothing to preview");
      ranges.forEach((r, i) => {
        if (r.start < span.start || r.end > span.end) {
          throw new Error(
            `range ${i + 1} (${page.toText(r.start)} to ${page.toText(r.end)}) is outside ` +
              "the loaded video: load a span that covers the whole clip, then preview again",
          );
        }
      });
      stop(); // a preview already running starts again
      player.stopAt = null; // a one-range preview in progress would pause us
      plan = { ranges, transitions, total, k: 0, window: null, seekTo: null };
      status.hidden = false;
      stopButton.hidden = false;
      enter(0);
      video.play().catch((err) => {
        if (err.name !== "AbortError") page.fail(err); // AbortError: paused before it began
      });
    },
    stop,
  };
}
