// The player: hls.js on a <video>, and the mapping between the video element's
// media time and the stream's own time (EXT-X-PROGRAM-DATE-TIME), to the frame.
//
// A segment's PROGRAM-DATE-TIME is the time of its first video frame (the
// keyframe it starts with). hls.js lays the segments end to end on one media
// timeline (closing the gaps at holes) and records, once a segment is buffered,
// where its first video frame landed (elementaryStreams.video.startPTS). So a
// frame's stream time is its segment's date plus how far the frame is past that
// first frame. requestVideoFrameCallback tells us the media time of the frame
// actually on screen, which currentTime (a position between frames) does not.
import Hls from "./vendor/hls.light.min.mjs";
import { SECOND } from "./times.js";

const DEFAULT_FRAME = 1 / 30; // seconds, until frames have been seen playing
const NUDGE = 0.001; // seconds: far above float error (µs), far below a frame (>= 4 ms)

export class Player extends EventTarget {
  constructor(video) {
    super();
    this.video = video;
    this.hls = null;
    this.segments = [];
    this.frameMedia = null; // media time of the frame on screen
    this.frameDuration = DEFAULT_FRAME;
    this.stopAt = null; // stream time (µs) at which a preview pauses
    this.autoMuted = false; // muted by the browser's autoplay rule until a click or key
    this._watchFrames();
    video.addEventListener("seeked", () => this._changed());
    video.addEventListener("timeupdate", () => this._changed());
  }

