// One modal question at a time (<dialog id="ask">): confirmations and the choice after a
// conflict. Resolves with the chosen button's value, or null if closed with Escape.

const $ = (id) => document.getElementById(id);

/** Ask `title`/`text` with buttons `choices` ([{value, label}], the first the default). */
export function ask(title, text, choices) {
  const dialog = $("ask");
  $("ask-title").textContent = title;
  $("ask-text").textContent = text;
  const buttons = choices.map(({ value, label }) => {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.dataset.value = value;
    b.addEventListener("click", () => dialog.close(value));
    return b;
  });
  $("ask-buttons").replaceChildren(...buttons);
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue || null), { once: true });
    dialog.showModal();
    buttons[0]?.focus();
  });
}

/** ask() with "yes, LABEL" and "no": true if confirmed. */
export async function confirmAction(title, text, label) {
  return (await ask(title, text, [{ value: "yes", label }, { value: "no", label: "no, keep it" }])) === "yes";
}
