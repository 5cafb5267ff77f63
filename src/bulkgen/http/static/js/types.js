// @ts-check
/**
 * Shapes of the JSON the progress view reads: the SSE stream's `data` lines and the REST
 * API's bodies (see `bulkgen.models`). Types only; nothing runs here.
 * @module types
 */

/** @typedef {"pending" | "in_progress" | "completed" | "failed"} ItemStatus */
/** @typedef {"queued" | "running" | "paused" | "completed" | "cancelled" | "failed"} BatchStatus */

/**
 * Why a paused batch is paused.
 * @typedef {object} PauseInfo
 * @property {"manual" | "early_stop" | "quota"} reason
 * @property {string} message
 * @property {string} at
 */

/**
 * @typedef {object} RuleResult
 * @property {string} rule
 * @property {string} severity
 * @property {string} message
 */

/**
 * @typedef {object} ItemError
 * @property {string} kind `validation`, a generation error kind, or `cancelled`
 * @property {string} message
 * @property {RuleResult[]} rules
 * @property {boolean} transient
 */

/**
 * An item as item events carry it (one feed row's worth).
 * @typedef {object} ItemSummary
 * @property {number} index
 * @property {ItemStatus} status
 * @property {number} attempts
 * @property {string | null} started_at
 * @property {string | null} finished_at
 * @property {number | null} duration_ms
 * @property {string | null} stem_preview
 * @property {string | null} answer
 * @property {RuleResult[]} warnings
 * @property {ItemError | null} error
 */

/**
 * What the blind review of an item found (a second model answered it without its key).
 * @typedef {object} ItemReview
 * @property {string | null} model
 * @property {string | null} answer the reviewer's best answer (an option key)
 * @property {string[]} correct every key the reviewer judged correct
 * @property {string[]} flaws item-writing problems the reviewer reported
 * @property {boolean} agrees the reviewer's answer is the key, and the only correct one
 */

/**
 * A generated question.
 * @typedef {object} GeneratedItem
 * @property {string} stem
 * @property {{key: string, text: string}[]} options
 * @property {string} answer
 * @property {string} rationale
 * @property {ItemReview | null} [review]
 */

/**
 * An item as the items API lists it.
 * @typedef {object} Item
 * @property {number} index
 * @property {ItemStatus} status
 * @property {unknown[]} attempts
 * @property {string | null} started_at
 * @property {string | null} finished_at
 * @property {number | null} duration_ms
 * @property {GeneratedItem | null} result
 * @property {RuleResult[]} warnings
 * @property {ItemError | null} error
 */

/**
 * Tokens used, as the provider reported them.
 * @typedef {object} TokenUsage
 * @property {number} prompt_tokens
 * @property {number} completion_tokens
 * @property {number} total_tokens
 */

/**
 * Where a batch stands: the same shape in REST and in `batch.progress`.
 * @typedef {object} Snapshot
 * @property {number} total
 * @property {number} completed
 * @property {number} failed
 * @property {number} in_progress
 * @property {number} pending
 * @property {number} percent
 * @property {number | null} success_rate
 * @property {number | null} throughput_per_min
 * @property {number | null} eta_seconds
 * @property {number | null} elapsed_seconds
 * @property {BatchStatus} status
 * @property {string | null} started_at
 * @property {string | null} finished_at
 * @property {Record<string, number>} [failure_reasons] failed items per reason key
 *   (`rule:<rule id>` or `kind:<error kind>`), most frequent first
 * @property {TokenUsage | null} [usage] tokens the batch's items used, null when none
 * @property {number | null} [target_valid] mode valid: items that must pass; else null
 * @property {number} [replacements] items queued beyond the count to replace failed ones
 * @property {number | null} [max_items] mode valid: the most items the batch may create
 * @property {PauseInfo | null} [pause] status paused: why; else null
 * @property {string | null} [last_finished_at] when the latest item of the current run finished
 * @property {boolean} [stalled] running, and no finish for far longer than the rate predicts
 * @property {string | null} [backoff_until] the provider asked to wait until then (running)
 * @property {string | null} [storage_fault] the database takes no writes now: why (unfinished)
 * @property {CostEstimate | null} [cost] estimated cost of the tokens used; null without a price
 * @property {ProviderBatch | null} [provider_batch] delivery provider_batch: the provider's batch
 */

/**
 * @typedef {object} CostEstimate
 * @property {number} usd
 * @property {number | null} per_valid_item_usd
 * @property {number} discount
 */

/**
 * @typedef {object} ProviderBatch
 * @property {number} round
 * @property {string | null} id
 * @property {string} status
 * @property {number} total
 * @property {number} completed
 * @property {number} failed
 */

/**
 * A batch as the API returns it (the fields the page uses).
 * @typedef {object} Batch
 * @property {string} id
 * @property {BatchStatus} status
 * @property {Snapshot} progress
 * @property {number} last_event_id
 */

export {};
