// @ts-check
/**
 * Keeps a scrollable feed at its bottom while "following", and tells a user scrolling up
 * (to read) from the page scrolling down (to follow).
 * @module auto-scroll
 */

/** Pixels from the bottom that still count as "at the bottom". */
const SLACK = 8;
const UP_KEYS = new Set(["ArrowUp", "PageUp", "Home"]);

export class AutoScroll {
  /**
   * @param {HTMLElement} scroller the element that scrolls
   * @param {(following: boolean) => void} onChange called when following starts or stops
   * @param {() => boolean} canResumeAtBottom whether reaching the bottom by hand resumes
   */
  constructor(scroller, onChange, canResumeAtBottom) {
    this.scroller = scroller;
    this.following = scroller.dataset.following !== "false";
    this.onChange = onChange;
    this.canResumeAtBottom = canResumeAtBottom;
    this.lastTop = scroller.scrollTop;
    /** A scroll event is expected from stick(), not from the user. */
    this.sticking = false;
    scroller.addEventListener("wheel", (event) => {
      if (event.deltaY < 0) this.pause();
    }, { passive: true });
    scroller.addEventListener("keydown", (event) => {
      if (UP_KEYS.has(event.key)) this.pause();
    });
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    // New rows, a narrower window or an expanded row change the heights: stay at the
    // bottom. A resize observer runs after the browser's own layout, so following costs
    // no layout of its own; reading the height right after adding rows would force one.
    const sizes = new ResizeObserver(() => this.stick());
    sizes.observe(scroller);
    for (const child of scroller.children) sizes.observe(child);
  }

  /** Whether the feed shows its last row. */
  atBottom() {
    const { scrollTop, scrollHeight, clientHeight } = this.scroller;
    return scrollHeight - scrollTop - clientHeight <= SLACK;
  }

  onScroll() {
    if (this.sticking && this.following) {
      // The scroll stick() made: nothing to decide, and reading the position now would
      // lay out the rows a burst has just changed.
      this.sticking = false;
      return;
    }
    this.sticking = false;
    const top = this.scroller.scrollTop;
    const movedUp = top < this.lastTop - 1;
    const movedDown = top > this.lastTop + 1;
    this.lastTop = top;
    if (this.following && movedUp && !this.atBottom()) {
      this.pause();
    } else if (!this.following && movedDown && this.atBottom() && this.canResumeAtBottom()) {
      this.setFollowing(true);
    }
  }

  pause() {
    this.setFollowing(false);
  }

  /** Follow again and show the last row. */
  resume() {
    this.setFollowing(true);
    this.stick();
  }

  /**
   * Scroll to the bottom when following. Called once layout is done (the resize
   * observer) or on a user's action; rows changing need no call.
   */
  stick() {
    if (!this.following) return;
    const { scrollHeight, clientHeight } = this.scroller;
    const bottom = Math.max(0, scrollHeight - clientHeight);
    if (Math.abs(bottom - this.lastTop) <= 1) return;
    this.sticking = true;
    this.scroller.scrollTop = bottom;
    this.lastTop = this.scroller.scrollTop;
  }

  /**
   * Keep the rows in view in place after rows were added above them.
   * @param {number} grewBy pixels added above the visible rows
   */
  shift(grewBy) {
    this.scroller.scrollTop += grewBy;
    this.lastTop = this.scroller.scrollTop;
  }

  /** @param {boolean} following */
  setFollowing(following) {
    if (following === this.following) return;
    this.following = following;
    this.scroller.dataset.following = String(following);
    this.onChange(following);
  }
}
