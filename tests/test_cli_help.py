"""Every command's --help works and reads as help; bad usage is one line, exit 2."""

from __future__ import annotations

import click
import pytest
import typer.main

from foibot.cli import app
from tests.cli_runner import run_cli


def all_command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = [()]

    def walk(cmd: click.Command, prefix: tuple[str, ...]) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                paths.append((*prefix, name))
                walk(sub, (*prefix, name))

    walk(root, ())
    return paths


def test_the_walk_finds_the_commands() -> None:
    paths = all_command_paths()
    for expected in [
        ("deadline",),
        ("authorities", "import"),
        ("authorities", "list"),
        ("db", "upgrade"),
    ]:
        assert expected in paths


@pytest.mark.parametrize("path", all_command_paths(), ids=lambda p: " ".join(p) or "foibot")
def test_help(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.code == 0, result.err
    assert "Usage: foibot" in result.out
    body = result.out.split("Usage:", 1)[1]
    # a real sentence of help, not just the usage line
    assert len([line for line in body.splitlines() if line.strip()]) >= 3


def test_unknown_command_is_one_line_exit_2() -> None:
    result = run_cli("frobnicate")
    assert result.code == 2
    assert result.err.strip().startswith("foibot: error:")
    assert len(result.err.strip().splitlines()) == 1


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0 and result.out.startswith("foibot ")
