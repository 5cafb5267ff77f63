// @ts-check
/**
 * A batch's SSE stream, read with `fetch` from a cursor: the connection's state, and the
 * events handed over in bursts, at most once per animation frame.
 *
 * Not `EventSource`: it parses everything that arrived in one task, and a catch-up of
 * thousands of events would hold the page for a long moment. Here the body is parsed as
 * it arrives, in slices of a few milliseconds (`frames.js`), and the reconnecting that
 * EventSource does is done the same way: after the server's `retry` delay, from the last
 * event id received (`?after=`); a `503` is retried after its `Retry-After`.
 * @module event-stream
 */

import { BATCH_COMPLETE, BATCHES_PROGRESS, EVENT_NAMES } from "./events.js";
import { FrameCallback, Slice } from "./frames.js";
import { SseParser } from "./sse-parser.js";

/** @typedef {import("./events.js").EventName} EventName */

/**
 * @typedef {"connecting" | "live" | "reconnecting" | "closed"} StreamState
 * `closed`: the stream gave up (an error response, or 204 at the end of the log); the
 * owner decides whether to open the stream again.
 */

/**
 * @typedef {object} StreamEvent
 * @property {EventName} type the SSE event name
 * @property {unknown} data the parsed JSON of its `data` line
 * @property {number | null} id its `id`, when it has one
 */

/** The events of a batch's stream: all but the history stream's own. */
/** @type {ReadonlySet<string>} */
const BATCH_EVENTS = new Set(EVENT_NAMES.filter((name) => name !== BATCHES_PROGRESS));

/** Reconnect after this long until the server says otherwise (EventSource's usual delay). */
const DEFAULT_RETRY_MS = 3000;
/** Reconnecting after failures in a row waits longer each time, up to this. */
const LONGEST_RETRY_MS = 30_000;

/** How a connection ended. */
const COMPLETE = "complete";
const DROPPED = "dropped";

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
    /** @type {AbortController | null} the open connection (and its reconnects) */
    this.controller = null;
    /** @type {StreamEvent[]} */
    this.queue = [];
    this.flusher = new FrameCallback(() => this.flush());
    /** The id of the last event received: where a new connection resumes. */
    this.lastId = 0;
    /** Wait this long before reconnecting (the server's `retry` field). */
    this.retryMs = DEFAULT_RETRY_MS;
  }

  /**
   * Connect, resuming after event `after` (never from zero: the page rendered up to it).
   * @param {number} after
   */
  open(after) {
    this.close();
    this.lastId = after;
    const controller = new AbortController();
    this.controller = controller;
    this.onState("connecting");
    void this.follow(controller.signal);
  }

  /** Stop reading (pending events are still handed over). */
  close() {
    this.controller?.abort();
    this.controller = null;
  }

  get connected() {
    return this.controller !== null;
  }

  /**
   * Connect, read, and connect again after a drop, until the batch completes, the server
   * says stop, or the stream is closed.
   * @param {AbortSignal} signal
   */
  async follow(signal) {
    let failures = 0;
    while (!signal.aborted) {
      /** @type {Response | null} */
      let response = null;
      try {
        response = await fetch(`${this.url}?after=${this.lastId}`, {
          headers: { Accept: "text/event-stream" },
          cache: "no-store",
          signal,
        });
      } catch {
        // A network error: the server is unreachable, try again.
      }
      if (signal.aborted) return;
      /** @type {number | null} */
      let wait = null;
      if (response === null) {
        failures += 1;
      } else if (response.status === 503 && response.headers.has("Retry-After")) {
        wait = retryAfterMs(response.headers.get("Retry-After") ?? "");
        failures += 1;
      } else if (response.status !== 200 || !isEventStream(response) || !response.body) {
        // 204 (the end of a finished batch's log), 4xx/5xx: the owner decides.
        this.end(signal);
        this.onState("closed");
        return;
      } else {
        this.onState("live");
        if ((await this.read(response.body, signal)) === COMPLETE) return;
        if (signal.aborted) return;
        failures = 0;
      }
      void response?.body?.cancel().catch(() => {});
      this.onState("reconnecting");
      const backoff = Math.min(this.retryMs * 2 ** Math.max(failures - 1, 0), LONGEST_RETRY_MS);
      await sleep(Math.max(wait ?? 0, backoff), signal);
    }
  }

  /**
   * Read one response's events in time slices until it ends.
   * @param {ReadableStream<Uint8Array>} body
   * @param {AbortSignal} signal
   * @returns {Promise<typeof COMPLETE | typeof DROPPED>}
   */
  async read(body, signal) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    const slice = new Slice();
    try {
      for (;;) {
        const asked = performance.now();
        const { value, done } = await reader.read();
        if (done || signal.aborted) return DROPPED;
        // A read that waited for the network started a new task: a new slice too.
        if (performance.now() - asked > 1) slice.restart();
        parser.push(decoder.decode(value, { stream: true }));
        for (let message = parser.next(); message !== null; message = parser.next()) {
          if (parser.retry !== null) this.retryMs = parser.retry;
          if (this.receive(message.type, message.data, message.id)) {
            this.end(signal);
            return COMPLETE;
          }
          if (slice.over) {
            await slice.yield();
            if (signal.aborted) return DROPPED;
          }
        }
        if (parser.retry !== null) this.retryMs = parser.retry;
        if (slice.over) await slice.yield();
      }
    } catch {
      return DROPPED; // the connection dropped, or close() aborted it
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * Queue one event for the next burst.
   * @param {string} type
   * @param {string} data
   * @param {string} lastEventId
   * @returns {boolean} whether it ends the batch's stream
   */
  receive(type, data, lastEventId) {
    const id = lastEventId === "" ? null : Number(lastEventId);
    if (id !== null && Number.isFinite(id)) this.lastId = id;
    if (!BATCH_EVENTS.has(type)) return false;
    const name = /** @type {EventName} */ (type);
    try {
      this.queue.push({ type: name, data: JSON.parse(data), id });
    } catch (error) {
      reportError(error); // a broken event is a bug to see, not a reason to reconnect
      return false;
    }
    this.flusher.request();
    return name === BATCH_COMPLETE;
  }

  /**
   * This connection is over: stop reading (the server ends the stream after
   * `batch.complete`) unless a newer connection replaced it.
   * @param {AbortSignal} signal
   */
  end(signal) {
    if (this.controller?.signal === signal) this.close();
  }

  flush() {
    const burst = this.queue;
    this.queue = [];
    if (burst.length > 0) this.onBurst(burst);
  }
}

/**
 * @param {Response} response
 * @returns {boolean}
 */
function isEventStream(response) {
  const type = response.headers.get("Content-Type") ?? "";
  return type.split(";")[0].trim().toLowerCase() === "text/event-stream";
}

/**
 * A `Retry-After` value in ms: seconds or an HTTP date.
 * @param {string} value
 * @returns {number}
 */
export function retryAfterMs(value) {
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? 0 : Math.max(at - Date.now(), 0);
}

/**
 * Wait `ms`, or less when the signal aborts.
 * @param {number} ms
 * @param {AbortSignal} signal
 * @returns {Promise<void>}
 */
function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
