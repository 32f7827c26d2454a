// The upload locations the running cutters serve (GET /api/locations): offered in
// the edit form, with a line saying which exist, so a volunteer never guesses.
import { getJson } from "./api.js";

const $ = (id) => document.getElementById(id);
const REMEMBERED = "fastseg-editor-locations"; // the last location this editor used

let live = []; // [{name, backend, public_url, nodes}] from the last look

function describe(loc) {
  return `${loc.name} (${loc.backend}${loc.public_url ? `, ${loc.public_url}` : ""})`;
}

/** Look again; fills the form's list and the line under it. Never throws. */
export async function refreshLocations() {
  const hint = $("ev-locations");
  try {
    live = await getJson("/api/locations");
  } catch (err) {
    live = [];
    hint.textContent = err.status === 404 ? "" : `upload locations unknown: ${err.message}`;
    return live;
  }
  $("locations").replaceChildren(...live.map((loc) => new Option(describe(loc), loc.name)));
  hint.textContent = live.length
    ? `served now: ${live.map(describe).join("; ")}`
    : "no cutter is running: an edit needs one that serves its upload location";
  return live;
}

/** The location to suggest for an event with none: the one used last if still live, else the first. */
export function preferredLocation() {
  const names = live.map((loc) => loc.name);
  const last = localStorage.getItem(REMEMBERED)?.split("\n")[0];
  if (last && (names.includes(last) || !names.length)) return last;
  return names[0] ?? "";
}
