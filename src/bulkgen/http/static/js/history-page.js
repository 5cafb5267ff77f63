// @ts-check
/**
 * The history page's script: follow the running batches of the list. A file, not an
 * inline script, so the page's Content-Security-Policy can forbid inline scripts.
 * @module history-page
 */

import { followHistory } from "./history-view.js";

const list = document.getElementById("history");
if (list) followHistory(list);
