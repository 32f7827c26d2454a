// The /team page: every node's newest video per quality, its coverage map, its
// backfill status and its cutter's upload locations, from /api/team every 5 s (services/restreamer/team.py).

const REFRESH_MS = 5000;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

function ago(iso, now) {
  const seconds = Math.round((Date.parse(now) - Date.parse(iso)) / 1000);
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function duration(seconds) {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

function nodeCard(node, team, stamp) {
  const card = el("section", { class: node.reachable ? "node" : "node down", "data-node": node.name });
  card.append(el("h2", {}, node.name), el("div", { class: "url" }, node.url || location.origin));
  if (!node.reachable) {
    card.append(el("p", { class: "error" }, `unreachable: ${node.error}`));
    return card;
  }
  for (const channel of team.channels) {
    const qualities = node.channels[channel] || {};
    const rows = Object.entries(qualities).map(([quality, info]) => el("tr", { "data-quality": quality },
      el("td", {}, quality),
      el("td", { class: "newest" }, info.newest ? `${info.newest} (${ago(info.newest, team.time)})` : "none"),
    ));
    card.append(el("h3", {}, channel));
    if (!rows.length) {
      card.append(el("p", {}, "no video of this channel"));
      continue;
    }
    card.append(el("table", { class: "newest-video" },
      el("tr", {}, el("th", {}, "quality"), el("th", {}, "newest video")), ...rows));
    const src = `/team/${encodeURIComponent(node.name)}/${encodeURIComponent(channel)}.svg?t=${stamp}`;
    card.append(el("img", { class: "coverage", src, alt: `coverage of ${channel} on ${node.name}` }));
  }
  const backfill = el("table", { class: "backfill" },
    el("tr", {}, el("th", {}, "backfills from"), el("th", {}, "last finished pass"), el("th", {}, "missing")));
  for (const peer of node.backfill) {
    backfill.append(el("tr", { "data-peer": peer.peer },
      el("td", {}, peer.peer),
      el("td", {}, peer.pass_age_seconds === undefined ? "-" : `${duration(peer.pass_age_seconds)} ago`),
      el("td", {}, peer.missing_segments === undefined ? "-" : String(peer.missing_segments)),
    ));
  }
  card.append(el("h3", {}, "backfill"), node.backfill.length ? backfill : el("p", {}, "no backfiller"));
  card.append(el("h3", {}, "cutter"), el("p", { class: "locations" },
    node.locations.length ? `uploads to ${node.locations.join(", ")}` : "no cutter serving a location"));
  return card;
}

async function refresh() {
  const status = document.getElementById("updated");
  try {
    const answer = await fetch("/api/team", { cache: "no-store" });
    if (!answer.ok) throw new Error(`${answer.status} ${await answer.text()}`);
    const team = await answer.json();
    const stamp = Date.now();
    document.getElementById("nodes").replaceChildren(...team.nodes.map((n) => nodeCard(n, team, stamp)));
    status.textContent = `${team.nodes.length} node(s) as of ${team.time}; maps from ${team.hours.start} to ${team.hours.end}`;
    status.dataset.time = team.time;
  } catch (error) {
    status.textContent = `cannot read /api/team: ${error.message}; trying again`;
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
