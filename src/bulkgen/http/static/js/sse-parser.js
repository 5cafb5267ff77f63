// @ts-check
/**
 * An incremental parser of `text/event-stream`, as the HTML standard's EventSource reads
 * it: text goes in as it arrives (split anywhere, even inside a line or between CR and
 * LF), complete events come out one at a time, so a reader can stop between any two and
 * let the page breathe. Pure: no I/O, no DOM.
 * @module sse-parser
 */

/**
 * @typedef {object} SseMessage
 * @property {string} type the `event` field, or "message"
 * @property {string} data the `data` lines joined with "\n"
 * @property {string} id the last event id at this event ("" when none was ever set)
 */

const LINE_END = /[\r\n]/g;

export class SseParser {
  constructor() {
    /** Text received and not parsed yet. */
    this.buffer = "";
    /** Where the next line starts in `buffer`. */
    this.position = 0;
    /** The previous text ended with CR: an LF that starts the next text ends nothing. */
    this.afterCR = false;
    this.type = "";
    /** @type {string[]} */
    this.data = [];
    /** The stream's last event id (the `id` field persists from event to event). */
    this.lastEventId = "";
    /** The id field seen in the event being read; set on lastEventId when it ends. */
    this.idBuffer = "";
    /** @type {number | null} the latest `retry` field: reconnect after this many ms */
    this.retry = null;
  }

  /**
   * Add text received from the stream.
   * @param {string} text
   */
  push(text) {
    if (text === "") return;
    this.buffer = this.position > 0 ? this.buffer.slice(this.position) + text : this.buffer + text;
    this.position = 0;
    if (this.afterCR && this.buffer.startsWith("\n")) this.position = 1;
    this.afterCR = false;
  }

  /**
   * The next complete event, or null until more text arrives.
   * @returns {SseMessage | null}
   */
  next() {
    const { buffer } = this;
    for (;;) {
      LINE_END.lastIndex = this.position;
      const end = LINE_END.exec(buffer);
      if (end === null) return null; // the line is not complete yet
      const line = buffer.slice(this.position, end.index);
      this.position = end.index + 1;
      if (end[0] === "\r") {
        if (this.position === buffer.length) this.afterCR = true;
        else if (buffer.charCodeAt(this.position) === 10) this.position += 1;
      }
      const message = this.line(line);
      if (message !== null) return message;
    }
  }

  /**
   * @param {string} line without its end
   * @returns {SseMessage | null} the event this blank line ends, if any
   */
  line(line) {
    if (line === "") return this.dispatch();
    if (line.charCodeAt(0) === 58) return null; // ":" a comment: a heartbeat
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.type = value;
    else if (field === "id" && !value.includes("\0")) this.idBuffer = value;
    else if (field === "retry" && /^[0-9]+$/.test(value)) this.retry = Number(value);
    return null;
  }

  /** @returns {SseMessage | null} */
  dispatch() {
    this.lastEventId = this.idBuffer;
    const { type, data } = this;
    this.type = "";
    this.data = [];
    if (data.length === 0) return null; // a block without data (`retry:` alone) is no event
    return { type: type || "message", data: data.join("\n"), id: this.lastEventId };
  }
}
