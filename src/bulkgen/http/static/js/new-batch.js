// @ts-check
/**
 * The new-batch form: show the options of the chosen generator only.
 * @module new-batch
 */

/**
 * Show the fieldset whose `data-generator` is the Generator select's value, now and on
 * every change.
 * @param {HTMLFormElement} form
 */
export function followGenerator(form) {
  const select = form.querySelector("select[name=generator]");
  if (!(select instanceof HTMLSelectElement)) return;
  const show = () => {
    for (const fieldset of form.querySelectorAll("fieldset[data-generator]")) {
      if (fieldset instanceof HTMLElement) {
        fieldset.hidden = fieldset.dataset.generator !== select.value;
      }
    }
  };
  select.addEventListener("change", show);
  show();
}
