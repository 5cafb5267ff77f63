"""The browser's copy of the event names, generated from :mod:`bulkgen.events`.

``static/js/events.js`` is this module's :func:`render` output, committed so the pages run
with no build step; a test fails when it is stale. Regenerate it with::

    python -m bulkgen.http.events_js          # write the file
    python -m bulkgen.http.events_js --check  # exit 1 when the file is stale
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Final

from bulkgen import events

PATH: Final = Path(__file__).resolve().parent / "static" / "js" / "events.js"
REGENERATE: Final = "python -m bulkgen.http.events_js"


def _registry() -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """Every event name in the registry's order, the durable ones, the item ones."""
    return events.EVENT_NAMES, events.DURABLE, events.ITEM_EVENTS


def constant(name: str) -> str:
    """The JS constant of an event name: ``item.started`` → ``ITEM_STARTED``."""
    ident = name.upper().replace(".", "_")
    if not ident.isidentifier():
        raise ValueError(f"event name {name!r} does not make a JS identifier")
    return ident


def _export(ident: str, wrap: str, names: Iterable[str]) -> list[str]:
    """``export const ident = wrap([...]);`` over the constants of ``names``, one a line."""
    return [
        f"export const {ident} = {wrap}([",
        *(f"  {constant(name)}," for name in names),
        "]);",
    ]


def render() -> str:
    """The text of ``events.js``."""
    names, durable, items = _registry()
    if len({constant(name) for name in names}) != len(names):
        raise ValueError(f"two event names make the same JS constant: {names}")
    lines = [
        "// Generated from bulkgen/events.py — do not edit.",
        f"// Regenerate: {REGENERATE}",
        "// @ts-check",
        "/**",
        " * The names of the SSE events bulkgen's streams send, as registered in Python.",
        " * @module events",
        " */",
        "",
        "/**",
        " * @typedef {" + " | ".join(json.dumps(name) for name in names) + "} EventName",
        " */",
        "",
    ]
    for name in names:
        kind = "durable" if name in durable else "derived"
        lines += [f"/** {kind} */", f"export const {constant(name)} = {json.dumps(name)};"]
    lines += [
        "",
        "/**",
        " * Every event name, in the registry's order.",
        " * @type {readonly EventName[]}",
        " */",
        *_export("EVENT_NAMES", "Object.freeze", names),
        "",
        "/**",
        " * Events that are rows of a batch's log and carry their sequence number as `id`.",
        " * @type {ReadonlySet<EventName>}",
        " */",
        *_export("DURABLE_EVENTS", "new Set", (n for n in names if n in durable)),
        "",
        "/**",
        " * Events whose data is one item.",
        " * @type {ReadonlySet<EventName>}",
        " */",
        *_export("ITEM_EVENTS", "new Set", (n for n in names if n in items)),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bulkgen.http.events_js", description="Write static/js/events.js."
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when the file is stale"
    )
    args = parser.parse_args(argv)
    text = render()
    current = PATH.read_text(encoding="utf-8") if PATH.exists() else None
    if args.check:
        if current != text:
            print(f"{PATH} is stale; regenerate it with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    if current != text:
        PATH.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
