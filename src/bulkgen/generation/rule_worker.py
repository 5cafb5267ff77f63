"""The rule process's side of :mod:`bulkgen.generation.rule_process`: a loop that reads a
message (a run id and its operations), applies the operations in order and answers with
the verdicts of its judgements. Kept apart so that the process imports only the rules.
"""

from __future__ import annotations

import pickle
from multiprocessing.connection import Connection
from typing import Any

from bulkgen.generation.judges import Verdict, judged
from bulkgen.generation.validators import StemIndex
from bulkgen.models import GeneratedItem

#: The runs' indexes and topics, by run id.
_RUNS: dict[str, tuple[StemIndex, str | None]] = {}


def serve(requests: Connection, replies: Connection) -> None:
    """Answer messages until the server closes its end (or goes away)."""
    replies.send_bytes(b"")  # ready: the imports are done
    while True:
        try:
            data = requests.recv_bytes()
        except (EOFError, OSError):
            return
        run_id, ops = pickle.loads(data)  # noqa: S301 (the server, over a private pipe)
        try:
            answer: Any = run_operations(run_id, ops)
        except Exception as error:  # a bug: the server judges this run itself from now on
            _RUNS.pop(run_id, None)
            answer = f"{type(error).__name__}: {error}"
        replies.send_bytes(pickle.dumps(answer, pickle.HIGHEST_PROTOCOL))


def run_operations(run_id: str, ops: list[tuple[Any, ...]]) -> list[Verdict]:
    """Apply one message's operations in order; the verdicts of its judgements.

    ``("open", topic, stems, history)`` builds the run's index from the stems it started
    with and what was kept (a (stem, label) pair) and withdrawn (a label) since;
    ``("judge", item JSON, label)``, ``("withdraw", label)``, ``("close",)``.
    """
    verdicts: list[Verdict] = []
    for op in ops:
        kind = op[0]
        if kind == "open":
            stems = StemIndex()
            for stem, label in op[2]:
                stems.add(stem, label)
            for entry in op[3]:
                if isinstance(entry, str):
                    stems.withdraw(entry)
                else:
                    stems.add(*entry)
            _RUNS[run_id] = (stems, op[1])
        elif kind == "judge":
            stems, topic = _RUNS[run_id]
            item = GeneratedItem.model_validate_json(op[1])
            verdicts.append(judged(item, op[2], stems, topic))
        elif kind == "withdraw":
            _RUNS[run_id][0].withdraw(op[1])
        else:
            _RUNS.pop(run_id, None)
    return verdicts
