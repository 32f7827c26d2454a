import assert from "node:assert/strict";
import { test } from "node:test";

import { followChanges, parseChange } from "../../../services/restreamer/static/editor/changes.js";

test("a change message gives the event's id, state, version and row", () => {
  const row = { id: "e1", state: "DONE", version: 4 };
  assert.deepEqual(parseChange(JSON.stringify({ id: "e1", state: "DONE", version: 4, event: row })),
    { id: "e1", state: "DONE", version: 4, event: row });
  assert.deepEqual(parseChange('{"id": "e1", "state": "EDITED", "version": 2}'),
    { id: "e1", state: "EDITED", version: 2, event: null });
});

test("anything else is no change", () => {
  for (const text of ["", "nope", "[]", "null", '{"id": 1, "state": "DONE"}', '{"id": "e1"}']) {
    assert.equal(parseChange(text), null, text);
  }
});

test("without EventSource the page polls", () => {
  const changes = followChanges(() => assert.fail("no change"), () => assert.fail("no resync"));
  assert.equal(changes.live(), false);
  changes.close();
});
