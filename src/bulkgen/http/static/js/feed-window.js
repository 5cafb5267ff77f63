// @ts-check
/**
 * The item feed with a bounded DOM: at most `limit` rows, in index order, keyed by index.
 *
 * While following, a new row past the limit pushes the oldest rows out at the top (a
 * "Load earlier" bar fetches them back from the items API). While paused, the rows the
 * user is reading stay put: rows past the limit are left out at the bottom, and "Jump to
 * latest" fetches the newest window. Rows in the window update in place; events for items
 * outside it change nothing here (the counts show them).
 *
 * While a fetch is in flight, the summaries that arrive are kept and applied again on top
 * of the fetched rows, so an item never stays at the (older) state the fetch read.
 *
 * Rows are built in slices of a few milliseconds, one slice per animation frame, newest
 * first: a burst that replaces the whole window never holds the page, and the rows a
 * following user sees come first. `data-settled` on the feed says when all are shown.
 * @module feed-window
 */

import { AutoScroll } from "./auto-scroll.js";
import { createRow, updateRow } from "./feed-row.js";
import { formatCount, plural } from "./format.js";
import { FrameCallback, Slice } from "./frames.js";
import { fillContent } from "./item-content.js";

/** @typedef {import("./types.js").ItemSummary} ItemSummary */
/** @typedef {(offset: number, limit: number) => Promise<ItemSummary[]>} LoadItems */
/** @typedef {import("./item-content.js").LoadItem} LoadItem */

/**
 * @template {Element} T
 * @param {ParentNode} root
 * @param {string} selector
 * @param {new () => T} type
 * @returns {T}
 */
export function part(root, selector, type) {
  const found = root.querySelector(selector);
  if (!(found instanceof type)) throw new Error(`progress view: missing ${selector}`);
  return found;
}

/**
 * Rows built or changed per animation frame at most: what the browser then lays out and
 * paints in that frame grows with them. About one screen of rows: at 40 a 10,000-item
 * batch still made frames of 60-70 ms (bench/progress_page.py).
 */
const ROWS_PER_FRAME = 12;

export class FeedWindow {
  /**
   * @param {HTMLElement} root the feed's card (holds the list and its controls)
   * @param {{limit: number, started: number, load: LoadItems, loadItem: LoadItem}} options
   *   `started`: items that have left pending when the page was rendered (more than the
   *   rows: some hidden); `loadItem`: one whole item, for an opened row
   */
  constructor(root, { limit, started, load, loadItem }) {
    this.limit = limit;
    this.load = load;
    this.loadItem = loadItem;
    this.page = Math.max(1, Math.floor(limit / 2));
    this.scroller = part(root, "[data-role=feed]", HTMLElement);
    this.list = part(root, "[data-role=feed-list]", HTMLOListElement);
    this.earlier = part(root, "[data-role=earlier]", HTMLElement);
    this.earlierText = part(root, "[data-role=earlier-count]", HTMLElement);
    this.loadEarlierButton = part(root, "[data-action=load-earlier]", HTMLButtonElement);
    this.pauseButton = part(root, "[data-action=pause]", HTMLButtonElement);
    this.resumeButton = part(root, "[data-action=resume]", HTMLButtonElement);
    this.followText = part(root, "[data-role=follow-state]", HTMLElement);
    this.empty = part(root, "[data-role=feed-empty]", HTMLElement);
    /** @type {Map<number, HTMLLIElement>} */
    this.rows = new Map();
    /** @type {number[]} indices of the rows, ascending */
    this.order = [];
    for (const row of this.list.querySelectorAll(":scope > li[data-index]")) {
      const index = Number(/** @type {HTMLElement} */ (row).dataset.index);
      this.rows.set(index, /** @type {HTMLLIElement} */ (row));
      this.order.push(index);
    }
    this.order.sort((a, b) => a - b);
    this.maxSeen = this.order.length ? /** @type {number} */ (this.order.at(-1)) : -1;
    this.earlierHidden = started > this.order.length;
    this.laterHidden = false;
    this.loading = 0;
    /** Why the last fetch failed ("" when it did not). */
    this.problem = "";
    /** @type {Map<number, ItemSummary>} summaries that arrived during a fetch */
    this.recent = new Map();
    /** @type {Map<number, ItemSummary>} summaries not shown yet (the latest of each item) */
    this.pending = new Map();
    /** @type {number[]} the pending indices, newest last, while a drain goes through them */
    this.queue = [];
    this.drainer = new FrameCallback(() => this.drain());
    /** @type {(() => void)[]} called once every pending summary is shown */
    this.onSettled = [];
    this.scroll = new AutoScroll(
      this.scroller,
      () => this.showControls(),
      () => !this.laterHidden,
    );
    this.pauseButton.addEventListener("click", () => this.scroll.pause());
    this.resumeButton.addEventListener("click", () => void this.jumpToLatest());
    this.loadEarlierButton.addEventListener("click", () => void this.loadEarlier());
    // Someone opening a row wants to read it: the feed must not scroll it away.
    this.list.addEventListener(
      "toggle",
      (event) => {
        if (!(event.target instanceof HTMLDetailsElement) || !event.target.open) return;
        this.scroll.pause();
        this.fill(event.target);
      },
      true,
    );
    this.scroller.dataset.settled = "true";
    this.showControls();
    this.scroll.stick();
  }

