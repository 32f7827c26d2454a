// Pictures that cost the restreamer an ffmpeg (thumbnails, the waveform), asked for as a
// polite client does: at most two at a time, the restreamer's per-client cap of ffmpeg
// jobs (docs/DESIGN.md#costly-routes), and a 429 or 503 asked again after its
// Retry-After. An <img> given the URL itself would be refused past the cap, and a
// browser opens six connections per host.

export const CONCURRENCY = 2; // the restreamer's --ffmpeg-jobs-per-client default
export const RETRIES = 6; // then the picture is given up (its <img> shows nothing)
const MAX_WAIT = 30; // s: a Retry-After longer than this is not waited out

// Seconds to wait before asking again, from a Retry-After header (seconds only: the
// restreamer sends no dates); 1 when it is missing or not a number.
export function retryAfter(header) {
  const seconds = Number.parseFloat(header ?? "");
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, MAX_WAIT) : 1;
}

// A loader: load(url) resolves to the picture's Blob, or rejects with the status that
// refused it. `fetchFn` and `sleep` are the page's fetch and a timer (tests pass fakes).
export function pictureLoader({ fetchFn, sleep, concurrency = CONCURRENCY, retries = RETRIES }) {
  const waiting = [];
  let running = 0;

  async function attempt(url) {
    for (let tries = 0; ; tries++) {
      const answer = await fetchFn(url);
      if (answer.ok) return answer.blob();
      const busy = answer.status === 429 || answer.status === 503;
      if (!busy || tries >= retries) throw new Error(`${answer.status} for ${url}`);
      await sleep(retryAfter(answer.headers.get("Retry-After")) * 1000);
    }
  }

  function next() {
    while (running < concurrency && waiting.length) {
      const { url, resolve, reject } = waiting.shift();
      running++;
      attempt(url).then(resolve, reject).finally(() => { running--; next(); });
    }
  }

  return {
    load(url) {
      return new Promise((resolve, reject) => { waiting.push({ url, resolve, reject }); next(); });
    },
    get pending() { return waiting.length + running; },
  };
}

let shared = null;

// Show the picture at `url` in `img` through the page's one loader; `onError` when it is
// refused or missing. The blob's URL is freed once the <img> has it.
export function showPicture(img, url, onError = () => {}) {
  shared ??= pictureLoader({
    fetchFn: (u) => fetch(u),
    sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
  });
  shared.load(url).then((blob) => {
    const local = URL.createObjectURL(blob);
    img.addEventListener("load", () => URL.revokeObjectURL(local), { once: true });
    img.src = local;
  }, onError);
}
