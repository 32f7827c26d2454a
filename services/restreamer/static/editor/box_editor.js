// A box drawn over a picture that the pointer drags (inside: move; bottom-right corner:
// resize), in the picture's own pixels. Used for the crop of the frame and the place of
// it in the template, on the editor page and the artists' page (boxes.js does the sums).
import { dragBox, fitBox, handleAt, toScreen } from "./boxes.js";

/**
 * `img` in a positioned container, `el` the box over it. `onChange(box)` after every drag.
 * Returns { set(box), get() }: set draws a box (null hides it).
 */
export function boxEditor(img, el, onChange) {
  let box = null;
  let drag = null;

  function scale() {
    return img.naturalWidth ? img.clientWidth / img.naturalWidth : 1;
  }

  function draw() {
    el.hidden = box === null || !img.naturalWidth;
    if (el.hidden) return;
    const s = toScreen(box, scale());
    Object.assign(el.style, {
      left: `${s.left}px`, top: `${s.top}px`, width: `${s.width}px`, height: `${s.height}px`,
    });
  }

  function at(e) {
    const rect = img.getBoundingClientRect();
    return [(e.clientX - rect.left) / scale(), (e.clientY - rect.top) / scale()];
  }

  el.addEventListener("pointerdown", (e) => {
    if (box === null) return;
    const [x, y] = at(e);
    const handle = handleAt(box, x, y, 12 / scale());
    if (!handle) return;
    e.preventDefault();
    el.setPointerCapture(e.pointerId);
    drag = { handle, x, y, from: box };
  });
  el.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const [x, y] = at(e);
    box = dragBox(drag.from, drag.handle, Math.round(x - drag.x), Math.round(y - drag.y),
      img.naturalWidth, img.naturalHeight);
    draw();
  });
  const end = () => {
    if (!drag) return;
    drag = null;
    onChange(box);
  };
  el.addEventListener("pointerup", end);
  el.addEventListener("pointercancel", end);
  img.addEventListener("load", () => {
    if (box) box = fitBox(box, img.naturalWidth, img.naturalHeight);
    draw();
  });
  window.addEventListener("resize", draw);

  return {
    set(next) {
      box = next;
      draw();
    },
    get: () => box,
  };
}
