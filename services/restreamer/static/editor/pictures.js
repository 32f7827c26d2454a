// The page's pictures: the coverage map as navigator, the thumbnail strip and the
// waveform along the timeline, time marks and a legend on the holes bar, and the
// events' thumbnails. Loaded after main.js, whose state it reads and whose
// "rangechange" and "clipchange" events it follows.
import { initCoverageNav } from "./coverage_nav.js";
import { initEventThumbs } from "./event_thumbs.js";
import { showMessage, showRange } from "./main.js";
import { initTimeline } from "./timeline.js";

const { state, player } = window.fastsegEditor;
const fail = (err) => showMessage(err instanceof Error ? err.message : String(err), true);
const $ = (id) => document.getElementById(id);

const nav = initCoverageNav({ box: $("coverage-nav"), state, showRange, fail });
const timeline = initTimeline({ state, player, bar: $("bar"), fail });
initEventThumbs({ list: $("event-list"), state });
window.fastsegEditor.pictures = { nav, timeline };
if (state.rangeStart !== null) document.dispatchEvent(new Event("rangechange"));
