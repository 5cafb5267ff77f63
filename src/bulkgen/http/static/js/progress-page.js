// @ts-check
/**
 * The progress page's script: start the live view. A file, not an inline script, so the
 * page's Content-Security-Policy can forbid inline scripts.
 * @module progress-page
 */

import { startProgressView } from "./progress-view.js";

const root = document.getElementById("progress-view");
if (root) startProgressView(root);