  /**
   * Show the latest state of these items: the first rows now, the rest in the next frames.
   * @param {Iterable<ItemSummary>} items
   */
  apply(items) {
    for (const item of items) {
      if (this.loading > 0) this.recent.set(item.index, item);
      if (item.status !== "pending" && item.index > this.maxSeen) this.maxSeen = item.index;
      this.pending.set(item.index, item);
    }
    this.queue = [];
    this.drain();
  }

  /** Show pending summaries, newest first, for one slice; the rest at the next frame. */
  drain() {
    this.drainer.cancel();
    if (this.queue.length === 0) this.queue = [...this.pending.keys()].sort((a, b) => a - b);
    const slice = new Slice();
    let rows = 0;
    while (this.queue.length > 0 && rows < ROWS_PER_FRAME && !slice.over) {
      const index = /** @type {number} */ (this.queue.pop());
      const item = this.pending.get(index);
      this.pending.delete(index);
      if (item && this.show(item)) rows += 1;
    }
    this.showControls();
    // No stick() here: the scroller's resize observer follows the new rows after layout.
    if (this.pending.size > 0) {
      this.scroller.dataset.settled = "false";
      this.drainer.request();
      return;
    }
    this.queue = [];
    this.scroller.dataset.settled = "true";
    for (const settled of this.onSettled.splice(0)) settled();
  }

  /**
   * Call `settled` once every summary received so far is shown.
   * @param {() => void} settled
   */
  whenSettled(settled) {
    if (this.pending.size === 0) settled();
    else this.onSettled.push(settled);
  }

  /**
   * @param {ItemSummary} item the latest summary of its item
   * @returns {boolean} whether a row was built or changed
   */
  show(item) {
    const row = this.rows.get(item.index);
    if (row) {
      updateRow(row, item);
      const details = row.querySelector("details");
      if (details?.open) this.fill(details);
      return true;
    }
    if (item.status === "pending") return false; // not started: no row until it is
    const { order } = this;
    if (this.earlierHidden && order.length && item.index < order[0]) return false; // above
    const last = /** @type {number} */ (order.at(-1));
    if (this.laterHidden && order.length && item.index > last) return false; // below, paused
    return this.insert(item);
  }

  /**
   * Load the whole item into an open row.
   * @param {HTMLDetailsElement} details
   */
  fill(details) {
    const row = details.closest("li[data-index]");
    if (!(row instanceof HTMLLIElement)) return;
    void fillContent(details, Number(row.dataset.index), this.loadItem);
  }

  /**
   * Add a row, keeping the window's size: while following, the oldest row makes way (or
   * the item is older than all of them and stays out); while paused, the newest.
   * @param {ItemSummary} item without a row yet
   * @returns {boolean} whether it got a row
   */
  insert(item) {
    if (this.order.length >= this.limit) {
      if (this.scroll.following) {
        this.earlierHidden = true;
        if (item.index < this.order[0]) return false;
        this.removeRows(0, 1);
      } else {
        this.laterHidden = true;
        if (item.index > /** @type {number} */ (this.order.at(-1))) return false;
        this.removeRows(this.order.length - 1, 1);
      }
    }
    this.insertRow(item);
    return true;
  }

