"""Where foibot's shipped files live: next to the package in a checkout (editable
install), or inside the package as ``foibot/_data/`` in a built wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    for candidate in (_PACKAGE.parent / name, _PACKAGE / "_data" / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"foibot's {name}/ folder is missing from this installation")


def migrations_dir() -> Path:
    return _shipped("migrations")


def templates_dir() -> Path:
    return _shipped("templates")
