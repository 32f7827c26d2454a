// The coverage map as the page's navigator: the restreamer draws the channel's map
// (/coverage/CH.svg: a row per quality, a column per hour, a line per day), this
// module puts it on the page, outlines the hours loaded in the player, and loads
// an hour into the player when its cell is clicked.
import { request } from "./api.js";
import { parseUtc, SECOND } from "./times.js";

const HOUR = 3600 * SECOND;
const REFRESH = 5 * 60 * 1000; // ms: a live archive grows; redraw the map this often

export function initCoverageNav({ box, state, showRange, fail }) {
  let channel = null;
  let loading = null;

  async function load() {
    channel = state.channel;
    const response = await request(`/coverage/${encodeURIComponent(channel)}.svg`);
    box.innerHTML = await response.text(); // our own server's SVG: cells and text only
    box.querySelector("svg")?.setAttribute("aria-label", `coverage of ${channel}: click an hour to load it`);
    mark();
  }

  /** Outline the cells of the loaded range, in the loaded quality. */
  function mark() {
    for (const cell of box.querySelectorAll("g.cell")) {
      const start = parseUtc(`${cell.dataset.hour}:00:00`);
      const loaded = state.rangeStart !== null && cell.dataset.quality === state.quality &&
        start < state.rangeEnd && start + HOUR > state.rangeStart;
      cell.classList.toggle("loaded", loaded);
    }
  }

  box.addEventListener("click", (e) => {
    const cell = e.target.closest("g.cell");
    if (!cell) return;
    const start = parseUtc(`${cell.dataset.hour}:00:00`);
    showRange(channel, cell.dataset.quality, start, start + HOUR).catch(fail);
  });

  function refresh() {
    if (!state.channel) return;
    if (state.channel !== channel || !box.querySelector("svg")) {
      loading = load().catch((err) => {
        box.textContent = `no coverage map: ${err.message}`;
      });
    } else {
      mark();
    }
    return loading;
  }

  document.addEventListener("rangechange", refresh);
  setInterval(() => { if (state.channel) load().catch(() => {}); }, REFRESH);
  return { refresh };
}
