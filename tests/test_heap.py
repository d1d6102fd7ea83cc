"""``freeze_startup_heap``: what is alive is frozen once per process, and the commands
that file mail in bulk or run for long freeze it before they start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import foibot.cli.inbox
from tests.cli_runner import run_cli

# (in a process of its own: freezing the test runner's heap would outlive this test)
_ONCE = """
import gc
from foibot.heap import freeze_startup_heap

kept = [[n] for n in range(5000)]  # alive at start-up: frozen
freeze_startup_heap()
frozen = gc.get_freeze_count()
assert frozen >= 5000, frozen
assert gc.get_count()[0] < 100, gc.get_count()  # (and nothing left to collect)
later = [[n] for n in range(5000)]  # made after: left to the collector
freeze_startup_heap()
assert gc.get_freeze_count() == frozen, (gc.get_freeze_count(), frozen)
cycle = [None]
cycle[0] = cycle
del cycle
assert gc.collect() >= 1  # later garbage is still collected
print("ok")
"""


def test_frozen_once_and_later_garbage_still_collected() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _ONCE], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("command", [("inbox", "import"), ("inbox", "poll")])
def test_the_filing_commands_freeze_before_they_start(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(foibot.cli.inbox, "freeze_startup_heap", lambda: calls.append("freeze"))
    config = tmp_path / "foibot.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "f.db"}"\n')
    empty = tmp_path / "empty"
    empty.mkdir()
    args = (*command, empty) if command[1] == "import" else command
    result = run_cli(*args, env={"FOIBOT_CONFIG": str(config)})
    # (nothing to import or poll here: the freeze comes first all the same)
    assert result.code == 2, result.err
    assert calls == ["freeze"]
