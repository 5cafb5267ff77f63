// @ts-check
/**
 * Time slicing for the live views: work that may be large (thousands of events at once)
 * runs in slices of a few milliseconds, and between slices the browser gets the main
 * thread back to paint and to answer the user.
 * @module frames
 */

/** How long one slice of work may run before it yields (ms). */
export const SLICE_MS = 6;

/** When animation frames do not run (a hidden tab), run at this interval instead. */
const FALLBACK_MS = 250;

/** @type {{ yield?: () => Promise<void> } | undefined} Chromium's `scheduler`, where it exists */
const scheduler = /** @type {{ scheduler?: { yield?: () => Promise<void> } }} */ (globalThis)
  .scheduler;

/** @type {MessagePort | null} posts the messages whose arrival starts a new task */
let port = null;
/** @type {(() => void)[]} */
const waiting = [];

/**
 * Resolve in a new task: `await nextTask()` lets the browser paint and handle input.
 * (A resolved promise would not: its callbacks run in the same task.)
 * @returns {Promise<void>}
 */
export function nextTask() {
  if (typeof scheduler?.yield === "function") return scheduler.yield();
  if (port === null) {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    port = channel.port2;
  }
  const sender = port;
  return new Promise((resolve) => {
    waiting.push(resolve);
    sender.postMessage(null);
  });
}

/** A deadline for one slice of work. */
export class Slice {
  /** @param {number} [ms] */
  constructor(ms = SLICE_MS) {
    this.ms = ms;
    this.end = performance.now() + ms;
  }

  /** Start a new slice now (the task changed without a yield: a wait for I/O). */
  restart() {
    this.end = performance.now() + this.ms;
  }

  /** Whether the slice has used its time. */
  get over() {
    return performance.now() >= this.end;
  }

  /** Start the next slice after yielding to the browser. */
  async yield() {
    await nextTask();
    this.restart();
  }
}

/** Run a callback at the next animation frame, at most once per frame. */
export class FrameCallback {
  /** @param {() => void} run */
  constructor(run) {
    this.run = run;
    /** @type {number | null} */
    this.frame = null;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
  }

  get scheduled() {
    return this.frame !== null;
  }

  /** Ask for a run at the next frame (or after a while, when frames do not run). */
  request() {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => this.fire());
    this.timer = setTimeout(() => this.fire(), FALLBACK_MS);
  }

  cancel() {
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    if (this.timer !== null) clearTimeout(this.timer);
    this.frame = null;
    this.timer = null;
  }

  /** Run now (what the frame would do). */
  fire() {
    this.cancel();
    this.run();
  }
}
