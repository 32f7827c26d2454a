import assert from "node:assert/strict";
import { test } from "node:test";

import { CONCURRENCY, pictureLoader, retryAfter } from "../../../services/restreamer/static/editor/picture_loader.js";

// A restreamer's answers as fetch gives them: a status, a Retry-After, a body.
function answer(status, retry) {
  return {
    ok: status === 200,
    status,
    headers: { get: (name) => (name === "Retry-After" ? retry ?? null : null) },
    blob: async () => `picture ${status}`,
  };
}

test("Retry-After is read in seconds, capped, and 1 when absent or unreadable", () => {
  assert.equal(retryAfter("5"), 5);
  assert.equal(retryAfter("0.5"), 0.5);
  assert.equal(retryAfter("3600"), 30);
  assert.equal(retryAfter(null), 1);
  assert.equal(retryAfter("Wed, 21 Oct 2026 07:28:00 GMT"), 1);
  assert.equal(retryAfter("-3"), 1);
});

test("no more than two pictures are asked for at once", async () => {
  let inFlight = 0;
  let most = 0;
  const fetchFn = async () => {
    most = Math.max(most, ++inFlight);
    await new Promise((done) => setImmediate(done));
    inFlight--;
    return answer(200);
  };
  const loader = pictureLoader({ fetchFn, sleep: async () => {} });
  const got = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => loader.load(`/thumbnail/${i}`)));
  assert.equal(got.length, 7);
  assert.equal(most, CONCURRENCY);
  assert.equal(loader.pending, 0);
});

test("a busy answer is asked again after its Retry-After; other refusals are final", async () => {
  const answers = { "/a": [answer(429, "2"), answer(503, "1"), answer(200)], "/b": [answer(404)] };
  const slept = [];
  const loader = pictureLoader({
    fetchFn: async (url) => answers[url].shift(),
    sleep: async (ms) => { slept.push(ms); },
  });
  assert.equal(await loader.load("/a"), "picture 200");
  assert.deepEqual(slept, [2000, 1000]);
  await assert.rejects(loader.load("/b"), /404 for \/b/);
});

test("a picture still busy after the last retry is given up", async () => {
  let asked = 0;
  const loader = pictureLoader({
    fetchFn: async () => { asked++; return answer(429, "0"); },
    sleep: async () => {},
    retries: 3,
  });
  await assert.rejects(loader.load("/c"), /429/);
  assert.equal(asked, 4);
});
