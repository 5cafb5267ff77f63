// @ts-check
/**
 * The live progress view of one batch (`/faculty/generate/batch/{id}`).
 *
 * The server renders the state up to event `data-last-event-id`; this module follows the
 * batch's SSE stream from that id (never from zero), applies each burst of events once per
 * animation frame, shows the connection's state, and runs the cancel and retry actions.
 * A finished batch opens no stream until it is retried.
 * @module progress-view
 */

import { getBatch, getItem, listItems, postBatchAction } from "./batch-api.js";
import { BatchStream } from "./event-stream.js";
import { BATCH_COMPLETE, BATCH_PAUSED, BATCH_PROGRESS, BATCH_RESUMED, ITEM_EVENTS } from "./events.js";
import { FailureReasons } from "./failure-reasons.js";
import { FeedWindow, part, setText } from "./feed-window.js";
import { formatSeconds } from "./format.js";
import { isFinished, ProgressSummary } from "./progress-summary.js";

/** @typedef {import("./types.js").Snapshot} Snapshot */
/** @typedef {import("./types.js").ItemSummary} ItemSummary */
/** @typedef {import("./types.js").BatchStatus} BatchStatus */
/** @typedef {import("./event-stream.js").StreamEvent} StreamEvent */
/** @typedef {import("./event-stream.js").StreamState} StreamState */
/** @typedef {"connecting" | "live" | "reconnecting" | "finished"} Connection */
/** @typedef {"cancel" | "retry" | "pause" | "resume"} Action */

/** @type {Record<Action, [string, string]>} what the page says while acting, and the verb */
const ACTION_TEXT = {
  cancel: ["Cancelling…", "cancel"],
  retry: ["Re-queuing failed items…", "retry"],
  pause: ["Pausing…", "pause"],
  resume: ["Resuming…", "resume"],
};

/** @type {Record<Connection, string>} */
const CONNECTION_LABELS = {
  connecting: "Connecting…",
  live: "Live",
  reconnecting: "Reconnecting…",
  finished: "Finished",
};
const FIRST_RETRY_MS = 1000;
const LAST_RETRY_MS = 30_000;

/**
 * Start the view on the page's root element (`#progress-view`).
 * @param {HTMLElement} root
 * @returns {ProgressView}
 */
export function startProgressView(root) {
  const view = new ProgressView(root);
  view.start();
  return view;
}

export class ProgressView {
  /** @param {HTMLElement} root */
  constructor(root) {
    this.root = root;
    this.batchId = root.dataset.batchId ?? "";
    const snapshot = /** @type {Snapshot} */ (
      JSON.parse(part(root, "#progress-snapshot", HTMLScriptElement).textContent ?? "{}")
    );
    this.snapshot = snapshot;
    this.status = snapshot.status;
    this.summary = new ProgressSummary(root, snapshot);
    this.feed = new FeedWindow(part(root, "[data-role=feed-card]", HTMLElement), {
      limit: Number(root.dataset.feedWindow ?? "200"),
      started: snapshot.total - snapshot.pending,
      load: (offset, limit) => listItems(this.batchId, offset, limit),
      loadItem: (index) => getItem(this.batchId, index),
    });
    this.connection = part(root, "[data-connection]", HTMLElement);
    this.cancelButton = part(root, "[data-action=cancel]", HTMLButtonElement);
    this.retryButton = part(root, "[data-action=retry]", HTMLButtonElement);
    this.pauseButton = part(root, "[data-action=pause-batch]", HTMLButtonElement);
    this.resumeButton = part(root, "[data-action=resume-batch]", HTMLButtonElement);
    this.pauseBanner = part(root, "[data-role=pause-banner]", HTMLElement);
    this.stall = part(root, "[data-role=stall]", HTMLElement);
    this.storage = part(root, "[data-role=storage]", HTMLElement);
    this.actionMessage = part(root, "[data-role=action-message]", HTMLElement);
    this.reasons = new FailureReasons(part(root, "[data-role=reasons]", HTMLElement), (reason) =>
      void this.act("retry", reason),
    );
    this.busy = false;
    /** Streams opened: a run's end shown late must not end a newer run's stream. */
    this.runs = 0;
    this.retryDelay = FIRST_RETRY_MS;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.reopenTimer = null;
    this.stream = new BatchStream(
      `/api/generation/batch/${encodeURIComponent(this.batchId)}/progress`,
      { onBurst: (events) => this.applyBurst(events), onState: (state) => this.onStreamState(state) },
    );
    this.stream.lastId = Number(root.dataset.lastEventId ?? "0");
  }

