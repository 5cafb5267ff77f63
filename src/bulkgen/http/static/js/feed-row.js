// @ts-check
/**
 * One row of the item feed, built from an item summary. The markup matches the
 * `feed_row` macro of `progress.html`, so rows rendered by the server and by the browser
 * look and behave the same.
 *
 * Generated text is untrusted: every string goes in with `textContent`, never as HTML.
 * @module feed-row
 */

import { element, fact } from "./dom.js";
import { formatDuration, plural } from "./format.js";
import { contentPlaceholder } from "./item-content.js";

/** @typedef {import("./types.js").ItemSummary} ItemSummary */
/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").ItemStatus} ItemStatus */
/** @typedef {import("./types.js").RuleResult} RuleResult */
/** @typedef {import("./types.js").ItemError} ItemError */

/** Characters of the stem an item event carries (`STEM_PREVIEW` on the server). */
export const STEM_PREVIEW = 200;

/** @type {Record<ItemStatus, {icon: string, label: string}>} */
export const INDICATORS = {
  completed: { icon: "✓", label: "Passed" },
  failed: { icon: "✕", label: "Failed" },
  in_progress: { icon: "●", label: "Generating" },
  pending: { icon: "○", label: "Pending" },
};

/**
 * The summary an item event would carry for an item of the items API.
 * @param {Item} item
 * @returns {ItemSummary}
 */
export function summaryFromItem(item) {
  return {
    index: item.index,
    status: item.status,
    attempts: item.attempts.length,
    started_at: item.started_at,
    finished_at: item.finished_at,
    duration_ms: item.duration_ms,
    stem_preview: item.result ? item.result.stem.slice(0, STEM_PREVIEW) : null,
    answer: item.result ? item.result.answer : null,
    warnings: item.warnings,
    error: item.error,
  };
}

/**
 * A new row for an item.
 * @param {ItemSummary} item
 * @returns {HTMLLIElement}
 */
export function createRow(item) {
  const row = document.createElement("li");
  row.className = "feed-row";
  row.dataset.index = String(item.index);
  updateRow(row, item);
  return row;
}

/**
 * Show an item's latest state in its row; an expanded row stays expanded (the feed loads
 * its content again).
 * @param {HTMLLIElement} row
 * @param {ItemSummary} item
 */
export function updateRow(row, item) {
  row.dataset.status = item.status;
  const wasOpen = row.querySelector("details")?.open ?? false;
  const detail = detailOf(item);
  if (detail === null) {
    row.replaceChildren(element("div", "feed-line", ...lineOf(item, false)));
    return;
  }
  const details = document.createElement("details");
  details.className = "feed-expand";
  details.open = wasOpen;
  details.append(element("summary", "feed-line", ...lineOf(item, true)), detail);
  row.replaceChildren(details);
}

/**
 * @param {ItemSummary} item
 * @param {boolean} expandable
 * @returns {HTMLElement[]}
 */
function lineOf(item, expandable) {
  const indicator = INDICATORS[item.status];
  const badge = element("span", `indicator indicator-${item.status}`);
  badge.dataset.role = "indicator";
  const icon = element("span", "indicator-icon", indicator.icon);
  icon.setAttribute("aria-hidden", "true");
  badge.append(icon, " ", indicator.label);
  const stem = element("span", "feed-stem", item.stem_preview ?? placeholderStem(item));
  if (item.stem_preview === null) stem.classList.add("muted");
  const chevron = element("span", "feed-chevron", expandable ? "▸" : "");
  chevron.setAttribute("aria-hidden", "true");
  const answer = item.answer === null ? "—" : item.answer;
  return [
    chevron,
    badge,
    element("span", "feed-num", `#${item.index + 1}`),
    stem,
    labelled("feed-answer", "Answer", answer),
    labelled("feed-duration", "Time", formatDuration(item.duration_ms)),
    element("span", "feed-attempts", item.attempts > 0 ? plural(item.attempts, "attempt") : ""),
  ];
}

/** @param {ItemSummary} item */
function placeholderStem(item) {
  if (item.status === "in_progress") return "generating…";
  if (item.status === "pending") return "waiting to be generated";
  return "no item was generated";
}

/**
 * The expandable part of a row: what went wrong, warnings, and the whole item (loaded
 * when the row opens); null when there is nothing to show.
 * @param {ItemSummary} item
 * @returns {HTMLElement | null}
 */
function detailOf(item) {
  const error = item.status === "failed" ? item.error : null;
  const generated = item.stem_preview !== null;
  if (error === null && item.warnings.length === 0 && !generated) return null;
  const detail = element("div", "feed-detail");
  detail.dataset.role = "detail";
  if (error !== null) detail.append(...errorParts(error, item.attempts));
  if (item.warnings.length > 0) {
    detail.append(
      element("p", "detail-title", "Warnings"),
      ruleList(item.warnings, "rule-list rule-list-warning"),
    );
  }
  if (generated) detail.append(contentPlaceholder());
  return detail;
}

/**
 * @param {ItemError} error
 * @param {number} attempts
 * @returns {HTMLElement[]}
 */
function errorParts(error, attempts) {
  if (error.kind === "validation") {
    return [
      element("p", "detail-title", "Validation failed"),
      ruleList(error.rules, "rule-list rule-list-error"),
    ];
  }
  const title = error.kind === "cancelled" ? "Cancelled" : "Generation error";
  const facts = element("dl", "error-facts");
  facts.append(
    fact("Kind", error.kind, "error-kind"),
    fact("Message", error.message, "error-message"),
    fact("Attempts", String(attempts), "error-attempts"),
    fact("Transient", error.transient ? "yes" : "no", "error-transient"),
  );
  return [element("p", "detail-title", title), facts];
}

/**
 * @param {RuleResult[]} rules
 * @param {string} className
 * @returns {HTMLElement}
 */
function ruleList(rules, className) {
  const list = element("ul", className);
  for (const rule of rules) {
    const entry = element(
      "li",
      "",
      element("code", "rule-id", rule.rule),
      " ",
      element("span", "rule-message", rule.message),
    );
    entry.dataset.rule = rule.rule;
    list.append(entry);
  }
  return list;
}

/**
 * A cell whose label is visible to screen readers only (the feed's columns are visual).
 * @param {string} className
 * @param {string} label
 * @param {string} value
 * @returns {HTMLElement}
 */
function labelled(className, label, value) {
  return element("span", className, element("span", "visually-hidden", `${label} `), value);
}
