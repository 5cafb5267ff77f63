"""What the tests share, one module per concept; conftest.py only holds the fixtures.

- ``api``: batch bodies, creating batches, reading items, replaying item events
- ``sse``: reading a batch's SSE stream, whole or up to a condition
- ``wait``: every wait for a state (stream, live feed, browser), none for a time
- ``gate``: a generator that holds items until the test lets them through
- ``server``: a real bulkgen server in a thread, or ``bulkgen serve`` in a child process
- ``fake_openai``: a local server speaking OpenAI's Chat Completions protocol
- ``browser``, ``progress_view``: Chromium and the live progress page as tests read it
"""