  /** Play a media playlist whose segments (parsed by playlist.js) are `segments`. */
  load(url, segments) {
    this.destroy();
    this.segments = segments;
    this.frameMedia = null;
    this.stopAt = null;
    if (Hls.isSupported()) {
      // Transmuxing in the page rather than a worker: the ESM build has no inline
      // worker, and the editor plays one stream at a time.
      this.hls = new Hls({
        enableWorker: false,
        backBufferLength: 120,
        // A range that reaches past what is recorded has no ENDLIST, and hls.js would
        // start such a "live" playlist near its end: an editor starts at the beginning.
        startPosition: 0,
      });
      this.hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal) {
          this._error(`the player stopped: ${data.type} ${data.details}` +
            (data.response ? ` (HTTP ${data.response.code})` : ""));
        }
      });
      this.hls.loadSource(url);
      this.hls.attachMedia(this.video);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = url; // Safari: native HLS, times from the playlist alone
    } else {
      this._error("this browser can play neither HLS nor Media Source Extensions");
    }
  }

  destroy() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
    this.video.removeAttribute("src");
  }

  _error(message) {
    this.dispatchEvent(new CustomEvent("error", { detail: message }));
  }

  _changed() {
    this.dispatchEvent(new Event("frame"));
  }

  _watchFrames() {
    const video = this.video;
    if (!("requestVideoFrameCallback" in HTMLVideoElement.prototype)) return;
    const onFrame = (_now, meta) => {
      const previous = this.frameMedia;
      this.frameMedia = meta.mediaTime;
      // The shortest step between frames shown while playing is one frame.
      const step = meta.mediaTime - previous;
      if (!video.paused && previous !== null && step > 0.001 && step < this.frameDuration - 0.0005) {
        this.frameDuration = step;
      }
      if (this.stopAt !== null && this.streamTime() >= this.stopAt) {
        this.stopAt = null;
        video.pause();
      }
      this._changed();
      video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  }

  /** The hls.js fragments of the playing level, with our parsed segment for each. */
  _fragments() {
    const level = this.hls?.levels?.[Math.max(this.hls.currentLevel, 0)];
    const frags = level?.details?.fragments ?? [];
    const first = level?.details?.startSN ?? 0;
    return frags.map((frag) => ({
      segment: this.segments[frag.sn - first],
      // Where the segment's first video frame is on the media timeline.
      media: frag.elementaryStreams?.video?.startPTS ?? frag.start,
    })).filter((f) => f.segment);
  }

  /** Stream time (µs) of a media time, or null before anything is loaded. */
  mediaToStream(media) {
    const frags = this._fragments();
    if (!frags.length) {
      const date = this.video.getStartDate?.();
      return date && !isNaN(date) ? date.getTime() * 1000 + Math.round(media * SECOND) : null;
    }
    let found = frags[0];
    for (const f of frags) {
      if (f.media <= media + 1e-6) found = f;
      else break;
    }
    // Whole milliseconds, rounded down: the cutter keeps the first frame at or after a
    // start, and a frame's exact time is a multiple of 1/90 ms (MPEG-TS's 90 kHz clock)
    // past its segment's, so this never lands past the frame on screen. The 1 µs absorbs
    // float error in times that are whole milliseconds.
    const ms = Math.floor((media - found.media) * 1000 + 0.001);
    return found.segment.start + ms * 1000;
  }

  /** Media time of a stream time (µs); a time in a hole goes to the video after it. */
  streamToMedia(us) {
    const frags = this._fragments();
    for (const f of frags) {
      if (us < f.segment.start + f.segment.duration) {
        return f.media + Math.max(0, us - f.segment.start) / SECOND;
      }
    }
    return frags.length ? frags[frags.length - 1].media + frags[frags.length - 1].segment.duration / SECOND : 0;
  }

  /** Stream time of the frame on screen (µs), or null. */
  streamTime() {
    const media = this.frameMedia ?? this.video.currentTime;
    return this.mediaToStream(media);
  }

  /** Show the frame `n` frames on (back if negative), paused. */
  stepFrames(n) {
    const video = this.video;
    video.pause();
    this.stopAt = null;
    const shown = this._pendingFrame ?? this.frameMedia ?? video.currentTime;
    const d = this.frameDuration;
    // Just past the wanted frame's start: a seek shows the last frame starting at or
    // before its target. Aiming near the start rather than mid-frame keeps a wrong
    // guess of the frame rate (before any playing) from skipping more than it must.
    const target = Math.max(0, shown + n * d + NUDGE);
    this._pendingFrame = shown + n * d;
    video.currentTime = target;
    video.addEventListener("seeked", () => { this._pendingFrame = null; }, { once: true });
  }

  /** Seek by `seconds`, stopping at the loaded video's first and last frames. */
  seekBy(seconds) {
    const video = this.video;
    let end = Number.isFinite(video.duration) ? video.duration : null;
    const frags = this._fragments();
    if (frags.length) {
      const last = frags[frags.length - 1];
      end = last.media + last.segment.duration / SECOND;
    }
    let target = Math.max(0, video.currentTime + seconds);
    if (end !== null) target = Math.min(target, Math.max(0, end - this.frameDuration));
    video.currentTime = target;
  }

  /** Show the frame at stream time `us` (the first at or after it), paused unless playing. */
  seekStream(us) {
    // Past the <1 ms that stream times are rounded down by, and no further.
    this.video.currentTime = this.streamToMedia(us) + 2 * NUDGE;
  }

  /** Play [from, to) once: seek to its first frame, pause when `to` is reached. */
  preview(from, to) {
    this.seekStream(from);
    this.stopAt = to;
    this.play();
  }

  togglePlay() {
    this.stopAt = null;
    if (this.video.paused) this.play(); else this.video.pause();
  }

  /**
   * Play with sound. A browser that refuses sound without a click or key first (its
   * autoplay rule) gets muted playback, and the next click or key unmutes it.
   */
  play() {
    const video = this.video;
    return video.play().catch((err) => {
      if (err.name !== "NotAllowedError" || video.muted) {
        if (err.name !== "AbortError") this._error(`cannot play: ${err.message}`);
        return;
      }
      this.autoMuted = true; // not the editor's choice: not remembered
      video.muted = true;
      const unmute = () => {
        video.muted = false;
        this.autoMuted = false;
        for (const type of ["click", "keydown"]) document.removeEventListener(type, unmute, true);
      };
      for (const type of ["click", "keydown"]) document.addEventListener(type, unmute, true);
      return video.play().catch(() => {});
    });
  }

  /** Playback rate, kept when another range is loaded. */
  setRate(rate) {
    this.video.defaultPlaybackRate = rate;
    this.video.playbackRate = rate;
  }

  /** Seek to `fraction` (0..1) of [start, end) µs, the loaded range. */
  seekFraction(fraction, start, end) {
    this.seekStream(start + fraction * (end - start));
  }
}
