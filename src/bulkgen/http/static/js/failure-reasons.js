// @ts-check
/**
 * The "Failures by reason" panel of the progress view: one row per reason key of the
 * latest snapshot (`rule:<rule id>` or `kind:<error kind>`) with its count and a
 * "Retry these" button. Rows are built with `textContent` only and the same markup as the
 * server-rendered ones (`progress.html`), and kept per key so a focused button survives
 * an update.
 * @module failure-reasons
 */

import { formatCount } from "./format.js";
import { setText } from "./feed-window.js";

/**
 * What a reason key is called on the page: the rule id for a rule, the kind for a kind.
 * @param {string} reason
 * @returns {{type: string, label: string}}
 */
export function reasonLabel(reason) {
  const colon = reason.indexOf(":");
  const prefix = colon < 0 ? "" : reason.slice(0, colon);
  const name = colon < 0 ? reason : reason.slice(colon + 1);
  if (prefix === "rule") return { type: "Rule", label: name };
  if (prefix === "kind") return { type: name === "cancelled" ? "Cancelled" : "Error", label: name };
  return { type: "", label: reason };
}

/**
 * Reasons with a count above 0, most frequent first (ties by key).
 * @param {Record<string, number> | undefined} reasons
 * @returns {[string, number][]}
 */
export function sortedReasons(reasons) {
  return Object.entries(reasons ?? {})
    .filter(([, count]) => count > 0)
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0));
}

export class FailureReasons {
  /**
   * @param {HTMLElement} panel the panel (`[data-role=reasons]`)
   * @param {(reason: string) => void} onRetry called with the reason of a clicked row
   */
  constructor(panel, onRetry) {
    this.panel = panel;
    const list = panel.querySelector("[data-role=reason-list]");
    if (!(list instanceof HTMLElement)) throw new Error("progress view: missing reason list");
    this.list = list;
    this.disabled = true;
    list.addEventListener("click", (event) => {
      const target = event.target;
      if (!(target instanceof Element)) return;
      const button = target.closest("[data-action=retry-reason]");
      const row = button?.closest("[data-reason]");
      if (button instanceof HTMLButtonElement && !button.disabled && row instanceof HTMLElement) {
        onRetry(row.dataset.reason ?? "");
      }
    });
  }

  /**
   * Show the reasons of a snapshot.
   * @param {Record<string, number> | undefined} reasons
   */
  show(reasons) {
    const sorted = sortedReasons(reasons);
    /** @type {Map<string, HTMLElement>} */
    const rows = new Map();
    for (const row of this.list.querySelectorAll(":scope > [data-reason]")) {
      if (row instanceof HTMLElement) rows.set(row.dataset.reason ?? "", row);
    }
    let previous = /** @type {Element | null} */ (null);
    for (const [reason, count] of sorted) {
      const row = rows.get(reason) ?? this.row(reason);
      rows.delete(reason);
      const cell = row.querySelector("[data-role=reason-count]");
      if (cell) setText(/** @type {HTMLElement} */ (cell), formatCount(count));
      const want = previous === null ? this.list.firstElementChild : previous.nextElementSibling;
      if (want !== row) this.list.insertBefore(row, want);
      previous = row;
    }
    for (const stale of rows.values()) stale.remove();
    this.panel.hidden = sorted.length === 0;
    this.setDisabled(this.disabled);
  }

  /** @param {boolean} disabled whether retrying is impossible now (running, or busy) */
  setDisabled(disabled) {
    this.disabled = disabled;
    for (const button of this.list.querySelectorAll("[data-action=retry-reason]")) {
      if (button instanceof HTMLButtonElement) button.disabled = disabled;
    }
  }

  /**
   * A new row (the markup of `progress.html`'s reason rows).
   * @param {string} reason
   * @returns {HTMLElement}
   */
  row(reason) {
    const { type, label } = reasonLabel(reason);
    const row = document.createElement("li");
    row.className = "reason-row";
    row.dataset.reason = reason;
    const name = document.createElement("span");
    name.className = "reason-name";
    const kind = document.createElement("span");
    kind.className = "reason-type muted";
    kind.textContent = type;
    const code = document.createElement("code");
    code.className = "rule-id";
    code.dataset.role = "reason-label";
    code.textContent = label;
    name.append(kind, " ", code);
    const count = document.createElement("span");
    count.className = "reason-count";
    count.dataset.role = "reason-count";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button button-small";
    button.dataset.action = "retry-reason";
    button.textContent = "Retry these";
    button.setAttribute("aria-label", `Retry these items that failed on ${label}`);
    button.disabled = this.disabled;
    row.append(name, count, button);
    return row;
  }
}
