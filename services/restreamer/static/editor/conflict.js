// What the page says about a refused change: a 409 whose body has `conflict` (the
// event was written since the version the change was based on), and a busy node.
// Pure, so node --test checks the wording.

/** One paragraph naming who changed what and when, from a 409's JSON body; null if not a version conflict. */
export function describeConflict(body) {
  const c = body?.conflict;
  if (!c) return null;
  const changed = (c.changed ?? []).filter((name) => !name.startsWith("draft_")).join(", ") || "something";
  const who = c.changed_by || "someone";
  const when = c.changed_at ? ` at ${c.changed_at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}` : "";
  return `${who} changed this event${when} (${changed}) since you opened it ` +
    `(version ${c.your_version}, now ${c.version}). Reload it to see their change, ` +
    "or overwrite it with yours.";
}

/** The message for a 503 or 429 answer with its Retry-After header (seconds), else null. */
export function busyText(status, retryAfter) {
  if (status !== 503 && status !== 429) return null;
  const seconds = Number.parseInt(retryAfter ?? "", 10);
  return `the node is busy, try again in ${Number.isFinite(seconds) && seconds >= 0 ? seconds : 10} s`;
}
