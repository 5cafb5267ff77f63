"""The pure SSE framing functions."""

from __future__ import annotations

import pytest

from bulkgen.live.sse import encode_comment, encode_event, encode_logged, encode_retry


def test_event_frame_has_id_event_and_one_data_line() -> None:
    frame = encode_event("item.completed", '{"index":3}', 42)
    assert frame == b'id: 42\nevent: item.completed\ndata: {"index":3}\n\n'


def test_event_without_id() -> None:
    assert encode_event("batch.progress", "{}") == b"event: batch.progress\ndata: {}\n\n"


def test_multiline_data_is_refused() -> None:
    with pytest.raises(ValueError, match="single line"):
        encode_event("x", "a\nb", 1)
    with pytest.raises(ValueError):
        encode_event("x", "a\rb", 1)


def test_retry_and_comment_frames() -> None:
    assert encode_retry(2000) == b"retry: 2000\n\n"
    assert encode_comment("heartbeat") == b": heartbeat\n\n"
    assert encode_comment("a\nb") == b": a\n: b\n\n"


def test_unicode_is_utf8() -> None:
    assert "é".encode() in encode_event("item.completed", '{"stem":"é"}', 1)


def test_logged_complete_is_preceded_by_the_final_progress() -> None:
    frames = encode_logged(10, "batch.complete", '{"status":"completed"}')
    assert frames == (
        b'id: 9\nevent: batch.progress\ndata: {"status":"completed"}\n\n'
        b'id: 10\nevent: batch.complete\ndata: {"status":"completed"}\n\n'
    )
    assert encode_logged(3, "item.started", "{}") == b"id: 3\nevent: item.started\ndata: {}\n\n"
