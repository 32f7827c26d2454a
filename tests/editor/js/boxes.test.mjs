import assert from "node:assert/strict";
import { test } from "node:test";

import {
  MIN_SIDE, dragBox, fitBox, formatBox, handleAt, parseBox, toScreen,
} from "../../../services/restreamer/static/editor/boxes.js";

test("a box is four whole pixels, right past left and bottom below top", () => {
  assert.deepEqual(parseBox("0,0,1280,720"), [0, 0, 1280, 720]);
  assert.deepEqual(parseBox(" 10, 20 ,30,40 "), [10, 20, 30, 40]);
  assert.equal(formatBox([1, 2.4, 3.6, 4]), "1,2,4,4");
});

test("bad boxes say what is wrong, naming the field", () => {
  assert.throws(() => parseBox("1,2,3", "crop"), /^Error: crop "1,2,3" is not four whole pixels/);
  assert.throws(() => parseBox("a,b,c,d", "crop"), /is not four whole pixels/);
  assert.throws(() => parseBox("-1,0,5,5", "crop"), /is not four whole pixels/);
  assert.throws(() => parseBox("10,0,5,5", "placement"), /^Error: placement 10,0,5,5 is not a box/);
  assert.throws(() => parseBox("0,5,5,5"), /bottom below top/);
});

test("fitting a box into a picture moves it in, and shrinks it only if it must", () => {
  assert.deepEqual(fitBox([300, 100, 400, 200], 320, 180), [220, 80, 320, 180]);
  assert.deepEqual(fitBox([-10, -5, 90, 45], 320, 180), [0, 0, 100, 50]);
  assert.deepEqual(fitBox([0, 0, 500, 300], 320, 180), [0, 0, 320, 180]);
});

test("what the pointer grabs: the corner resizes, the inside moves", () => {
  const box = [10, 10, 110, 60];
  assert.equal(handleAt(box, 108, 58), "resize");
  assert.equal(handleAt(box, 50, 30), "move");
  assert.equal(handleAt(box, 200, 30), null);
  assert.equal(handleAt(box, 122, 72, 12), "resize"); // the grip reaches a little outside
});

test("moving keeps the size and stays within the picture", () => {
  assert.deepEqual(dragBox([10, 10, 110, 60], "move", 20, 5, 320, 180), [30, 15, 130, 65]);
  assert.deepEqual(dragBox([10, 10, 110, 60], "move", 500, 500, 320, 180), [220, 130, 320, 180]);
  assert.deepEqual(dragBox([10, 10, 110, 60], "move", -50, -50, 320, 180), [0, 0, 100, 50]);
});

test("resizing moves the corner, never past the picture nor below the smallest box", () => {
  assert.deepEqual(dragBox([10, 10, 110, 60], "resize", 40, 20, 320, 180), [10, 10, 150, 80]);
  assert.deepEqual(dragBox([10, 10, 110, 60], "resize", 999, 999, 320, 180), [10, 10, 320, 180]);
  assert.deepEqual(dragBox([10, 10, 110, 60], "resize", -999, -999, 320, 180), [10, 10, 10 + MIN_SIDE, 10 + MIN_SIDE]);
});

test("resizing with an aspect keeps the shape, even at the picture's edge", () => {
  assert.deepEqual(dragBox([0, 0, 160, 90], "resize", 160, 0, 1280, 720, 16 / 9), [0, 0, 320, 180]);
  assert.deepEqual(dragBox([0, 600, 160, 690], "resize", 640, 0, 1280, 720, 16 / 9), [0, 600, 213, 720]);
});

test("an unknown handle changes nothing", () => {
  assert.deepEqual(dragBox([1, 2, 3, 4], null, 5, 5, 10, 10), [1, 2, 3, 4]);
});

test("a box on screen is scaled", () => {
  assert.deepEqual(toScreen([10, 20, 110, 70], 0.5), { left: 5, top: 10, width: 50, height: 25 });
});
