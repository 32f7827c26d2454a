// The events panel: the list by state, one event's sheet inputs and edit form,
// submitting the clip or saving it as a draft, and following its state until it is
// DONE or fails. Every change is sent with the version the form is based on
// (If-Match): a newer one is a 409, and the editor chooses to reload or overwrite.
// Leaving the page with unsaved changes asks first.
import { events } from "./api.js";
import { followChanges } from "./changes.js";
import { describeConflict } from "./conflict.js";
import { ask, confirmAction } from "./dialog.js";
import { preferredLocation, refreshLocations } from "./locations.js";
import { parseTags } from "./publishing.js";
import { initPublishing } from "./publishing_form.js";
import { SECOND, apiTime, formatDuration, formatUtc, parseUtc } from "./times.js";

const $ = (id) => document.getElementById(id);
const POLL = 2000; // ms between looks at a submitted event, without the change stream
const POLL_LIVE = 15000; // ms between those looks while the change stream is live (a safety net)
const LIST_AFTER = 300; // ms a burst of changes is gathered before the list is read again
const PAD = 30 * SECOND; // video shown either side of an event's sheet times
const LOCATIONS_KEY = "fastseg-editor-locations";

const SHEET = [
  ["category", "Category"], ["tags", "Tags"], ["event_start", "Start"], ["event_end", "End"],
  ["description", "Description"], ["submitter_winner", "Submitter/winner"],
  ["poster_moment", "Poster moment"], ["image_links", "Images"], ["notes", "Notes"],
  ["editor", "Last editor"], ["uploader", "Cutter"],
];

/** API time text (UTC, ending in Z) -> µs, or null. */
function apiUs(text) {
  return text ? parseUtc(text.replace(/Z$/, "")) : null;
}

