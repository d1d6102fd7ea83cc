"""Attachments are saved under generated names inside the storage folder, whatever
name they arrive with."""

from __future__ import annotations

import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from foibot.errors import StoreError
from foibot.mail.attachments import (
    attachment_path,
    attachment_payloads,
    safe_extension,
    save_attachments,
    stored_name,
)

HOSTILE = [
    "../../x",
    "../../etc/passwd",
    "/etc/passwd",
    "..\\..\\Windows\\system32\\evil.exe",
    "C:\\boot.ini",
    "CON",
    ".",
    "..",
    "",
    "a" * 3000 + ".pdf",
    "report.pdf\x00.exe",
    "répönse ✓.docx",
    "x.tar.gz/../../y",
]


def with_attachments(names: list[str]) -> bytes:
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "foi@barnet.gov.uk"
    msg["Subject"] = "files"
    msg.set_content("See attached.")
    for i, name in enumerate(names):
        msg.add_attachment(
            f"content {i}".encode(),
            maintype="application",
            subtype="octet-stream",
            filename=name or None,
        )
    return msg.as_bytes()


def test_hostile_names_never_leave_the_folder(tmp_path: Path) -> None:
    storage = tmp_path / "storage"
    outside_before = sorted(p for p in tmp_path.rglob("*"))
    items = attachment_payloads(with_attachments(HOSTILE))
    assert len(items) == len(HOSTILE)
    saved = save_attachments(storage, items)
    base = (storage / "attachments").resolve()
    for s in saved:
        path = attachment_path(storage, s.stored_name)
        assert path.resolve().is_relative_to(base)
        assert path.read_bytes() == items[s.position][1]
        assert path.name == f"{s.sha256}.{path.suffix.lstrip('.')}"
        assert s.sha256 == hashlib.sha256(items[s.position][1]).hexdigest()
    # nothing was written anywhere but under storage/attachments
    created = sorted(p for p in tmp_path.rglob("*") if p not in outside_before)
    assert all(p == storage or p.resolve().is_relative_to(base) for p in created)
    assert not (tmp_path / "x").exists() and not Path("/etc/passwd.bin").exists()


@pytest.mark.parametrize(
    ("filename", "content_type", "ext"),
    [
        ("Response.PDF", "application/octet-stream", "pdf"),
        ("../../x", "application/pdf", "pdf"),
        ("letter.docx", "application/octet-stream", "docx"),
        ("noext", "text/csv", "csv"),
        ("weird.p/df", "application/octet-stream", "bin"),
        ("x." + "a" * 40, "application/x-unknown-thing", "bin"),
        (None, "image/png", "png"),
    ],
)
def test_safe_extension(filename: str | None, content_type: str, ext: str) -> None:
    assert safe_extension(filename, content_type) == ext


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(st.text(max_size=200), st.binary(max_size=64))
def test_any_name_is_stored_inside(tmp_path: Path, name: str, data: bytes) -> None:
    digest = hashlib.sha256(data).hexdigest()
    relative = stored_name(digest, name, "application/octet-stream")
    path = attachment_path(tmp_path, relative)
    assert path.is_relative_to((tmp_path / "attachments").resolve())
    assert relative.startswith(f"attachments/{digest[:2]}/{digest}.")


def test_equal_content_is_stored_once_and_escaping_names_are_refused(tmp_path: Path) -> None:
    items = attachment_payloads(with_attachments(["a.pdf", "b.pdf"]))
    same = [(items[0][0], b"same"), (items[1][0], b"same")]
    first, second = save_attachments(tmp_path, same)
    assert first.stored_name == second.stored_name
    assert len(list((tmp_path / "attachments").rglob("*.pdf"))) == 1
    with pytest.raises(StoreError):
        attachment_path(tmp_path, "attachments/../../etc/passwd")
    with pytest.raises(ValueError):
        stored_name("../../etc", "x", "text/plain")
