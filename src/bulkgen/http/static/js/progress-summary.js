// @ts-check
/**
 * The numbers at the top of the progress view: the bar, the counts by state, time
 * remaining, elapsed time and throughput, shown from the latest progress snapshot. Between
 * snapshots, elapsed time and time remaining move on with the browser's clock.
 * @module progress-summary
 */

import {
  formatCount,
  formatElapsed,
  formatPercent,
  formatRate,
  formatSeconds,
  formatTimestamp,
} from "./format.js";

/** @typedef {import("./types.js").Snapshot} Snapshot */
/** @typedef {import("./types.js").BatchStatus} BatchStatus */
/** @typedef {import("./types.js").TokenUsage} TokenUsage */
/** @typedef {import("./types.js").CostEstimate} CostEstimate */
/** @typedef {import("./types.js").ProviderBatch} ProviderBatch */

const COUNTS = /** @type {const} */ (["completed", "in_progress", "failed", "pending"]);
const SEGMENTS = /** @type {const} */ (["completed", "failed", "in_progress"]);
const FINISHED = new Set(["completed", "cancelled", "failed"]);

/**
 * @param {string} status
 * @returns {boolean} whether a batch in this status stays there until someone acts
 */
export function isFinished(status) {
  return FINISHED.has(status);
}

export class ProgressSummary {
  /**
   * @param {HTMLElement} root the page's root element
   * @param {Snapshot} snapshot the state the server rendered
   */
  constructor(root, snapshot) {
    this.root = root;
    this.snapshot = snapshot;
    this.receivedAt = performance.now();
    this.shownElapsed = 0;
    this.bar = root.querySelector("[role=progressbar]");
    this.tick();
  }

  /**
   * Show a newer snapshot.
   * @param {Snapshot} snapshot
   */
  show(snapshot) {
    if (snapshot.finished_at === null && this.snapshot.finished_at !== null) this.shownElapsed = 0;
    this.snapshot = snapshot;
    this.receivedAt = performance.now();
    const target = snapshot.target_valid ?? null;
    // Mode valid measures the target of passed items; the other mode, finished items.
    const done = target === null ? snapshot.completed + snapshot.failed : snapshot.completed;
    const goal = target ?? snapshot.total;
    this.text("finished-count", formatCount(done));
    this.text("total", formatCount(goal));
    this.text("percent", `${formatPercent(snapshot.percent)}%`);
    if (target !== null) this.text("valid-goal", validGoalText(snapshot, target));
    for (const key of COUNTS) {
      const cell = this.root.querySelector(`[data-count="${key}"]`);
      if (cell) cell.textContent = formatCount(snapshot[key]);
    }
    if (this.bar) {
      this.bar.setAttribute("aria-valuemax", String(goal));
      this.bar.setAttribute("aria-valuenow", String(done));
      this.bar.setAttribute("aria-valuetext", valueText(snapshot));
      const widths = segmentShares(snapshot);
      for (const key of SEGMENTS) {
        const seg = /** @type {HTMLElement | null} */ (this.bar.querySelector(`[data-seg="${key}"]`));
        if (seg) seg.style.width = `${widths[key]}%`;
      }
    }
    this.text("throughput", formatRate(snapshot.throughput_per_min));
    this.text(
      "success-rate",
      snapshot.success_rate === null ? "—" : `${formatPercent(100 * snapshot.success_rate)}%`,
    );
    this.text("started-at", formatTimestamp(snapshot.started_at));
    this.showUsage(snapshot.usage ?? null);
    this.showCost(snapshot.cost ?? null);
    this.showProvider(snapshot.provider_batch ?? null);
    const exports = this.root.querySelector("[data-role=export]");
    if (exports instanceof HTMLElement) exports.hidden = snapshot.completed === 0;
    this.tick();
  }

  /** @param {TokenUsage | null} usage */
  showUsage(usage) {
    const row = this.root.querySelector("[data-role=usage-row]");
    if (row instanceof HTMLElement) row.hidden = usage === null;
    if (usage !== null) this.text("usage", formatUsage(usage));
  }

  /** @param {CostEstimate | null} cost */
  showCost(cost) {
    const row = this.root.querySelector("[data-role=cost-row]");
    if (row instanceof HTMLElement) row.hidden = cost === null;
    if (cost !== null) this.text("cost", formatCost(cost));
  }

  /** @param {ProviderBatch | null} provider */
  showProvider(provider) {
    const row = this.root.querySelector("[data-role=provider-row]");
    if (row instanceof HTMLElement) row.hidden = provider === null;
    if (provider !== null) this.text("provider", formatProvider(provider));
  }

  /** Move elapsed time and time remaining on (called every second). */
  tick() {
    const snapshot = this.snapshot;
    const since = (performance.now() - this.receivedAt) / 1000;
    this.text("elapsed", formatElapsed(this.elapsed(since)));
    let eta = "—";
    if (isFinished(snapshot.status)) {
      eta = "Done";
    } else if (snapshot.eta_seconds !== null) {
      eta = formatSeconds(Math.max(0, snapshot.eta_seconds - since));
    }
    this.text("eta", eta);
  }