export function initEvents(page) {
  let open = null; // the event shown in the form
  let base = null; // the version the form's inputs are based on (sent as If-Match)
  let dirty = false; // the form or the clip changed since it was loaded or saved
  let loading = false; // while we fill the form ourselves
  let poll = null;

  let lastClip = ""; // the clip as last seen, so a redraw that changes nothing is no change

  function markDirty() {
    if (open && !loading) dirty = true;
  }

  const publishing = initPublishing(page, markDirty);
  for (const id of ["ev-title", "ev-description", "ev-location", "ev-holes", "ev-tags", "ev-public", "ev-thumb"]) {
    $(id).addEventListener("input", markDirty);
    $(id).addEventListener("change", markDirty);
  }
  document.addEventListener("clipchange", () => {
    const { start, end } = page.clip();
    const now = `${start}-${end}`;
    if (now !== lastClip && !loading) markDirty();
    lastClip = now;
  });
  window.addEventListener("beforeunload", (e) => {
    if (!dirty) return;
    e.preventDefault();
    e.returnValue = ""; // older browsers ask only when this is set
  });

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  let listed = null; // the ids and versions the list shows, so a reload that changes nothing keeps it

  async function refresh() {
    const rows = await events.list($("state-filter").value);
    const list = $("event-list");
    const now = rows.map((row) => `${row.id}/${row.version}`).join(" ");
    if (now === listed && list.children.length) return; // no flicker, and no click lost mid-rebuild
    listed = now;
    list.replaceChildren(...rows.map((row) => {
      const li = element("li");
      li.dataset.id = row.id;
      li.classList.toggle("open", open?.id === row.id);
      const start = apiUs(row.event_start);
      li.append(
        element("span", "name", row.sheet_name),
        element("span", `badge ${row.state}`, row.state),
        element("span", "when", [row.category, start === null ? "" : `${formatUtc(start, 0)} UTC`]
          .filter(Boolean).join(" · ")),
      );
      if (row.error) li.append(element("span", "error", row.error));
      li.addEventListener("click", () => openEvent(row.id).catch(page.fail));
      return li;
    }));
    if (!rows.length) list.append(element("li", "when", "no events in this state"));
  }

  function show(row) {
    open = row;
    if (!dirty) base = row.version; // with unsaved changes, they stay based on what was loaded
    $("event-form").hidden = false;
    $("ev-name").textContent = row.sheet_name;
    $("ev-state").textContent = row.state;
    $("ev-state").className = `badge ${row.state}`;
    const link = $("ev-link");
    link.replaceChildren();
    if (row.video_link) {
      const a = element("a", "", "the video");
      a.href = row.video_link;
      a.target = "_blank";
      a.rel = "noopener";
      link.append(" · ", a);
    }
    $("ev-error").hidden = !row.error;
    $("ev-error").textContent = row.error ? `Error: ${row.error}` : "";
    const sheet = $("ev-sheet");
    sheet.replaceChildren();
    for (const [key, label] of SHEET) {
      let value = row[key];
      if (value === null || value === "" || value === false || (Array.isArray(value) && !value.length)) continue;
      if (key.startsWith("event_")) value = `${formatUtc(apiUs(value), 3)} UTC`;
      if (Array.isArray(value)) value = value.join(key === "tags" ? ", " : "\n");
      if (value === true) value = "yes";
      sheet.append(element("dt", "", label), element("dd", "", String(value)));
    }
    // A state a cutter holds is not the editor's to change.
    const busy = ["CLAIMED", "FINALIZING", "TRANSCODING", "DONE"].includes(row.state);
    $("ev-submit").disabled = busy;
    $("ev-cancel").disabled = !["EDITED", "CLAIMED"].includes(row.state);
    $("ev-reset").disabled = row.state === "UNEDITED" && !row.error;
    $("ev-reset").textContent = row.state === "DONE" ? "force reset (admin)" : "reset";
    $("ev-manual").disabled = !["UNEDITED", "EDITED", "FINALIZING"].includes(row.state);
    $("ev-draft-line").hidden = !row.draft;
    $("ev-draft-line").textContent = row.draft
      ? `draft saved by ${row.draft_editor} at ${formatUtc(apiUs(row.draft_time), 0)} UTC`
      : "";
    document.querySelectorAll("#event-list li").forEach((li) => {
      li.classList.toggle("open", li.dataset.id === row.id);
    });
    showClip();
  }

  function fillForm(fields, row) {
    $("ev-title").value = fields.video_title ?? row.sheet_name;
    $("ev-description").value = fields.video_description ?? row.description ?? "";
    $("ev-location").value = fields.upload_location ?? preferredLocation();
    $("ev-holes").checked = Boolean(fields.allow_holes);
    $("ev-manual-link").value = "";
    publishing.load(fields, apiUs); // the chapters read back from the description
    page.thumbnails?.load(fields);
  }

  /** Open event `id`: its draft if it has one, else its edit, else its sheet times. */
  async function openEvent(id) {
    if (dirty && !(await confirmAction("Unsaved changes",
      `Your changes to "${open.sheet_name}" are not saved. Open another event and lose them?`, "yes, lose them"))) {
      return;
    }
    stopPolling();
    const [row] = await Promise.all([events.get(id), refreshLocations()]);
    dirty = false;
    loading = true;
    try {
      show(row);
      base = row.version;
      const fields = row.draft ?? row; // a draft has the edit's field names
      fillForm(fields, row);
      const { start, end } = spanOf(fields);
      if (start !== null && end !== null) {
        // Edited (or drafted) before: show its clip with some video either side.
        await page.showRange(fields.video_channel ?? row.video_channel, fields.video_quality ?? row.video_quality,
          start - PAD, end + PAD);
        page.setClip?.(start, end);
        page.ranges?.load(fields, apiUs);
      } else if (row.event_start) {
        const from = apiUs(row.event_start);
        await page.showRange(null, null, from - PAD, (apiUs(row.event_end) ?? from) + PAD);
        page.ranges?.load({}, apiUs);
      }
    } finally {
      const { start, end } = page.clip();
      lastClip = `${start}-${end}`;
      loading = false;
    }
    if (row.draft) page.showMessage(`"${row.sheet_name}": restored the draft ${row.draft_editor} saved at ${formatUtc(apiUs(row.draft_time), 0)} UTC`);
    if (["EDITED", "CLAIMED", "FINALIZING", "TRANSCODING"].includes(row.state) && !row.error) follow();
  }

  /** The first start and last end of an edit's or a draft's ranges (µs or null). */
  function spanOf(fields) {
    const list = fields.video_ranges?.length ? fields.video_ranges : [[fields.video_start, fields.video_end]];
    return { start: apiUs(list[0][0]), end: apiUs(list[list.length - 1][1]) };
  }

  /**
   * Send a change based on the version the form was loaded at. A 409 naming a newer
   * version asks: reload (drop ours, show theirs) or overwrite (send again without it).
   * Resolves with the new row, or null when the editor chose to reload or neither.
   */
  async function send(action, body) {
    const id = open.id;
    try {
      return await events[action](id, body, base);
    } catch (err) {
      const why = err.status === 409 ? describeConflict(err.body) : null;
      if (!why) throw err;
      const choice = await ask("Someone else changed this event", why, [
        { value: "reload", label: "reload (lose my changes)" },
        { value: "overwrite", label: "overwrite with mine" },
      ]);
      if (choice === "overwrite") return events[action](id, body, null);
      if (choice === "reload") {
        dirty = false;
        await openEvent(id);
        page.showMessage(`"${open.sheet_name}" reloaded: version ${open.version}, as ${err.body.conflict.changed_by} left it`);
      }
      return null;
    }
  }

  /** Whatever the form and the clip hold, as a draft's body (nothing is required). */
  function draftBody() {
    const { start, end, channel, quality } = page.clip();
    const body = {
      video_title: $("ev-title").value,
      video_description: $("ev-description").value,
      video_channel: channel || null,
      video_quality: quality || null,
      upload_location: $("ev-location").value.trim() || null,
      allow_holes: $("ev-holes").checked,
      ...publishing.body(apiTime),
    };
    const list = (page.ranges?.list() ?? [{ start, end }]).filter((r) => r.start !== null && r.end !== null);
    if (list.length > 1) {
      body.video_ranges = list.map((r) => [apiTime(r.start), apiTime(r.end)]);
      body.video_transitions = page.ranges.transitions().slice(0, list.length - 1);
    } else if (list.length === 1) {
      body.video_start = apiTime(list[0].start);
      body.video_end = apiTime(list[0].end);
    }
    if (!body.video_title.trim()) delete body.video_title;
    Object.assign(body, page.thumbnails?.draft() ?? {});
    return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  }

  $("ev-draft").addEventListener("click", () => {
    send("draft", draftBody()).then((row) => {
      if (!row) return;
      dirty = false;
      show(row);
      page.showMessage(`"${row.sheet_name}": draft saved; it stays ${row.state} until you submit it`);
    }).catch(page.fail);
  });

  function showClip() {
    const { start, end, channel, quality } = page.clip();
    $("ev-clip").textContent = start !== null && end !== null && end > start
      ? `${page.toText(start)} to ${page.toText(end)} (${formatDuration(end - start)}) of ${channel}/${quality}`
      : "set start and end on the player ([ and ])";
  }

  document.addEventListener("clipchange", showClip);

  function stopPolling() {
    if (poll !== null) clearTimeout(poll);
    poll = null;
    following = null;
  }

  let following = null; // the id of the submitted event being followed to its end

  /** Show a newer row of the followed event; true once it is DONE, failed or given back. */
  function followed(row) {
    if (open?.id !== row.id || following !== row.id) return true;
    if (row.version < open.version) return false; // an older answer overtaken by the stream
    show(row);
    if (row.state === "DONE") {
      page.showMessage(`"${row.video_title}" is done: ${row.video_link}`);
    } else if (row.error) {
      page.showMessage(`"${row.sheet_name}": ${row.error}`, true);
    } else if (row.state !== "UNEDITED") {
      return false;
    } // UNEDITED: cancelled, by us or someone else
    following = null;
    stopPolling();
    refresh().catch(page.fail);
    return true;
  }

  /** Follow the open event until it is DONE, failed or given back: by the stream, else polling. */
  function follow() {
    stopPolling();
    const id = open.id;
    following = id;
    const tick = async () => {
      poll = null;
      try {
        if (followed(await events.get(id))) return;
      } catch (err) {
        page.fail(err); // keep looking: the restreamer may be back in a moment
      }
      if (following === id) poll = setTimeout(tick, changes.live() ? POLL_LIVE : POLL);
    };
    poll = setTimeout(tick, changes.live() ? POLL_LIVE : POLL);
  }

  let listing = null;
  function refreshSoon() {
    if (listing === null) {
      listing = setTimeout(() => {
        listing = null;
        refresh().catch(page.fail);
      }, LIST_AFTER);
    }
  }

  /** A change from the stream: the open event's form and the list's badge at once. */
  function changed(change) {
    const li = document.querySelector(`#event-list li[data-id="${CSS.escape(change.id)}"]`);
    const badge = li?.querySelector(".badge");
    if (badge) {
      badge.textContent = change.state;
      badge.className = `badge ${change.state}`;
    }
    if (change.event && open?.id === change.id && change.version > open.version) {
      if (following === change.id) {
        followed(change.event);
      } else {
        // Only the state: the form stays based on the version it loaded, so a submit
        // over someone else's change is still a 409 for the editor to settle.
        $("ev-state").textContent = change.state;
        $("ev-state").className = `badge ${change.state}`;
      }
    }
    refreshSoon(); // new events, errors, the state filter
  }

  const changes = followChanges(changed, refreshSoon);

  function rememberLocation(location) {
    const known = (localStorage.getItem(LOCATIONS_KEY) || "").split("\n").filter(Boolean);
    const all = [location, ...known.filter((l) => l !== location)].slice(0, 10);
    localStorage.setItem(LOCATIONS_KEY, all.join("\n"));
  }

  $("event-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const { start, end, channel, quality } = page.clip();
    if (start === null || end === null) {
      page.fail(new Error("set start and end on the player first ([ and ])"));
      return;
    }
    if (end <= start) {
      page.fail(new Error("the end is not after the start: the clip would be empty"));
      return;
    }
    const body = {
      video_start: apiTime(start),
      video_end: apiTime(end),
      video_title: $("ev-title").value,
      video_description: $("ev-description").value,
      video_channel: channel,
      video_quality: quality,
      upload_location: $("ev-location").value.trim(),
      allow_holes: $("ev-holes").checked,
      ...publishing.body(apiTime),
    };
    let several = null;
    try {
      several = page.ranges?.body(apiTime) ?? null;
      Object.assign(body, page.thumbnails?.body() ?? {});
    } catch (err) {
      page.fail(err);
      return;
    }
    if (several) {
      delete body.video_start;
      delete body.video_end;
      Object.assign(body, several);
    }
    const length = several ? page.ranges.total() : end - start;
    send("edit", body).then((row) => {
      if (!row) return;
      dirty = false;
      rememberLocation(body.upload_location);
      show(row);
      page.showMessage(`submitted "${row.video_title}" (${formatDuration(length)}): ${row.state}, waiting for a cutter`);
      refresh().catch(page.fail);
      follow();
    }).catch(page.fail);
  });

  /** Ask, then send an operator's change; `body` and the wording depend on the event. */
  async function operate(action, body, question, label, done) {
    if (!(await confirmAction(question, `"${open.sheet_name}" is ${open.state}.`, label))) return;
    const row = await send(action, body);
    if (!row) return;
    stopPolling();
    dirty = false;
    show(row);
    page.showMessage(`"${row.sheet_name}": ${done}`);
    refresh().catch(page.fail);
  }

  $("ev-cancel").addEventListener("click", () => {
    operate("cancel", undefined, "Cancel the upload?", "yes, cancel it", "edit cancelled").catch(page.fail);
  });
  $("ev-reset").addEventListener("click", () => {
    const force = open.state === "DONE";
    operate("reset", force ? { force: true } : undefined,
      force ? "Reset a DONE event? Its video is forgotten (not deleted) and it can be cut again. Admins only."
        : "Reset the event? Its error and any video are cleared.",
      force ? "yes, force the reset" : "yes, reset it", "reset: edit it afresh").catch(page.fail);
  });
  $("ev-manual").addEventListener("click", () => {
    const link = $("ev-manual-link").value.trim();
    if (!link) {
      page.fail(new Error("paste the link of the video uploaded by hand first"));
      return;
    }
    operate("manualUpload", { video_link: link }, `Mark it DONE with ${link}?`, "yes, it is uploaded there",
      `marked DONE: ${link}`).catch(page.fail);
  });

  $("new-event").addEventListener("click", () => {
    $("new-form").hidden = !$("new-form").hidden;
  });

  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = {
      sheet_name: $("new-name").value, category: $("new-category").value, notes: $("new-notes").value,
      tags: parseTags($("new-tags").value),
    };
    const { start } = page.clip();
    if (start !== null) body.event_start = apiTime(start);
    events.add(body).then((row) => {
      $("new-form").hidden = true;
      $("new-form").reset();
      page.showMessage(`added "${row.sheet_name}"`);
      return refresh().then(() => openEvent(row.id));
    }).catch(page.fail);
  });

  $("state-filter").addEventListener("change", () => refresh().catch(page.fail));
  $("refresh").addEventListener("click", () => refresh().catch(page.fail));

  refreshLocations();
  refresh().catch((err) => {
    if (err.status === 404) {
      $("event-list").replaceChildren(element("li", "when",
        "this restreamer runs with --no-db, so it has no events API: start it without to edit events"));
    } else {
      page.fail(err);
    }
  });
  return { open: openEvent, refresh, openId: () => open?.id ?? null, isDirty: () => dirty };
}
