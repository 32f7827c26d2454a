// Boxes of a thumbnail: the crop of the frame and its placement in the template, each
// four whole pixels [left, top, right, bottom] (wubloader's box_coords). Pure logic,
// no DOM: parsing what a person types, and moving or resizing a box by dragging it.

export const MIN_SIDE = 8; // px: a dragged box never gets smaller than this
export const GRIP = 12; // px (on screen) around the bottom-right corner that resizes

/** "l,t,r,b" -> [l, t, r, b]; an Error naming `name` says what is wrong. */
export function parseBox(text, name = "box") {
  const parts = String(text).split(",").map((p) => p.trim());
  if (parts.length !== 4 || !parts.every((p) => /^\d+$/.test(p))) {
    throw new Error(`${name} "${text}" is not four whole pixels left,top,right,bottom (e.g. 0,0,1280,720)`);
  }
  const [left, top, right, bottom] = parts.map(Number);
  if (right <= left || bottom <= top) {
    throw new Error(`${name} ${parts.join(",")} is not a box: right must be past left and bottom below top`);
  }
  return [left, top, right, bottom];
}

export function formatBox(box) {
  return box.map((v) => Math.round(v)).join(",");
}

/** The box moved (and if need be shrunk) to lie within a width x height picture. */
export function fitBox(box, width, height) {
  let [left, top, right, bottom] = box.map(Math.round);
  const w = Math.min(Math.max(right - left, 1), width);
  const h = Math.min(Math.max(bottom - top, 1), height);
  left = Math.min(Math.max(left, 0), width - w);
  top = Math.min(Math.max(top, 0), height - h);
  return [left, top, left + w, top + h];
}

/** What a pointer at (x, y) grabs: "resize" near the bottom-right corner, "move" inside, or null. */
export function handleAt(box, x, y, grip = GRIP) {
  const [left, top, right, bottom] = box;
  if (Math.abs(x - right) <= grip && Math.abs(y - bottom) <= grip) return "resize";
  if (x >= left && x <= right && y >= top && y <= bottom) return "move";
  return null;
}

/**
 * The box after dragging `handle` by (dx, dy) picture pixels, kept within the picture.
 * "move" keeps its size; "resize" moves the bottom-right corner, keeping MIN_SIDE, and
 * with `aspect` (width / height) keeps that shape.
 */
export function dragBox(box, handle, dx, dy, width, height, aspect = null) {
  const [left, top, right, bottom] = box;
  if (handle === "move") {
    return fitBox([left + dx, top + dy, right + dx, bottom + dy], width, height);
  }
  if (handle !== "resize") return box;
  let w = Math.min(Math.max(right - left + dx, MIN_SIDE), width - left);
  let h = Math.min(Math.max(bottom - top + dy, MIN_SIDE), height - top);
  if (aspect) {
    h = Math.round(w / aspect);
    if (top + h > height) {
      h = height - top;
      w = Math.round(h * aspect);
    }
  }
  return [left, top, Math.round(left + w), Math.round(top + h)];
}

/** A box in picture pixels as CSS pixels of the picture shown `scale` times its size. */
export function toScreen(box, scale) {
  const [left, top, right, bottom] = box;
  return { left: left * scale, top: top * scale, width: (right - left) * scale, height: (bottom - top) * scale };
}
