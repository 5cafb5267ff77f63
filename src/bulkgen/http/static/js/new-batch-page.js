// @ts-check
/**
 * The new-batch form's script: show the chosen generator's options. A file, not an
 * inline script, so the page's Content-Security-Policy can forbid inline scripts.
 * @module new-batch-page
 */

import { followGenerator } from "./new-batch.js";

const form = document.querySelector("form.form");
if (form instanceof HTMLFormElement) followGenerator(form);
