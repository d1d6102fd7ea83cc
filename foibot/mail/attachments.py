"""Saving incoming attachments under generated, safe names.

The name an attachment arrives with is untrusted ("../../x", "/etc/passwd", "CON",
2,000 characters of emoji): it is kept as data (``Attachment.filename``) and never used
as a path. Files are content-addressed instead:
``<storage_dir>/attachments/<sha256[:2]>/<sha256>.<ext>``, where ``ext`` is the sent
name's extension only if it is 1-10 lower-case letters or digits, else one derived from
the content type, else ``bin``. Equal content is stored once; writes are atomic
(temporary file + rename), so a crash never leaves half a file under the final name.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from foibot.domain.message import AttachmentInfo
from foibot.errors import StoreError
from foibot.mail.parse import parse_with_payloads

FOLDER = "attachments"
_SAFE_EXT = re.compile(r"^[a-z0-9]{1,10}$")


@dataclass(frozen=True)
class SavedAttachment:
    position: int
    info: AttachmentInfo
    sha256: str
    size: int
    stored_name: str  # relative to storage_dir, e.g. "attachments/ab/ab12....pdf"


def attachment_payloads(raw: bytes) -> list[tuple[AttachmentInfo, bytes]]:
    """Each attachment of a raw message with its bytes, ready for ``save_attachments``.
    Raises ``ParseError`` like ``parse_message``."""
    result = parse_with_payloads(raw)
    return list(zip(result.message.attachments, result.payloads, strict=True))


def safe_extension(filename: str | None, content_type: str) -> str:
    if filename:
        ext = filename.rsplit(".", 1)[-1].strip().lower() if "." in filename else ""
        if _SAFE_EXT.match(ext):
            return ext
    guessed = mimetypes.guess_extension(content_type.split(";")[0].strip().lower(), strict=False)
    if guessed and _SAFE_EXT.match(guessed.lstrip(".")):
        return guessed.lstrip(".")
    return "bin"


def stored_name(sha256: str, filename: str | None, content_type: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
    return f"{FOLDER}/{sha256[:2]}/{sha256}.{safe_extension(filename, content_type)}"


def attachment_path(storage_dir: Path, name: str) -> Path:
    """The file for a stored name, refusing any name that would leave the folder."""
    base = (storage_dir / FOLDER).resolve()
    path = (storage_dir / name).resolve()
    if not path.is_relative_to(base):
        raise StoreError(f"attachment name {name!r} is outside {base}")
    return path


def save_attachments(
    storage_dir: Path, items: Sequence[tuple[AttachmentInfo, bytes]]
) -> list[SavedAttachment]:
    saved: list[SavedAttachment] = []
    for position, (info, data) in enumerate(items):
        digest = hashlib.sha256(data).hexdigest()
        name = stored_name(digest, info.filename, info.content_type)
        path = attachment_path(storage_dir, name)
        try:
            _write_once(path, data)
        except OSError as exc:
            raise StoreError(f"cannot save attachment to {path}: {exc.strerror or exc}") from exc
        saved.append(SavedAttachment(position, info, digest, len(data), name))
    return saved


def _write_once(path: Path, data: bytes) -> None:
    if path.is_file() and path.stat().st_size == len(data):
        return  # content-addressed: the same bytes are already there
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
