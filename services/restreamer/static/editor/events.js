// The events panel: the list by state, one event's sheet inputs and edit form,
// submitting the clip, and following its state until it is DONE or fails.
import { events } from "./api.js";
import { preferredLocation, refreshLocations } from "./locations.js";
import { SECOND, apiTime, formatDuration, formatUtc, parseUtc } from "./times.js";

const $ = (id) => document.getElementById(id);
const POLL = 2000; // ms between looks at a submitted event
const PAD = 30 * SECOND; // video shown either side of an event's sheet times
const LOCATIONS_KEY = "fastseg-editor-locations";

const SHEET = [
  ["category", "Category"], ["event_start", "Start"], ["event_end", "End"],
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
  let poll = null;

  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  async function refresh() {
    const rows = await events.list($("state-filter").value);
    const list = $("event-list");
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
      if (Array.isArray(value)) value = value.join("\n");
      if (value === true) value = "yes";
      sheet.append(element("dt", "", label), element("dd", "", String(value)));
    }
    // A state a cutter holds is not the editor's to change.
    const busy = ["CLAIMED", "FINALIZING", "TRANSCODING", "DONE"].includes(row.state);
    $("ev-submit").disabled = busy;
    $("ev-cancel").disabled = !["EDITED", "CLAIMED"].includes(row.state);
    $("ev-reset").disabled = row.state === "DONE" || (row.state === "UNEDITED" && !row.error);
    document.querySelectorAll("#event-list li").forEach((li) => {
      li.classList.toggle("open", li.dataset.id === row.id);
    });
    showClip();
  }

  function fillForm(row) {
    $("ev-title").value = row.video_title ?? row.sheet_name;
    $("ev-description").value = row.video_description ?? row.description ?? "";
    $("ev-location").value = row.upload_location ?? preferredLocation();
    $("ev-holes").checked = Boolean(row.allow_holes);
  }

  async function openEvent(id) {
    stopPolling();
    const [row] = await Promise.all([events.get(id), refreshLocations()]);
    show(row);
    fillForm(row);
    const start = apiUs(row.video_start);
    const end = apiUs(row.video_end);
    if (start !== null && end !== null) {
      // Edited before: show its clip with some video either side.
      await page.showRange(row.video_channel, row.video_quality, start - PAD, end + PAD);
      page.setClip?.(start, end);
      page.ranges?.load(row, apiUs);
    } else if (row.event_start) {
      const from = apiUs(row.event_start);
      await page.showRange(null, null, from - PAD, (apiUs(row.event_end) ?? from) + PAD);
    }
    if (["EDITED", "CLAIMED", "FINALIZING", "TRANSCODING"].includes(row.state) && !row.error) follow();
  }

  function showClip() {
    const { start, end, channel, quality } = page.clip();
    $("ev-clip").textContent = start !== null && end !== null && end > start
      ? `${page.toText(start)} to ${page.toText(end)} (${formatDuration(end - start)}) of ${channel}/${quality}`
      : "set in and out on the player (i and o)";
  }

  document.addEventListener("clipchange", showClip);

  function stopPolling() {
    if (poll !== null) clearTimeout(poll);
    poll = null;
  }

  /** Look at the open event every POLL ms until it is DONE, failed or given back. */
  function follow() {
    stopPolling();
    const id = open.id;
    const tick = async () => {
      poll = null;
      try {
        const row = await events.get(id);
        if (open?.id !== id) return;
        show(row);
        if (row.state === "DONE") {
          page.showMessage(`"${row.video_title}" is done: ${row.video_link}`);
          refresh().catch(page.fail);
          return;
        }
        if (row.error) {
          page.showMessage(`"${row.sheet_name}": ${row.error}`, true);
          refresh().catch(page.fail);
          return;
        }
        if (row.state === "UNEDITED") return; // cancelled, by us or someone else
      } catch (err) {
        page.fail(err); // keep looking: the restreamer may be back in a moment
      }
      if (open?.id === id) poll = setTimeout(tick, POLL);
    };
    poll = setTimeout(tick, POLL);
  }

  function rememberLocation(location) {
    const known = (localStorage.getItem(LOCATIONS_KEY) || "").split("\n").filter(Boolean);
    const all = [location, ...known.filter((l) => l !== location)].slice(0, 10);
    localStorage.setItem(LOCATIONS_KEY, all.join("\n"));
  }

  $("event-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const { start, end, channel, quality } = page.clip();
    if (start === null || end === null) {
      page.fail(new Error("set in and out on the player first (i and o)"));
      return;
    }
    if (end <= start) {
      page.fail(new Error("out is not after in: the clip would be empty"));
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
    };
    let several = null;
    try {
      several = page.ranges?.body(apiTime) ?? null;
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
    const id = open.id;
    events.edit(id, body).then((row) => {
      rememberLocation(body.upload_location);
      show(row);
      page.showMessage(`submitted "${row.video_title}" (${formatDuration(length)}): ${row.state}, waiting for a cutter`);
      refresh().catch(page.fail);
      follow();
    }).catch(page.fail);
  });

  for (const [id, action, done] of [["ev-cancel", "cancel", "edit cancelled"], ["ev-reset", "reset", "reset: edit it afresh"]]) {
    $(id).addEventListener("click", () => {
      events[action](open.id).then((row) => {
        stopPolling();
        show(row);
        page.showMessage(`"${row.sheet_name}": ${done}`);
        refresh().catch(page.fail);
      }).catch(page.fail);
    });
  }

  $("new-event").addEventListener("click", () => {
    $("new-form").hidden = !$("new-form").hidden;
  });

  $("new-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { sheet_name: $("new-name").value, category: $("new-category").value, notes: $("new-notes").value };
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
  return { open: openEvent, refresh };
}