  start() {
    this.cancelButton.addEventListener("click", () => void this.act("cancel"));
    this.retryButton.addEventListener("click", () => void this.act("retry"));
    this.pauseButton.addEventListener("click", () => void this.act("pause"));
    this.resumeButton.addEventListener("click", () => void this.act("resume"));
    setInterval(() => {
      this.summary.tick();
      this.showStall();
    }, 1000);
    this.showPause(this.snapshot);
    this.showStall();
    this.reasons.show(this.snapshot.failure_reasons);
    if (isFinished(this.status)) {
      this.setConnection("finished");
    } else {
      this.stream.open(this.stream.lastId);
    }
    this.showStatus(this.status);
    this.root.dataset.ready = "true";
  }

  /**
   * Apply what arrived since the last frame: the latest state of each item, the latest
   * snapshot, and the end of the batch.
   * @param {StreamEvent[]} events
   */
  applyBurst(events) {
    /** @type {Map<number, ItemSummary>} */
    const items = new Map();
    /** @type {Snapshot | null} */
    let snapshot = null;
    let complete = false;
    for (const event of events) {
      if (ITEM_EVENTS.has(event.type)) {
        const item = /** @type {ItemSummary} */ (event.data);
        items.set(item.index, item);
      } else if (event.type === BATCH_PAUSED || event.type === BATCH_RESUMED) {
        snapshot = /** @type {{snapshot: Snapshot}} */ (event.data).snapshot;
      } else if (event.type === BATCH_PROGRESS || event.type === BATCH_COMPLETE) {
        snapshot = /** @type {Snapshot} */ (event.data);
        complete ||= event.type === BATCH_COMPLETE;
      }
    }
    if (items.size > 0) this.feed.apply(items.values());
    if (snapshot !== null) this.showSnapshot(snapshot);
    if (complete) this.finishWhenShown();
  }

  /**
   * Say "Finished" once the feed shows every item too (its last rows may take a few frames).
   */
  finishWhenShown() {
    this.stream.close();
    const run = ++this.runs;
    this.feed.whenSettled(() => {
      if (run === this.runs && isFinished(this.status)) this.setConnection("finished");
    });
  }

  /** @param {Snapshot} snapshot */
  showSnapshot(snapshot) {
    this.snapshot = snapshot;
    this.summary.show(snapshot);
    this.reasons.show(snapshot.failure_reasons);
    this.showPause(snapshot);
    this.showStatus(snapshot.status);
    this.showStall();
  }

  /**
   * The banner of a paused batch: why it paused (by hand or by the early stop).
   * @param {Snapshot} snapshot
   */
  showPause(snapshot) {
    const pause = snapshot.status === "paused" ? (snapshot.pause ?? null) : null;
    this.pauseBanner.hidden = pause === null;
    this.pauseBanner.dataset.reason = pause?.reason ?? "";
    const title = part(this.pauseBanner, "[data-role=pause-title]", HTMLElement);
    const message = part(this.pauseBanner, "[data-role=pause-message]", HTMLElement);
    setText(title, pauseTitle(pause?.reason));
    setText(message, pause?.message ?? "");
  }

  /**
   * "Stalled — no item finished for 1 min 20 s", ticking, the provider's back-off, and a
   * database that takes no writes.
   * Only while running; the server decides when a batch is stalled.
   */
  showStall() {
    const { snapshot } = this;
    const running = this.status === "running";
    const lastFinish = snapshot.last_finished_at ? Date.parse(snapshot.last_finished_at) : NaN;
    const stalled = running && snapshot.stalled === true && !Number.isNaN(lastFinish);
    const until = running && snapshot.backoff_until ? new Date(snapshot.backoff_until) : null;
    const waiting = until !== null && until.getTime() > Date.now();
    const stallText = part(this.stall, "[data-role=stall-text]", HTMLElement);
    const backoffText = part(this.stall, "[data-role=backoff-text]", HTMLElement);
    const quiet = Math.max((Date.now() - lastFinish) / 1000, 0);
    setText(stallText, stalled ? `Stalled — no item finished for ${formatSeconds(quiet)}` : "");
    setText(
      backoffText,
      waiting && until !== null
        ? `The provider asked to wait until ${until.toLocaleTimeString([], { hour12: false })}`
        : "",
    );
    this.stall.hidden = !stalled && !waiting;
    const fault = snapshot.storage_fault ?? null;
    setText(part(this.storage, "[data-role=storage-text]", HTMLElement), fault ?? "");
    this.storage.hidden = fault === null;
  }

