"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime. SQLite keeps no time zone, so values are normalised to UTC
    on the way in and marked UTC on the way out; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"UTCDateTime needs an aware datetime, got {value!r}")
        converted = value.astimezone(UTC)
        return converted.replace(tzinfo=None) if dialect.name == "sqlite" else converted

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# NUL or a lone surrogate, as json.dumps escapes them (an astral character is escaped as
# a surrogate pair and matches too: it is then found to need no change).
_UNSTORABLE = re.compile(r"\\u(?:0000|d[89a-f])")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable_json(value: Any) -> str:
    """The engine's JSON serializer, for every JSON column: strings without NULs or
    lone surrogates, which PostgreSQL refuses (whatever text they came from: a header,
    a phrase of a damaged body). Almost always there are none, and the one encoding
    is scanned to say so; otherwise the value is cleaned and encoded again."""
    text = json.dumps(value)
    if _UNSTORABLE.search(text) is None:
        return text
    return json.dumps(_cleaned(value))


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    if isinstance(value, dict):
        return {_cleaned(str(k)): _cleaned(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cleaned(v) for v in value]
    return value
