"""Text of "plain case": where a lower-case search stands for a case-insensitive one.

A case-insensitive pattern also matches "i" to "ı" and "İ" and "s" to "ſ", which
``str.lower`` does not map to "i" and "s" ("İ".lower() is even two characters long).
In text without them, "word in text.lower()" is true wherever a case-insensitive pattern
could find the word, and positions in ``text.lower()`` are positions in ``text``:
classification's word pre-checks and lower-case twins, and the authority-reference
finder's, rely on that and are skipped for other text (tests/domain/
test_classify_fast_paths.py checks the facts about Unicode this rests on).
"""

from __future__ import annotations

ODD_CASE = ("\u0130", "\u0131", "\u017f")


def plain_case(text: str) -> bool:
    """Whether ``text`` holds none of ``ODD_CASE``."""
    return text.isascii() or not any(map(text.__contains__, ODD_CASE))
