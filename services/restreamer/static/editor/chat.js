// The chat panel's start: loaded after main.js, whose state, player and clip it reads.
import { initChat } from "./chat_panel.js";
import { clip, showMessage } from "./main.js";

const { state, player } = window.fastsegEditor;
const fail = (err) => showMessage(err instanceof Error ? err.message : String(err), true);
window.fastsegEditor.chat = initChat({ state, player, fail, showMessage, clip });
window.fastsegEditor.chat.reload(); // a range loaded before this module ran
