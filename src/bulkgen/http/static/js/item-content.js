// @ts-check
/**
 * The whole item inside an expanded feed row: stem, options with the key marked,
 * rationale and the blind review. Item events carry only a summary, so the content is
 * fetched from the items API the first time a row is opened, and again when the row's
 * item changed since.
 *
 * Generated text is untrusted: every string goes in with `textContent`, never as HTML.
 * @module item-content
 */

import { element, fact } from "./dom.js";

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").ItemReview} ItemReview */
/** @typedef {(index: number) => Promise<Item>} LoadItem */

export const LOADING_TEXT = "Loading the question…";

/**
 * The place an item's content goes, before it is loaded. Matches the `item_content`
 * placeholder of `progress.html`.
 * @returns {HTMLElement}
 */
export function contentPlaceholder() {
  const box = element("div", "item-content");
  box.dataset.role = "item-content";
  box.dataset.state = "unloaded";
  box.append(element("p", "muted", LOADING_TEXT));
  return box;
}

/**
 * Fill the unloaded content box of an open row (at most one load at a time per box; a
 * failed load says why and is tried again the next time the row opens).
 * @param {HTMLDetailsElement} details
 * @param {number} index
 * @param {LoadItem} load
 */
export async function fillContent(details, index, load) {
  const box = details.querySelector("[data-role=item-content]");
  if (!(box instanceof HTMLElement)) return;
  const state = box.dataset.state;
  if (state !== "unloaded" && state !== "error") return;
  box.dataset.state = "loading";
  box.replaceChildren(element("p", "muted", LOADING_TEXT));
  try {
    const item = await load(index);
    box.replaceChildren(...contentOf(item));
    box.dataset.state = "loaded";
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    box.replaceChildren(element("p", "feed-problem", `Could not load the question: ${message}`));
    box.dataset.state = "error";
  }
}

/**
 * @param {Item} item
 * @returns {HTMLElement[]}
 */
export function contentOf(item) {
  const result = item.result;
  if (result === null) return [element("p", "muted", "No item was generated.")];
  const options = element("ol", "item-options");
  options.setAttribute("aria-label", "Options");
  for (const option of result.options) {
    const isKey = option.key === result.answer;
    const entry = element(
      "li",
      isKey ? "item-option item-option-key" : "item-option",
      element("span", "option-key", option.key),
      element("span", "option-text", option.text),
    );
    if (isKey) entry.append(element("span", "key-mark", "✓ Answer"));
    entry.dataset.key = option.key;
    options.append(entry);
  }
  const parts = [
    element("p", "detail-title", "Question"),
    withRole(element("p", "item-stem", result.stem), "stem"),
    options,
    element("p", "detail-title", "Rationale"),
    withRole(element("p", "item-rationale", result.rationale), "rationale"),
  ];
  if (result.review) parts.push(reviewOf(result.review, result.answer));
  return parts;
}

/**
 * @param {ItemReview} review
 * @param {string} key
 * @returns {HTMLElement}
 */
function reviewOf(review, key) {
  const facts = element("dl", "error-facts");
  const verdict = review.agrees ? "Agrees with the key" : "Disagrees with the key";
  facts.append(
    fact("Verdict", verdict, "review-verdict"),
    fact("Reviewer's answer", review.answer ?? "none", "review-answer"),
    fact("Judged correct", review.correct.length ? review.correct.join(", ") : "none", "review-correct"),
    fact("Key", key, "review-key"),
  );
  if (review.model) facts.append(fact("Reviewer", review.model, "review-model"));
  const section = element("section", "item-review", element("p", "detail-title", "Blind review"), facts);
  section.dataset.role = "review";
  section.dataset.agrees = String(review.agrees);
  if (review.flaws.length > 0) {
    const flaws = element("ul", "rule-list rule-list-warning");
    flaws.setAttribute("aria-label", "Flaws the reviewer reported");
    for (const flaw of review.flaws) flaws.append(element("li", "", flaw));
    section.append(flaws);
  }
  return section;
}

/**
 * @param {HTMLElement} node
 * @param {string} role
 * @returns {HTMLElement}
 */
function withRole(node, role) {
  node.dataset.role = role;
  return node;
}