  /** @param {ItemSummary} item */
  insertRow(item) {
    let low = 0;
    let high = this.order.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.order[middle] < item.index) low = middle + 1;
      else high = middle;
    }
    const row = createRow(item);
    const next = low < this.order.length ? this.rows.get(this.order[low]) : undefined;
    this.list.insertBefore(row, next ?? null);
    this.order.splice(low, 0, item.index);
    this.rows.set(item.index, row);
  }

  /**
   * @param {number} start position in `order`
   * @param {number} count
   */
  removeRows(start, count) {
    if (count <= 0) return;
    for (const index of this.order.splice(start, count)) {
      this.rows.get(index)?.remove();
      this.rows.delete(index);
    }
  }

  /** Follow again; when newer rows were left out, fetch the newest window first. */
  async jumpToLatest() {
    if (this.loading > 0) return;
    if (this.laterHidden) {
      const offset = Math.max(0, this.maxSeen - this.limit + 1);
      const items = await this.fetching(() => this.load(offset, this.limit));
      if (!items) return; // stay paused: following a window without the newest rows is wrong
      this.removeRows(0, this.order.length);
      this.laterHidden = false;
      this.earlierHidden = offset > 0;
      const rows = items.filter((item) => item.status !== "pending");
      this.list.replaceChildren(...rows.map((item) => this.adopt(item)));
    }
    // Follow before replaying what arrived during the fetch: those rows must push the
    // oldest out of the window, not hide the newest again as a paused window would.
    this.scroll.resume();
    this.replayRecent();
    this.showControls();
  }

  /** Fetch the rows just above the window and put them on top, keeping the view still. */
  async loadEarlier() {
    if (this.order.length === 0 || this.loading > 0) return;
    this.scroll.pause();
    const lowest = this.order[0];
    const offset = Math.max(0, lowest - this.page);
    if (lowest === offset) {
      this.earlierHidden = false;
      this.showControls();
      return;
    }
    const items = await this.fetching(() => this.load(offset, lowest - offset));
    if (!items) return;
    const anchor = this.rows.get(this.order[0]);
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
    const top = this.order.length ? this.order[0] : Infinity;
    const rows = items.filter((item) => item.status !== "pending" && item.index < top);
    this.list.prepend(...rows.map((item) => this.adopt(item)));
    this.order.sort((a, b) => a - b);
    this.earlierHidden = offset > 0;
    const over = this.order.length - this.limit;
    if (over > 0) {
      this.removeRows(this.order.length - over, over);
      this.laterHidden = true;
    }
    this.replayRecent();
    this.showControls();
    if (anchor) this.scroll.shift(anchor.getBoundingClientRect().top - anchorTop);
  }

  /**
   * A row for a fetched item, registered (the caller puts it in the list and sorts).
   * @param {ItemSummary} item
   * @returns {HTMLLIElement}
   */
  adopt(item) {
    const row = createRow(item);
    this.rows.set(item.index, row);
    this.order.push(item.index);
    if (item.index > this.maxSeen) this.maxSeen = item.index;
    return row;
  }

  /**
   * Run a fetch, remembering the summaries that arrive meanwhile.
   * @param {() => Promise<ItemSummary[]>} fetch
   * @returns {Promise<ItemSummary[] | null>} the items, or null when the fetch failed
   */
  async fetching(fetch) {
    this.loading += 1;
    this.problem = "";
    this.showControls();
    /** @type {ItemSummary[] | null} */
    let items = null;
    try {
      items = await fetch();
    } catch (error) {
      this.problem = error instanceof Error ? error.message : String(error);
    }
    this.loading -= 1;
    // Those summaries were applied when they arrived; only a fetched window needs them again.
    if (items === null && this.loading === 0) this.recent.clear();
    this.showControls();
    return items;
  }

  replayRecent() {
    if (this.loading > 0 || this.recent.size === 0) return;
    const recent = [...this.recent.values()];
    this.recent.clear();
    this.apply(recent);
  }

  /** Show the controls that fit the state: earlier bar, pause/resume, empty message. */
  showControls() {
    const following = this.scroll.following;
    this.scroller.dataset.following = String(following);
    this.pauseButton.hidden = !following;
    this.resumeButton.hidden = following;
    setText(
      this.followText,
      this.problem
        ? `Could not load items: ${this.problem}`
        : following
          ? "Following the latest item"
          : this.laterHidden
            ? "Paused — newer items are not shown"
            : "Auto-scroll paused",
    );
    this.followText.classList.toggle("feed-problem", this.problem !== "");
    const earlierCount = this.order.length ? this.order[0] : 0;
    this.earlier.hidden = !this.earlierHidden;
    setText(
      this.earlierText,
      earlierCount > 0
        ? `${plural(earlierCount, "earlier item")} not shown`
        : "Earlier items not shown",
    );
    const batch = formatCount(Math.min(this.page, earlierCount || this.page));
    setText(this.loadEarlierButton, this.loading > 0 ? "Loading…" : `Load ${batch} earlier`);
    this.loadEarlierButton.disabled = this.loading > 0;
    this.empty.hidden = this.order.length > 0;
    this.scroller.dataset.rows = String(this.order.length);
  }
}

/**
 * Change a node's text only when it differs (live regions announce every change).
 * @param {HTMLElement} node
 * @param {string} text
 */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}
