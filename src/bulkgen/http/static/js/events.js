// Generated from bulkgen/events.py — do not edit.
// Regenerate: python -m bulkgen.http.events_js
// @ts-check
/**
 * The names of the SSE events bulkgen's streams send, as registered in Python.
 * @module events
 */

/**
 * @typedef {"item.started" | "item.completed" | "item.failed" | "item.requeued" | "item.queued" | "batch.paused" | "batch.resumed" | "batch.progress" | "batch.complete" | "batches.progress"} EventName
 */

/** durable */
export const ITEM_STARTED = "item.started";
/** durable */
export const ITEM_COMPLETED = "item.completed";
/** durable */
export const ITEM_FAILED = "item.failed";
/** durable */
export const ITEM_REQUEUED = "item.requeued";
/** durable */
export const ITEM_QUEUED = "item.queued";
/** durable */
export const BATCH_PAUSED = "batch.paused";
/** durable */
export const BATCH_RESUMED = "batch.resumed";
/** derived */
export const BATCH_PROGRESS = "batch.progress";
/** durable */
export const BATCH_COMPLETE = "batch.complete";
/** derived */
export const BATCHES_PROGRESS = "batches.progress";

/**
 * Every event name, in the registry's order.
 * @type {readonly EventName[]}
 */
export const EVENT_NAMES = Object.freeze([
  ITEM_STARTED,
  ITEM_COMPLETED,
  ITEM_FAILED,
  ITEM_REQUEUED,
  ITEM_QUEUED,
  BATCH_PAUSED,
  BATCH_RESUMED,
  BATCH_PROGRESS,
  BATCH_COMPLETE,
  BATCHES_PROGRESS,
]);

/**
 * Events that are rows of a batch's log and carry their sequence number as `id`.
 * @type {ReadonlySet<EventName>}
 */
export const DURABLE_EVENTS = new Set([
  ITEM_STARTED,
  ITEM_COMPLETED,
  ITEM_FAILED,
  ITEM_REQUEUED,
  ITEM_QUEUED,
  BATCH_PAUSED,
  BATCH_RESUMED,
  BATCH_COMPLETE,
]);

/**
 * Events whose data is one item.
 * @type {ReadonlySet<EventName>}
 */
export const ITEM_EVENTS = new Set([
  ITEM_STARTED,
  ITEM_COMPLETED,
  ITEM_FAILED,
  ITEM_REQUEUED,
  ITEM_QUEUED,
]);