  /**
   * Seconds since the batch started: exact once finished, else the server's figure moved
   * on by the browser's clock (so the two clocks need not agree), never going back.
   * @param {number} since seconds since the snapshot arrived
   * @returns {number | null}
   */
  elapsed(since) {
    const { started_at: started, finished_at: finished, elapsed_seconds: base } = this.snapshot;
    if (started === null) return null;
    if (finished !== null) return (Date.parse(finished) - Date.parse(started)) / 1000;
    this.shownElapsed = Math.max(this.shownElapsed, (base ?? 0) + since);
    return this.shownElapsed;
  }

  /**
   * @param {string} role
   * @param {string} value
   */
  text(role, value) {
    const node = this.root.querySelector(`[data-role="${role}"]`);
    if (node && node.textContent !== value) node.textContent = value;
  }
}

/**
 * Cost for people: "$0.0123 ($0.000123 per valid item)".
 * @param {CostEstimate} cost
 * @returns {string}
 */
export function formatCost(cost) {
  const each = cost.per_valid_item_usd === null ? "" : ` (${formatUsd(cost.per_valid_item_usd)} per valid item)`;
  const off = cost.discount < 1 ? ` · batch price ×${cost.discount}` : "";
  return `${formatUsd(cost.usd)}${each}${off}`;
}

/**
 * US dollars: cents from $1, else up to six decimals: "$12.35", "$0.000041".
 * @param {number} usd
 * @returns {string}
 */
export function formatUsd(usd) {
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(6).replace(/0+$/, "").replace(/\.$/, "")}`;
}

/**
 * The provider's batch for people: "in_progress · 40 of 100 requests answered (round 1)".
 * @param {ProviderBatch} provider
 * @returns {string}
 */
export function formatProvider(provider) {
  const done = provider.completed + provider.failed;
  const failed = provider.failed > 0 ? `, ${formatCount(provider.failed)} failed` : "";
  const round = provider.round > 1 ? ` (round ${provider.round})` : "";
  return `${provider.status.replace("_", " ")} · ${formatCount(done)} of ${formatCount(provider.total)} requests answered${failed}${round}`;
}

/**
 * Token usage for people: "12,345 (prompt 10,000 · completion 2,345)".
 * @param {TokenUsage} usage
 * @returns {string}
 */
export function formatUsage(usage) {
  return (
    `${formatCount(usage.total_tokens)} (prompt ${formatCount(usage.prompt_tokens)} · ` +
    `completion ${formatCount(usage.completion_tokens)})`
  );
}

/**
 * Widths (percent) of the bar's segments. In mode valid the bar is the target: passed
 * items, then the items in progress that could still reach it; failed attempts are not
 * part of it (the valid-goal line counts them).
 * @param {Snapshot} snapshot
 * @returns {Record<"completed" | "failed" | "in_progress", number>}
 */
export function segmentShares(snapshot) {
  const target = snapshot.target_valid ?? null;
  const provider = snapshot.provider_batch ?? null;
  // While the provider's batch runs, the requests it has answered fill the in-progress
  // segment: they wait for the pipeline, which takes them when the provider's batch ends.
  const answered =
    provider !== null && snapshot.status === "running"
      ? Math.min(provider.completed + provider.failed, snapshot.pending)
      : 0;
  if (target === null) {
    const total = snapshot.total || 1;
    return {
      completed: (100 * snapshot.completed) / total,
      failed: (100 * snapshot.failed) / total,
      in_progress: (100 * (snapshot.in_progress + answered)) / total,
    };
  }
  const goal = target || 1;
  const running = Math.min(snapshot.in_progress, Math.max(goal - snapshot.completed, 0));
  return {
    completed: (100 * snapshot.completed) / goal,
    failed: 0,
    in_progress: (100 * running) / goal,
  };
}

/**
 * The line of a batch in mode valid: "Valid 37 / 50 · 12 failed attempts · 3 replacements
 * queued · cap 150 items", with "· attempt cap reached" when it ended short of the target.
 * The template's `valid_goal` macro writes the same text.
 * @param {Snapshot} snapshot
 * @param {number} target
 * @returns {string}
 */
export function validGoalText(snapshot, target) {
  const replacements = snapshot.replacements ?? 0;
  let text =
    `Valid ${formatCount(snapshot.completed)} / ${formatCount(target)} · ` +
    `${formatCount(snapshot.failed)} failed attempt${snapshot.failed === 1 ? "" : "s"} · ` +
    `${formatCount(replacements)} replacement${replacements === 1 ? "" : "s"} queued · ` +
    `cap ${formatCount(snapshot.max_items ?? target)} items`;
  if (snapshot.status === "completed" && snapshot.completed < target) {
    text += " · attempt cap reached";
  }
  return text;
}

/**
 * What a screen reader says for the bar.
 * @param {Snapshot} snapshot
 * @returns {string}
 */
export function valueText(snapshot) {
  const target = snapshot.target_valid ?? null;
  if (target !== null) {
    return (
      `${formatCount(snapshot.completed)} of ${formatCount(target)} valid items ` +
      `(${formatPercent(snapshot.percent)}%): ${formatCount(snapshot.failed)} failed attempts`
    );
  }
  const done = snapshot.completed + snapshot.failed;
  return (
    `${formatCount(done)} of ${formatCount(snapshot.total)} items finished ` +
    `(${formatPercent(snapshot.percent)}%): ${formatCount(snapshot.completed)} passed, ` +
    `${formatCount(snapshot.failed)} failed`
  );
}
