"""The progress page's SSE parser (``static/js/sse-parser.js``), run in Node.

The page reads its stream with ``fetch`` and parses it itself, so the parser must read
``text/event-stream`` as the HTML standard's EventSource does, however the network splits
the text: every case is parsed whole, one character at a time, and split in two at every
position, and must give the same events each way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS = Path(__file__).resolve().parent.parent / "src" / "bulkgen" / "http" / "static" / "js"

# Parses each case's text whole, char by char and split at every position; prints the
# events (and the last retry) of each way.
NODE_PARSE = """
const { SseParser } = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const parse = (pieces) => {
  const parser = new SseParser();
  const events = [];
  for (const piece of pieces) {
    parser.push(piece);
    for (let event = parser.next(); event !== null; event = parser.next()) events.push(event);
  }
  return { events, retry: parser.retry };
};
const out = {};
for (const [name, text] of Object.entries(cases)) {
  const ways = [parse([text]), parse([...text])];
  for (let at = 1; at < text.length; at++) ways.push(parse([text.slice(0, at), text.slice(at)]));
  out[name] = ways;
}
console.log(JSON.stringify(out));
"""

NODE_RETRY_AFTER = """
const { retryAfterMs } = await import(process.argv[1]);
const later = new Date(Date.now() + 120_000).toUTCString();
console.log(JSON.stringify([
  retryAfterMs("5"), retryAfterMs(" 30 "), retryAfterMs("soon"), retryAfterMs(later),
]));
"""


def event(type_: str, data: str, id_: str = "") -> dict[str, str]:
    return {"type": type_, "data": data, "id": id_}


#: name: (stream text, the events it holds, the last retry it sets)
CASES: dict[str, tuple[str, list[dict[str, str]], int | None]] = {
    "the server's frames": (
        'retry: 2000\n\nid: 7\nevent: item.started\ndata: {"index": 3}\n\n'
        'id: 8\nevent: item.completed\ndata: {"index": 3, "stem": "a: b"}\n\n',
        [
            event("item.started", '{"index": 3}', "7"),
            event("item.completed", '{"index": 3, "stem": "a: b"}', "8"),
        ],
        2000,
    ),
    "CRLF and CR line ends": (
        "event: a\r\ndata: one\r\n\r\nevent: b\rdata: two\r\rdata: three\n\n",
        [event("a", "one"), event("b", "two"), event("message", "three")],
        None,
    ),
    "comments and heartbeats": (
        ": heartbeat\n\n:\ndata: x\n: in the middle\ndata: y\n\n: another\n\n",
        [event("message", "x\ny")],
        None,
    ),
    "multi-line data": (
        "data: first\ndata:second\ndata:  third\ndata\ndata:\n\n",
        [event("message", "first\nsecond\n third\n\n")],
        None,
    ),
    "the id persists and is set when the event ends": (
        "id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 4\n\nid: x\0y\ndata: d\n\n",
        [
            event("message", "a", "1"),
            event("message", "b", "1"),
            event("message", "c"),
            event("message", "d", "4"),
        ],
        None,
    ),
    "retry takes digits only": (
        "retry: 1500\n\nretry: 2s\n\nretry:\n\nretry: 300\ndata: z\n\n",
        [event("message", "z")],
        300,
    ),
    "a block without data is no event; unknown fields are ignored": (
        "event: nothing\n\nfoo: bar\ndata: kept\nevent\n\n",
        [event("message", "kept")],
        None,
    ),
    "an unfinished event at the end waits for its blank line": (
        "data: done\n\ndata: not yet\n",
        [event("message", "done")],
        None,
    ),
    "text that is not ASCII": (
        'event: item.failed\ndata: {"stem": "Δ – ü ✓ 😀"}\n\n',
        [event("item.failed", '{"stem": "Δ – ü ✓ 😀"}')],
        None,
    ),
}


def node(script: str, *args: str) -> Any:
    found = shutil.which("node")
    assert found is not None, "node is needed (./scripts/check installs it with npm)"
    done = subprocess.run(
        [found, "--input-type=module", "-e", script, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def parsed() -> dict[str, list[dict[str, Any]]]:
    texts = {name: text for name, (text, _, _) in CASES.items()}
    result: dict[str, list[dict[str, Any]]] = node(
        NODE_PARSE, (JS / "sse-parser.js").as_uri(), json.dumps(texts)
    )
    return result


@pytest.mark.parametrize("name", list(CASES))
def test_events_are_the_same_however_the_text_is_split(
    parsed: dict[str, list[dict[str, Any]]], name: str
) -> None:
    text, events, retry = CASES[name]
    ways = parsed[name]
    units = len(text.encode("utf-16-le")) // 2  # JavaScript's length of the text
    assert len(ways) == units + 1  # whole, char by char, and every split in two
    for way in ways:
        assert way == {"events": events, "retry": retry}


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    seconds, padded, nonsense, date = node(NODE_RETRY_AFTER, (JS / "event-stream.js").as_uri())
    assert (seconds, padded, nonsense) == (5000, 30000, 0)
    assert 100_000 < date <= 120_000
