"""`foibot demo` end to end: every simulated reply filed right, the two review drafts
written, and the digest listing the council that never answered."""

from __future__ import annotations

from pathlib import Path

from foibot.demo import run_demo
from tests.cli_runner import run_cli


def test_demo_files_every_reply_and_drafts_two_reviews(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(tmp_path / "demo", say=lines.append)

    assert result.sent == 12
    assert len(result.expected) == 15
    wrong = {
        mid: (want, result.filed.get(mid))
        for mid, want in result.expected.items()
        if result.filed.get(mid, (None, None, None))[0::2] != want
    }
    assert wrong == {}, wrong

    assert [p.name for p in result.drafts] == [f"review-{p.name[7:-4]}.eml" for p in result.drafts]
    refusal, late = (p.read_text() for p in result.drafts)
    assert "Internal review request" in refusal and "s12" in refusal
    assert "working days late" in " ".join(late.split())

    assert result.overdue == ["Kent County Council"]
    html = result.digest_html.read_text()
    text = result.digest_html.with_suffix(".txt").read_text()
    assert "Overdue (1)" in text and "Kent County Council" in text.split("Overdue (1)")[1]
    assert "Kent County Council" in html
    assert any("Drafted an internal review" in line for line in lines)


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = run_cli("demo", "--dir", tmp_path)
    assert result.code == 2 and "is not empty" in result.err
