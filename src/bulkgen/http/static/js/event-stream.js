// @ts-check
/**
 * A batch's SSE stream: EventSource from a cursor, with the connection's state, and the
 * events handed over in bursts, at most once per animation frame.
 * @module event-stream
 */

import { BATCH_COMPLETE, BATCHES_PROGRESS, EVENT_NAMES } from "./events.js";

/** @typedef {import("./events.js").EventName} EventName */

/**
 * @typedef {"connecting" | "live" | "reconnecting" | "closed"} StreamState
 * `closed`: the browser gave up (an error response, or 204 at the end of the log); the
 * owner decides whether to open the stream again.
 */

/**
 * @typedef {object} StreamEvent
 * @property {EventName} type the SSE event name
 * @property {unknown} data the parsed JSON of its `data` line
 * @property {number | null} id its `id`, when it has one
 */

/** The events of a batch's stream: all but the history stream's own. */
const BATCH_EVENTS = EVENT_NAMES.filter((name) => name !== BATCHES_PROGRESS);

/** When animation frames do not run (a hidden tab), flush at this interval instead. */
const FALLBACK_FLUSH_MS = 250;

export class BatchStream {
  /**
   * @param {string} url the stream's URL, without a query
   * @param {object} handlers
   * @param {(events: StreamEvent[]) => void} handlers.onBurst events received since the last burst
   * @param {(state: StreamState) => void} handlers.onState
   */
  constructor(url, { onBurst, onState }) {
    this.url = url;
    this.onBurst = onBurst;
    this.onState = onState;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {StreamEvent[]} */
    this.queue = [];
    /** @type {number | null} */
    this.frame = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    /** The id of the last event received: where a new connection resumes. */
    this.lastId = 0;
  }

  /**
   * Connect, resuming after event `after` (never from zero: the page rendered up to it).
   * @param {number} after
   */
  open(after) {
    this.close();
    this.lastId = after;
    const source = new EventSource(`${this.url}?after=${after}`);
    this.source = source;
    this.onState("connecting");
    source.addEventListener("open", () => this.onState("live"));
    source.addEventListener("error", () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.source = null;
        this.onState("closed");
      } else {
        this.onState("reconnecting");
      }
    });
    for (const type of BATCH_EVENTS) {
      source.addEventListener(type, (event) => this.receive(source, type, event));
    }
  }

  /** Stop listening (pending events are still handed over). */
  close() {
    if (this.source) {
      this.source.close();
      this.source = null;
    }
  }

  get connected() {
    return this.source !== null;
  }

  /**
   * @param {EventSource} source
   * @param {EventName} type
   * @param {Event} event
   */
  receive(source, type, event) {
    if (this.source !== source) return;
    const message = /** @type {MessageEvent<string>} */ (event);
    const id = message.lastEventId === "" ? null : Number(message.lastEventId);
    if (id !== null && Number.isFinite(id)) this.lastId = id;
    this.queue.push({ type, data: JSON.parse(message.data), id });
    if (type === BATCH_COMPLETE) {
      // The server ends the stream after this: close before the browser reconnects.
      this.close();
    }
    this.schedule();
  }

  schedule() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => this.flush());
    this.timer = setTimeout(() => this.flush(), FALLBACK_FLUSH_MS);
  }

  flush() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
    const burst = this.queue;
    this.queue = [];
    if (burst.length > 0) this.onBurst(burst);
  }
}
