// @ts-check
/**
 * The JSON API calls of the progress view (same origin; errors carry the API's detail).
 * @module batch-api
 */

import { summaryFromItem } from "./feed-row.js";

/** @typedef {import("./types.js").Batch} Batch */
/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").ItemSummary} ItemSummary */

/** @param {string} batchId */
function batchUrl(batchId) {
  return `/api/generation/batch/${encodeURIComponent(batchId)}`;
}

/**
 * @param {string} url
 * @param {RequestInit} [init]
 * @returns {Promise<unknown>}
 */
async function requestJson(url, init = {}) {
  const response = await fetch(url, {
    ...init,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    const detail = body && typeof body === "object" && "detail" in body ? body.detail : null;
    const message = typeof detail === "string" ? detail : `${response.status} ${response.statusText}`;
    throw new Error(message);
  }
  return body;
}

/**
 * @param {string} batchId
 * @returns {Promise<Batch>}
 */
export async function getBatch(batchId) {
  return /** @type {Batch} */ (await requestJson(batchUrl(batchId)));
}

/**
 * Items `offset` … `offset + limit - 1` in index order, as feed summaries.
 * @param {string} batchId
 * @param {number} offset
 * @param {number} limit at most 500
 * @returns {Promise<ItemSummary[]>}
 */
export async function listItems(batchId, offset, limit) {
  const query = new URLSearchParams({ offset: String(offset), limit: String(limit) });
  const page = /** @type {{items: Item[]}} */ (
    await requestJson(`${batchUrl(batchId)}/items?${query}`)
  );
  return page.items.map(summaryFromItem);
}

/**
 * One item, whole (question, options, rationale, review).
 * @param {string} batchId
 * @param {number} index
 * @returns {Promise<Item>}
 */
export async function getItem(batchId, index) {
  const query = new URLSearchParams({ offset: String(index), limit: "1" });
  const page = /** @type {{items: Item[]}} */ (
    await requestJson(`${batchUrl(batchId)}/items?${query}`)
  );
  const item = page.items[0];
  if (item === undefined || item.index !== index) throw new Error(`item #${index + 1} not found`);
  return item;
}

/**
 * Cancel, pause or resume the batch, or re-queue its failed items (with `reason`, only
 * that group).
 * @param {string} batchId
 * @param {"cancel" | "retry" | "pause" | "resume"} action
 * @param {string | null} [reason] a failure reason key, for "retry"
 * @returns {Promise<Batch>}
 */
export async function postBatchAction(batchId, action, reason = null) {
  const query = reason === null ? "" : `?${new URLSearchParams({ reason })}`;
  return /** @type {Batch} */ (
    await requestJson(`${batchUrl(batchId)}/${action}${query}`, { method: "POST" })
  );
}
