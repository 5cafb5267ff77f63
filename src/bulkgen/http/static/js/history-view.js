// @ts-check
/**
 * The history page: running batches on it update live from one multiplexed stream.
 * @module history-view
 */

import { BATCHES_PROGRESS } from "./events.js";

/**
 * @typedef {object} Snapshot
 * @property {number} total
 * @property {number} completed
 * @property {number} failed
 * @property {number} in_progress
 * @property {number} pending
 * @property {number} percent
 * @property {string} status
 */

/** @typedef {{batch_id: string, progress: Snapshot}} BatchesProgress */

const FINISHED = new Set(["completed", "cancelled", "failed"]);

/**
 * Follow every running batch listed in `list` (its `data-live-ids`).
 * @param {HTMLElement} list
 * @returns {EventSource | null} the stream, or null when nothing is running
 */
export function followHistory(list) {
  const ids = (list.dataset.liveIds ?? "").split(",").filter(Boolean);
  if (ids.length === 0) return null;
  const query = ids.map((id) => `batch=${encodeURIComponent(id)}`).join("&");
  const source = new EventSource(`/api/generation/progress?${query}`);
  /** @type {Map<string, Snapshot>} */
  const latest = new Map();
  let scheduled = false;
  source.addEventListener(BATCHES_PROGRESS, (event) => {
    const message = /** @type {BatchesProgress} */ (JSON.parse(/** @type {MessageEvent} */ (event).data));
    latest.set(message.batch_id, message.progress);
    if (!scheduled) {
      scheduled = true;
      requestAnimationFrame(() => {
        scheduled = false;
        for (const [batchId, snapshot] of latest) updateRow(list, batchId, snapshot);
        latest.clear();
        if (allFinished(list, ids)) source.close();
      });
    }
  });
  return source;
}

/**
 * @param {HTMLElement} list
 * @param {string[]} ids
 */
function allFinished(list, ids) {
  return ids.every((id) => FINISHED.has(rowFor(list, id)?.dataset.status ?? ""));
}

/**
 * @param {HTMLElement} list
 * @param {string} batchId
 * @returns {HTMLElement | null}
 */
function rowFor(list, batchId) {
  return list.querySelector(`[data-batch-id="${CSS.escape(batchId)}"]`);
}

/**
 * Show a snapshot in a batch's row.
 * @param {HTMLElement} list
 * @param {string} batchId
 * @param {Snapshot} snapshot
 */
export function updateRow(list, batchId, snapshot) {
  const row = rowFor(list, batchId);
  if (!row) return;
  row.dataset.status = snapshot.status;
  const badge = row.querySelector("[data-role=status]");
  if (badge) {
    badge.className = `badge status-${snapshot.status}`;
    badge.textContent = snapshot.status.replace("_", " ");
  }
  for (const key of /** @type {const} */ (["completed", "failed", "in_progress", "pending"])) {
    const cell = row.querySelector(`[data-count="${key}"]`);
    if (cell) cell.textContent = String(snapshot[key]);
  }
  const percent = row.querySelector('[data-count="percent"]');
  if (percent) percent.textContent = `${snapshot.percent.toFixed(1)}%`;
  const bar = row.querySelector("[role=progressbar]");
  if (bar) {
    bar.setAttribute("aria-valuenow", String(snapshot.completed + snapshot.failed));
    bar.setAttribute("aria-valuetext", `${snapshot.percent}% finished`);
    const total = snapshot.total || 1;
    for (const key of /** @type {const} */ (["completed", "failed", "in_progress"])) {
      const seg = /** @type {HTMLElement | null} */ (bar.querySelector(`[data-seg="${key}"]`));
      if (seg) seg.style.width = `${(100 * snapshot[key]) / total}%`;
    }
  }
}
