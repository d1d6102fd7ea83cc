"""Jinja2 templates for letters and subjects, rendered in the sandbox.

User templates are untrusted code as far as foibot is concerned (DESIGN.md §4), so they
run in Jinja2's immutable sandbox: no attribute starting with "_", no calling unsafe
methods, no changing the data passed in. ``StrictUndefined`` makes an unknown variable
an error rather than an empty string, so a half-rendered letter never goes out.
Autoescape is off: the output is plain text, not HTML.

Every problem becomes a ``UserInputError`` naming the template and the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from foibot.errors import UserInputError
from foibot.paths import templates_dir

# Compiled templates get this file name, so that the template's own frames can be
# found in a traceback (Jinja2 rewrites them to carry the template's line numbers).
_FILENAME_PREFIX = "<foibot template "
MAX_OUTPUT = 1_000_000  # characters; a letter is a few kB, this stops runaway loops


def environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


_ENV = environment()


@dataclass(frozen=True)
class CompiledTemplate:
    """A template compiled from its source; ``name`` is how errors refer to it
    (e.g. "campaign.toml: body" or "letters/short.txt.j2")."""

    name: str
    source: str
    _template: Any

    def render(self, context: Mapping[str, Any]) -> str:
        try:
            text: str = self._template.render(**context)
        except TemplateError as exc:
            raise UserInputError(self._describe(exc, exc.__traceback__)) from None
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
            # Errors raised by the template's own expressions (1/0, "x" + 1 ...).
            raise UserInputError(self._describe(exc, exc.__traceback__)) from None
        if len(text) > MAX_OUTPUT:
            raise UserInputError(
                f"template {self.name}: the rendered text is over {MAX_OUTPUT:,} characters"
            )
        return text

    def _describe(self, exc: BaseException, tb: TracebackType | None) -> str:
        line = _template_line(tb, self._filename)
        where = f"template {self.name}, line {line}" if line else f"template {self.name}"
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        if isinstance(exc, TemplateError) and type(exc).__name__ == "UndefinedError":
            message = f"undefined variable: {message}"
        elif not isinstance(exc, TemplateError):
            message = f"{type(exc).__name__}: {message}"
        return f"{where}: {message}"

    @property
    def _filename(self) -> str:
        return f"{_FILENAME_PREFIX}{self.name}>"


def compile_template(source: str, name: str) -> CompiledTemplate:
    """Compiles a template; a syntax error names the template and the line."""
    filename = f"{_FILENAME_PREFIX}{name}>"
    try:
        code = _ENV.compile(source, name=name, filename=filename)
    except TemplateSyntaxError as exc:
        line = f", line {exc.lineno}" if exc.lineno else ""
        raise UserInputError(f"template {name}{line}: syntax error: {exc.message}") from None
    template = _ENV.template_class.from_code(_ENV, code, _ENV.make_globals(None))
    return CompiledTemplate(name=name, source=source, _template=template)


def read_template(path: Path, name: str | None = None) -> CompiledTemplate:
    """Reads and compiles a template file (UTF-8)."""
    label = name or str(path)
    try:
        source = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserInputError(f"template {label}: file not found ({path})") from None
    except IsADirectoryError:
        raise UserInputError(f"template {label}: is a folder, not a file ({path})") from None
    except UnicodeDecodeError as exc:
        raise UserInputError(f"template {label}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UserInputError(f"template {label}: cannot read: {exc.strerror}") from None
    return compile_template(source, label)


def shipped_template_path(relative: str) -> Path:
    """A template shipped with foibot, e.g. "requests/foi-request.txt.j2"."""
    return templates_dir() / relative


def _template_line(tb: TracebackType | None, filename: str) -> int | None:
    """The innermost line of the template in a traceback, if any."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
