"""Real servers for tests, started on loopback by the tests themselves.

When a server's binaries are missing the tests that need it skip with a clear reason,
unless FOIBOT_REQUIRE_SERVERS=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import socket

import pytest


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("FOIBOT_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{reason} (FOIBOT_REQUIRE_SERVERS=1: servers are required here)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")
