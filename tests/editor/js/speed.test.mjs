import assert from "node:assert/strict";
import { test } from "node:test";

import { RATES, doubled, faster, knownRate, slower } from "../../../services/restreamer/static/editor/speed.js";

test("the rates", () => {
  assert.deepEqual(RATES, [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 4, 8]);
});

test("faster and slower step through them and stop at the ends", () => {
  assert.equal(faster(1), 1.25);
  assert.equal(faster(2), 4);
  assert.equal(faster(4), 8);
  assert.equal(faster(8), 8);
  assert.equal(slower(1), 0.75);
  assert.equal(slower(4), 2);
  assert.equal(slower(0.25), 0.25);
  assert.equal(faster(1.1), 1.25); // a rate set elsewhere goes to the next of ours
  assert.equal(slower(1.1), 1);
});

test("+ is 2x, or the top rate from 2x up", () => {
  assert.equal(doubled(1), 2);
  assert.equal(doubled(0.25), 2);
  assert.equal(doubled(2), 8);
  assert.equal(doubled(4), 8);
});

test("a remembered rate must be one of ours", () => {
  assert.equal(knownRate("1.5"), 1.5);
  assert.equal(knownRate("3"), 1);
  assert.equal(knownRate("fast"), 1);
  assert.equal(knownRate(null), 1);
});
