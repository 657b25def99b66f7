"""Fixtures of the whole suite: the test-only toy experiment ``_toy.counter`` is registered, and
`silent_server` (a host that accepts TCP and never answers) is shared by the CLI and Ray tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import toy_experiment  # noqa: F401  (registers _toy.counter)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers; yields HOST:PORT."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for conn in accepted:
        conn.close()
    server.close()