  /** @param {StreamState} state */
  onStreamState(state) {
    if (state === "live") {
      this.retryDelay = FIRST_RETRY_MS;
      this.setConnection("live");
    } else if (state === "connecting") {
      if (this.connection.dataset.connection !== "reconnecting") this.setConnection("connecting");
    } else if (state === "reconnecting") {
      this.setConnection("reconnecting");
    } else {
      this.setConnection("reconnecting");
      void this.recover();
    }
  }

  /**
   * The browser gave up on the stream (an error status, or 204 at the end): find out
   * where the batch is, then show its end or connect again after a growing delay.
   */
  async recover() {
    try {
      const batch = await getBatch(this.batchId);
      if (isFinished(batch.status) && batch.last_event_id <= this.stream.lastId) {
        this.showSnapshot(batch.progress);
        this.setConnection("finished");
        return;
      }
    } catch {
      // The server is unreachable: try again later.
    }
    this.reopenLater();
  }

  reopenLater() {
    if (this.reopenTimer !== null) clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => {
      this.reopenTimer = null;
      if (this.connection.dataset.connection !== "finished") this.stream.open(this.stream.lastId);
    }, this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, LAST_RETRY_MS);
  }

  /**
   * Cancel, pause or resume the batch, or retry its failed items (with `reason`, only
   * that group) and follow the new run.
   * @param {Action} action
   * @param {string | null} [reason] a failure reason key
   */
  async act(action, reason = null) {
    if (this.busy) return;
    this.busy = true;
    this.showActions();
    const [doing, verb] = ACTION_TEXT[action];
    this.say(doing, false);
    try {
      const batch = await postBatchAction(this.batchId, action, reason);
      this.say("", false);
      if (action === "pause" || action === "resume") {
        // The stream stays open while paused; its events bring the same state too.
        this.showSnapshot(batch.progress);
      } else if (action === "retry") {
        this.showSnapshot(batch.progress);
        // Resume from the last event this page has seen: the re-queued items come first.
        this.runs += 1;
        this.setConnection("connecting");
        this.stream.open(this.stream.lastId);
      }
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      this.say(`Could not ${verb}: ${problem}`, true);
    } finally {
      this.busy = false;
      this.showActions();
    }
  }

  /**
   * @param {string} text
   * @param {boolean} isError
   */
  say(text, isError) {
    this.actionMessage.textContent = text;
    this.actionMessage.hidden = text === "";
    this.actionMessage.classList.toggle("action-error", isError);
  }

  /** @param {BatchStatus} status */
  showStatus(status) {
    this.status = status;
    this.root.dataset.status = status;
    const badge = this.root.querySelector("[data-role=status]");
    if (badge) {
      badge.className = `badge status-${status}`;
      badge.textContent = status.replace("_", " ");
    }
    this.showActions();
  }

  showActions() {
    const { status, snapshot } = this;
    const finished = isFinished(status);
    this.cancelButton.disabled = this.busy || finished;
    const active = status === "queued" || status === "running";
    this.pauseButton.hidden = !active || snapshot.pending === 0;
    this.pauseButton.disabled = this.busy;
    this.resumeButton.hidden = status !== "paused";
    this.resumeButton.disabled = this.busy;
    const retryable = snapshot.failed > 0 || (status === "cancelled" && snapshot.pending > 0);
    this.retryButton.disabled = this.busy || !finished || !retryable;
    this.reasons.setDisabled(this.busy || !finished);
  }

  /** @param {Connection} state */
  setConnection(state) {
    if (state === "finished") this.stream.close();
    this.connection.dataset.connection = state;
    const label = this.connection.querySelector("[data-role=connection-label]");
    if (label instanceof HTMLElement) setText(label, CONNECTION_LABELS[state]);
  }
}

/**
 * The pause banner's title; the same text as the progress page's template.
 * @param {string | undefined} reason
 * @returns {string}
 */
export function pauseTitle(reason) {
  if (reason === "early_stop") return "Paused by the early stop";
  if (reason === "quota") return "Paused: the daily quota is spent";
  return "Paused";
}
