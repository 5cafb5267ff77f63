// @ts-check
/**
 * Pure formatting of the numbers and times the progress view shows.
 * @module format
 */

/**
 * A span of seconds for people: "45 s", "1 min 20 s", "2 h 5 min".
 * @param {number | null | undefined} seconds
 * @returns {string} the text, or "—" when unknown
 */
export function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) {
    return "—";
  }
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  if (hours > 0) return minutes > 0 ? `${hours} h ${minutes} min` : `${hours} h`;
  const rest = whole % 60;
  return rest > 0 ? `${minutes} min ${rest} s` : `${minutes} min`;
}

/**
 * A clock-style elapsed time: "0:07", "12:34", "1:02:03".
 * @param {number | null} seconds
 * @returns {string}
 */
export function formatElapsed(seconds) {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

/**
 * An item's duration: "840 ms", "2.4 s", "1 min 3 s".
 * @param {number | null} milliseconds
 * @returns {string}
 */
export function formatDuration(milliseconds) {
  if (milliseconds === null || !Number.isFinite(milliseconds)) return "—";
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  return formatSeconds(milliseconds / 1000);
}

/**
 * A percentage with at most two decimals, as the server sends and renders it ("%g"):
 * "75", "33.33".
 * @param {number} percent
 * @returns {string}
 */
export function formatPercent(percent) {
  return String(Math.round(percent * 100) / 100);
}

/**
 * Items per minute: "35.2 items/min", or "—" before there is a rate.
 * @param {number | null} perMinute
 * @returns {string}
 */
export function formatRate(perMinute) {
  if (perMinute === null || !Number.isFinite(perMinute)) return "—";
  const shown = perMinute >= 100 ? NUMBERS.format(Math.round(perMinute)) : perMinute.toFixed(1);
  return `${shown} items/min`;
}

/**
 * One formatter for every count and rate: `toLocaleString` builds a new one per call,
 * which made number formatting the largest cost of a busy progress page.
 */
const NUMBERS = new Intl.NumberFormat("en");

/**
 * A count with thousands separators: "10,000".
 * @param {number} value
 * @returns {string}
 */
export function formatCount(value) {
  return value < 1000 && value >= 0 && Number.isInteger(value) ? String(value) : NUMBERS.format(value);
}

/**
 * "1 attempt", "3 attempts".
 * @param {number} count
 * @param {string} noun
 * @returns {string}
 */
export function plural(count, noun) {
  return `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * A UTC timestamp as the server renders it: "2026-11-29 10:00:00 UTC".
 * @param {string | null} iso
 * @returns {string}
 */
export function formatTimestamp(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "—";
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
