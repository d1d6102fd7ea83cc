"""Run the real `foibot` entry point in-process and capture what a user would see."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from foibot.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    out, err = io.StringIO(), io.StringIO()
    saved = dict(os.environ)
    os.environ.update(env or {})
    os.environ["COLUMNS"] = "120"
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return Result(code, out.getvalue(), err.getvalue())
